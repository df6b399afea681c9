/*
 * upstream_conn.c: one connection to an upstream server, as the reverse
 * proxy and the keep-alive pool use it.
 *
 * A socket bufferevent connects it and writes to it (its output, the
 * write event and the write timeout), but reading is an event of its own
 * with readv() into the bufferevent's input: libevent 2.1's bufferevent
 * asks the socket how much it holds (ioctl FIONREAD) before every read
 * and then reads at most 4 KiB, so every proxied answer cost one system
 * call more than it needs, and a large one four per 4 KiB.  The read
 * event stays registered with the loop for the connection's whole life,
 * busy or kept idle in the pool; only its callback and timeout change,
 * which costs no system call.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/log.h"
#include "worker/conns.h"
#include "worker/http/upstream.h"

/* The first read of a readiness: the size of most whole small answers,
 * so a small answer costs one buffer of about this size. */
#define UPSTREAM_READ_FIRST 4096

static void
upstream_conn_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct upstream_conn *c = arg;

	(void)fd;
	if (c->on_read != NULL)
		c->on_read(c, what, c->arg);
}

struct upstream_conn *
upstream_conn_connect(const struct conf_upstream_server *s)
{
	struct upstream_conn *c = calloc(1, sizeof(*c));
	int saved, on = 1;

	if (c == NULL)
		return NULL;
	c->bev = bufferevent_socket_new(worker_self->base, -1,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		goto fail;
	if (bufferevent_socket_connect(c->bev, (const struct sockaddr *)&s->addr,
	    (int)s->addrlen) == -1)
		goto fail;
	c->rd = event_new(worker_self->base, bufferevent_getfd(c->bev),
	    EV_READ | EV_PERSIST, upstream_conn_on_read, c);
	if (c->rd == NULL)
		goto fail;
	/* A head and its body go as written: no wait for an ACK. */
	if (s->addr.ss_family != AF_UNIX && setsockopt(bufferevent_getfd(
	    c->bev), IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == -1)
		log_warn("setting TCP_NODELAY for upstream %s", s->text);
	return c;
fail:
	saved = errno;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	free(c);
	errno = saved;
	return NULL;
}

void
upstream_conn_free(struct upstream_conn *c)
{
	if (c == NULL)
		return;
	/* The read event goes before the bufferevent closes the socket. */
	if (c->rd != NULL)
		event_free(c->rd);
	bufferevent_free(c->bev);
	free(c);
}

struct bufferevent *
upstream_conn_detach(struct upstream_conn *c)
{
	struct bufferevent *bev = c->bev;

	event_free(c->rd);
	free(c);
	return bev;
}

void
upstream_conn_set_read(struct upstream_conn *c,
    void (*on_read)(struct upstream_conn *, short, void *), void *arg)
{
	c->on_read = on_read;
	c->arg = arg;
}

/*
 * Registers reading, with a timeout (a read timeout counts from the last
 * readiness: the event persists) or none when timeout_ms is 0.
 */
int
upstream_conn_read_on(struct upstream_conn *c, int timeout_ms)
{
	struct timeval tv;

	if (timeout_ms <= 0) {
		/* event_add() without a time keeps an earlier one. */
		if (event_add(c->rd, NULL) == -1)
			return -1;
		return event_remove_timer(c->rd);
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return event_add(c->rd, &tv);
}

int
upstream_conn_read_off(struct upstream_conn *c)
{
	return event_del(c->rd);
}

/* One readv() of up to room bytes into in: what it returned. */
static ssize_t
upstream_conn_readv(struct evbuffer *in, evutil_socket_t fd, size_t room)
{
	struct evbuffer_iovec v[2];
	int nv = evbuffer_reserve_space(in, (ev_ssize_t)room, v, 2);
	ssize_t got;

	if (nv <= 0) {
		errno = ENOMEM;
		return -1;
	}
	if (v[0].iov_len >= room) {
		v[0].iov_len = room;
		nv = 1;
	} else if (nv == 2 && v[0].iov_len + v[1].iov_len > room) {
		v[1].iov_len = room - v[0].iov_len;
	}
	got = readv(fd, (struct iovec *)v, nv);
	if (got <= 0) {
		int saved = errno;

		evbuffer_commit_space(in, v, 0);
		errno = saved;
		return got;
	}
	if ((size_t)got <= v[0].iov_len) {
		v[0].iov_len = (size_t)got;
		nv = 1;
	} else {
		v[1].iov_len = (size_t)got - v[0].iov_len;
	}
	evbuffer_commit_space(in, v, nv);
	return got;
}

/*
 * Reads up to room bytes into the bufferevent's input, as the socket
 * has them: the first read at most UPSTREAM_READ_FIRST, the next ones
 * (when the first was filled) up to the rest.  Stops when the socket
 * has no more now.  Returns 0, or 1 at the end of the stream (c->eof)
 * or on an error (c->error, an errno): both are final.
 */
int
upstream_conn_read(struct upstream_conn *c, size_t room)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	size_t ask = room < UPSTREAM_READ_FIRST ? room : UPSTREAM_READ_FIRST;
	int rc = 0;

	if (c->eof || c->error)
		return 1;
	/* The bufferevent keeps its input's end frozen but while it reads. */
	evbuffer_unfreeze(in, 0);
	while (ask > 0) {
		ssize_t got = upstream_conn_readv(in, fd, ask);

		if (got == 0) {
			c->eof = 1;
			rc = 1;
			break;
		}
		if (got < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				c->error = errno;
				rc = 1;
			}
			break;
		}
		room -= (size_t)got;
		if ((size_t)got < ask)	/* the socket has no more now */
			break;
		ask = room;
	}
	evbuffer_freeze(in, 0);
	return rc;
}
