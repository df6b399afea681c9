/*
 * compress.h: gzip and brotli for static files (compress.c).
 */
#ifndef FORKLOOP_HTTP_COMPRESS_H
#define FORKLOOP_HTTP_COMPRESS_H

#include <stddef.h>

struct conf_server;
struct file_cache_entry;
struct http_req;

enum http_coding {
	HTTP_CODING_IDENTITY,
	HTTP_CODING_GZIP,
	HTTP_CODING_BR,
};

/*
 * The q-value (0 to 1000) of coding ("gzip") in the request's
 * Accept-Encoding lines, RFC 9110 12.5.3, or -1 when none names it or "*".
 */
int http_compress_accepts(const struct http_req *r, const char *coding);
int http_compress_type_ok(const struct conf_server *s, const char *type);
/*
 * The coding e goes in for the request, and in *data, *len its bytes:
 * valid until the next call, so the caller copies them out at once.
 */
enum http_coding http_compress_choose(const struct http_req *r,
    struct file_cache_entry *e, const char **data, size_t *len);

#endif
