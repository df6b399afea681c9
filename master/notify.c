/*
 * notify.c: tells systemd how the service is doing (Type=notify):
 * READY=1 once the workers are started, RELOADING=1 with MONOTONIC_USEC
 * while a reload runs, STOPPING=1 on the way out, and a STATUS= line.
 *
 * With libsystemd (configure --with-systemd, on where it is found) this
 * is sd_notify(3); without it, the same protocol by hand: one datagram
 * to the AF_UNIX socket named by $NOTIFY_SOCKET ('@' for the abstract
 * namespace).  Without $NOTIFY_SOCKET nothing is sent.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "common/log.h"
#include "master/master.h"

static int
notify_send(const char *text)
{
#ifdef HAVE_LIBSYSTEMD
	int rc = sd_notify(0, text);

	if (rc < 0) {
		log_warnx("sd_notify: %s", strerror(-rc));
		return -1;
	}
	return 0;
#else
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	size_t plen;
	int fd;

	if (path == NULL || *path == '\0')
		return 0;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sun.sun_path)) {
		log_warnx("NOTIFY_SOCKET %s is not a socket path", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("socket for NOTIFY_SOCKET");
		return -1;
	}
	if (sendto(fd, text, strlen(text), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) == -1) {
		log_warn("sending to NOTIFY_SOCKET %s", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
#endif
}

static void
notify_status(const struct master *m, const char *state)
{
	char text[256];

	snprintf(text, sizeof(text), "%s\nSTATUS=%d workers, generation %u",
	    state, m->conf->workers, m->generation);
	notify_send(text);
}

void
notify_ready(const struct master *m)
{
	notify_status(m, "READY=1");
}

/* systemd 253 and later want the time with RELOADING=1. */
void
notify_reloading(const struct master *m)
{
	struct timespec ts;
	char text[128];

	(void)m;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(text, sizeof(text), "RELOADING=1\nMONOTONIC_USEC=%lld",
	    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	notify_send(text);
}

void
notify_stopping(void)
{
	notify_send("STOPPING=1");
}
