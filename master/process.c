/*
 * process.c: forking, signalling and reaping the workers.
 *
 * A child leaves the master's event_base the way libevent asks after a
 * fork (event_reinit, then free), which also restores the master's signal
 * handlers, closes the sockets that belong to other slots, and runs
 * worker_main().  The master blocks its signals around fork so a child
 * never runs the master's handler, whose socketpair it shares.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/stats.h"
#include "master/master.h"
#include "worker/worker.h"

/* A worker that lives shorter than this counts as dying at once. */
#define PROCESS_QUICK_EXIT_MS 1000
#define PROCESS_RESPAWN_FIRST_MS 100
#define PROCESS_RESPAWN_MAX_MS 30000

int
process_prepare_user(const struct conf *conf, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;
	struct group *gr;

	if (conf->user == NULL || geteuid() != 0)
		return 0;
	errno = 0;
	pw = getpwnam(conf->user);
	if (pw == NULL) {
		log_errorx("user \"%s\" not found", conf->user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (conf->group == NULL)
		return 1;
	gr = getgrnam(conf->group);
	if (gr == NULL) {
		log_errorx("group \"%s\" not found", conf->group);
		return -1;
	}
	*gid = gr->gr_gid;
	return 1;
}

static void
process_close_other_sockets(struct master *m,
    const struct worker_socket *sockets, size_t n)
{
	size_t i, j, k;

	for (i = 0; i < m->nlisteners; i++) {
		for (j = 0; j < m->listeners[i].nfds; j++) {
			int fd = m->listeners[i].fds[j], mine = 0;

			for (k = 0; k < n; k++)
				if (sockets[k].fd == fd)
					mine = 1;
			if (!mine)
				close(fd);
		}
	}
}

static void __attribute__((noreturn))
process_child(struct master *m, struct worker_setup *setup)
{
	/* The child must not touch the epoll set it shares with the master. */
	if (event_reinit(m->base) == -1)
		fatalx("event_reinit after fork failed");
	signals_free();
	if (m->stop_timer != NULL)
		event_free(m->stop_timer);
	event_base_free(m->base);
	/* After the base, so libevent never sees their fds go away. */
	chat_relay_close_all(m);
	process_close_other_sockets(m, setup->sockets, setup->nsockets);
	/* The worker keeps only its cell of the load array (mapped); an
	 * array held here would outlive this master's in an upgrade. */
	steer_close_fds(m);
	worker_main(setup);
}

static struct master_worker *
process_add(struct master *m)
{
	struct master_worker *grown;

	if (m->nworkers == m->workers_cap) {
		size_t cap = m->workers_cap ? m->workers_cap * 2 : 8;

		grown = realloc(m->workers, cap * sizeof(*grown));
		if (grown == NULL) {
			log_error("allocating the worker table");
			return NULL;
		}
		m->workers = grown;
		m->workers_cap = cap;
	}
	return &m->workers[m->nworkers++];
}

int
process_spawn(struct master *m, int slot)
{
	struct worker_setup setup;
	struct master_worker *w;
	sigset_t saved;
	pid_t pid;
	int rc = -1, user, chat[2];

	memset(&setup, 0, sizeof(setup));
	setup.conf = m->conf;
	setup.slot = slot;
	setup.master_pid = getpid();
	setup.generation = m->generation;
	user = process_prepare_user(m->conf, &setup.uid, &setup.gid);
	if (user == -1)
		return -1;
	setup.switch_user = user;
	if (listen_worker_sockets(m, m->conf, slot, m->conf->workers,
	    &setup.sockets, &setup.nsockets) == -1) {
		log_error("listing the sockets of worker slot %d", slot);
		goto done;
	}
	if (chat_relay_pair(chat) == -1)
		goto done;
	w = process_add(m);
	if (w == NULL) {
		close(chat[0]);
		close(chat[1]);
		goto done;
	}
	w->chat = NULL;
	setup.stats = m->stats;
	setup.steer_load = steer_load_cell(m, slot);
	setup.my_stats = m->stats != NULL ? stats_claim(m->stats, -1, slot,
	    m->generation) : NULL;
	signals_block(&saved);
	setup.signal_mask = saved;
	setup.chat_fd = chat[1];
	pid = fork();
	if (pid == 0) {
		close(chat[0]);
		process_child(m, &setup);
	}
	signals_restore(&saved);
	close(chat[1]);
	if (pid == -1) {
		log_error("fork for worker slot %d", slot);
		if (setup.my_stats != NULL)
			setup.my_stats->pid = 0;
		close(chat[0]);
		m->nworkers--;
		goto done;
	}
	if (setup.my_stats != NULL)
		setup.my_stats->pid = pid;
	w->pid = pid;
	w->slot = slot;
	w->generation = m->generation;
	w->state = MASTER_WORKER_RUNNING;
	gettimeofday(&w->started, NULL);
	log_info("started worker %ld (slot %d, generation %u)", (long)pid,
	    slot, m->generation);
	chat_relay_attach(m, w, chat[0]);
	rc = 0;
done:
	free(setup.sockets);
	return rc;
}

void
process_signal_generation(struct master *m, unsigned generation, int signo)
{
	size_t i;

	for (i = 0; i < m->nworkers; i++) {
		struct master_worker *w = &m->workers[i];

		if (w->generation != generation)
			continue;
		if (kill(w->pid, signo) == -1 && errno != ESRCH)
			log_warn("signalling worker %ld", (long)w->pid);
		if (signo == SIGQUIT || signo == SIGTERM)
			w->state = MASTER_WORKER_STOPPING;
	}
}

void
process_signal_all(struct master *m, int signo)
{
	size_t i;

	for (i = 0; i < m->nworkers; i++) {
		if (kill(m->workers[i].pid, signo) == -1 && errno != ESRCH)
			log_warn("signalling worker %ld",
			    (long)m->workers[i].pid);
		if (signo == SIGQUIT || signo == SIGTERM || signo == SIGKILL)
			m->workers[i].state = MASTER_WORKER_STOPPING;
	}
}

static void
process_log_exit(const struct master_worker *w, int status, int expected)
{
	enum log_level level = expected ? LOG_LEVEL_INFO : LOG_LEVEL_WARN;

	if (WIFEXITED(status))
		log_emit(level, 0, __func__, "worker %ld (slot %d, generation "
		    "%u) exited with status %d", (long)w->pid, w->slot,
		    w->generation, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_emit(level, 0, __func__, "worker %ld (slot %d, generation "
		    "%u) killed by signal %d (%s)", (long)w->pid, w->slot,
		    w->generation, WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
}

static long
process_lifetime_ms(const struct master_worker *w)
{
	struct timeval now, diff;

	gettimeofday(&now, NULL);
	timersub(&now, &w->started, &diff);
	return (long)diff.tv_sec * 1000 + diff.tv_usec / 1000;
}

/* Respawn timers share this callback; it refills every empty slot. */
void
process_on_respawn_timer(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
	size_t slot;

	(void)fd;
	(void)what;
	/* One timer per slot: find which slots are due and empty. */
	for (slot = 0; slot < m->nslots; slot++) {
		size_t i;
		int alive = 0;

		if (evtimer_pending(m->respawn_timers[slot], NULL))
			continue;
		for (i = 0; i < m->nworkers; i++)
			if (m->workers[i].slot == (int)slot &&
			    m->workers[i].generation == m->generation)
				alive = 1;
		if (!alive && m->stop == MASTER_RUNNING &&
		    process_spawn(m, (int)slot) == -1)
			log_warnx("respawning worker slot %zu failed", slot);
	}
}

static void
process_schedule_respawn(struct master *m, const struct master_worker *w)
{
	int *delay = &m->respawn_delay_ms[w->slot];
	struct timeval tv;

	if (process_lifetime_ms(w) >= PROCESS_QUICK_EXIT_MS)
		*delay = 0;
	else if (*delay == 0)
		*delay = PROCESS_RESPAWN_FIRST_MS;
	else if (*delay < PROCESS_RESPAWN_MAX_MS / 2)
		*delay *= 2;
	else
		*delay = PROCESS_RESPAWN_MAX_MS;
	if (m->stats != NULL)
		m->stats->respawns++;
	if (*delay > 0)
		log_warnx("worker slot %d keeps exiting at start-up; next try "
		    "in %d ms", w->slot, *delay);
	tv.tv_sec = *delay / 1000;
	tv.tv_usec = (*delay % 1000) * 1000;
	evtimer_add(m->respawn_timers[w->slot], &tv);
}

/*
 * The limit_conn counts a worker held, by its lane (its stats entry's
 * index + 1, worker/http/limit.c): a worker that crashed mid-request
 * never gave them back.
 */
static void
process_forget_limits(struct master *m, pid_t pid)
{
	size_t i;

	if (m->stats == NULL || m->conf->nlimit_zones == 0)
		return;
	for (i = 0; i < STATS_MAX_WORKERS; i++)
		if (m->stats->workers[i].pid == pid) {
			limits_forget_worker(m->conf, (unsigned)i + 1);
			return;
		}
}

/* SIGCHLD, from the event loop: collect every exited worker. */
void
process_reap(struct master *m)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct master_worker w;
		size_t i;
		int expected;

		if (pid == m->upgrade_pid) {
			upgrade_failed(m, status);
			continue;
		}
		for (i = 0; i < m->nworkers; i++)
			if (m->workers[i].pid == pid)
				break;
		if (i == m->nworkers)
			continue;
		chat_relay_detach(m, &m->workers[i]);
		process_forget_limits(m, pid);
		if (m->stats != NULL)
			stats_release(m->stats, pid);
		w = m->workers[i];
		m->workers[i] = m->workers[--m->nworkers];
		expected = w.state == MASTER_WORKER_STOPPING;
		process_log_exit(&w, status, expected);
		if (!expected && m->stop == MASTER_RUNNING &&
		    w.generation == m->generation && (size_t)w.slot < m->nslots)
			process_schedule_respawn(m, &w);
	}
	if (pid == -1 && errno != ECHILD)
		log_warn("waitpid");
	if (m->stop != MASTER_RUNNING && m->nworkers == 0)
		event_base_loopbreak(m->base);
}
