/*
 * echo.c: the TCP echo service.  Every byte a client sends comes back.
 *
 * A bufferevent per connection; reading stops while more than
 * ECHO_HIGH_WATER bytes wait to go back, so a client that sends without
 * reading cannot make the worker buffer without bound.  idle_timeout
 * closes a connection that neither sends nor reads for that long.  On a
 * graceful stop, echo sessions, which have no request boundary, go on
 * until the client leaves or shutdown_timeout ends them.
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/log.h"
#include "worker/net/conn.h"
#include "worker/conns.h"
#include "worker/protocols.h"

#define ECHO_HIGH_WATER (256 * 1024)

struct echo_conn {
	struct worker_conn base;	/* first: the worker's list */
	struct bufferevent *bev;
	int idle_ms;
};

static void
echo_destroy(struct worker_conn *wc)
{
	struct echo_conn *c = (struct echo_conn *)wc;

	bufferevent_free(c->bev);
	worker_conn_remove(&c->base);
	free(c);
}

static void
echo_drain(struct worker_conn *wc)
{
	(void)wc;
}

static void
echo_on_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *out = bufferevent_get_output(bev);

	(void)arg;
	if (evbuffer_add_buffer(out, bufferevent_get_input(bev)) == -1) {
		log_warnx("echo: cannot queue output");
		echo_destroy(arg);
		return;
	}
	if (evbuffer_get_length(out) > ECHO_HIGH_WATER)
		bufferevent_disable(bev, EV_READ);
}

static void
echo_on_write(struct bufferevent *bev, void *arg)
{
	(void)arg;
	/* The write low-water mark (0) means everything went out. */
	bufferevent_enable(bev, EV_READ);
}

static void
echo_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct echo_conn *c = arg;

	if (net_bufferevent_event(bev, what, c->idle_ms))
		return;
	/* EOF, error or idle timeout: the session is over. */
	echo_destroy(&c->base);
}

void
echo_conn_new(int fd, struct conf_server *server,
    const struct conf_listen *listen, const struct sockaddr_storage *peer,
    socklen_t peerlen)
{
	struct echo_conn *c;

	(void)peer;
	(void)peerlen;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		log_error("echo: allocating a connection");
		close(fd);
		return;
	}
	c->bev = net_bufferevent_new(fd, listen, server);
	if (c->bev == NULL) {
		log_errorx("echo: cannot create a bufferevent");
		close(fd);
		free(c);
		return;
	}
	c->base.drain = echo_drain;
	c->base.destroy = echo_destroy;
	worker_conn_add(&c->base);
	bufferevent_setcb(c->bev, echo_on_read, echo_on_write, echo_on_event,
	    c);
	c->idle_ms = server->idle_timeout_ms;
	net_bufferevent_set_idle(c->bev, c->idle_ms);
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) == -1) {
		log_errorx("echo: cannot enable the connection");
		echo_destroy(&c->base);
	}
}
