/*
 * pidfile.c: the master's pid file, which `forkloop -s` and init scripts
 * read to find the running master.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "master/master.h"

/* Written to a temporary name and renamed, so readers never see half. */
int
pidfile_write(const char *path)
{
	char tmp[4096], text[32];
	int fd, len;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		log_errorx("pid file path too long: %s", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_error("creating pid file %s", tmp);
		return -1;
	}
	len = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (write(fd, text, (size_t)len) != len) {
		log_error("writing pid file %s", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		log_error("installing pid file %s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

void
pidfile_remove(const char *path)
{
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("removing pid file %s", path);
}

/* The pid in path, or -1 with the reason in err. */
pid_t
pidfile_read(const char *path, char *err, size_t errlen)
{
	char text[32], *end;
	ssize_t n;
	long pid;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "cannot open pid file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0) {
		snprintf(err, errlen, "pid file %s is empty", path);
		return -1;
	}
	text[n] = '\0';
	errno = 0;
	pid = strtol(text, &end, 10);
	if (errno != 0 || pid <= 0 || (*end != '\n' && *end != '\0')) {
		snprintf(err, errlen, "pid file %s holds no pid", path);
		return -1;
	}
	return (pid_t)pid;
}

/*
 * Whether pid runs a program named like forkloop, from the first word of
 * /proc/PID/cmdline: 1, 0, or -1 when that cannot be read.  After a
 * reboot, a stale pid file may name an unrelated live process.
 */
int
pidfile_is_forkloop(pid_t pid)
{
	char path[64], cmd[256];
	const char *base;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	cmd[n] = '\0';
	base = strrchr(cmd, '/');
	base = base != NULL ? base + 1 : cmd;
	return strstr(base, "forkloop") != NULL;
}
