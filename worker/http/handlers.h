/*
 * handlers.h: the handlers that answer a request (request.c calls them):
 * "return", the built-in routes and the status page, and static files.
 */
#ifndef FORKLOOP_HTTP_HANDLERS_H
#define FORKLOOP_HTTP_HANDLERS_H

struct http_req;

void http_return_serve(struct http_req *r);
void http_route_serve(struct http_req *r);
void http_status_serve(struct http_req *r);
void http_static_serve(struct http_req *r);

#endif
