/*
 * chunked.c: the chunked transfer coding decoder, RFC 9112 section 7.1.
 *
 * A byte-at-a-time state machine, so a body split anywhere across reads
 * decodes the same.  Strict where leniency has been used for smuggling:
 * every line ends in CRLF, the size is hex digits only and may not
 * overflow, chunk extensions and trailer lines must follow their ABNF,
 * and both are bounded.
 */
#include "config.h"

#include "worker/http/parse.h"

/* Longest chunk-size line (size plus extensions) and trailer section. */
#define HTTP_CHUNK_LINE_MAX 4096
#define HTTP_CHUNK_TRAILER_MAX 8192
/* 2^60: larger sizes are refused before the shift can overflow. */
#define HTTP_CHUNK_SIZE_MAX ((uint64_t)1 << 60)

enum {
	CHUNK_SIZE_START,	/* expecting the first hex digit */
	CHUNK_SIZE,		/* in the hex digits */
	CHUNK_SIZE_BWS,		/* whitespace after the size, before ';' */
	CHUNK_EXT_NAME_START,	/* after ';': BWS, then a name */
	CHUNK_EXT_NAME,		/* in a chunk-ext-name (a token) */
	CHUNK_EXT_NAME_BWS,	/* whitespace after it: '=' or ';' next */
	CHUNK_EXT_VAL_START,	/* after '=': BWS, then a token or '"' */
	CHUNK_EXT_VAL,		/* in a token value */
	CHUNK_EXT_QUOTED,	/* in a quoted-string value */
	CHUNK_EXT_QUOTED_PAIR,	/* after '\\' in it */
	CHUNK_EXT_VAL_END,	/* after the closing '"': CR or BWS ';' */
	CHUNK_EXT_VAL_BWS,	/* whitespace after a value: ';' next */
	CHUNK_SIZE_LF,
	CHUNK_DATA,
	CHUNK_DATA_CR,
	CHUNK_DATA_LF,
	CHUNK_TRAILER_START,	/* start of a trailer line or the end */
	CHUNK_TRAILER_NAME,	/* a trailer's field-name, until ':' */
	CHUNK_TRAILER,		/* inside a trailer field's value */
	CHUNK_TRAILER_LF,
	CHUNK_END_LF,
	CHUNK_DONE,
};

static int
http_chunk_ws(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/*
 * One byte of the chunk extensions, RFC 9112 7.1.1:
 *	chunk-ext = *( BWS ";" BWS chunk-ext-name
 *	    [ BWS "=" BWS chunk-ext-val ] )
 *	chunk-ext-name = token
 *	chunk-ext-val = token / quoted-string
 * and the CRLF after them.  Extensions are read and dropped, but only
 * when they parse: a bare ";", a name or value with other bytes, or
 * whitespace before the CRLF is refused, because two parsers that differ
 * on where a chunk line ends are how requests are smuggled.
 */
static int
http_chunk_ext_byte(struct http_chunked *c, unsigned char ch)
{
	switch (c->state) {
	case CHUNK_EXT_NAME_START:
	case CHUNK_EXT_VAL_START:
		if (http_chunk_ws(ch))
			return 0;
		if (c->state == CHUNK_EXT_VAL_START && ch == '"')
			c->state = CHUNK_EXT_QUOTED;
		else if (http_is_tchar(ch))
			c->state = c->state == CHUNK_EXT_NAME_START ?
			    CHUNK_EXT_NAME : CHUNK_EXT_VAL;
		else
			return -1;
		return 0;
	case CHUNK_EXT_NAME:
	case CHUNK_EXT_VAL:
		if (http_is_tchar(ch))
			return 0;
		if (ch == '=' && c->state == CHUNK_EXT_NAME) {
			c->state = CHUNK_EXT_VAL_START;
			return 0;
		}
		/* FALLTHROUGH */
	case CHUNK_EXT_VAL_END:
		if (ch == '\r')
			c->state = CHUNK_SIZE_LF;
		else if (ch == ';')
			c->state = CHUNK_EXT_NAME_START;
		else if (http_chunk_ws(ch))
			c->state = c->state == CHUNK_EXT_NAME ?
			    CHUNK_EXT_NAME_BWS : CHUNK_EXT_VAL_BWS;
		else
			return -1;
		return 0;
	case CHUNK_EXT_NAME_BWS:
	case CHUNK_EXT_VAL_BWS:
		if (ch == ';')
			c->state = CHUNK_EXT_NAME_START;
		else if (ch == '=' && c->state == CHUNK_EXT_NAME_BWS)
			c->state = CHUNK_EXT_VAL_START;
		else if (!http_chunk_ws(ch))
			return -1;
		return 0;
	case CHUNK_EXT_QUOTED:
		/* qdtext: HTAB, SP, VCHAR but '"' and '\\', obs-text. */
		if (ch == '"')
			c->state = CHUNK_EXT_VAL_END;
		else if (ch == '\\')
			c->state = CHUNK_EXT_QUOTED_PAIR;
		else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return -1;
		return 0;
	case CHUNK_EXT_QUOTED_PAIR:
		/* quoted-pair: "\\" ( HTAB / SP / VCHAR / obs-text ) */
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return -1;
		c->state = CHUNK_EXT_QUOTED;
		return 0;
	default:
		return -1;
	}
}

/*
 * One byte of a trailer section's field line (RFC 9112 7.1.2, 5):
 * field-name ":" then a value of visible bytes, SP and HTAB.  No
 * obs-fold: a line may not begin with whitespace.  Trailers are read
 * and dropped.
 */
static int
http_chunk_trailer_byte(struct http_chunked *c, unsigned char ch)
{
	if (++c->trailer_len > HTTP_CHUNK_TRAILER_MAX)
		return -1;
	if (c->state == CHUNK_TRAILER_NAME) {
		if (ch == ':' && c->line_len > 0)
			c->state = CHUNK_TRAILER;
		else if (!http_is_tchar(ch))
			return -1;
		c->line_len++;
		return 0;
	}
	if (ch == '\r')
		c->state = CHUNK_TRAILER_LF;
	else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
		return -1;
	return 0;
}

static int
http_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One byte of a size line, trailer or CRLF; returns -1 on error. */
static int
http_chunked_byte(struct http_chunked *c, unsigned char ch)
{
	int hex;

	switch (c->state) {
	case CHUNK_SIZE_START:
	case CHUNK_SIZE:
		hex = http_hex_value(ch);
		if (hex >= 0) {
			if (c->remaining >= HTTP_CHUNK_SIZE_MAX >> 4)
				return -1;
			c->remaining = c->remaining << 4 | (uint64_t)hex;
			c->state = CHUNK_SIZE;
			break;
		}
		if (c->state == CHUNK_SIZE_START)
			return -1;
		/* Section 7.1: after 1*HEXDIG only CRLF or BWS ";" ext. */
		if (ch == '\r') {
			c->state = CHUNK_SIZE_LF;
			break;
		}
		c->state = CHUNK_SIZE_BWS;
		/* FALLTHROUGH */
	case CHUNK_SIZE_BWS:
		if (ch == ';')
			c->state = CHUNK_EXT_NAME_START;
		else if (!http_chunk_ws(ch))
			return -1;
		break;
	case CHUNK_EXT_NAME_START:
	case CHUNK_EXT_NAME:
	case CHUNK_EXT_NAME_BWS:
	case CHUNK_EXT_VAL_START:
	case CHUNK_EXT_VAL:
	case CHUNK_EXT_QUOTED:
	case CHUNK_EXT_QUOTED_PAIR:
	case CHUNK_EXT_VAL_END:
	case CHUNK_EXT_VAL_BWS:
		if (http_chunk_ext_byte(c, ch) == -1)
			return -1;
		break;
	case CHUNK_SIZE_LF:
		if (ch != '\n')
			return -1;
		c->state = c->remaining > 0 ? CHUNK_DATA : CHUNK_TRAILER_START;
		c->line_len = 0;
		return 0;
	case CHUNK_DATA_CR:
		if (ch != '\r')
			return -1;
		c->state = CHUNK_DATA_LF;
		return 0;
	case CHUNK_DATA_LF:
		if (ch != '\n')
			return -1;
		c->state = CHUNK_SIZE_START;
		c->line_len = 0;
		return 0;
	case CHUNK_TRAILER_START:
		if (ch == '\r') {
			c->state = CHUNK_END_LF;
			return 0;
		}
		c->state = CHUNK_TRAILER_NAME;
		c->line_len = 0;
		/* FALLTHROUGH */
	case CHUNK_TRAILER_NAME:
	case CHUNK_TRAILER:
		return http_chunk_trailer_byte(c, ch);
	case CHUNK_TRAILER_LF:
		if (ch != '\n')
			return -1;
		c->state = CHUNK_TRAILER_START;
		return 0;
	case CHUNK_END_LF:
		if (ch != '\n')
			return -1;
		c->state = CHUNK_DONE;
		return 0;
	default:
		return -1;
	}
	if (++c->line_len > HTTP_CHUNK_LINE_MAX)
		return -1;
	return 0;
}

int
http_chunked_decode(struct http_chunked *c, const char *in, size_t len,
    size_t *consumed, const char **data, size_t *data_len)
{
	size_t i = 0;

	*data = NULL;
	*data_len = 0;
	while (i < len && c->state != CHUNK_DONE) {
		if (c->state == CHUNK_DATA) {
			size_t n = len - i;

			if ((uint64_t)n > c->remaining)
				n = (size_t)c->remaining;
			*data = in + i;
			*data_len = n;
			c->remaining -= n;
			if (c->remaining == 0)
				c->state = CHUNK_DATA_CR;
			i += n;
			break;	/* hand the data out before going on */
		}
		if (http_chunked_byte(c, (unsigned char)in[i]) == -1) {
			*consumed = i;
			return HTTP_CHUNKED_ERROR;
		}
		i++;
	}
	*consumed = i;
	return c->state == CHUNK_DONE ? HTTP_CHUNKED_DONE : HTTP_CHUNKED_MORE;
}
