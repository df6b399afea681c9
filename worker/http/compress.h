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

int http_compress_type_ok(const struct conf_server *s, const char *type);
enum http_coding http_compress_choose(const struct http_req *r,
    struct file_cache_entry *e, const char **data, size_t *len);

#endif
