/*
 * log.c: writes the error log, to stderr or to a file opened in append mode.
 *
 * Each line goes out in one write(2) so lines from master and workers,
 * which share the file, never interleave.  Reopen (USR1) opens the path
 * again and swaps the descriptor, keeping the old one when that fails.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"

static int log_file_fd = STDERR_FILENO;
static char *log_file_path;
static enum log_level log_min_level = LOG_LEVEL_INFO;
static int log_stderr_copy;

static const char *const log_level_names[] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_ERROR] = "error",
};

static int
log_open_path(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

/* libevent's own warnings go to the error log, not to stderr. */
static void
log_from_libevent(int severity, const char *msg)
{
	enum log_level level = LOG_LEVEL_WARN;

	if (severity == EVENT_LOG_DEBUG)
		level = LOG_LEVEL_DEBUG;
	else if (severity == EVENT_LOG_MSG)
		level = LOG_LEVEL_INFO;
	else if (severity == EVENT_LOG_ERR)
		level = LOG_LEVEL_ERROR;
	log_emit(level, 0, "libevent", "%s", msg);
}

int
log_open(const char *path, enum log_level level)
{
	int fd = STDERR_FILENO;
	char *copy = NULL;

	if (path != NULL) {
		fd = log_open_path(path);
		if (fd == -1)
			return -1;
		copy = strdup(path);
		if (copy == NULL) {
			close(fd);
			return -1;
		}
	}
	if (log_file_fd != STDERR_FILENO)
		close(log_file_fd);
	free(log_file_path);
	log_file_fd = fd;
	log_file_path = copy;
	log_min_level = level;
	event_set_log_callback(log_from_libevent);
	return 0;
}

int
log_reopen(void)
{
	int fd;

	if (log_file_path == NULL)
		return 0;
	fd = log_open_path(log_file_path);
	if (fd == -1)
		return -1;
	close(log_file_fd);
	log_file_fd = fd;
	return 0;
}

void
log_set_level(enum log_level level)
{
	log_min_level = level;
}

/* Start-up errors go to the terminal too, whatever error_log says. */
void
log_copy_to_stderr(int on)
{
	log_stderr_copy = on;
}

int
log_fd(void)
{
	return log_file_fd;
}

const char *
log_path(void)
{
	return log_file_path;
}

static void
log_vemit(enum log_level level, int errnum, const char *func,
    const char *fmt, va_list ap)
{
	char line[2048];
	struct tm tm;
	time_t now;
	size_t len;
	int n;

	now = time(NULL);
	localtime_r(&now, &tm);
	len = strftime(line, sizeof(line), "%Y/%m/%d %H:%M:%S", &tm);
	n = snprintf(line + len, sizeof(line) - len, " [%s] %ld: %s: ",
	    log_level_names[level], (long)getpid(), func);
	if (n > 0 && (size_t)n < sizeof(line) - len)
		len += n;
	n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	if (n > 0)
		len += (size_t)n < sizeof(line) - len ? (size_t)n :
		    sizeof(line) - len - 1;
	if (errnum != 0 && len < sizeof(line) - 1) {
		n = snprintf(line + len, sizeof(line) - len, ": %s",
		    strerror(errnum));
		if (n > 0)
			len += (size_t)n < sizeof(line) - len ? (size_t)n :
			    sizeof(line) - len - 1;
	}
	if (len >= sizeof(line) - 1)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	/* Nothing useful can be done when the log itself cannot be written. */
	if (write(log_file_fd, line, len) == -1)
		return;
	if (log_stderr_copy && level >= LOG_LEVEL_WARN &&
	    log_file_fd != STDERR_FILENO &&
	    write(STDERR_FILENO, line, len) == -1)
		return;
}

void
log_emit(enum log_level level, int errnum, const char *func,
    const char *fmt, ...)
{
	va_list ap;
	int saved_errno = errno;

	if (level < log_min_level)
		return;
	va_start(ap, fmt);
	log_vemit(level, errnum, func, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void
log_fatal(int errnum, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_ERROR, errnum, func, fmt, ap);
	va_end(ap);
	exit(1);
}
