/*
 * h1.c: an HTTP/1.1 connection: reading, framing, keep-alive,
 * pipelining, timeouts, writing and closing.
 *
 * Plain events and one input buffer per connection, not bufferevents:
 * the head of the current request stays at in + head_start until its
 * response is queued, so a handler that answers later (delay) or after a
 * body (echo) parses it again in place instead of copying it.  Pipelined
 * requests are answered in order because the next head is not looked at
 * until the current response is queued.  Responses are written at once
 * without waiting for a writable event; a write event is armed only when
 * the socket is full.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/stats.h"
#include "worker/http/access_log.h"
#include "worker/http/auth.h"
#include "worker/http/h1_conn.h"
#include "worker/http/h2_conn.h"
#include "worker/http/upstream.h"
#include "worker/net/proxy_protocol.h"
#include "worker/net/tls.h"

/* Stop taking pipelined requests while this much output waits. */
#define HTTP_OUT_PAUSE (256 * 1024)
/* How long a closing connection reads and drops what the client sends. */
#define HTTP_LINGER_MS 2000
/* A draining worker closes an idle keep-alive connection after this. */
#define HTTP_DRAIN_IDLE_MS 1000

static void http_conn_process(struct http_conn *c);
static void http_conn_schedule_write(struct http_conn *c);

/*
 * Connections share a handful of timeout lengths, so each gets one of
 * libevent's common-timeout queues: adding a timer is then O(1) instead
 * of a heap insertion, which matters when every request re-arms one.
 */
static const struct timeval *
http_common_timeout(int ms)
{
	static struct {
		int ms;
		const struct timeval *tv;
	} cache[8];
	static size_t n;
	struct timeval tv;
	size_t i;

	for (i = 0; i < n; i++)
		if (cache[i].ms == ms)
			return cache[i].tv;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (n == sizeof(cache) / sizeof(cache[0]))
		return NULL;
	cache[n].tv = event_base_init_common_timeout(worker_self->base, &tv);
	if (cache[n].tv == NULL)
		return NULL;
	cache[n].ms = ms;
	return cache[n++].tv;
}

void
http_set_timer(struct http_conn *c, int ms)
{
	const struct timeval *common = http_common_timeout(ms);
	struct timeval tv;

	if (common != NULL) {
		evtimer_add(&c->timer, common);
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(&c->timer, &tv);
}

void
http_conn_close(struct http_conn *c)
{
	if (c->idle)
		worker_stats->idle--;
	/* Also when not added: it may be active (http_conn_wake). */
	event_del(&c->ev_read);
	event_del(&c->timer);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	access_log_commit(&c->log_pending, http_out_pending(c));
	http_req_free(c->req);
	c->req = NULL;
	http_out_free(c);
	http_body_free(c);
	http_auth_cache_free(c->auth);
	net_conn_close(&c->net);
	http_in_release(c);
	worker_conn_remove(&c->base);
	free(c);
}

static void
http_conn_destroy(struct worker_conn *wc)
{
	http_conn_close((struct http_conn *)wc);
}

static int
http_conn_idle(const struct http_conn *c)
{
	return c->state == HTTP_READ_HEAD && c->head_start == c->in_len &&
	    http_out_pending(c) == 0;
}

/* Graceful stop: finish the request in flight, then close. */
static void
http_conn_drain(struct worker_conn *wc)
{
	struct http_conn *c = (struct http_conn *)wc;

	c->draining = 1;
	/*
	 * A request in flight is answered with "Connection: close".  One
	 * whose head went out without it (a proxied answer streaming) ends
	 * as announced: the client may have sent its next request already,
	 * which then gets the "Connection: close".
	 */
	if ((c->state == HTTP_READ_BODY || c->state == HTTP_WAIT_HANDLER) &&
	    (c->req == NULL || !c->req->head_sent))
		c->close_after = 1;
	if (http_conn_idle(c))
		http_set_timer(c, HTTP_DRAIN_IDLE_MS);
}

/*
 * Closing with unread input makes the kernel send a reset, which can
 * destroy the response still in flight; so the write side is shut and
 * input dropped until the client closes or a short time passes.
 */
static void
http_conn_linger(struct http_conn *c)
{
	if (net_conn_shutdown_write(&c->net) == -1) {
		http_conn_close(c);
		return;
	}
	if (c->ev_write != NULL)
		event_del(c->ev_write);
	if (c->read_eof) {
		http_conn_close(c);
		return;
	}
	http_conn_arm_read(c);
	c->state = HTTP_LINGER;
	http_set_timer(c, HTTP_LINGER_MS);
}

/* Sets the one timer to what the connection is waiting for. */
static void
http_conn_arm_timer(struct http_conn *c)
{
	const struct conf_server *s = c->server;

	if (http_out_pending(c) > 0) {
		c->head_timer_armed = 0;
		http_set_timer(c, s->body_timeout_ms);
		return;
	}
	switch (c->state) {
	case HTTP_READ_HEAD:
		if (c->head_start < c->in_len || c->head_begun) {
			/*
			 * header_timeout covers the whole head, from its
			 * first byte, an empty line before it included: armed
			 * once, so a client cannot hold the connection by
			 * sending an empty line now and then.
			 */
			if (!c->head_timer_armed) {
				c->head_timer_armed = 1;
				http_set_timer(c, s->header_timeout_ms);
			}
			return;
		}
		c->head_timer_armed = 0;
		http_in_release(c);
		http_out_release_idle(c);
		if (!c->idle) {
			c->idle = 1;
			worker_stats->idle++;
		}
		http_set_timer(c, c->draining ? HTTP_DRAIN_IDLE_MS :
		    s->keepalive_timeout_ms);
		return;
	case HTTP_READ_BODY:
		c->head_timer_armed = 0;
		http_set_timer(c, s->body_timeout_ms);
		return;
	case HTTP_WAIT_HANDLER:
		/* The handler has its own timer; the client may idle. */
		c->head_timer_armed = 0;
		evtimer_del(&c->timer);
		return;
	case HTTP_LINGER:
		return;
	}
}

static void
http_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->tls_starting) {
		/* A draining worker's idle timer is no handshake timeout. */
		if (!c->draining) {
			net_tls_count_timeout();
			log_info("TLS handshake timed out");
		}
		http_conn_close(c);
		return;
	}
	/* No answer before the PROXY header: we do not know whom to answer. */
	if (c->state == HTTP_LINGER || http_out_pending(c) > 0 ||
	    http_conn_idle(c) || c->proxy_pending) {
		http_conn_close(c);
		return;
	}
	if (c->state == HTTP_READ_HEAD || c->state == HTTP_READ_BODY) {
		/*
		 * A client too slow with its request: 408, then close.  A
		 * head not yet whole makes no request; a body cut short
		 * answers the request it belongs to, for the log.
		 */
		c->state = HTTP_READ_HEAD;
		if (http_h1_refuse(c, 408) == -1) {
			http_conn_close(c);
			return;
		}
		http_conn_flush(c);
		return;
	}
	http_conn_close(c);
}

/* Out of memory for an answer: drop the input, close once the output
 * already queued has gone. */
static void
http_conn_fail(struct http_conn *c)
{
	c->close_after = 1;
	c->head_len = 0;
	c->head_start = c->in_len = 0;
}

static void
http_head_too_large(struct http_conn *c)
{
	const char *p = c->in + c->head_start;
	size_t len = c->in_len - c->head_start;
	const char *eol = memchr(p, '\n', len);

	/*
	 * A request line that alone does not fit: the URI is what is too
	 * long (RFC 9112, 3), whatever part of the head one read brought.
	 */
	if (http_h1_refuse(c, eol == NULL ||
	    (size_t)(eol - p) >= c->server->max_header_size ? 414 : 431) == -1)
		http_conn_fail(c);
}

/*
 * A listener with proxy_protocol gets a PROXY v1 or v2 header first, from
 * a load balancer such as HAProxy; its source address replaces the peer
 * in the access log.  A connection without a valid one is closed.
 */
static int
http_conn_read_proxy(struct http_conn *c)
{
	struct sockaddr_storage src;
	socklen_t srclen = 0;
	int n;

	n = proxy_parse(c->in + c->head_start, c->in_len - c->head_start, &src,
	    &srclen);
	if (n == 0)
		return 0;
	if (n < 0) {
		log_info("closing a connection without a valid PROXY header");
		c->close_after = 1;
		c->head_start = c->in_len = 0;
		return -1;
	}
	if (src.ss_family == AF_INET || src.ss_family == AF_INET6)
		memcpy(&c->peer, &src, srclen < sizeof(c->peer) ? srclen :
		    sizeof(c->peer));
	c->head_start += (size_t)n;
	c->proxy_pending = 0;
	return 1;
}

/*
 * HTTP/2 with prior knowledge (RFC 9113 3.3): a plain connection whose
 * first bytes are the connection preface.  Returns 1 when they are (the
 * caller hands it over), -1 when they may be but more must come first,
 * 0 when this is HTTP/1.1.
 */
static int
http_conn_h2_preface(struct http_conn *c)
{
	size_t have = c->in_len - c->head_start;

	if (c->seen_request || c->net.ssl != NULL || !c->home->http2)
		return 0;
	if (memcmp(c->in + c->head_start, H2_PREFACE,
	    have < H2_PREFACE_LEN ? have : H2_PREFACE_LEN) != 0)
		return 0;
	return have < H2_PREFACE_LEN ? -1 : 1;
}

/*
 * HTTP/2 takes the connection over: its transport and what was read of
 * it.  Called from the callbacks' top level only, as c goes.
 */
static void
http_conn_to_h2(struct http_conn *c)
{
	h2_conn_new(&c->net, c->listen, c->home, &c->peer.sa,
	    sizeof(c->peer), c->in + c->head_start, c->in_len - c->head_start);
	/* The transport is HTTP/2's now: closing c must not close it. */
	net_conn_init_plain(&c->net, -1);
	http_conn_close(c);
}

static void
http_conn_process(struct http_conn *c)
{
	/* One response waiting to be logged at a time (access_log_defer):
	 * what is left unsent at a close is then its own. */
	while (c->state == HTTP_READ_HEAD && !c->close_after &&
	    http_out_pending(c) < HTTP_OUT_PAUSE && c->log_pending == NULL) {
		size_t len;
		int rc;

		if (c->proxy_pending && http_conn_read_proxy(c) <= 0)
			break;
		if (c->head_start < c->in_len &&
		    (rc = http_conn_h2_preface(c)) != 0) {
			c->to_h2 = rc == 1;
			break;
		}

		/* RFC 9112, 2.2: empty lines before a request line are
		 * ignored, but they start the header timer. */
		while (c->head_start < c->in_len &&
		    (c->in[c->head_start] == '\r' ||
		    c->in[c->head_start] == '\n')) {
			c->head_start++;
			c->head_begun = 1;
		}
		if (c->head_start == c->in_len) {
			c->head_start = c->in_len = 0;
			break;
		}
		len = http_head_length(c->in + c->head_start,
		    c->in_len - c->head_start, &c->head_scanned);
		if (len == 0) {
			if (c->in_len - c->head_start >=
			    c->server->max_header_size) {
				http_head_too_large(c);
			} else if (http_head_hopeless(c->in + c->head_start,
			    c->in_len - c->head_start) &&
			    http_h1_refuse(c, 400) == -1) {
				http_conn_fail(c);
			}
			break;
		}
		if (len > c->server->max_header_size) {
			http_head_too_large(c);
			break;
		}
		c->head_timer_armed = 0;
		c->head_begun = 0;
		c->seen_request = 1;
		if (http_handle_head(c, len) == -1)
			http_conn_fail(c);
	}
}

static void
http_conn_read_linger(struct http_conn *c)
{
	char drop[4096];
	ssize_t n;

	/* Raw bytes, TLS or not: they are dropped unread. */
	n = read(c->net.fd, drop, sizeof(drop));
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
		http_conn_close(c);
}

/* The TLS handshake waits for one event, and only for that one: the
 * other, level-triggered and ready, would call back at once again. */
static void
http_conn_tls_wait(struct http_conn *c)
{
	if (c->net.want_write) {
		http_conn_disarm_read(c);
		http_conn_schedule_write(c);
		return;
	}
	if (c->want_write) {
		event_del(c->ev_write);
		c->want_write = 0;
	}
	http_conn_arm_read(c);
}

/*
 * The start of a TLS connection (handshake.c).  Returns 0 when it is
 * ready for requests, -1 when it waits, or was answered or closed.
 */
static int
http_conn_start(struct http_conn *c)
{
	switch (http_tls_handshake(c)) {
	case 0:
		http_conn_tls_wait(c);
		return -1;
	case 1:
		if (net_tls_alpn_h2(&c->net)) {
			http_conn_to_h2(c);
			return -1;
		}
		/* header_timeout runs from here, as on a plain connection. */
		c->head_timer_armed = 1;
		http_set_timer(c, c->server->header_timeout_ms);
		return 0;
	case 2:
		http_conn_flush(c);
		return -1;
	default:
		http_conn_close(c);
		return -1;
	}
}

static void
http_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;
	ssize_t n;

	(void)fd;
	(void)what;
	if (c->state == HTTP_LINGER) {
		http_conn_read_linger(c);
		return;
	}
	if (c->wake) {
		/* http_conn_wake(): an answer came, or output waits. */
		c->wake = 0;
		/* A streamed body's handler took some: take more. */
		if (c->state == HTTP_READ_BODY && c->req != NULL)
			http_body_progress(c);
		http_conn_process(c);
		http_conn_flush(c);
		return;
	}
	if (c->tls_starting && http_conn_start(c) == -1)
		return;
	if (http_in_make_room(c) == -1) {
		log_warnx("out of memory for a request; closing");
		http_conn_close(c);
		return;
	}
	if (c->in_len == c->in_cap) {
		/* Full while the output drains: wait for the write side. */
		http_conn_disarm_read(c);
		return;
	}
	n = net_recv(&c->net, c->in + c->in_len, c->in_cap - c->in_len);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR) {
			http_in_keep(c);
			http_conn_arm_read(c);
			c->read_wants_write = c->net.want_write;
			if (c->read_wants_write)
				http_conn_schedule_write(c);
			return;
		}
		if (errno != ECONNRESET)
			log_debug("read from client: %s", strerror(errno));
		http_conn_close(c);
		return;
	}
	if (n == 0) {
		/*
		 * The client sends no more (a half-close): every request it
		 * sent whole is still answered, in order, also those waiting
		 * behind a slow response; then the connection closes.
		 */
		http_conn_disarm_read(c);
		c->read_eof = 1;
		if (c->state == HTTP_READ_BODY) {
			/* A body cut short never completes: drop it. */
			c->state = HTTP_READ_HEAD;
			c->head_len = 0;
			c->head_start = c->in_len = 0;
			c->close_after = 1;
		} else if (c->state == HTTP_READ_HEAD) {
			http_conn_process(c);
		}
		if (http_in_keep(c) == -1) {
			http_conn_close(c);
			return;
		}
		http_conn_flush(c);
		return;
	}
	c->in_len += (size_t)n;
	if (c->idle) {
		c->idle = 0;
		worker_stats->idle--;
	}
	if (c->state == HTTP_READ_BODY)
		http_body_progress(c);
	http_conn_process(c);
	if (c->to_h2) {
		http_conn_to_h2(c);
		return;
	}
	if (http_in_keep(c) == -1) {
		log_warnx("out of memory for a request; closing");
		http_conn_close(c);
		return;
	}
	http_conn_flush(c);
}

static void
http_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;

	(void)what;
	/* TLS: a handshake or a read that waited for the socket to drain. */
	if (c->tls_starting || c->read_wants_write) {
		c->read_wants_write = 0;
		http_on_read(fd, EV_READ, c);
		return;
	}
	http_conn_flush(c);
}

/* Output waits in c's evbuffer: write it when the socket is writable. */
static void
http_conn_schedule_write(struct http_conn *c)
{
	if (c->ev_write == NULL)
		c->ev_write = event_new(worker_self->base, c->net.fd,
		    EV_WRITE | EV_PERSIST, http_on_write, c);
	if (c->ev_write != NULL && !c->want_write &&
	    event_add(c->ev_write, NULL) == 0)
		c->want_write = 1;
}

/* Writes what is queued; then closes, or takes the next request. */
void
http_conn_flush(struct http_conn *c)
{
	int rc = http_out_write(c);

	if (rc == -1) {
		if (errno != EPIPE && errno != ECONNRESET)
			log_debug("write to client: %s", strerror(errno));
		http_conn_close(c);
		return;
	}
	/* A handler that waits for its answer to drain may go on. */
	if (c->req != NULL && c->req->on_drain != NULL &&
	    http_out_pending(c) < HTTP_OUT_PAUSE / 4)
		c->req->on_drain(c->req);
	if (rc == 1) {
		http_conn_schedule_write(c);
		if (!c->want_write) {
			http_conn_close(c);
			return;
		}
		if (c->in_len < c->in_cap || c->in == NULL)
			http_conn_arm_read(c);
		http_conn_arm_timer(c);
		return;
	}
	access_log_commit(&c->log_pending, 0);
	if (c->want_write) {
		event_del(c->ev_write);
		c->want_write = 0;
	}
	if (c->state == HTTP_READ_HEAD && c->close_after) {
		/* The client asked to close and sent nothing more: no reset
		 * can hurt the response, so skip the lingering close. */
		if (c->client_closes && c->head_start == c->in_len)
			http_conn_close(c);
		else
			http_conn_linger(c);
		return;
	}
	if (c->state == HTTP_READ_HEAD && c->head_start < c->in_len) {
		/* Requests paused behind a long output can go on now. */
		http_conn_process(c);
		if (http_out_pending(c) > 0) {
			http_conn_flush(c);
			return;
		}
	}
	if (c->read_eof && c->state == HTTP_READ_HEAD) {
		http_conn_close(c);
		return;
	}
	http_conn_arm_read(c);
	http_conn_arm_timer(c);
}

void
http_conn_new(int fd, struct conf_server *server,
    const struct conf_listen *listen, const struct sockaddr_storage *peer,
    socklen_t peerlen)
{
	struct event_base *base = worker_self->base;
	struct http_conn *c;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		log_error("allocating a connection");
		close(fd);
		return;
	}
	net_conn_init_plain(&c->net, fd);
	c->listen = listen;
	c->server = c->home = server;
	memcpy(&c->peer, peer, peerlen < sizeof(c->peer) ? peerlen :
	    sizeof(c->peer));
	event_assign(&c->ev_read, base, fd, EV_READ | EV_PERSIST, http_on_read,
	    c);
	evtimer_assign(&c->timer, base, http_on_timer, c);
	c->base.drain = http_conn_drain;
	c->base.destroy = http_conn_destroy;
	worker_conn_add(&c->base);
	c->draining = worker_self->draining;
	c->proxy_pending = listen->proxy_protocol != 0;
	if (listen->ssl) {
		/* The handshake (and a PROXY header before it) has its own
		 * time; header_timeout starts after it. */
		c->tls_starting = 1;
		http_set_timer(c, server->ssl_handshake_timeout_ms);
	} else {
		c->head_timer_armed = 1;
		http_set_timer(c, server->header_timeout_ms);
	}
	/* The request is often there already: read before registering. */
	http_on_read(fd, EV_READ, c);
}

int
http_worker_init(struct worker *w)
{
	return access_log_init(w);
}

void
http_worker_exit(void)
{
	access_log_flush_all();
	upstream_idle_close_all();
}
