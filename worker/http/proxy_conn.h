/*
 * proxy_conn.h: a proxied request's state, shared by the two halves of
 * the reverse proxy: proxy.c (the tries: a server, a connection, the
 * request sent) and proxy_answer.c (the answer read and passed on).
 */
#ifndef FORKLOOP_HTTP_PROXY_CONN_H
#define FORKLOOP_HTTP_PROXY_CONN_H

#include <stdint.h>

#include "worker/http/parse.h"

struct evbuffer;
struct http_req;
struct upstream;
struct upstream_conn;

/* Stop reading the answer while the client has this much queued. */
#define PROXY_OUT_HIGH (256 * 1024)
#define PROXY_OUT_HIGH_UNBUFFERED (32 * 1024)
/* Stop taking a streamed request body while this much waits upstream. */
#define PROXY_UP_HIGH (256 * 1024)
/* The most read from the upstream per readiness. */
#define PROXY_READ_MORE (256 * 1024)
/* Read per readiness while the answer's head is not whole (libevent's
 * bufferevent read as much): the body is read with a bound after it. */
#define PROXY_HEAD_READ 4096
/* An answer's head larger than this is refused. */
#define PROXY_HEAD_MAX (64 * 1024)
/* Contiguous bytes looked at per pass of the chunked decoder. */
#define PROXY_CHUNK_VIEW (64 * 1024)

enum proxy_body {
	PROXY_BODY_NONE,	/* 1xx, 204, 304, or HEAD */
	PROXY_BODY_LENGTH,
	PROXY_BODY_CHUNKED,
	PROXY_BODY_CLOSE,	/* up to the close */
};

struct proxy {
	struct http_req *r;
	struct upstream *u;
	int peer;			/* of this try */
	unsigned char *tried;		/* one byte per peer */
	struct upstream_conn *up;	/* this try's connection */
	struct evbuffer *head;		/* the request head, for a retry */
	struct evbuffer *chunk;		/* answer bytes on their way */
	enum proxy_body body;
	int64_t left;			/* Content-Length bytes to come */
	struct http_chunked chunked;
	int status;
	double started;
	double try_started;		/* this try's */
	unsigned pooled:1;		/* this try's connection was kept */
	unsigned stale_retried:1;
	unsigned got_bytes:1;		/* the upstream sent something */
	unsigned head_out:1;		/* the answer's head went out */
	unsigned keepalive:1;		/* the answer allows another */
	unsigned sent_all:1;		/* the whole request went upstream */
	unsigned body_end_sent:1;	/* a chunked body's last chunk */
	unsigned paused:1;		/* reading waits for the client */
	unsigned connected:1;
	unsigned req_chunked:1;		/* the body goes up chunked */
	unsigned upgrade:1;		/* the client asked to upgrade */
	unsigned active:1;		/* counted in its peer's active */
};

/* proxy.c */
const char *proxy_addr(const struct proxy *p);
void proxy_release(struct proxy *p, int keep);
void proxy_free(struct proxy *p);
struct http_req *proxy_detach(struct proxy *p);
void proxy_finish(struct proxy *p);
void proxy_failed(struct proxy *p, int status, const char *why);

/* proxy_answer.c: the upstream connection's read callback. */
void proxy_on_read(struct upstream_conn *c, short what, void *arg);

#endif
