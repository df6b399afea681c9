/*
 * ceiling.c: the least an HTTP server can do for the "hello" workload,
 * measured beside the real servers to show where the machine's limit is.
 *
 * It forks N processes, each with its own SO_REUSEPORT socket and one
 * epoll loop, and answers every read with the same fixed 200 response:
 * no parsing, no timers, no Date header, no logging.  It is correct only
 * for a client that sends one whole request per write and waits for the
 * answer, as wrk does without pipelining; it is not a server.  Whatever
 * it cannot beat, no server on the same system calls (one read and one
 * write per request) can beat by much either.
 *
 * usage: ceiling PORT PROCESSES
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char reply[] =
    "HTTP/1.1 200 OK\r\n"
    "Server: ceiling\r\n"
    "Content-Type: text/html\r\n"
    "Content-Length: 22\r\n"
    "\r\n"
    "<h1>hello, world!</h1>";

static void
die(const char *what)
{
	fprintf(stderr, "ceiling: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int
listen_on(int port)
{
	struct sockaddr_in sin;
	int fd, on = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd == -1)
		die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1)
		die("SO_REUSEPORT");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		die("bind");
	if (listen(fd, 4096) == -1)
		die("listen");
	return fd;
}

static void
watch(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		die("epoll_ctl");
}

static void
serve(int lfd)
{
	struct epoll_event evs[256];
	char buf[16384];
	int ep, i, n, fd;

	if ((ep = epoll_create1(0)) == -1)
		die("epoll_create1");
	watch(ep, lfd);
	for (;;) {
		n = epoll_wait(ep, evs, 256, -1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			if (fd == lfd) {
				while ((fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK)) != -1)
					watch(ep, fd);
				continue;
			}
			if (read(fd, buf, sizeof(buf)) <= 0 ||
			    write(fd, reply, sizeof(reply) - 1) == -1)
				close(fd);
		}
	}
}

int
main(int argc, char **argv)
{
	int port, procs, i, status;
	pid_t pid;

	if (argc != 3 || (port = atoi(argv[1])) <= 0 ||
	    (procs = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: ceiling PORT PROCESSES\n");
		return 2;
	}
	/* Every socket is bound before any process serves. */
	for (i = 0; i < procs; i++) {
		int lfd = listen_on(port);

		pid = fork();
		if (pid == -1)
			die("fork");
		if (pid == 0) {
			/* Goes with the parent, however the parent goes. */
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
				die("PR_SET_PDEATHSIG");
			if (getppid() == 1)
				return 0;
			serve(lfd);
		}
		close(lfd);
	}
	/* SIGTERM ends the parent, and PDEATHSIG the children with it. */
	while (wait(&status) > 0)
		;
	return 0;
}
