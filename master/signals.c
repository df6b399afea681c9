/*
 * signals.c: the master's signals, delivered through libevent.
 *
 * libevent's handler only writes to a socketpair; the callbacks below run
 * in the event loop, where it is safe to fork, log and free.  Around fork
 * the master blocks these signals so a child never runs the master's
 * handler before it has set up its own (see process.c).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "master/master.h"

static const int signals_handled[] = {
	SIGHUP, SIGQUIT, SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD,
};
#define SIGNALS_COUNT (sizeof(signals_handled) / sizeof(signals_handled[0]))

static struct event *signals_events[SIGNALS_COUNT];

static void
signals_on_signal(evutil_socket_t signo, short what, void *arg)
{
	struct master *m = arg;

	(void)what;
	switch (signo) {
	case SIGHUP:
		log_info("received HUP: reloading the configuration");
		master_reload(m);
		break;
	case SIGQUIT:
		log_info("received QUIT: stopping gracefully");
		master_begin_stop(m, MASTER_STOP_GRACEFUL);
		break;
	case SIGTERM:
	case SIGINT:
		log_info("received %s: stopping now",
		    signo == SIGTERM ? "TERM" : "INT");
		master_begin_stop(m, MASTER_STOP_FAST);
		break;
	case SIGUSR1:
		log_info("received USR1: reopening log files");
		master_reopen_logs(m);
		break;
	case SIGUSR2:
		log_info("received USR2: starting the new binary");
		upgrade_start(m);
		break;
	case SIGWINCH:
		log_info("received WINCH: stopping the workers");
		upgrade_stop_workers(m);
		break;
	case SIGCHLD:
		process_reap(m);
		break;
	}
}

int
signals_init(struct master *m)
{
	size_t i;

	/* A write to a closed socket is an error return, not a death. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		log_error("ignoring SIGPIPE");
		return -1;
	}
	for (i = 0; i < SIGNALS_COUNT; i++) {
		signals_events[i] = evsignal_new(m->base, signals_handled[i],
		    signals_on_signal, m);
		if (signals_events[i] == NULL ||
		    evsignal_add(signals_events[i], NULL) == -1) {
			log_errorx("cannot watch signal %s",
			    strsignal(signals_handled[i]));
			return -1;
		}
	}
	return 0;
}

void
signals_free(void)
{
	size_t i;

	for (i = 0; i < SIGNALS_COUNT; i++) {
		if (signals_events[i] != NULL)
			event_free(signals_events[i]);
		signals_events[i] = NULL;
	}
}

void
signals_block(sigset_t *saved)
{
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < SIGNALS_COUNT; i++)
		sigaddset(&set, signals_handled[i]);
	if (sigprocmask(SIG_BLOCK, &set, saved) == -1)
		log_error("blocking signals");
}

/* In a child about to exec: default handlers, the mask it had. */
void
signals_reset_for_exec(const sigset_t *saved)
{
	size_t i;

	for (i = 0; i < SIGNALS_COUNT; i++)
		signal(signals_handled[i], SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, saved, NULL);
}

void
signals_restore(const sigset_t *saved)
{
	if (sigprocmask(SIG_SETMASK, saved, NULL) == -1)
		log_error("restoring the signal mask");
}
