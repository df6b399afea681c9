/*
 * vars.h: what nginx's variables ($host, $request_uri, $remote_addr,
 * $http_NAME, ...) stand for in one request, for the texts of "return"
 * and "proxy_set_header" (struct conf_text, parsed by conf/value.c).
 */
#ifndef FORKLOOP_HTTP_VARS_H
#define FORKLOOP_HTTP_VARS_H

#include <stddef.h>

#include "conf/conf.h"

struct http_req;

/*
 * Writes t as it reads in r into out (max bytes with its NUL); returns
 * the length written.  A longer expansion is cut at max - 1.
 */
size_t http_vars_expand(struct http_req *r, const struct conf_text *t,
    char *out, size_t max);

/* The same for a field value (a Location, add_header, proxy_set_header):
 * control bytes from the request (a decoded "%0d%0a") percent-encoded. */
size_t http_vars_expand_field(struct http_req *r, const struct conf_text *t,
    char *out, size_t max);

/* Appends group n of the regex location's match to out[0..*len). */
void http_vars_put_group(const struct http_req *r, size_t n, char *out,
    size_t *len, size_t max);

/* The first field line named name (lower case, len bytes), or NULL. */
const struct http_header *http_vars_field(const struct http_req *r,
    const char *name, size_t len);

#endif
