/*
 * upgrade.c: replacing the running binary without dropping a connection,
 * the way nginx does it.
 *
 *   USR2   the master renames its pid file to PIDFILE.oldbin and starts
 *          the binary again (the path it was started from, so a new
 *          build installed there runs), passing every listening socket
 *          as an open descriptor listed in FORKLOOP_LISTEN_FDS.  The new
 *          master takes those sockets instead of binding, writes the pid
 *          file and starts its workers; both generations now accept on
 *          the very same sockets, so nothing queued is lost.
 *   WINCH  the old master stops its workers gracefully and starts none.
 *   QUIT   the old master, once the new one is trusted, leaves.
 *   (HUP to the old master brings its workers back, to go back.)
 *
 * If the new master exits, the old one puts its pid file back.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "master/master.h"

static char upgrade_exe[PATH_MAX];
static char **upgrade_argv;

/* Remembers what to run again, before anything could replace it. */
void
upgrade_init(char **argv)
{
	ssize_t n = readlink("/proc/self/exe", upgrade_exe,
	    sizeof(upgrade_exe) - 1);

	if (n <= 0) {
		log_warn("readlink /proc/self/exe");
		upgrade_exe[0] = '\0';
		return;
	}
	upgrade_exe[n] = '\0';
	/* A binary replaced in place reads "PATH (deleted)": run PATH. */
	if (n > 10 && strcmp(upgrade_exe + n - 10, " (deleted)") == 0)
		upgrade_exe[n - 10] = '\0';
	upgrade_argv = argv;
}

static int
upgrade_fd_list(const struct master *m, char *out, size_t len)
{
	size_t i, j, o = 0;

	out[0] = '\0';
	for (i = 0; i < m->nlisteners; i++)
		for (j = 0; j < m->listeners[i].nfds; j++) {
			/* "s" marks a socket shared by all workers
			 * (socket activation), not a SO_REUSEPORT one. */
			int n = snprintf(out + o, len - o, "%s%s%d",
			    o > 0 ? "," : "", m->listeners[i].shared ? "s" : "",
			    m->listeners[i].fds[j]);

			if (n < 0 || (size_t)n >= len - o)
				return -1;
			o += (size_t)n;
		}
	return 0;
}

static void __attribute__((noreturn))
upgrade_exec(struct master *m, const char *fds)
{
	size_t i, j;

	for (i = 0; i < m->nlisteners; i++)
		for (j = 0; j < m->listeners[i].nfds; j++)
			if (fcntl(m->listeners[i].fds[j], F_SETFD, 0) == -1)
				log_warn("keeping a socket open across exec");
	if (setenv("FORKLOOP_LISTEN_FDS", fds, 1) == -1)
		log_warn("setenv FORKLOOP_LISTEN_FDS");
	execv(upgrade_exe, upgrade_argv);
	log_error("executing %s for the upgrade", upgrade_exe);
	_exit(1);
}

void
upgrade_start(struct master *m)
{
	char fds[8192], oldbin[PATH_MAX];
	sigset_t saved;
	pid_t pid;

	if (m->upgrade_pid != 0) {
		log_warnx("an upgrade is already running (pid %ld)",
		    (long)m->upgrade_pid);
		return;
	}
	if (upgrade_exe[0] == '\0' || upgrade_fd_list(m, fds,
	    sizeof(fds)) == -1) {
		log_errorx("cannot start the upgrade");
		return;
	}
	if (m->pid_file != NULL) {
		snprintf(oldbin, sizeof(oldbin), "%s.oldbin", m->pid_file);
		if (rename(m->pid_file, oldbin) == -1) {
			log_error("renaming %s to %s", m->pid_file, oldbin);
			return;
		}
	}
	steer_release(m);
	signals_block(&saved);
	pid = fork();
	if (pid == 0) {
		signals_reset_for_exec(&saved);
		upgrade_exec(m, fds);
	}
	signals_restore(&saved);
	if (pid == -1) {
		log_error("fork for the upgrade");
		if (m->pid_file != NULL && rename(oldbin, m->pid_file) == -1)
			log_error("renaming %s back", oldbin);
		steer_apply(m);
		return;
	}
	m->upgrade_pid = pid;
	if (m->pid_file != NULL) {
		char *copy = strdup(oldbin);

		if (copy != NULL) {
			free(m->pid_file);
			m->pid_file = copy;
		}
	}
	log_info("upgrade: started %s as pid %ld", upgrade_exe, (long)pid);
}

/* The new master exited: this one is the running one again. */
void
upgrade_failed(struct master *m, int status)
{
	size_t len;

	if (WIFSIGNALED(status))
		log_warnx("upgrade: the new master %ld was killed by signal "
		    "%d; this master stays", (long)m->upgrade_pid,
		    WTERMSIG(status));
	else
		log_warnx("upgrade: the new master %ld exited with status %d; "
		    "this master stays", (long)m->upgrade_pid,
		    WEXITSTATUS(status));
	m->upgrade_pid = 0;
	steer_apply(m);
	/* After WINCH this master has no workers: serve again. */
	if (m->workers_stopped) {
		m->workers_stopped = 0;
		master_restart_workers(m);
	}
	if (m->pid_file == NULL)
		return;
	len = strlen(m->pid_file);
	if (len > 7 && strcmp(m->pid_file + len - 7, ".oldbin") == 0) {
		char *orig = strndup(m->pid_file, len - 7);

		if (orig == NULL)
			return;
		if (rename(m->pid_file, orig) == -1)
			log_error("renaming %s back to %s", m->pid_file, orig);
		free(m->pid_file);
		m->pid_file = orig;
	}
}

/* WINCH: let the workers finish and start no more (until HUP). */
void
upgrade_stop_workers(struct master *m)
{
	size_t i;

	/* A terminal sends WINCH on every resize: only act on it while an
	 * upgrade runs or when detached, as nginx does. */
	if (m->upgrade_pid == 0 && !m->conf->daemon) {
		log_info("WINCH ignored: no upgrade is running");
		return;
	}
	m->workers_stopped = 1;
	for (i = 0; i < m->nslots; i++)
		evtimer_del(m->respawn_timers[i]);
	process_signal_all(m, SIGQUIT);
	log_info("workers told to finish; none will be started until HUP");
}
