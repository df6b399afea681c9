/*
 * precompressed.c: gzip_static and brotli_static, as nginx's
 * ngx_http_gzip_static_module and ngx_brotli's brotli_static: for FILE,
 * send FILE.gz or FILE.br as it lies on disk, compressed ahead of time
 * (at any level, by any tool), instead of compressing on the fly.
 *
 * A variant is sent when the client accepts its coding (q-values
 * honoured, "gzip;q=0" is a no; "always" sends it whatever the client
 * says), and it is a regular file, under the same root and opened by the
 * same rules as any file (file_cache.c: never outside root), and not
 * older than FILE: a stale FILE.gz left behind by an edit of FILE is
 * passed over.  With both accepted, the one the client prefers is tried
 * first, brotli on a tie (it is the smaller), then the other.  Hidden
 * names were refused already on FILE's name, which FILE.gz extends.
 * The variant comes from the open-file cache like FILE, so it costs no
 * system call when hot; one found missing is looked for again after a
 * second (file_cache_variant()).
 */
#include "config.h"

#include <stddef.h>

#include "worker/http/file_cache.h"
#include "worker/http/response.h"
#include "worker/http/static.h"

/* The q-value the block gives coding under setting c: -1 when off. */
static int
http_precompressed_q(const struct http_req *r, enum conf_static_coding c,
    const char *coding)
{
	switch (c) {
	case CONF_STATIC_ALWAYS:
		return 1000;
	case CONF_STATIC_ON:
		return http_compress_accepts(r, coding);
	default:
		return -1;
	}
}

/* Whether a's modification time is before b's. */
static int
http_precompressed_older(const struct stat *a, const struct stat *b)
{
	if (a->st_mtim.tv_sec != b->st_mtim.tv_sec)
		return a->st_mtim.tv_sec < b->st_mtim.tv_sec;
	return a->st_mtim.tv_nsec < b->st_mtim.tv_nsec;
}

static struct file_cache_entry *
http_precompressed_try(struct file_cache_entry *e, enum http_coding coding)
{
	struct file_cache_entry *v;

	v = file_cache_variant(e, coding == HTTP_CODING_BR ? ".br" : ".gz",
	    coding == HTTP_CODING_BR);
	if (v == NULL || http_precompressed_older(&v->st, &e->st))
		return NULL;
	return v;
}

struct file_cache_entry *
http_precompressed_find(const struct http_req *r, struct file_cache_entry *e,
    enum http_coding *coding)
{
	const struct conf_server *s = r->server;
	struct file_cache_entry *v;
	enum http_coding first, second;
	int gz, br;

	if (s->gzip_static == CONF_STATIC_OFF &&
	    s->brotli_static == CONF_STATIC_OFF)
		return NULL;
	gz = http_precompressed_q(r, s->gzip_static, "gzip");
	br = http_precompressed_q(r, s->brotli_static, "br");
	first = br >= gz ? HTTP_CODING_BR : HTTP_CODING_GZIP;
	second = first == HTTP_CODING_BR ? HTTP_CODING_GZIP : HTTP_CODING_BR;
	if ((first == HTTP_CODING_BR ? br : gz) > 0 &&
	    (v = http_precompressed_try(e, first)) != NULL) {
		*coding = first;
		return v;
	}
	if ((second == HTTP_CODING_BR ? br : gz) > 0 &&
	    (v = http_precompressed_try(e, second)) != NULL) {
		*coding = second;
		return v;
	}
	return NULL;
}
