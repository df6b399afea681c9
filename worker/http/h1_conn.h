/*
 * h1_conn.h: an HTTP/1.1 connection in a worker: its input, its requests one
 * at a time, its body framing and its output.
 */
#ifndef FORKLOOP_HTTP_H1_CONN_H
#define FORKLOOP_HTTP_H1_CONN_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/types.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "worker/http/parse.h"
#include "worker/http/request.h"
#include "worker/net/conn.h"
#include "worker/conns.h"
#include "worker/protocols.h"

struct evbuffer;
struct event;

enum http_state {
	HTTP_READ_HEAD,		/* waiting for, or inside, a request head */
	HTTP_READ_BODY,		/* reading the body of the current request */
	HTTP_WAIT_HANDLER,	/* a handler answers later (delay) */
	HTTP_LINGER,		/* response sent; reading and dropping input */
};

struct access_log_pending;

/* A streamed body is taken from the input while its handler holds less
 * than this. */
#define HTTP_BODY_STREAM_HIGH (64 * 1024)

/* Reading a request body; only requests with one pay for it. */
struct http_body {
	int64_t left;			/* Content-Length bytes still to come */
	size_t size;			/* decoded so far */
	struct http_chunked chunked;
	struct evbuffer *kept;		/* the request's, when it wants it */
	unsigned is_chunked:1;
	unsigned streams:1;		/* the handler takes it as it comes */
};

struct http_conn {
	struct worker_conn base;	/* first: the worker's list */
	struct net_conn net;		/* the transport: plain or TLS */
	struct conf_server *server;	/* the current request's block */
	struct http_req *req;		/* the current request, or NULL */
	struct conf_server *home;	/* the address's default, or SNI's */
	struct event ev_read;		/* embedded: no allocation each */
	struct event timer;
	struct event *ev_write;		/* made when a write first blocks */
	struct evbuffer *out;		/* see h1_out.c; NULL when idle */
	enum http_state state;

	/* Input: the current request's head starts at in + head_start. */
	char *in;
	size_t in_len;
	size_t in_cap;
	size_t head_start;
	size_t head_len;		/* 0 until the head is complete */
	size_t head_scanned;
	unsigned head_timer_armed:1;	/* header_timeout runs from byte one */
	unsigned head_begun:1;		/* empty lines came before a request */

	unsigned close_after:1;		/* close once the output is sent */
	unsigned draining:1;		/* the worker is stopping */
	unsigned want_write:1;
	unsigned read_eof:1;
	unsigned idle:1;		/* counted as an idle keep-alive */
	unsigned proxy_pending:1;	/* a PROXY header comes first */
	unsigned client_closes:1;	/* the request asked to close */
	unsigned nodelay:1;		/* TCP_NODELAY is set */
	unsigned read_armed:1;		/* ev_read is registered */
	unsigned tls_starting:1;	/* PROXY header or TLS handshake */
	unsigned read_wants_write:1;	/* TLS read waits for POLLOUT */
	unsigned wake:1;		/* see http_conn_wake() */
	unsigned seen_request:1;	/* a request came: no HTTP/2 preface now */
	unsigned to_h2:1;		/* the HTTP/2 preface came */
	const struct conf_listen *listen;

	/* The body of the current request, while it has one. */
	struct http_body *body;
	struct http_auth_cache *auth;	/* auth_basic's last proved (auth.c) */

	/* An answer whose log line waits until it has gone. */
	struct access_log_pending *log_pending;	/* access_log_defer() */

	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} peer;				/* not sockaddr_storage: 100 bytes less */
};

/*
 * Asks the connection to go on (read the next request, write what is
 * queued) from the loop, soon: for an answer that came from a
 * handler's own event (delay), or output queued from outside the
 * connection's callbacks.  The read callback sees the flag.  In
 * h1_events.c, with the read event, registered only while input is
 * awaited.
 */
void http_conn_wake(struct http_conn *c);
void http_conn_arm_read(struct http_conn *c);
void http_conn_disarm_read(struct http_conn *c);

/* h1.c */
void http_conn_close(struct http_conn *c);
void http_conn_flush(struct http_conn *c);
void http_set_timer(struct http_conn *c, int ms);


/* handshake.c */
int http_tls_handshake(struct http_conn *c);

/* h1_in.c */
void http_in_release(struct http_conn *c);
int http_in_keep(struct http_conn *c);
int http_in_make_room(struct http_conn *c);

/* h1_body.c */
int http_body_start(struct http_conn *c);
void http_body_free(struct http_conn *c);
int http_body_take(struct http_conn *c);

/* h1_out.c */
int http_out_add(struct http_conn *c, const void *data, size_t len);
struct evbuffer *http_out_evbuffer(struct http_conn *c);
size_t http_out_pending(const struct http_conn *c);
int http_out_write(struct http_conn *c);
void http_out_free(struct http_conn *c);
void http_out_release_idle(struct http_conn *c);

/* h1_request.c: the connection's requests and how their answers go */
extern const struct http_proto http_h1_proto;
struct http_req *http_h1_req_new(struct http_conn *c);
int http_h1_refuse(struct http_conn *c, int status);
int http_handle_head(struct http_conn *c, size_t len);
void http_body_progress(struct http_conn *c);

#endif
