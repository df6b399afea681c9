/*
 * tunnel.c: a connection the upstream switched to another protocol (a
 * WebSocket, or any "Upgrade:" it accepted with 101), carried both ways
 * byte for byte until either side closes or nothing moves for the
 * idle time (proxy_read_timeout), as nginx does.
 *
 * Two bufferevents, the client's (plain or TLS, taken over from its
 * HTTP/1.1 connection) and the upstream's.  What one side reads goes to
 * the other's output; while that output holds more than TUNNEL_HIGH,
 * reading stops and goes on when it has drained to TUNNEL_LOW, so a
 * fast side cannot fill memory behind a slow one.  The tunnel is one of
 * the worker's connections: a stopping worker keeps it until
 * shutdown_timeout.
 */
#include "config.h"

#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "common/log.h"
#include "worker/conns.h"
#include "worker/http/tunnel.h"

#define TUNNEL_HIGH (256 * 1024)
#define TUNNEL_LOW (64 * 1024)

struct tunnel {
	struct worker_conn base;	/* first: the worker's list */
	struct bufferevent *client;
	struct bufferevent *upstream;
	struct event idle;
	struct timeval idle_tv;
	const char *name;		/* the upstream's address, for logs */
	unsigned closing:1;		/* one side ended: flush, then close */
};

static void
tunnel_free(struct tunnel *t)
{
	event_del(&t->idle);
	bufferevent_free(t->client);
	bufferevent_free(t->upstream);
	worker_conn_remove(&t->base);
	free(t);
}

static void
tunnel_destroy(struct worker_conn *wc)
{
	tunnel_free((struct tunnel *)wc);
}

/* A stopping worker keeps its tunnels until shutdown_timeout. */
static void
tunnel_drain(struct worker_conn *wc)
{
	(void)wc;
}

static struct bufferevent *
tunnel_other(const struct tunnel *t, const struct bufferevent *bev)
{
	return bev == t->client ? t->upstream : t->client;
}

static void
tunnel_on_idle(evutil_socket_t fd, short what, void *arg)
{
	struct tunnel *t = arg;

	(void)fd;
	(void)what;
	log_info("upstream %s: a tunnel idle for its proxy_read_timeout "
	    "closes", t->name);
	tunnel_free(t);
}

/* The other side took enough: read again. */
static void
tunnel_on_write(struct bufferevent *bev, void *arg)
{
	struct tunnel *t = arg;

	if (t->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			tunnel_free(t);
		return;
	}
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_enable(tunnel_other(t, bev), EV_READ);
}

static void
tunnel_on_read(struct bufferevent *bev, void *arg)
{
	struct tunnel *t = arg;
	struct bufferevent *to = tunnel_other(t, bev);
	struct evbuffer *out = bufferevent_get_output(to);

	evtimer_add(&t->idle, &t->idle_tv);
	if (evbuffer_add_buffer(out, bufferevent_get_input(bev)) == -1) {
		log_warnx("upstream %s: out of memory in a tunnel", t->name);
		tunnel_free(t);
		return;
	}
	if (evbuffer_get_length(out) < TUNNEL_HIGH)
		return;
	bufferevent_disable(bev, EV_READ);
	bufferevent_setwatermark(to, EV_WRITE, TUNNEL_LOW, 0);
}

/* One side ended: what the other still has to get goes, then both
 * close. */
static void
tunnel_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct tunnel *t = arg;
	struct bufferevent *to = tunnel_other(t, bev);

	log_debug("upstream %s: a tunnel's %s side %s", t->name,
	    bev == t->client ? "client" : "upstream",
	    (what & BEV_EVENT_ERROR) ? "broke" : "ended");
	if (t->closing ||
	    evbuffer_get_length(bufferevent_get_output(to)) == 0) {
		tunnel_free(t);
		return;
	}
	t->closing = 1;
	bufferevent_disable(bev, EV_READ | EV_WRITE);
	bufferevent_disable(to, EV_READ);
	bufferevent_setwatermark(to, EV_WRITE, 0, 0);
}

int
tunnel_start(struct bufferevent *client, struct bufferevent *upstream,
    struct evbuffer *head, struct evbuffer *unread, int idle_ms,
    const char *name)
{
	struct tunnel *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		bufferevent_free(client);
		bufferevent_free(upstream);
		return -1;
	}
	t->client = client;
	t->upstream = upstream;
	t->name = name;
	t->idle_tv.tv_sec = idle_ms / 1000;
	t->idle_tv.tv_usec = (idle_ms % 1000) * 1000;
	t->base.drain = tunnel_drain;
	t->base.destroy = tunnel_destroy;
	worker_conn_add(&t->base);
	evtimer_assign(&t->idle, worker_self->base, tunnel_on_idle, t);
	bufferevent_setcb(client, tunnel_on_read, tunnel_on_write,
	    tunnel_on_event, t);
	bufferevent_setcb(upstream, tunnel_on_read, tunnel_on_write,
	    tunnel_on_event, t);
	bufferevent_set_timeouts(upstream, NULL, NULL);
	/* The 101 head, then what the upstream sent after it; what the
	 * client sent after its request goes up. */
	if (bufferevent_write_buffer(client, head) == -1 ||
	    bufferevent_write_buffer(client,
	    bufferevent_get_input(upstream)) == -1 ||
	    bufferevent_write_buffer(upstream, unread) == -1 ||
	    bufferevent_enable(client, EV_READ | EV_WRITE) == -1 ||
	    bufferevent_enable(upstream, EV_READ | EV_WRITE) == -1) {
		log_warnx("upstream %s: cannot start a tunnel", name);
		tunnel_free(t);
		return -1;
	}
	evtimer_add(&t->idle, &t->idle_tv);
	log_debug("upstream %s: a tunnel, client fd %d, upstream fd %d", name,
	    (int)bufferevent_getfd(client), (int)bufferevent_getfd(upstream));
	return 0;
}
