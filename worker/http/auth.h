/*
 * auth.h: auth_basic for a request (worker/http/auth.c): the check that
 * request.c makes once the request's block or location is chosen, and
 * the connection's memory of the last credentials it proved.
 */
#ifndef FORKLOOP_HTTP_AUTH_H
#define FORKLOOP_HTTP_AUTH_H

struct http_req;
struct http_auth_cache;

/*
 * For a request whose settings have auth_basic on: 0 when its
 * credentials are good (r->remote_user is then set), or -1 when it is
 * answered already (401, 400 or 500).
 */
int http_auth_check(struct http_req *r);

/* Frees a connection's cache (NULL: nothing); its credentials are
 * cleared first. */
void http_auth_cache_free(struct http_auth_cache *cache);

#endif
