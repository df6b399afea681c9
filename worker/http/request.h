/*
 * request.h: what a protocol (h1_request.c) does with a request: it
 * makes one when a head is whole, fills in what it parsed, and hands it
 * to http_req_begin() and http_req_dispatch(), which choose the block,
 * decode the path and call the handler; it frees the request once the
 * answer is queued.
 */
#ifndef FORKLOOP_HTTP_REQUEST_H
#define FORKLOOP_HTTP_REQUEST_H

#include "worker/http/response.h"

struct conf_vhosts;

/* request.c: making, choosing the block, routing, dispatching. */
struct http_req *http_req_new(const struct http_proto *proto, void *owner,
    struct conf_server *server, const struct net_conn *net,
    const struct sockaddr *peer);
void http_req_free(struct http_req *r);
int http_req_begin(struct http_req *r, const struct conf_vhosts *vhosts);
void http_req_dispatch(struct http_req *r);
/* What the handler does with a request body. */
enum { HTTP_BODY_DROP, HTTP_BODY_KEEP, HTTP_BODY_STREAM };
int http_req_wants_body(const struct http_req *r);

#endif
