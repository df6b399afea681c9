/*
 * http.h: an HTTP/1.1 connection in a worker, and what its parts
 * (connection, responses, static files, routes, access log) share.
 */
#ifndef FORKLOOP_HTTP_H
#define FORKLOOP_HTTP_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/types.h>
#include <stdint.h>

#include <event2/event_struct.h>

#include "worker/http/parse.h"
#include "worker/net/conn.h"
#include "worker/worker.h"

struct evbuffer;
struct event;

enum http_state {
	HTTP_READ_HEAD,		/* waiting for, or inside, a request head */
	HTTP_READ_BODY,		/* reading the body of the current request */
	HTTP_WAIT_HANDLER,	/* a handler answers later (delay) */
	HTTP_LINGER,		/* response sent; reading and dropping input */
};

struct access_log_pending;

/* Reading a request body; only requests with one pay for it. */
struct http_body {
	int64_t left;			/* Content-Length bytes still to come */
	size_t size;			/* decoded so far */
	struct http_chunked chunked;
	struct evbuffer *kept;		/* for a handler that wants it */
	unsigned is_chunked:1;
	unsigned keep:1;
};

struct http_conn {
	struct worker_conn base;	/* first: the worker's list */
	struct net_conn net;		/* the transport: plain or TLS */
	struct conf_server *server;	/* the current request's block */
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
	const struct conf_listen *listen;

	/* The body of the current request, while it has one. */
	struct http_body *body;

	/* The current request, for the handler and the access log. */
	int status;
	uint64_t sent_body;
	struct access_log_pending *log_pending;	/* access_log_defer() */
	int64_t delay_ms;
	struct event *delay_timer;
	enum conf_route_handler route;
	int route_matched;

	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} peer;				/* not sockaddr_storage: 100 bytes less */
};

/* The request being handled; one at a time per worker. */
extern struct http_request http_req;
/* Its path, decoded and normalised (path.c), NUL-terminated.  Paths
 * are bounded by max_header_size only, not by PATH_MAX: a long path to a
 * missing file is a 404, not a 414. */
#define HTTP_PATH_MAX (64 * 1024)
extern char http_path[];
extern size_t http_path_len;

/* h1.c */
void http_conn_close(struct http_conn *c);
void http_conn_flush(struct http_conn *c);
void http_set_timer(struct http_conn *c, int ms);
void http_request_done(struct http_conn *c);
void http_conn_resume(struct http_conn *c);
void http_conn_schedule_write(struct http_conn *c);
int http_reparse(struct http_conn *c);

/* request.c */
void http_handle_head(struct http_conn *c);
void http_body_progress(struct http_conn *c);

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

/* response.c */
const char *http_status_text(int status);
void http_response_start(struct http_conn *c, int status,
    const char *content_type, int64_t content_length);
void http_response_header(struct http_conn *c, const char *name,
    const char *value);
void http_response_raw(struct http_conn *c, const char *lines, size_t len);
void http_response_end_head(struct http_conn *c);
void http_response_body(struct http_conn *c, const void *data, size_t len);
void http_respond_error(struct http_conn *c, int status);
void http_respond_error_with(struct http_conn *c, int status,
    const char *name, const char *value);
void http_respond_simple(struct http_conn *c, int status,
    const char *content_type, const char *body, size_t len);
const char *http_date_now(void);
void http_format_date(time_t t, char out[30]);
int http_is_head(void);

/* error_page.c */
int http_error_page(struct http_conn *c, int status, const char *name,
    const char *value);

/* return.c: the "return" directive */
void http_return_serve(struct http_conn *c);

/* status.c: the status route */
void http_status_serve(struct http_conn *c);

/* static.c */
void http_static_serve(struct http_conn *c);

/* routes.c */
void http_route_serve(struct http_conn *c);
void http_route_cancel(struct http_conn *c);
int http_route_wants_body(struct http_conn *c);

/* mime.c */
const char *mime_type_for(const char *path, size_t len,
    const char *default_type);

/* access_log.c */
int access_log_init(struct worker *w);
void access_log_request(struct http_conn *c);
int access_log_defer(struct http_conn *c);
void access_log_commit(struct http_conn *c, uint64_t unsent);
void access_log_flush_all(void);
void access_log_reopen_all(void);

#endif
