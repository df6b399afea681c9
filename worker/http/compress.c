/*
 * compress.c: gzip (zlib) and brotli (libbrotli) for static files, as
 * nginx's gzip and ngx_brotli modules: a text file the client accepts
 * compressed is sent compressed, with "Content-Encoding" and "Vary:
 * Accept-Encoding".  Files the cache holds in memory (up to 64k) are
 * compressed; larger ones go as they are.
 *
 * The answer copies what it sends (http_response_body), so compressing
 * writes into one buffer kept for the worker's life.  A file asked for
 * again (the open-file cache found it: e->hits) keeps a copy of its
 * compressed bytes with its entry (file_cache.c frees them with it), so
 * a busy page is compressed once per worker, not once a request.  A file
 * seen once keeps none: where every answer is another file (many names,
 * more than the cache holds) a copy would only be written to memory that
 * has gone cold, and freed unread when the entry is evicted.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/encode.h>
#include <zlib.h>

#include "common/log.h"
#include "worker/http/compress.h"
#include "worker/http/file_cache.h"
#include "worker/http/response.h"

/* The types compressed when gzip_types names none: the text a site
 * serves most (nginx's default is text/html alone). */
static const char *const http_compress_default_types[] = {
	"text/css", "text/plain", "application/javascript",
	"application/json", "image/svg+xml",
};

/* Whether the media type (before any ";") is one the block compresses:
 * text/html always, as nginx, and those of gzip_types ("*": all), or
 * without gzip_types the defaults above. */
int
http_compress_type_ok(const struct conf_server *s, const char *type)
{
	size_t len = strcspn(type, "; "), i;

	if (len == 9 && strncmp(type, "text/html", 9) == 0)
		return 1;
	if (s->ngzip_types == 0) {
		for (i = 0; i < sizeof(http_compress_default_types) /
		    sizeof(http_compress_default_types[0]); i++)
			if (strlen(http_compress_default_types[i]) == len &&
			    strncasecmp(http_compress_default_types[i], type,
			    len) == 0)
				return 1;
		return 0;
	}
	for (i = 0; i < s->ngzip_types; i++) {
		const char *t = s->gzip_types[i];

		if (strcmp(t, "*") == 0 ||
		    (strlen(t) == len && strncasecmp(t, type, len) == 0))
			return 1;
	}
	return 0;
}

/*
 * The q-value of coding in an Accept-Encoding field line (RFC 9110
 * 12.5.3): -1 when the line does not name it (nor "*"), else 0 to 1000.
 */
static int
http_compress_qvalue(const char *v, size_t len, const char *coding)
{
	size_t clen = strlen(coding);
	const char *end = v + len;
	int star = -1;

	while (v < end) {
		const char *elem, *semi, *comma;
		size_t elen;
		int q = 1000;

		while (v < end && (*v == ' ' || *v == '\t' || *v == ','))
			v++;
		elem = v;
		comma = memchr(v, ',', (size_t)(end - v));
		if (comma == NULL)
			comma = end;
		semi = memchr(v, ';', (size_t)(comma - v));
		elen = (size_t)((semi != NULL ? semi : comma) - elem);
		while (elen > 0 && (elem[elen - 1] == ' ' ||
		    elem[elen - 1] == '\t'))
			elen--;
		if (semi != NULL) {
			const char *p = semi + 1;

			while (p < comma && (*p == ' ' || *p == '\t'))
				p++;
			if (comma - p >= 2 && (p[0] == 'q' || p[0] == 'Q') &&
			    p[1] == '=') {
				double d = strtod(p + 2, NULL);

				q = d <= 0 ? 0 : d >= 1 ? 1000 :
				    (int)(d * 1000 + 0.5);
			}
		}
		if (elen == clen && strncasecmp(elem, coding, clen) == 0)
			return q;
		if (elen == 1 && elem[0] == '*')
			star = q;
		v = comma;
	}
	return star;
}

int
http_compress_accepts(const struct http_req *r, const char *coding)
{
	int best = -1, q;
	size_t i;

	for (i = 0; i < r->head.nheaders; i++) {
		const struct http_header *h = &r->head.headers[i];

		if (!http_token_equal(h->name, h->name_len, "accept-encoding"))
			continue;
		if ((q = http_compress_qvalue(h->value, h->value_len,
		    coding)) > best)
			best = q;
	}
	return best;
}

/* The best of the codings the block has that the request accepts. */
static enum http_coding
http_compress_accepted(const struct http_req *r)
{
	const struct conf_server *s = r->server;
	int gz = -1, br = -1;
	size_t i;

	for (i = 0; i < r->head.nheaders; i++) {
		const struct http_header *h = &r->head.headers[i];
		int q;

		if (!http_token_equal(h->name, h->name_len, "accept-encoding"))
			continue;
		if (s->gzip && (q = http_compress_qvalue(h->value,
		    h->value_len, "gzip")) > gz)
			gz = q;
		if (s->brotli && (q = http_compress_qvalue(h->value,
		    h->value_len, "br")) > br)
			br = q;
	}
	/* brotli is smaller for the same text: it wins a tie. */
	if (br > 0 && br >= gz)
		return HTTP_CODING_BR;
	if (gz > 0)
		return HTTP_CODING_GZIP;
	return HTTP_CODING_IDENTITY;
}

/*
 * One deflate stream per level, made on first use and kept for the
 * worker's life (about 256 KiB each: window, hash chains, pending
 * buffer): deflateReset() before each file instead of deflateInit2() and
 * deflateEnd(), which allocate and clear all of it again.  A 20 KiB page
 * at level 6 took 400 us with a stream of its own and 320 us with a kept
 * one (a loop of 2,000 with the workers' malloc settings).
 */
static z_stream *http_compress_streams[10];

static z_stream *
http_compress_stream(int level)
{
	z_stream *z;

	if (level < 1 || level > 9)
		level = 6;	/* zlib's default; the config allows 1-9 */
	if ((z = http_compress_streams[level]) != NULL)
		return deflateReset(z) == Z_OK ? z : NULL;
	if ((z = calloc(1, sizeof(*z))) == NULL)
		return NULL;
	/* 15 + 16: a gzip wrapper, not zlib's (RFC 1952). */
	if (deflateInit2(z, level, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK) {
		log_warnx("zlib: cannot make a deflate stream of level %d",
		    level);
		free(z);
		return NULL;
	}
	http_compress_streams[level] = z;
	return z;
}

/*
 * The worker's buffer for compressed bytes, grown to need.  Valid until
 * the next compression; callers copy out of it at once.
 */
static char *
http_compress_scratch(size_t need)
{
	static char *buf;
	static size_t size;
	char *grown;

	if (need <= size)
		return buf;
	if ((grown = realloc(buf, need)) == NULL) {
		log_warn("compress buffer of %zu bytes", need);
		return NULL;
	}
	buf = grown;
	size = need;
	return buf;
}

static int
http_compress_gzip(const char *in, size_t len, int level, char **out,
    size_t *out_len)
{
	z_stream *z = http_compress_stream(level);
	uLong bound;
	int rc;

	if (z == NULL)
		return -1;
	bound = deflateBound(z, (uLong)len);
	if ((*out = http_compress_scratch(bound)) == NULL)
		return -1;
	z->next_in = (Bytef *)(uintptr_t)in;
	z->avail_in = (uInt)len;
	z->next_out = (Bytef *)*out;
	z->avail_out = (uInt)bound;
	rc = deflate(z, Z_FINISH);
	*out_len = z->total_out;
	return rc == Z_STREAM_END ? 0 : -1;
}

static int
http_compress_brotli(const char *in, size_t len, int level, char **out,
    size_t *out_len)
{
	size_t bound = BrotliEncoderMaxCompressedSize(len);

	if (bound == 0 || (*out = http_compress_scratch(bound)) == NULL)
		return -1;
	*out_len = bound;
	if (!BrotliEncoderCompress(level, BROTLI_DEFAULT_WINDOW,
	    BROTLI_MODE_TEXT, len, (const uint8_t *)in, out_len,
	    (uint8_t *)*out))
		return -1;
	return 0;
}

/*
 * Compresses e's bytes in coding into the worker's buffer (*data), and
 * keeps a copy in e's *cached, *cached_len when e has been asked for
 * before.  -1 when the compressor fails (it is not tried on e again).
 */
static int
http_compress_make(const struct conf_server *s, struct file_cache_entry *e,
    enum http_coding coding, char **cached, size_t *cached_len,
    const char **data, size_t *len)
{
	char *made;
	size_t made_len = 0;
	int rc;

	rc = coding == HTTP_CODING_BR ?
	    http_compress_brotli(e->data, (size_t)e->st.st_size,
	    s->brotli_comp_level, &made, &made_len) :
	    http_compress_gzip(e->data, (size_t)e->st.st_size,
	    s->gzip_comp_level, &made, &made_len);
	if (rc == -1) {
		log_warnx("cannot compress %s", e->key);
		e->compress_failed = 1;
		return -1;
	}
	*data = made;
	*len = made_len;
	if (e->hits == 0 || (*cached = malloc(made_len)) == NULL)
		return 0;	/* sent from the buffer, not kept */
	memcpy(*cached, made, made_len);
	*cached_len = made_len;
	return 0;
}

/*
 * The coding to send e in, for r, and its bytes: e's kept copy, or made
 * now in the worker's buffer, which the next compression overwrites (the
 * caller copies them into its answer at once).  HTTP_CODING_IDENTITY
 * when the block compresses nothing, the type is not one it compresses,
 * the file is too short or not held in memory, the request accepts no
 * coding we have, asks for a range (ranges are of the file as it is), or
 * compressing does not pay.
 */
enum http_coding
http_compress_choose(const struct http_req *r, struct file_cache_entry *e,
    const char **data, size_t *len)
{
	const struct conf_server *s = r->server;
	enum http_coding coding;
	const char *made;
	char **cached;
	size_t *cached_len, made_len;

	if ((!s->gzip && !s->brotli) || e->data == NULL ||
	    r->head.range != NULL || (size_t)e->st.st_size < s->gzip_min_length ||
	    !http_compress_type_ok(s, e->type))
		return HTTP_CODING_IDENTITY;
	coding = http_compress_accepted(r);
	if (coding == HTTP_CODING_IDENTITY)
		return coding;
	cached = coding == HTTP_CODING_BR ? &e->br : &e->gz;
	cached_len = coding == HTTP_CODING_BR ? &e->br_len : &e->gz_len;
	if (*cached != NULL) {
		made = *cached;
		made_len = *cached_len;
	} else if (e->compress_failed ||
	    http_compress_make(s, e, coding, cached, cached_len, &made,
	    &made_len) == -1)
		return HTTP_CODING_IDENTITY;
	if (made_len >= (size_t)e->st.st_size)
		return HTTP_CODING_IDENTITY;
	*data = made;
	*len = made_len;
	return coding;
}
