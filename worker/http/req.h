/*
 * req.h: an HTTP request as every handler sees it, whatever the protocol
 * version that carried it (owned by an HTTP/1.1 connection or an HTTP/2
 * stream), and the table of calls through which its protocol carries
 * the answer (struct http_proto).  The calls that build an answer are in
 * response.h; parts that only read a request (the log, variables)
 * include this alone.
 */
#ifndef FORKLOOP_HTTP_REQ_H
#define FORKLOOP_HTTP_REQ_H

#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/limit_zone.h"
#include "conf/conf.h"
#include "conf/regex.h"
#include "worker/http/date.h"
#include "worker/http/parse.h"

struct bufferevent;
struct evbuffer;
struct event;
struct file_cache_entry;
struct net_conn;
struct http_req;

/*
 * Paths are bounded by max_header_size only, not by PATH_MAX: a long
 * path to a missing file is a 404, not a 414.
 */
#define HTTP_PATH_MAX (64 * 1024)
/* Paths up to this length live in the request itself; longer ones are
 * allocated. */
#define HTTP_PATH_INLINE 512
/* Upstream tries the access log names (proxy.c). */
#define HTTP_UPSTREAM_TRIES 4

/*
 * What a protocol does with an answer.  Each returns -1 when it could
 * not queue what it was given (out of memory); the request is then
 * marked broken and ends its connection or stream.
 */
struct http_proto {
	/* The head: a status line and field lines, each ending in CRLF,
	 * without the empty line that ends the head. */
	int (*head)(struct http_req *r, const char *head, size_t len);
	int (*data)(struct http_req *r, const void *data, size_t len);
	/* Moves all of buf into the answer. */
	int (*buffer)(struct http_req *r, struct evbuffer *buf);
	int (*file)(struct http_req *r, struct file_cache_entry *e,
	    off_t start, off_t len);
	/* The answer is whole (and the request may be freed). */
	void (*done)(struct http_req *r);
	/* For a handler that answers over time (the reverse proxy): */
	/* answer bytes queued and not yet sent; */
	size_t (*pending)(struct http_req *r);
	/* send what is queued, from the loop, soon; */
	void (*flush)(struct http_req *r);
	/* the handler took the request body in r->body: read more. */
	void (*body_resume)(struct http_req *r);
	/*
	 * The connection becomes a tunnel (an upgrade's 101): its
	 * transport as a bufferevent, with what it had not yet sent, and
	 * in unread what the client sent after the request.  r is logged
	 * and freed, the connection closed around the transport.  NULL
	 * when the protocol cannot (HTTP/2: no such function) or out of
	 * memory.
	 */
	struct bufferevent *(*takeover)(struct http_req *r,
	    struct evbuffer *unread);
};

/* A client address, IPv4 or IPv6. */
union real_ip_addr {
	struct sockaddr sa;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
};

struct http_req {
	struct http_request head;	/* parsed; points into the input */
	const struct http_proto *proto;
	void *owner;			/* the protocol's connection or stream */
	struct conf_server *server;	/* the block that answers */
	const struct net_conn *net;	/* the transport: TLS or not */
	const struct sockaddr *peer;	/* the client (or the PROXY source) */

	char *path;			/* decoded and normalised, NUL-ended */
	size_t path_len;
	enum conf_route_handler route;

	int status;			/* of the answer, for the log */
	uint64_t sent_body;		/* body bytes in the answer */
	struct evbuffer *body;		/* the request body, if kept */
	struct event *timer;		/* a handler's, freed with r */
	double started;			/* when its head was whole, seconds */
	int64_t delay_ms;

	/*
	 * A handler that answers over time (the reverse proxy) keeps its
	 * state here.  cleanup runs when r is freed while the handler still
	 * holds it (the client went); on_drain when the answer's queued
	 * output has gone down (send more); on_body when more of a
	 * streamed request body is in r->body, or all of it (body_done).
	 */
	void *handler;
	void (*cleanup)(struct http_req *r);
	void (*on_drain)(struct http_req *r);
	void (*on_body)(struct http_req *r);
	/* auth_basic (auth.c): the connection's memory of the last
	 * credentials it proved, and the user they proved ($remote_user). */
	struct http_auth_cache **auth_cache;
	const char *remote_user;
	/* For the log, as nginx: each server tried, in order, with the
	 * status it gave (0: none; a failed try has 502 or 504) and its
	 * time; the first HTTP_UPSTREAM_TRIES tries are kept. */
	const char *upstream_addr[HTTP_UPSTREAM_TRIES];
	int upstream_status[HTTP_UPSTREAM_TRIES];
	int upstream_ms[HTTP_UPSTREAM_TRIES];
	unsigned upstream_tries;	/* may exceed HTTP_UPSTREAM_TRIES */

	unsigned has_path:1;		/* path is set: not "*" or CONNECT */
	unsigned route_matched:1;
	unsigned close:1;		/* the connection ends with the answer */
	unsigned waiting:1;		/* a handler answers later */
	unsigned tls:1;			/* it came over TLS */
	unsigned body_streams:1;	/* its body comes to the handler as
					 * it arrives (on_body) */
	unsigned body_done:1;		/* all of a streamed body has come */
	unsigned body_unsized:1;	/* HTTP/2: DATA follows the head, and
					 * no content-length says how much */
	unsigned stream_out:1;		/* an answer of unknown length */
	unsigned live_out:1;		/* its body goes out as it comes */
	unsigned broken:1;		/* the answer broke off: no clean end */
	unsigned head_sent:1;		/* its head went to the protocol */

	union real_ip_addr real_peer;	/* peer, when real_ip.c moved it */
	/* limit_req's delay, and the limit_conn counts it holds (limit.c) */
	int64_t limit_delay_ms;
	const struct conf_server *limit_conn_server;
	unsigned limit_conn_held;	/* its first rules, in order */
	struct limit_key limit_key;
	/* The groups of the regex location that matched (request.c), as
	 * offsets into path: $1 is caps[2]..caps[3]; ncaps pairs are set,
	 * 0 when no regex matched.  A new request clears ncaps; caps,
	 * past path_inline, is only written by a match. */
	unsigned ncaps;
	char path_inline[HTTP_PATH_INLINE];
	uint32_t caps[2 * CONF_REGEX_GROUPS];
};

static inline int
http_req_is_tls(const struct http_req *r)
{
	return r->tls;
}

static inline int
http_req_is_head(const struct http_req *r)
{
	return r->head.method == HTTP_METHOD_HEAD;
}

#endif
