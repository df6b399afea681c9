/*
 * proxy.c: a request passed to an upstream server (proxy_pass), and its
 * answer passed back, both streamed.  This file makes the tries and
 * sends the request; proxy_answer.c reads the answer and passes it on.
 *
 * A try: pick a server (upstream.c), take a kept connection to it or
 * connect, send the request head (proxy_head.c) and the body, read the
 * answer's head, then move the answer's body to the client as it comes,
 * in its own framing (Content-Length, chunked, or up to the close).  The
 * upstream side is an upstream_conn (upstream_conn.c: a bufferevent that
 * writes, and a read event of its own); reading from it stops while the
 * client has more than PROXY_OUT_HIGH queued and goes on when that has
 * drained (on_drain), so a fast upstream and a slow client hold a
 * bounded amount in memory.  A streamed request body moves the same way
 * the other direction (on_body, body_resume).
 *
 * Failures, as nginx: a kept connection that closed before any byte of
 * the answer is retried once on a new one (the server closed it while
 * idle); a refused, reset or timed-out try goes to the next server for
 * idempotent methods, before any byte reached the client and while the
 * body can still be sent again; otherwise 502 (or 504 for a timeout).
 * Once the answer's head has gone, a broken upstream breaks the answer:
 * the client sees no clean end.  Each failure is logged with the
 * upstream's address.  Whole answers leave their connection in the
 * pool when it can carry another request.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/stats.h"
#include "worker/conns.h"
#include "worker/http/date.h"
#include "worker/http/handlers.h"
#include "worker/http/proxy.h"
#include "worker/http/proxy_conn.h"
#include "worker/http/request.h"
#include "worker/http/tunnel.h"
#include "worker/http/upstream.h"


static void proxy_try(struct proxy *p);
static void proxy_on_write(struct bufferevent *bev, void *arg);
static void proxy_on_event(struct bufferevent *bev, short what, void *arg);

const char *
proxy_addr(const struct proxy *p)
{
	return p->u->peers[p->peer].conf->text;
}

/* Reading is on (with read_ms, or no timeout); writing gets write_ms. */
static int
proxy_set_timeout(struct proxy *p, int read_ms, int write_ms)
{
	struct timeval wtv;

	wtv.tv_sec = write_ms / 1000;
	wtv.tv_usec = (write_ms % 1000) * 1000;
	bufferevent_set_timeouts(p->up->bev, NULL, write_ms > 0 ? &wtv : NULL);
	return upstream_conn_read_on(p->up, read_ms);
}

/* This try's connection goes: kept for another request, or closed. */
void
proxy_release(struct proxy *p, int keep)
{
	if (p->active) {
		p->u->peers[p->peer].active--;
		p->active = 0;
	}
	if (p->up == NULL)
		return;
	if (keep)
		upstream_idle_put(p->u, (size_t)p->peer, p->up);
	else
		upstream_conn_free(p->up);
	p->up = NULL;
}

void
proxy_free(struct proxy *p)
{
	proxy_release(p, 0);
	if (p->head != NULL)
		evbuffer_free(p->head);
	if (p->chunk != NULL)
		evbuffer_free(p->chunk);
	free(p->tried);
	free(p);
}

/* The client went (its connection or stream closed) while we worked. */
static void
proxy_cleanup(struct http_req *r)
{
	struct proxy *p = r->handler;

	r->handler = NULL;
	r->cleanup = NULL;
	if (p == NULL)
		return;
	log_debug("upstream %s: the client went before the answer's end",
	    p->up != NULL ? proxy_addr(p) : "-");
	proxy_free(p);
}

/* What this try gave, for the log: its status and time. */
static void
proxy_note_try(struct proxy *p, int status)
{
	struct http_req *r = p->r;
	unsigned k = r->upstream_tries - 1;

	if (r->upstream_tries == 0 || k >= HTTP_UPSTREAM_TRIES ||
	    r->upstream_ms[k] >= 0)
		return;
	r->upstream_status[k] = status;
	r->upstream_ms[k] = (int)((http_clock() - p->try_started) * 1000);
}

/* r is the protocol's again: the proxy lets go of it. */
struct http_req *
proxy_detach(struct proxy *p)
{
	struct http_req *r = p->r;

	r->handler = NULL;
	r->cleanup = NULL;
	r->on_drain = NULL;
	r->on_body = NULL;
	proxy_note_try(p, p->status);
	return r;
}

/* The answer is whole: the connection may carry another request. */
void
proxy_finish(struct proxy *p)
{
	struct http_req *r = proxy_detach(p);
	int keep = p->keepalive && p->sent_all && p->body != PROXY_BODY_CLOSE &&
	    !p->up->eof && !p->up->error &&
	    evbuffer_get_length(bufferevent_get_input(p->up->bev)) == 0;

	upstream_peer_ok(p->u, (size_t)p->peer);
	log_debug("upstream %s: answer whole; %s (keepalive %d, sent %d)",
	    proxy_addr(p), keep ? "kept" : "closed", p->keepalive, p->sent_all);
	proxy_release(p, keep);
	proxy_free(p);
	http_response_flush(r);
	http_request_done(r);
}

/*
 * This try failed.  Another may follow (see the top); else the client
 * gets status, or, with the head gone, an answer that breaks off.
 */
void
proxy_failed(struct proxy *p, int status, const char *why)
{
	struct http_req *r = p->r;
	int idempotent, resend, kind;

	log_warnx("upstream %s (%s): %s, for \"%.*s\"", proxy_addr(p),
	    p->u->conf->name, why, (int)r->head.request_line_len,
	    r->head.request_line);
	proxy_note_try(p, p->status > 0 ? p->status : status);
	resend = !r->body_streams && !p->head_out;
	if (p->pooled && !p->got_bytes && !p->stale_retried && resend &&
	    status == 502) {
		/* A kept connection the server had closed: once more. */
		p->stale_retried = 1;
		proxy_release(p, 0);
		p->tried[p->peer] = 0;
		worker_stats->upstream_retries++;
		proxy_try(p);
		return;
	}
	kind = status == 504 ? STATS_UPSTREAM_TIMEOUT :
	    !p->connected ? STATS_UPSTREAM_CONNECT :
	    p->got_bytes && !p->head_out ? STATS_UPSTREAM_BAD_ANSWER :
	    STATS_UPSTREAM_BROKEN;
	worker_stats->upstream_failed[kind]++;
	/* A bad answer is the server's fault too: it counts for max_fails. */
	upstream_peer_failed(p->u, (size_t)p->peer);
	proxy_release(p, 0);
	idempotent = r->head.method == HTTP_METHOD_GET ||
	    r->head.method == HTTP_METHOD_HEAD ||
	    r->head.method == HTTP_METHOD_PUT ||
	    r->head.method == HTTP_METHOD_DELETE ||
	    r->head.method == HTTP_METHOD_OPTIONS;
	if (idempotent && resend && !p->got_bytes &&
	    upstream_has_peer(p->u, p->tried)) {
		worker_stats->upstream_retries++;
		proxy_try(p);
		return;
	}
	r = proxy_detach(p);
	if (p->head_out) {
		r->broken = 1;
		proxy_free(p);
		http_response_flush(r);
		http_request_done(r);
		return;
	}
	proxy_free(p);
	http_respond_error(r, status);
}

/* No server left to try. */
static void
proxy_no_peer(struct proxy *p)
{
	struct http_req *r = p->r;

	log_warnx("no live upstreams in \"%s\", for \"%.*s\"",
	    p->u->conf->name, (int)r->head.request_line_len,
	    r->head.request_line);
	r = proxy_detach(p);
	proxy_free(p);
	http_respond_error(r, 502);
}

/* Moves what the client's streamed body has into the upstream's output. */
static void
proxy_move_body(struct proxy *p)
{
	struct http_req *r = p->r;
	struct evbuffer *out;
	size_t n;

	if (p->up == NULL || !r->body_streams)
		return;
	out = bufferevent_get_output(p->up->bev);
	n = evbuffer_get_length(r->body);
	if (n > 0 && evbuffer_get_length(out) < PROXY_UP_HIGH) {
		if (p->req_chunked)
			evbuffer_add_printf(out, "%zx\r\n", n);
		evbuffer_add_buffer(out, r->body);
		if (p->req_chunked)
			evbuffer_add(out, "\r\n", 2);
		http_request_body_resume(r);
	}
	if (r->body_done && evbuffer_get_length(r->body) == 0 &&
	    !p->body_end_sent) {
		p->body_end_sent = 1;
		if (p->req_chunked && !r->broken)
			evbuffer_add(out, "0\r\n\r\n", 5);
	}
}

static void
proxy_on_body(struct http_req *r)
{
	struct proxy *p = r->handler;

	if (r->broken && !p->head_out) {
		/* The client's body broke: nothing sensible can follow. */
		r = proxy_detach(p);
		proxy_free(p);
		http_request_done(r);
		return;
	}
	proxy_move_body(p);
}

/* The client took enough of the answer: read more of it. */
static void
proxy_on_drain(struct http_req *r)
{
	struct proxy *p = r->handler;

	if (p == NULL || !p->paused || p->up == NULL)
		return;
	p->paused = 0;
	if (upstream_conn_read_on(p->up, p->sent_all ?
	    r->server->proxy_read_timeout_ms : 0) == -1)
		log_warnx("upstream %s: cannot read on", proxy_addr(p));
	/* Bytes already read raise no event: run the callback soon. */
	event_active(p->up->rd, EV_READ, 1);
}

/*
 * A new connection.  The callbacks are set once the connect has begun:
 * libevent reports a connect that fails at once through the event
 * callback before returning, where p could not yet be let go of.
 */
static void
proxy_connect(struct proxy *p, const struct conf_upstream_server *s)
{
	if ((p->up = upstream_conn_connect(s)) == NULL)
		return;
	bufferevent_setcb(p->up->bev, NULL, proxy_on_write, proxy_on_event,
	    p);
	upstream_conn_set_read(p->up, proxy_on_read, p);
	if (proxy_set_timeout(p, 0, p->r->server->proxy_connect_timeout_ms) ==
	    -1) {
		int saved = errno;

		upstream_conn_free(p->up);
		p->up = NULL;
		errno = saved;
	}
}

/* The whole request has gone: the answer's time starts. */
static void
proxy_sent_all(struct proxy *p)
{
	p->sent_all = 1;
	if (proxy_set_timeout(p, p->r->server->proxy_read_timeout_ms, 0) == -1)
		log_warnx("upstream %s: cannot set the read timeout",
		    proxy_addr(p));
}

/*
 * Sends the request's head and, when whole, its body.  On a connection
 * that is open (a kept one) they go straight to the socket, which
 * mostly takes them: no write event is registered, and the connection
 * costs no system call but the write.  Returns 0, or -1 with errno when
 * the socket refuses (a kept connection the server closed).
 */
static int
proxy_send_request(struct proxy *p)
{
	static struct evbuffer *now;
	struct http_req *r = p->r;

	if (r->body_streams) {
		p->body_end_sent = 0;
		if (evbuffer_add_buffer_reference(bufferevent_get_output(
		    p->up->bev), p->head) == -1)
			return -1;
		proxy_move_body(p);
		return bufferevent_enable(p->up->bev, EV_WRITE);
	}
	if (now == NULL && (now = evbuffer_new()) == NULL)
		return -1;
	/* A whole body is referred to, not copied: kept for a retry. */
	if (evbuffer_add_buffer_reference(now, p->head) == -1 ||
	    (r->body != NULL && evbuffer_get_length(r->body) > 0 &&
	    evbuffer_add_buffer_reference(now, r->body) == -1))
		return -1;
	if (p->connected &&
	    evbuffer_write(now, bufferevent_getfd(p->up->bev)) == -1 &&
	    errno != EAGAIN && errno != EINTR) {
		int saved = errno;

		evbuffer_drain(now, evbuffer_get_length(now));
		errno = saved;
		return -1;
	}
	/* Reading is on already (proxy_set_timeout()). */
	if (evbuffer_get_length(now) == 0) {
		if (p->connected)
			proxy_sent_all(p);
		return 0;
	}
	if (bufferevent_write_buffer(p->up->bev, now) == -1)
		return -1;
	return bufferevent_enable(p->up->bev, EV_WRITE);
}

static void
proxy_try(struct proxy *p)
{
	const struct conf_upstream_server *s;
	struct http_req *r = p->r;
	int peer = upstream_pick(p->u, p->tried);

	if (peer == -1) {
		proxy_no_peer(p);
		return;
	}
	p->peer = peer;
	p->tried[peer] = 1;
	s = p->u->peers[peer].conf;
	if (r->upstream_tries < HTTP_UPSTREAM_TRIES) {
		r->upstream_addr[r->upstream_tries] = s->text;
		r->upstream_status[r->upstream_tries] = 0;
		r->upstream_ms[r->upstream_tries] = -1;
	}
	r->upstream_tries++;
	p->try_started = http_clock();
	p->got_bytes = p->sent_all = p->connected = p->pooled = 0;
	p->keepalive = 0;
	worker_stats->upstream_requests++;
	/* A streamed body cannot be sent twice: a new connection for it. */
	if (!p->stale_retried && !r->body_streams &&
	    (p->up = upstream_idle_take(p->u, (size_t)peer)) != NULL) {
		worker_stats->upstream_pool_hits++;
		p->pooled = p->connected = 1;
		bufferevent_setcb(p->up->bev, NULL, proxy_on_write,
		    proxy_on_event, p);
		upstream_conn_set_read(p->up, proxy_on_read, p);
		/* Reading is on, with no timeout, as it was kept. */
		bufferevent_set_timeouts(p->up->bev, NULL, NULL);
		proxy_set_timeout(p, 0, r->server->proxy_send_timeout_ms);
	} else {
		proxy_connect(p, s);
	}
	p->u->peers[peer].active++;
	p->active = 1;
	if (p->up == NULL) {
		proxy_failed(p, 502, strerror(errno));
		return;
	}
	if (proxy_send_request(p) == -1) {
		char why[128];

		snprintf(why, sizeof(why), "connection broke: %s",
		    strerror(errno));
		proxy_failed(p, 502, why);
	}
}

/* The whole request has gone: the answer's time starts. */
static void
proxy_on_write(struct bufferevent *bev, void *arg)
{
	struct proxy *p = arg;
	struct http_req *r = p->r;

	(void)bev;
	if (r->body_streams && !p->body_end_sent) {
		proxy_move_body(p);
		return;
	}
	if (p->sent_all ||
	    evbuffer_get_length(bufferevent_get_output(p->up->bev)) > 0)
		return;
	proxy_sent_all(p);
}


static void
proxy_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct proxy *p = arg;
	char why[128];

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		p->connected = 1;
		proxy_set_timeout(p, 0, p->r->server->proxy_send_timeout_ms);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		proxy_failed(p, 504, !p->connected ? "timed out connecting" :
		    "timed out sending the request");
		return;
	}
	/* Writing or connecting broke (reading is proxy_on_read's). */
	snprintf(why, sizeof(why), "%s %s", !p->connected ?
	    "cannot connect:" : "connection broke:",
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	proxy_failed(p, 502, why);
}

void
http_proxy_serve(struct http_req *r)
{
	const struct conf_upstream *c = r->server->proxy_upstream;
	struct proxy *p;
	int64_t body_len = 0;

	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->u = upstream_of(c)) == NULL ||
	    (p->tried = calloc(c->nservers, 1)) == NULL ||
	    (p->head = evbuffer_new()) == NULL) {
		log_warnx("out of memory for a proxied request");
		if (p != NULL)
			proxy_free(p);
		http_respond_error(r, 503);
		return;
	}
	p->r = r;
	p->upgrade = r->head.version == 11 && proxy_wants_upgrade(r);
	if (r->body_streams) {
		body_len = r->head.chunked ? -1 : r->head.content_length;
		/* HTTP/2 without content-length: chunked upstream. */
		p->req_chunked = body_len < 0;
	} else if (r->body != NULL) {
		body_len = (int64_t)evbuffer_get_length(r->body);
	}
	if (proxy_request_head(r, p->head, body_len, p->upgrade) == -1) {
		proxy_free(p);
		http_respond_error(r, 503);
		return;
	}
	r->handler = p;
	r->cleanup = proxy_cleanup;
	r->on_drain = proxy_on_drain;
	r->on_body = proxy_on_body;
	p->started = http_clock();
	http_request_wait(r);
	proxy_try(p);
}
