/*
 * response.h: the calls that answer an HTTP request (the request object
 * itself is in req.h).
 *
 * Handlers (static files, routes, the status page, return) take the
 * request and answer through http_response_*(); those build the head
 * and pass head and body to the protocol through the request's
 * http_proto, so a handler never reaches into a connection or a stream.
 * The request is its protocol's: once the answer is done, the protocol
 * may free it.
 */
#ifndef FORKLOOP_HTTP_RESPONSE_H
#define FORKLOOP_HTTP_RESPONSE_H

#include <sys/types.h>
#include <stddef.h>

#include "worker/http/req.h"

struct evbuffer;
struct file_cache_entry;

/* response.c: the answer: start, header..., end_head, body..., done. */
const char *http_status_text(int status);
void http_response_start(struct http_req *r, int status,
    const char *content_type, int64_t content_length);
void http_response_header(struct http_req *r, const char *name,
    const char *value);
void http_response_raw(struct http_req *r, const char *lines, size_t len);
void http_response_end_head(struct http_req *r);
void http_response_body(struct http_req *r, const void *data, size_t len);
void http_response_buffer(struct http_req *r, struct evbuffer *buf);
void http_response_file(struct http_req *r, struct file_cache_entry *e,
    off_t start, off_t len);
void http_request_done(struct http_req *r);
void http_request_wait(struct http_req *r);
/*
 * An answer whose body goes out as the handler adds it, not once it is
 * whole; of unknown length unless length_known: chunked (HTTP/1.1), or
 * up to the close (HTTP/1.0).  Call before http_response_end_head().
 */
void http_response_stream(struct http_req *r, int length_known);
size_t http_response_pending(struct http_req *r);
void http_response_flush(struct http_req *r);
void http_request_body_resume(struct http_req *r);
void http_respond_simple(struct http_req *r, int status,
    const char *content_type, const char *body, size_t len);

/* error.c: an error's answer: the block's error_page, else built in. */
void http_respond_error(struct http_req *r, int status);
void http_respond_error_with(struct http_req *r, int status,
    const char *name, const char *value);

/* mime.c */
const char *mime_type_for(const char *path, size_t len,
    const char *default_type);

#endif
