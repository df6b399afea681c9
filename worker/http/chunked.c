/*
 * chunked.c: the chunked transfer coding decoder, RFC 9112 section 7.1.
 *
 * A byte-at-a-time state machine, so a body split anywhere across reads
 * decodes the same.  Strict where leniency has been used for smuggling:
 * every line ends in CRLF, the size is hex digits only and may not
 * overflow, and chunk extensions and trailers are bounded.
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
	CHUNK_EXT,		/* after ';': the extension, until CR */
	CHUNK_SIZE_LF,
	CHUNK_DATA,
	CHUNK_DATA_CR,
	CHUNK_DATA_LF,
	CHUNK_TRAILER_START,	/* start of a trailer line or the end */
	CHUNK_TRAILER,		/* inside a trailer field line */
	CHUNK_TRAILER_LF,
	CHUNK_END_LF,
	CHUNK_DONE,
};

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
			c->state = CHUNK_EXT;
		else if (ch != ' ' && ch != '\t')
			return -1;
		break;
	case CHUNK_EXT:
		if (ch == '\r')
			c->state = CHUNK_SIZE_LF;
		else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
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
		c->state = CHUNK_TRAILER;
		/* FALLTHROUGH */
	case CHUNK_TRAILER:
		if (++c->trailer_len > HTTP_CHUNK_TRAILER_MAX)
			return -1;
		if (ch == '\r')
			c->state = CHUNK_TRAILER_LF;
		else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return -1;
		return 0;
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
