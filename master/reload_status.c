/*
 * reload_status.c: the outcome of the master's last reload, in a file
 * next to the pid file (PIDFILE.reload), so `forkloop -s reload` can wait
 * for the master's answer and exit non-zero with its reason when the
 * reload failed, and `forkloop -t && forkloop -s reload` (a systemd
 * ExecReload) tells the truth.
 *
 * The file holds one line: "SEQ ok GENERATION" or "SEQ failed REASON",
 * SEQ counting the reloads the master has handled.  It is written to a
 * temporary name and renamed, so a reader never sees half of it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "master/master.h"

/* How long `-s reload` waits for the master's answer. */
#define RELOAD_STATUS_WAIT_MS 30000
#define RELOAD_STATUS_POLL_MS 50

static int
reload_status_path(const char *pid_file, char *out, size_t len)
{
	return snprintf(out, len, "%s.reload", pid_file) < (int)len ? 0 : -1;
}

/* Master: records the outcome of reload number seq. */
void
reload_status_write(const char *pid_file, unsigned seq, int ok,
    unsigned generation, const char *reason)
{
	char path[4096], tmp[4200], line[1024];
	int fd, len;

	if (pid_file == NULL || reload_status_path(pid_file, path,
	    sizeof(path)) == -1)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (ok)
		len = snprintf(line, sizeof(line), "%u ok %u\n", seq,
		    generation);
	else
		len = snprintf(line, sizeof(line), "%u failed %s\n", seq,
		    reason != NULL && reason[0] != '\0' ? reason :
		    "see the error log");
	if (len < 0 || len >= (int)sizeof(line))
		len = (int)sizeof(line) - 1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_warn("creating reload status file %s", tmp);
		return;
	}
	if (write(fd, line, (size_t)len) != len || close(fd) == -1 ||
	    rename(tmp, path) == -1) {
		log_warn("writing reload status file %s", path);
		unlink(tmp);
	}
}

void
reload_status_remove(const char *pid_file)
{
	char path[4096];

	if (pid_file == NULL || reload_status_path(pid_file, path,
	    sizeof(path)) == -1)
		return;
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("removing reload status file %s", path);
}

/* The file's line, or "" when there is none yet. */
static void
reload_status_read(const char *path, char *line, size_t len)
{
	ssize_t n;
	int fd;

	line[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return;
	n = read(fd, line, len - 1);
	close(fd);
	line[n > 0 ? n : 0] = '\0';
	line[strcspn(line, "\n")] = '\0';
}

static void
reload_status_sleep(void)
{
	struct timespec ts = { 0, RELOAD_STATUS_POLL_MS * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * `forkloop -s reload`: sends HUP to pid and waits for the status file
 * to change.  Returns 0 when the reload worked, 1 when it failed or no
 * answer came, saying why on stderr.
 */
int
reload_status_request(const char *pid_file, pid_t pid)
{
	char path[4096], before[1024], now[1024];
	const char *reason;
	int waited;

	if (reload_status_path(pid_file, path, sizeof(path)) == -1) {
		fprintf(stderr, "forkloop: pid file path too long\n");
		return 1;
	}
	reload_status_read(path, before, sizeof(before));
	if (kill(pid, SIGHUP) == -1) {
		fprintf(stderr, "forkloop: cannot send reload to master %ld: "
		    "%s\n", (long)pid, errno == ESRCH ?
		    "no such process (stale pid file?)" : strerror(errno));
		return 1;
	}
	for (waited = 0; waited < RELOAD_STATUS_WAIT_MS;
	    waited += RELOAD_STATUS_POLL_MS) {
		reload_status_sleep();
		reload_status_read(path, now, sizeof(now));
		if (now[0] == '\0' || strcmp(now, before) == 0)
			continue;
		if ((reason = strstr(now, " failed ")) != NULL) {
			fprintf(stderr, "forkloop: reload failed, the running "
			    "workers stay: %s\n", reason + 8);
			return 1;
		}
		return 0;
	}
	fprintf(stderr, "forkloop: the master (pid %ld) did not answer the "
	    "reload within %d s; see its error log\n", (long)pid,
	    RELOAD_STATUS_WAIT_MS / 1000);
	return 1;
}
