/*
 * worker.h: a worker process: one event_base, one thread, serving the
 * sockets the master handed it.  A worker never includes master code;
 * the master hands it everything in a struct worker_setup.
 */
#ifndef FORKLOOP_WORKER_H
#define FORKLOOP_WORKER_H

#include <sys/types.h>
#include <signal.h>
#include <stddef.h>

#include "conf/conf.h"

struct event_base;
struct event;
struct stats_shared;
struct stats_worker;

/* A listening socket handed to a worker, with what it serves. */
struct worker_socket {
	int fd;				/* non-blocking */
	struct conf_server *server;	/* the block it belongs to */
	const struct conf_listen *listen;
};

struct worker_setup {
	struct conf *conf;
	int slot;
	unsigned generation;
	struct worker_socket *sockets;
	size_t nsockets;
	int switch_user;		/* started as root with "user" set */
	uid_t uid;
	gid_t gid;
	sigset_t signal_mask;		/* to restore once signals are set up */
	int chat_fd;			/* this worker's end of the chat channel */
	pid_t master_pid;
	struct stats_shared *stats;	/* everyone's counters */
	struct stats_worker *my_stats;	/* this worker's, or NULL */
};

void worker_main(const struct worker_setup *setup) __attribute__((noreturn));

/*
 * Every connection, of any protocol, starts with this, so the worker can
 * count them, close them all on a fast stop, and ask each to finish on a
 * graceful one.
 */
struct worker_conn {
	struct worker_conn *prev, *next;
	void (*drain)(struct worker_conn *);	/* finish, then close */
	void (*destroy)(struct worker_conn *);	/* close now */
};

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

	struct worker_conn conns;	/* list head */
	int nconns;
	int draining;

	struct event *signal_events[4];
	struct event *shutdown_timer;
};

extern struct worker *worker_self;
/* This worker's counters (shared memory, or a local stand-in). */
extern struct stats_worker *worker_stats;
extern struct stats_shared *worker_stats_all;

/* worker.c */
void worker_conn_add(struct worker_conn *c);
void worker_conn_remove(struct worker_conn *c);
void worker_reopen_logs(void);

/* net/accept.c */
int accept_init(struct worker *w);
void accept_pause(struct worker *w, int retry_ms);
void accept_resume(struct worker *w);
void accept_stop(struct worker *w);

/* echo.c: the TCP echo service */
void echo_conn_new(int fd, struct conf_server *server,
    const struct conf_listen *listen);

/* chat.c: the group chat service */
void chat_conn_new(int fd, struct conf_server *server,
    const struct conf_listen *listen);
int chat_worker_init(struct worker *w, int master_fd);
int chat_worker_flush_pending(struct worker *w);

/* h1.c */
void http_conn_new(int fd, struct conf_server *server,
    const struct conf_listen *listen, const struct sockaddr_storage *peer,
    socklen_t peerlen);
int http_worker_init(struct worker *w);
void http_worker_exit(void);

#endif
