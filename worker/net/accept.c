/*
 * accept.c: accepting connections on the worker's own sockets.
 *
 * Each worker owns its SO_REUSEPORT sockets, so there is no accept mutex
 * and no thundering herd.  When the worker reaches worker_connections, or
 * the process or system runs out of descriptors (EMFILE, ENFILE, ENOBUFS,
 * ENOMEM), it stops watching its sockets: the kernel keeps new
 * connections queued, and accepting resumes when a connection closes or,
 * for a resource error, after a short pause, so it never spins.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/stats.h"
#include "worker/conns.h"

/* Connections taken per readiness event, to stay fair to the others. */
#define ACCEPT_BATCH 64
#define ACCEPT_RETRY_MS 500

static void
accept_dispatch(int fd, const struct worker_listener *l,
    const struct sockaddr_storage *peer, socklen_t peerlen)
{
	struct conf_server *server = l->server;
	worker_accept_fn to = NULL;

	if ((unsigned)server->kind < CONF_SERVER_KINDS)
		to = worker_self->accept_to[server->kind];
	if (to == NULL) {
		close(fd);
		return;
	}
	to(fd, server, l->listen, peer, peerlen);
}

static int
accept_resource_error(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM;
}

static void
accept_on_readable(evutil_socket_t lfd, short what, void *arg)
{
	struct worker_listener *l = arg;
	struct worker *w = worker_self;
	int i;

	(void)what;
	for (i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t peerlen = sizeof(peer);
		int fd;

		if (w->nconns >= w->conf->worker_connections) {
			log_warnx("worker_connections (%d) reached; not "
			    "accepting until a connection closes",
			    w->conf->worker_connections);
			accept_pause(w, 0);
			return;
		}
		fd = accept4(lfd, (struct sockaddr *)&peer, &peerlen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			if (accept_resource_error(errno)) {
				log_warn("accept on %s; pausing accept",
				    l->listen->text);
				accept_pause(w, ACCEPT_RETRY_MS);
				return;
			}
			log_warn("accept");
			return;
		}
		worker_stats->accepted++;
		accept_dispatch(fd, l, &peer, peerlen);
		if (w->draining)
			return;
	}
}

static void
accept_on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	accept_resume(arg);
}

int
accept_init(struct worker *w)
{
	size_t i;

	for (i = 0; i < w->nlisteners; i++) {
		struct worker_listener *l = &w->listeners[i];

		l->ev = event_new(w->base, l->fd, EV_READ | EV_PERSIST,
		    accept_on_readable, l);
		if (l->ev == NULL) {
			log_errorx("cannot create the accept event");
			return -1;
		}
	}
	w->accept_retry = evtimer_new(w->base, accept_on_retry_timer, w);
	if (w->accept_retry == NULL) {
		log_errorx("cannot create the accept retry timer");
		return -1;
	}
	accept_resume(w);
	return 0;
}

void
accept_resume(struct worker *w)
{
	size_t i;

	if (w->accepting || w->draining)
		return;
	for (i = 0; i < w->nlisteners; i++)
		if (event_add(w->listeners[i].ev, NULL) == -1)
			log_warnx("cannot watch a listening socket");
	w->accepting = 1;
}

/* retry_ms 0: wait for a connection to close instead of a timer. */
void
accept_pause(struct worker *w, int retry_ms)
{
	size_t i;

	if (w->accepting) {
		for (i = 0; i < w->nlisteners; i++)
			event_del(w->listeners[i].ev);
		w->accepting = 0;
	}
	if (retry_ms > 0) {
		struct timeval tv = { retry_ms / 1000, (retry_ms % 1000) * 1000 };

		evtimer_add(w->accept_retry, &tv);
	}
}

/*
 * Stops for good (graceful stop).  The sockets close in this worker only:
 * the master and the next generation still hold them, so connections
 * waiting in the queue are served by the new workers.
 */
void
accept_stop(struct worker *w)
{
	size_t i;

	accept_pause(w, 0);
	evtimer_del(w->accept_retry);
	for (i = 0; i < w->nlisteners; i++) {
		event_free(w->listeners[i].ev);
		w->listeners[i].ev = NULL;
		if (close(w->listeners[i].fd) == -1)
			log_warn("closing a listening socket");
		w->listeners[i].fd = -1;
	}
	w->nlisteners = 0;
}
