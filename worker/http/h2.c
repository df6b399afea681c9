/*
 * h2.c: an HTTP/2 connection (RFC 9113): bytes in through the transport
 * into libnghttp2, frames out of it into one output buffer and on to the
 * socket, the connection's timers, its graceful end (GOAWAY) and its
 * close.  The streams are h2_stream.c's.
 *
 * A connection comes from h1.c: after a TLS handshake whose ALPN chose
 * "h2", or when a plain connection starts with the HTTP/2 preface (prior
 * knowledge).  Reading is level-triggered and bounded per event; framing
 * stops while H2_OUT_HIGH bytes wait for the socket, so a client that
 * does not read holds at most that much, plus what its streams queued.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/stats.h"
#include "worker/http/auth.h"
#include "worker/http/h2_conn.h"
#include "worker/net/tls.h"

/* Reads of this size per readiness event at most, for fairness. */
#define H2_READ_SIZE (16 * 1024)
#define H2_READS_PER_EVENT 4
/* The connection's receive window: what all its streams may send
 * ahead of being read (RFC 9113 6.9.2; the default is 64k - 1). */
#define H2_CONN_WINDOW (1024 * 1024)
/* A closing connection reads and drops input this long, so the
 * kernel's reset does not destroy the GOAWAY in flight. */
#define H2_LINGER_MS 2000
/* A draining worker closes an idle connection after this. */
#define H2_DRAIN_IDLE_MS 1000
/* Between the two GOAWAYs of a graceful stop: one round trip, and more. */
#define H2_GOAWAY_NOTICE_MS 500
/* Rapid reset (CVE-2023-44487): h2_stream.c counts resets and answers
 * ENHANCE_YOUR_CALM first; libnghttp2's own limit, which answers
 * INTERNAL_ERROR, stays behind it as a backstop. */
#define H2_RESET_BURST 2000
#define H2_RESET_RATE 66
/* CONTINUATION flood: frames after a HEADERS of one header block. */
#define H2_MAX_CONTINUATIONS 8
/* SETTINGS and PING floods: ACKs queued and not read by the client. */
#define H2_MAX_OUTBOUND_ACK 1000

static nghttp2_session_callbacks *h2_callbacks;
static nghttp2_option *h2_option;

static void h2_conn_io(struct h2_conn *c);

static ssize_t
h2_on_send(nghttp2_session *session, const uint8_t *data, size_t len,
    int flags, void *arg)
{
	struct h2_conn *c = arg;

	(void)session;
	(void)flags;
	if (evbuffer_get_length(c->out) >= H2_OUT_HIGH)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (evbuffer_add(c->out, data, len) == -1)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)len;
}

/* The callbacks and options, once per worker. */
static int
h2_setup(void)
{
	if (h2_callbacks != NULL)
		return 0;
	if (nghttp2_session_callbacks_new(&h2_callbacks) != 0 ||
	    nghttp2_option_new(&h2_option) != 0) {
		log_warnx("cannot set up libnghttp2");
		return -1;
	}
	nghttp2_session_callbacks_set_send_callback(h2_callbacks, h2_on_send);
	if (h2_stream_callbacks(h2_callbacks) == -1)
		return -1;
	nghttp2_session_callbacks_set_send_data_callback(h2_callbacks,
	    h2_on_send_data);
	nghttp2_option_set_stream_reset_rate_limit(h2_option, H2_RESET_BURST,
	    H2_RESET_RATE);
	nghttp2_option_set_max_continuations(h2_option, H2_MAX_CONTINUATIONS);
	nghttp2_option_set_max_outbound_ack(h2_option, H2_MAX_OUTBOUND_ACK);
	/* A request body streamed to the proxy opens the client's window
	 * only as the upstream takes it (h2_stream.c); others at once. */
	nghttp2_option_set_no_auto_window_update(h2_option, 1);
	return 0;
}

static void
h2_conn_close(struct h2_conn *c)
{
	while (!TAILQ_EMPTY(&c->streams))
		h2_stream_free(TAILQ_FIRST(&c->streams));
	nghttp2_session_del(c->session);
	if (c->drain_timer != NULL)
		event_free(c->drain_timer);
	/* Also when not added: it may be active (h2_conn_wake). */
	event_del(&c->ev_read);
	event_del(&c->timer);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	evbuffer_free(c->out);
	http_auth_cache_free(c->auth);
	net_conn_close(&c->net);
	worker_conn_remove(&c->base);
	free(c);
}

static void
h2_conn_destroy(struct worker_conn *wc)
{
	h2_conn_close((struct h2_conn *)wc);
}

static void
h2_set_timer(struct h2_conn *c, int ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(&c->timer, &tv);
}

/*
 * Whether the connection waits on its client: for the rest of a request
 * (a body not whole), or to send more of an answer (output the socket
 * does not take, or a flow-control window the client keeps shut).
 */
static int
h2_conn_waits_on_client(const struct h2_conn *c)
{
	const struct h2_stream *st;

	if (evbuffer_get_length(c->out) > 0)
		return 1;
	TAILQ_FOREACH(st, &c->streams, link) {
		if (!st->dispatched)
			return 1;
		if (st->answered && (st->file_left > 0 || (st->body != NULL &&
		    evbuffer_get_length(st->body) > 0)))
			return 1;
	}
	return 0;
}

/*
 * The one timer: body_timeout while the connection waits on its client,
 * counted from the last progress, so frames that move nothing (PINGs, a
 * window that stays shut) do not hold it open; keepalive_timeout with no
 * stream open; none while only handlers are at work (delay).
 */
static void
h2_conn_arm_timer(struct h2_conn *c)
{
	if (h2_conn_waits_on_client(c)) {
		if (!c->progress_armed) {
			h2_set_timer(c, c->home->body_timeout_ms);
			c->progress_armed = 1;
		}
		return;
	}
	c->progress_armed = 0;
	if (c->nstreams == 0) {
		h2_set_timer(c, c->draining ? H2_DRAIN_IDLE_MS :
		    c->home->keepalive_timeout_ms);
		return;
	}
	evtimer_del(&c->timer);
}

static void
h2_conn_arm_read(struct h2_conn *c)
{
	if (!c->read_armed && event_add(&c->ev_read, NULL) == 0)
		c->read_armed = 1;
	/* Bytes OpenSSL has decrypted already raise no event of their own. */
	if (c->net.ssl != NULL && net_tls_pending(&c->net))
		event_active(&c->ev_read, EV_READ, 0);
}

static void
h2_on_write(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	/* The socket took bytes again. */
	h2_conn_progress(arg);
	h2_conn_io(arg);
}

static int
h2_conn_schedule_write(struct h2_conn *c)
{
	if (c->ev_write == NULL)
		c->ev_write = event_new(worker_self->base, c->net.fd,
		    EV_WRITE | EV_PERSIST, h2_on_write, c);
	if (c->ev_write == NULL)
		return -1;
	if (!c->want_write && event_add(c->ev_write, NULL) == 0)
		c->want_write = 1;
	return c->want_write ? 0 : -1;
}

/*
 * Closing: the write side is shut, and what the client still sends is
 * read and dropped for a while, so its GOAWAY (or the last answer) is
 * not destroyed by a reset.
 */
static void
h2_conn_linger(struct h2_conn *c)
{
	if (net_conn_shutdown_write(&c->net) == -1) {
		h2_conn_close(c);
		return;
	}
	c->lingering = 1;
	if (c->want_write) {
		event_del(c->ev_write);
		c->want_write = 0;
	}
	h2_conn_arm_read(c);
	h2_set_timer(c, H2_LINGER_MS);
}

/*
 * Frames what libnghttp2 has to send, writes it, and decides what the
 * connection waits for next; closes it once neither side has more.
 */
static void
h2_conn_io(struct h2_conn *c)
{
	int rc;

	if (c->lingering)
		return;
	for (;;) {
		size_t before = evbuffer_get_length(c->out);
		int framed;

		if (nghttp2_session_want_write(c->session) &&
		    before < H2_OUT_HIGH &&
		    (rc = nghttp2_session_send(c->session)) != 0) {
			log_debug("HTTP/2: cannot frame: %s",
			    nghttp2_strerror(rc));
			h2_conn_close(c);
			return;
		}
		framed = evbuffer_get_length(c->out) != before;
		rc = net_send_all(&c->net, c->out);
		if (rc == -1) {
			if (errno != EPIPE && errno != ECONNRESET)
				log_debug("write to client: %s",
				    strerror(errno));
			h2_conn_close(c);
			return;
		}
		if (rc == 1) {
			if (h2_conn_schedule_write(c) == -1) {
				h2_conn_close(c);
				return;
			}
			/*
			 * Reading goes on: a client may write all it has
			 * before it reads.  What it can make us queue is
			 * bounded by libnghttp2 (streams, ACKs: a flood is
			 * NGHTTP2_ERR_FLOODED) and by H2_OUT_HIGH.
			 */
			h2_conn_arm_read(c);
			h2_conn_arm_timer(c);
			return;
		}
		/* Written: frame more, unless nothing more came. */
		if (!framed || !nghttp2_session_want_write(c->session))
			break;
	}
	if (c->want_write) {
		event_del(c->ev_write);
		c->want_write = 0;
	}
	if (!nghttp2_session_want_read(c->session) &&
	    !nghttp2_session_want_write(c->session)) {
		h2_conn_linger(c);
		return;
	}
	h2_conn_arm_read(c);
	h2_conn_arm_timer(c);
}

/* Ends the connection with a GOAWAY (RFC 9113 6.8) naming the last
 * stream taken: those finish, later ones the client may retry. */
static void
h2_conn_goaway(struct h2_conn *c, uint32_t code)
{
	if (nghttp2_submit_goaway(c->session, NGHTTP2_FLAG_NONE,
	    nghttp2_session_get_last_proc_stream_id(c->session), code, NULL,
	    0) != 0)
		log_warnx("HTTP/2: cannot queue a GOAWAY");
}

/* A closing connection drops what comes, up to a bound: a client that
 * floods on regardless is closed at once. */
#define H2_LINGER_MAX (256 * 1024)

static void
h2_conn_read_linger(struct h2_conn *c)
{
	char drop[4096];
	ssize_t n;

	n = read(c->net.fd, drop, sizeof(drop));
	if (n > 0)
		c->lingered += (size_t)n;
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR) ||
	    c->lingered > H2_LINGER_MAX)
		h2_conn_close(c);
}

static void
h2_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct h2_conn *c = arg;
	char buf[H2_READ_SIZE];
	ssize_t n, rv;
	int i;

	(void)fd;
	(void)what;
	if (c->lingering) {
		h2_conn_read_linger(c);
		return;
	}
	c->wake = 0;
	for (i = 0; i < H2_READS_PER_EVENT; i++) {
		n = net_recv(&c->net, buf, sizeof(buf));
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (c->net.want_write && h2_conn_schedule_write(c) == -1) {
				h2_conn_close(c);
				return;
			}
			break;
		}
		if (n <= 0) {
			if (n == -1 && errno != ECONNRESET)
				log_debug("read from client: %s",
				    strerror(errno));
			h2_conn_close(c);
			return;
		}
		c->in_recv = 1;
		rv = nghttp2_session_mem_recv(c->session, (uint8_t *)buf,
		    (size_t)n);
		c->in_recv = 0;
		if (rv < 0) {
			log_debug("HTTP/2: %s", nghttp2_strerror((int)rv));
			nghttp2_session_terminate_session(c->session,
			    rv == NGHTTP2_ERR_FLOODED ?
			    NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
			break;
		}
		if ((size_t)n < sizeof(buf))
			break;
	}
	h2_conn_io(c);
}

static void
h2_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct h2_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->lingering || evbuffer_get_length(c->out) > 0 ||
	    h2_conn_waits_on_client(c)) {
		/* Lingered enough, or a client that does not read or does
		 * not send what it promised. */
		h2_conn_close(c);
		return;
	}
	if (c->nstreams == 0) {
		h2_conn_goaway(c, NGHTTP2_NO_ERROR);
		h2_conn_io(c);
	}
}

static void
h2_on_drain_timer(evutil_socket_t fd, short what, void *arg)
{
	struct h2_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->lingering)
		return;
	h2_conn_goaway(c, NGHTTP2_NO_ERROR);
	h2_conn_io(c);
}

/*
 * Graceful stop, in two steps (RFC 9113 6.8): a GOAWAY that names the
 * largest stream id, which tells the client to open no more streams here
 * but refuses none it is sending now; then, once that has had time to
 * arrive, the GOAWAY with the last stream taken.  The streams in flight
 * finish; later requests go to a new connection, to the new workers.
 */
static void
h2_conn_drain(struct worker_conn *wc)
{
	struct h2_conn *c = (struct h2_conn *)wc;
	struct timeval tv = { H2_GOAWAY_NOTICE_MS / 1000,
	    (H2_GOAWAY_NOTICE_MS % 1000) * 1000 };

	if (c->draining || c->lingering)
		return;
	c->draining = 1;
	c->drain_timer = evtimer_new(worker_self->base, h2_on_drain_timer, c);
	if (c->drain_timer == NULL ||
	    nghttp2_submit_shutdown_notice(c->session) != 0 ||
	    evtimer_add(c->drain_timer, &tv) == -1) {
		h2_conn_goaway(c, NGHTTP2_NO_ERROR);
	}
	h2_conn_io(c);
}

static int
h2_conn_settings(struct h2_conn *c)
{
	const struct conf_server *s = c->home;
	size_t max_header = s->http2_max_header_size != 0 ?
	    s->http2_max_header_size : s->max_header_size;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS,
		    (uint32_t)s->http2_max_concurrent_streams },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE,
		    (uint32_t)s->http2_initial_window_size },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)max_header },
	};

	if (nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, iv,
	    sizeof(iv) / sizeof(iv[0])) != 0)
		return -1;
	return nghttp2_session_set_local_window_size(c->session,
	    NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW) == 0 ? 0 : -1;
}

/*
 * Takes over a connection from h1.c: its transport, and what it read
 * already (the preface and maybe more).
 */
void
h2_conn_new(const struct net_conn *net, const struct conf_listen *l,
    struct conf_server *home, const struct sockaddr *peer,
    socklen_t peerlen, const char *in, size_t in_len)
{
	struct event_base *base = worker_self->base;
	struct h2_conn *c;
	ssize_t rv;

	if (h2_setup() == -1 || (c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("cannot start an HTTP/2 connection");
		net_conn_close((struct net_conn *)net);
		return;
	}
	c->net = *net;
	c->listen = l;
	c->home = home;
	memcpy(&c->peer, peer, peerlen < sizeof(c->peer) ? peerlen :
	    sizeof(c->peer));
	TAILQ_INIT(&c->streams);
	c->peer_window = NGHTTP2_INITIAL_WINDOW_SIZE;
	event_assign(&c->ev_read, base, c->net.fd, EV_READ | EV_PERSIST,
	    h2_on_read, c);
	evtimer_assign(&c->timer, base, h2_on_timer, c);
	c->base.drain = h2_conn_drain;
	c->base.destroy = h2_conn_destroy;
	worker_conn_add(&c->base);
	worker_stats->h2_connections++;
	c->out = evbuffer_new();
	if (c->out == NULL ||
	    nghttp2_session_server_new3(&c->session, h2_callbacks, c,
	    h2_option, &h2_mem) != 0) {
		log_warnx("cannot start an HTTP/2 connection");
		if (c->out != NULL)
			evbuffer_free(c->out);
		net_conn_close(&c->net);
		worker_conn_remove(&c->base);
		free(c);
		return;
	}
	if (h2_conn_settings(c) == -1) {
		h2_conn_close(c);
		return;
	}
	/* Frames of many streams interleave: none may wait for an ACK. */
	net_conn_nodelay(&c->net);
	if (in_len > 0) {
		c->in_recv = 1;
		rv = nghttp2_session_mem_recv(c->session, (const uint8_t *)in,
		    in_len);
		c->in_recv = 0;
		if (rv < 0)
			nghttp2_session_terminate_session(c->session,
			    NGHTTP2_PROTOCOL_ERROR);
	}
	/* Taken by a worker that is stopping: what came is served. */
	if (worker_self->draining) {
		h2_conn_drain(&c->base);
		return;
	}
	h2_conn_io(c);
}
