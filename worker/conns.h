/*
 * conns.h: what every part of a worker shares: the worker itself (its
 * loop, listeners and connections) and the list every protocol adds its
 * connections to, so the worker can count them, close them all on a
 * fast stop and ask each to finish on a graceful one.  worker.c builds
 * the worker and fills in the hooks; the protocols, accept.c and the
 * transport only use it, so no arrow runs back up to worker.c.
 */
#ifndef FORKLOOP_WORKER_CONNS_H
#define FORKLOOP_WORKER_CONNS_H

#include <sys/socket.h>

#include <stdint.h>

#include "conf/conf.h"

struct event_base;
struct event;
struct stats_shared;
struct stats_worker;
struct worker;

/* Every connection, of any protocol, starts with this. */
struct worker_conn {
	struct worker_conn *prev, *next;
	void (*drain)(struct worker_conn *);	/* finish, then close */
	void (*destroy)(struct worker_conn *);	/* close now */
	/* Optional: shutdown_timeout came; a last word (a WebSocket's
	 * close frame), then close.  1 when something was said: the worker
	 * waits a moment for it to go out. */
	int (*going_away)(struct worker_conn *);
};

/* What a listener hands an accepted connection to: its protocol. */
typedef void (*worker_accept_fn)(int fd, struct conf_server *server,
    const struct conf_listen *listen, const struct sockaddr_storage *peer,
    socklen_t peerlen);

struct worker_listener {
	int fd;
	struct conf_server *server;
	const struct conf_listen *listen;
	struct event *ev;
};

struct worker {
	struct event_base *base;
	struct conf *conf;
	int slot;
	unsigned generation;

	struct worker_listener *listeners;
	size_t nlisteners;
	int accepting;			/* accept events are armed */
	struct event *accept_retry;	/* after EMFILE and the like */
	/* Per server kind (CONF_SERVER_*): who takes a new connection. */
	worker_accept_fn accept_to[CONF_SERVER_KINDS];

	struct worker_conn conns;	/* list head */
	int nconns;
	/* Where the master's reuseport program reads this slot's load
	 * (master/steer.c), or NULL; a draining worker leaves it to its
	 * successor in the slot. */
	uint32_t *steer_load;
	int draining;
	/* Called when a connection has gone: resume accepting, or end a
	 * graceful stop once the last one has. */
	void (*conn_gone)(struct worker *);

	struct event *signal_events[4];
	struct event *shutdown_timer;
	int last_word;			/* going_away() was called */
};

extern struct worker *worker_self;
/* This worker's counters (shared memory, or a local stand-in). */
extern struct stats_worker *worker_stats;
extern struct stats_shared *worker_stats_all;

void worker_conn_add(struct worker_conn *c);
void worker_conn_remove(struct worker_conn *c);

/* net/accept.c */
int accept_init(struct worker *w);
void accept_pause(struct worker *w, int retry_ms);
void accept_resume(struct worker *w);
void accept_stop(struct worker *w);

#endif
