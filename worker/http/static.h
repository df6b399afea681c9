/*
 * static.h: the parts of the static file handler (static.c): answering
 * with a representation of a file (static_reply.c) and finding a file's
 * precompressed variant (precompressed.c).
 */
#ifndef FORKLOOP_HTTP_STATIC_H
#define FORKLOOP_HTTP_STATIC_H

#include <stddef.h>

#include "worker/http/compress.h"
#include "worker/http/conditional.h"

struct file_cache_entry;
struct http_req;

/* A file as it is sent: as it is, or one of its precompressed variants
 * with the original's type. */
struct http_static_rep {
	struct file_cache_entry *file;	/* whose bytes are sent */
	struct http_validators valid;
	const char *type;
	const char *last_modified;
	const char *encoding;		/* "gzip", "br"; NULL: as it is */
	/* The file's cached Content-Type, Last-Modified, ETag and
	 * Accept-Ranges lines, when they say all of the above; or NULL. */
	const char *head;
	size_t head_len;
	int vary;			/* "Vary: Accept-Encoding" */
};

/*
 * static_reply.c: answers r with rep as its preconditions and Range say:
 * 304, 412, 416, 200, 206 with one range, or 206 multipart/byteranges.
 */
void http_static_reply(struct http_req *r, const struct http_static_rep *rep);

/*
 * precompressed.c: the variant of e (FILE.br, FILE.gz) to send for r
 * under gzip_static and brotli_static, its coding in *coding; NULL when
 * none is on, accepted, there, a regular file, or as new as e.  The
 * caller holds e.
 */
struct file_cache_entry *http_precompressed_find(const struct http_req *r,
    struct file_cache_entry *e, enum http_coding *coding);

#endif
