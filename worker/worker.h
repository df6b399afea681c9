/*
 * worker.h: a worker process: one event_base, one thread, serving the
 * sockets the master handed it.  A worker never includes master code;
 * the master hands it everything in a struct worker_setup.
 */
#ifndef FORKLOOP_WORKER_H
#define FORKLOOP_WORKER_H

#include <sys/types.h>
#include <stdint.h>
#include <signal.h>
#include <stddef.h>

#include "conf/conf.h"

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
	uint32_t *steer_load;		/* master/steer.c's cell, or NULL */
};

void worker_main(const struct worker_setup *setup) __attribute__((noreturn));

#endif
