/*
 * worker.c: a worker's life.  Sets up its own event_base and signals,
 * switches user, accepts on the sockets it was given, and stops either
 * at once (TERM/INT) or after its connections finish (QUIT, bounded by
 * shutdown_timeout).  The master restarts a worker that dies.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/stats.h"
#include "worker/conns.h"
#include "worker/http/access_log.h"
#include "worker/protocols.h"
#include "worker/worker.h"

static void __attribute__((noreturn))
worker_exit(int status)
{
	http_worker_exit();
	exit(status);
}

/* Ends the loop once chat lines still queued for the master are out,
 * bounded by a timer in case the master does not read them. */
static void
worker_stop_loop(struct worker *w)
{
	struct timeval bound = { 2, 0 };

	if (!chat_worker_flush_pending(w)) {
		event_base_loopbreak(w->base);
		return;
	}
	if (event_base_loopexit(w->base, &bound) == -1)
		event_base_loopbreak(w->base);
}

/* A connection has gone (conns.c): end a graceful stop with the last
 * one, or take new ones again below worker_connections. */
static void
worker_on_conn_gone(struct worker *w)
{
	if (w->draining && w->nconns == 0) {
		log_info("worker drained, exiting");
		worker_stop_loop(w);
		return;
	}
	if (!w->accepting && !w->draining &&
	    w->nconns < w->conf->worker_connections)
		accept_resume(w);
}

static void
worker_reopen_logs(void)
{
	if (log_reopen() == -1)
		log_warn("reopening error log %s", log_path());
	access_log_reopen_all();
}

/* How long the last words of shutdown_timeout may take to go out. */
#define WORKER_LAST_WORD_MS 500

/*
 * shutdown_timeout came: connections that have a last word to say (a
 * WebSocket's close frame, 1001 going away, RFC 6455 7.4.1) say it, and
 * the worker stops WORKER_LAST_WORD_MS later, or when they are gone.
 */
static int
worker_last_word(struct worker *w)
{
	struct worker_conn *c, *next;
	struct timeval tv = { 0, WORKER_LAST_WORD_MS * 1000 };
	int n = 0;

	w->last_word = 1;
	for (c = w->conns.next; c != &w->conns; c = next) {
		next = c->next;
		if (c->going_away != NULL)
			n += c->going_away(c);
	}
	if (n == 0 || w->nconns == 0 || evtimer_add(w->shutdown_timer, &tv)
	    == -1)
		return 0;
	return n;
}

static void
worker_on_shutdown_timer(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	if (!w->last_word) {
		log_warnx("shutdown_timeout reached with %d connections open; "
		    "closing them", w->nconns);
		if (worker_last_word(w) > 0)
			return;
	}
	event_base_loopbreak(w->base);
}

static void
worker_drain(struct worker *w)
{
	struct worker_conn *c, *next;
	struct timeval tv;
	int ms = w->conf->shutdown_timeout_ms;

	if (w->draining)
		return;
	w->draining = 1;
	accept_stop(w);
	if (w->nconns == 0) {
		worker_stop_loop(w);
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	w->shutdown_timer = evtimer_new(w->base, worker_on_shutdown_timer, w);
	if (w->shutdown_timer == NULL ||
	    evtimer_add(w->shutdown_timer, &tv) == -1)
		log_warnx("cannot arm the shutdown timer");
	/* drain() may close the connection and unlink it: step first. */
	for (c = w->conns.next; c != &w->conns; c = next) {
		next = c->next;
		c->drain(c);
	}
}

static void
worker_on_signal(evutil_socket_t signo, short what, void *arg)
{
	struct worker *w = arg;

	(void)what;
	switch (signo) {
	case SIGQUIT:
		log_info("worker finishing its connections");
		worker_drain(w);
		break;
	case SIGTERM:
	case SIGINT:
		event_base_loopbreak(w->base);
		break;
	case SIGUSR1:
		worker_reopen_logs();
		break;
	}
}

static int
worker_setup_signals(struct worker *w, const sigset_t *mask)
{
	static const int signos[] = { SIGQUIT, SIGTERM, SIGINT, SIGUSR1 };
	size_t i;

	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
	    signal(SIGHUP, SIG_IGN) == SIG_ERR ||
	    signal(SIGCHLD, SIG_DFL) == SIG_ERR) {
		log_error("setting signal dispositions");
		return -1;
	}
	for (i = 0; i < sizeof(signos) / sizeof(signos[0]); i++) {
		w->signal_events[i] = evsignal_new(w->base, signos[i],
		    worker_on_signal, w);
		if (w->signal_events[i] == NULL ||
		    evsignal_add(w->signal_events[i], NULL) == -1) {
			log_errorx("cannot watch signal %d", signos[i]);
			return -1;
		}
	}
	if (sigprocmask(SIG_SETMASK, mask, NULL) == -1) {
		log_error("restoring the signal mask");
		return -1;
	}
	return 0;
}

static int
worker_apply_limits(const struct worker_setup *setup)
{
	const struct conf *conf = setup->conf;

	if (conf->worker_rlimit_nofile > 0) {
		struct rlimit rl;

		rl.rlim_cur = rl.rlim_max = (rlim_t)conf->worker_rlimit_nofile;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setting the open file limit to %d",
			    conf->worker_rlimit_nofile);
	}
	if (conf->worker_cpu_affinity) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(ncpu > 0 ? setup->slot % ncpu : 0, &set);
		if (sched_setaffinity(0, sizeof(set), &set) == -1)
			log_warn("pinning worker slot %d to a CPU", setup->slot);
	}
	if (!setup->switch_user)
		return 0;
	if (initgroups(conf->user, setup->gid) == -1 ||
	    setgid(setup->gid) == -1 ||
	    setuid(setup->uid) == -1) {
		log_error("switching to user %s", conf->user);
		return -1;
	}
	return 0;
}

/* Says at start which sockets this worker accepts on. */
static void
worker_log_sockets(const struct worker *w)
{
	char line[1024];
	size_t i, len = 0;

	line[0] = '\0';
	for (i = 0; i < w->nlisteners && len < sizeof(line) - 100; i++) {
		int n = snprintf(line + len, sizeof(line) - len, "%s%s (fd %d)",
		    i > 0 ? ", " : "", w->listeners[i].listen->text,
		    w->listeners[i].fd);

		if (n > 0)
			len += (size_t)n;
	}
	log_info("worker slot %d, generation %u serves %s", w->slot,
	    w->generation, w->nlisteners > 0 ? line : "nothing");
}

/*
 * Streams (a proxied download, a TLS file, an echoed body) pass through
 * buffers of 64-256 KiB that are freed as soon as they are written.
 * glibc serves blocks that large with mmap, or gives the heap's top back
 * with brk once 128 KiB are free, so each buffer costs fresh pages the
 * kernel must fault in and zero: four times the CPU per byte of a
 * proxied download here.  A worker keeps up to 8 MiB of freed memory for
 * reuse instead, and blocks up to 1 MiB come from the heap.
 */
static void
worker_tune_malloc(void)
{
	/* Another allocator (a sanitizer's) may not take it: no harm. */
	if (mallopt(M_MMAP_THRESHOLD, 1024 * 1024) != 1 ||
	    mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024) != 1)
		log_debug("malloc's thresholds were not tuned (another "
		    "allocator?); large streams will cost more CPU");
}

void
worker_main(const struct worker_setup *setup)
{
	static struct worker w;

	memset(&w, 0, sizeof(w));
	worker_self = &w;
	w.conf = setup->conf;
	w.slot = setup->slot;
	w.generation = setup->generation;
	w.conns.next = w.conns.prev = &w.conns;
	w.steer_load = setup->steer_load;
	w.conn_gone = worker_on_conn_gone;
	w.accept_to[CONF_SERVER_HTTP] = http_conn_new;
	w.accept_to[CONF_SERVER_ECHO] = echo_conn_new;
	w.accept_to[CONF_SERVER_CHAT] = chat_tcp_conn_new;
	worker_stats_all = setup->stats;
	if (setup->my_stats != NULL) {
		worker_stats = setup->my_stats;
		worker_stats->pid = getpid();
	}

	worker_tune_malloc();
	/* If the master dies without a word, finish and go. */
	if (prctl(PR_SET_PDEATHSIG, SIGQUIT) == -1)
		log_warn("prctl PR_SET_PDEATHSIG");
	w.base = event_base_new();
	if (w.base == NULL)
		fatalx("cannot create the event loop");
	if (worker_setup_signals(&w, &setup->signal_mask) == -1)
		exit(2);
	if (http_worker_init(&w) == -1 ||
	    chat_worker_init(&w, setup->chat_fd) == -1 ||
	    worker_apply_limits(setup) == -1)
		exit(2);
	w.nlisteners = setup->nsockets;
	w.listeners = calloc(setup->nsockets, sizeof(*w.listeners));
	if (w.listeners == NULL)
		fatal("allocating listeners");
	for (size_t i = 0; i < setup->nsockets; i++) {
		w.listeners[i].fd = setup->sockets[i].fd;
		w.listeners[i].server = setup->sockets[i].server;
		w.listeners[i].listen = setup->sockets[i].listen;
	}
	if (accept_init(&w) == -1)
		exit(2);
	worker_log_sockets(&w);
	/* A first-generation worker inherits the master's start-up copy
	 * to stderr; running now, it writes to the error log alone. */
	log_copy_to_stderr(0);
	/* The master died before PR_SET_PDEATHSIG was set: finish.  (Not
	 * "getppid() == 1": the master may be PID 1 in a container.) */
	if (getppid() != setup->master_pid) {
		log_warnx("the master is gone; finishing");
		worker_drain(&w);
		if (w.nconns == 0)
			worker_exit(0);
	}

	if (event_base_dispatch(w.base) == -1)
		log_errorx("the event loop failed");
	worker_exit(0);
}
