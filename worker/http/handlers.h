/*
 * handlers.h: the handlers that answer a request (request.c calls them):
 * "return", the built-in routes and the status page, static files and
 * folder listings, the proxy, and WebSockets into a chat room.
 */
#ifndef FORKLOOP_HTTP_HANDLERS_H
#define FORKLOOP_HTTP_HANDLERS_H

#include <stddef.h>

struct http_req;

void http_return_serve(struct http_req *r);
void http_route_serve(struct http_req *r);
void http_status_serve(struct http_req *r);
void http_static_serve(struct http_req *r);
void http_proxy_serve(struct http_req *r);	/* proxy.c */

/* websocket.c: the block's "websocket" for r's path, or NULL; and the
 * handshake that makes the connection a member of its chat room. */
struct conf_websocket;
const struct conf_websocket *http_websocket_find(const struct http_req *r);
void http_websocket_serve(struct http_req *r,
    const struct conf_websocket *ws);

/*
 * autoindex.c: lists the folder dir (a path under the block's root
 * ending in "/", len bytes) for r, whose path ends in "/".  Returns 0
 * once it has answered (the listing, or 403/500/503 when the folder
 * cannot be read), -1 with errno set when there is no such folder, and
 * nothing is answered.
 */
int http_autoindex_serve(struct http_req *r, const char *dir, size_t len);

#endif
