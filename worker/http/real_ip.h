/*
 * real_ip.h: the client's address behind trusted proxies (real_ip.c).
 */
#ifndef FORKLOOP_HTTP_REAL_IP_H
#define FORKLOOP_HTTP_REAL_IP_H

struct http_req;

/* After the block is chosen: r->peer becomes the address its trusted
 * proxies name, when the block says to believe them. */
void http_real_ip(struct http_req *r);

#endif
