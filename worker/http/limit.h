/*
 * limit.h: limit_req and limit_conn applied to a request (limit.c).
 */
#ifndef FORKLOOP_HTTP_LIMIT_H
#define FORKLOOP_HTTP_LIMIT_H

struct http_req;

/*
 * The block's limit_req then limit_conn rules, for the request's client
 * address: 0 to go on (r->limit_delay_ms > 0: after that long), or -1
 * when r is answered (limit_req_status, limit_conn_status).
 */
int http_limit_check(struct http_req *r);
/* A request limit_req delays: 1 when r now waits on its timer. */
int http_limit_delay(struct http_req *r,
    void (*resume)(struct http_req *));
/* Gives back r's limit_conn counts: its answer is done, or it is gone. */
void http_limit_release(struct http_req *r);

#endif
