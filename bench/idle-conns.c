/*
 * idle-conns: open many idle HTTP/1.1 keep-alive connections to a server
 * and hold them, so that the server's memory per idle connection can be
 * measured.  Part of forkloop's benchmark (bench/run compiles it with cc).
 *
 *	idle-conns [-s] HOST PORT COUNT PATH [MAX_SECONDS]
 *
 * Each connection sends one "GET PATH HTTP/1.1" and reads the whole answer
 * (the head and Content-Length bytes of body), then stays open and idle.
 * With -s the connections are TLS (OpenSSL's defaults, no certificate
 * verification, SNI "localhost"): each completes a full handshake before
 * its request, and keeps its SSL object while idle, so that whatever the
 * server sends later (a session ticket, close_notify) is read as TLS.
 * At most 256 connections are being set up at any time, so the server's
 * listen backlog is never the limit.  When every connection is either
 * idle or failed, one line goes to standard output:
 *
 *	ready OPEN FAILED
 *
 * Then the program waits, watching the idle connections, until standard
 * input reaches end of file (or MAX_SECONDS, default 300, have passed
 * since start), prints
 *
 *	done OPEN CLOSED_BY_SERVER
 *
 * where OPEN is how many connections were still open, and exits, which
 * closes them all.  Failures are described on standard error.  Exit status:
 * 0 when every connection was answered with 200 and was still open at the
 * end, 1 otherwise, 2 on a usage or system error.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define INFLIGHT	256
#define BUFSZ		4096

enum state { S_FREE, S_CONNECTING, S_HANDSHAKE, S_READING, S_IDLE, S_FAILED,
    S_CLOSED };

struct conn {
	int		 fd;
	enum state	 st;
	size_t		 got;		/* bytes of the answer read so far */
	size_t		 want;		/* head + body length, 0 while unknown */
	char		*buf;
	SSL		*ssl;		/* with -s */
};

static struct conn	*conns;
static int		 nconns, ep;
static char		*req;
static size_t		 reqlen;
static int		 nidle, nfailed, nclosed, nbadstatus;
static SSL_CTX		*ctx;		/* with -s */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
fail(struct conn *c, const char *what, int err)
{
	static int reported;

	if (reported++ < 10)
		fprintf(stderr, "idle-conns: connection %ld: %s%s%s\n",
		    (long)(c - conns), what, err ? ": " : "",
		    err ? strerror(err) : "");
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	c->ssl = NULL;
	ERR_clear_error();
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->st = S_FAILED;
	nfailed++;
}

static int
start(struct conn *c, const struct sockaddr_in *sin)
{
	struct epoll_event ev;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail(c, "socket", errno);
		return -1;
	}
	c->fd = fd;
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0 &&
	    errno != EINPROGRESS) {
		fail(c, "connect", errno);
		return -1;
	}
	c->st = S_CONNECTING;
	ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		fail(c, "epoll_ctl", errno);
		return -1;
	}
	return 0;
}

/*
 * read(2) through TLS or not: > 0 bytes, 0 at the end, -1 with errno
 * EAGAIN when there is nothing yet, -1 with another errno on an error.
 */
static ssize_t
conn_read(struct conn *c, void *buf, size_t len)
{
	int r, e;

	if (c->ssl == NULL)
		return read(c->fd, buf, len);
	r = SSL_read(c->ssl, buf, (int)len);
	if (r > 0)
		return r;
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		errno = EAGAIN;
		return -1;
	}
	ERR_clear_error();
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
		return 0;
	if (e != SSL_ERROR_SYSCALL)
		errno = EPROTO;
	return -1;
}

static void
want(struct conn *c, uint32_t events)
{
	struct epoll_event ev;

	ev.events = events;
	ev.data.ptr = c;
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Send the request (in one go: it is small) and wait for the answer. */
static void
send_request(struct conn *c)
{
	ssize_t n;

	if (c->ssl != NULL)
		n = SSL_write(c->ssl, req, (int)reqlen);
	else
		n = write(c->fd, req, reqlen);
	if (n != (ssize_t)reqlen) {
		fail(c, "write", n < 0 ? errno : 0);
		return;
	}
	c->buf = malloc(BUFSZ);
	if (c->buf == NULL) {
		fail(c, "malloc", errno);
		return;
	}
	c->st = S_READING;
	want(c, EPOLLIN | EPOLLRDHUP);
}

/* One step of the TLS handshake; the request goes when it is done. */
static void
handshake(struct conn *c)
{
	int r, e;

	r = SSL_connect(c->ssl);
	if (r == 1) {
		send_request(c);
		return;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		want(c, EPOLLIN | EPOLLRDHUP);
	else if (e == SSL_ERROR_WANT_WRITE)
		want(c, EPOLLOUT);
	else
		fail(c, "TLS handshake", e == SSL_ERROR_SYSCALL ? errno : 0);
}

/* Parse the head once it is complete: status must be 200. */
static void
parse_head(struct conn *c)
{
	char *end, *p;
	size_t head;
	long len = -1;

	c->buf[c->got] = '\0';
	end = strstr(c->buf, "\r\n\r\n");
	if (end == NULL) {
		if (c->got >= BUFSZ - 1)
			fail(c, "answer head too long", 0);
		return;
	}
	head = end + 4 - c->buf;
	if (strncmp(c->buf, "HTTP/1.1 200 ", 13) != 0 &&
	    strncmp(c->buf, "HTTP/1.0 200 ", 13) != 0)
		nbadstatus++;
	for (p = c->buf; p < end; p++) {
		if (*p == '\n' && strncasecmp(p + 1, "content-length:", 15) == 0) {
			len = strtol(p + 16, NULL, 10);
			break;
		}
	}
	if (len < 0) {
		fail(c, "answer without Content-Length", 0);
		return;
	}
	c->want = head + (size_t)len;
}

static void
on_event(struct conn *c, uint32_t events)
{
	char tmp[BUFSZ];
	int err;
	socklen_t sl;
	ssize_t n;

	switch (c->st) {
	case S_CONNECTING:
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		sl = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
			err = errno;
		if (err != 0) {
			fail(c, "connect", err);
			return;
		}
		if (ctx == NULL) {
			send_request(c);
			return;
		}
		c->ssl = SSL_new(ctx);
		if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
			fail(c, "SSL_new", 0);
			return;
		}
		SSL_set_tlsext_host_name(c->ssl, "localhost");
		c->st = S_HANDSHAKE;
		handshake(c);
		return;
	case S_HANDSHAKE:
		handshake(c);
		return;
	case S_READING:
		for (;;) {
			if (c->want == 0)
				n = conn_read(c, c->buf + c->got, BUFSZ - 1 - c->got);
			else
				n = conn_read(c, tmp, sizeof(tmp));
			if (n < 0 && errno == EAGAIN)
				return;
			if (n < 0) {
				fail(c, "read", errno);
				return;
			}
			if (n == 0) {
				fail(c, "closed by the server before the answer ended", 0);
				return;
			}
			c->got += n;
			if (c->want == 0) {
				parse_head(c);
				if (c->st != S_READING)
					return;
			}
			if (c->want != 0 && c->got > c->want) {
				fail(c, "more bytes than the answer", 0);
				return;
			}
			if (c->want != 0 && c->got == c->want) {
				free(c->buf);
				c->buf = NULL;
				c->st = S_IDLE;
				nidle++;
				return;
			}
		}
	case S_IDLE:
		/*
		 * The server closed (or sent something on) an idle
		 * connection; with TLS, a record that is no data (a late
		 * session ticket) only gives EAGAIN.
		 */
		n = conn_read(c, tmp, sizeof(tmp));
		if (n < 0 && errno == EAGAIN)
			return;
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		if (c->ssl != NULL)
			SSL_free(c->ssl);
		c->ssl = NULL;
		ERR_clear_error();
		close(c->fd);
		c->fd = -1;
		c->st = S_CLOSED;
		nidle--;
		nclosed++;
		return;
	default:
		return;
	}
}

static int
poll_once(int timeout_ms)
{
	struct epoll_event evs[512];
	int i, n;

	n = epoll_wait(ep, evs, 512, timeout_ms);
	if (n < 0 && errno != EINTR) {
		perror("idle-conns: epoll_wait");
		exit(2);
	}
	for (i = 0; i < n; i++)
		on_event(evs[i].data.ptr, evs[i].events);
	return n < 0 ? 0 : n;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	struct rlimit rl;
	struct epoll_event ev;
	double t0, deadline;
	const char *host, *path;
	int i, next, pending, maxsec;
	char line[16];

	if (argc > 1 && strcmp(argv[1], "-s") == 0) {
		/* Keep the client's own memory small: no idle buffers. */
		ctx = SSL_CTX_new(TLS_client_method());
		if (ctx == NULL)
			return 2;
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
		argv++;
		argc--;
	}
	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: idle-conns [-s] HOST PORT COUNT PATH "
		    "[MAX_SECONDS]\n");
		return 2;
	}
	host = argv[1];
	path = argv[4];
	nconns = atoi(argv[3]);
	maxsec = argc == 6 ? atoi(argv[5]) : 300;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(atoi(argv[2]));
	if (nconns <= 0 || inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		fprintf(stderr, "idle-conns: bad address or count\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	/* Room for every connection, plus stdio and the epoll fd. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)nconns + 16) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < (rlim_t)nconns + 16) {
			fprintf(stderr, "idle-conns: open files limit %lu is too "
			    "low for %d connections\n",
			    (unsigned long)rl.rlim_cur, nconns);
			return 2;
		}
	}

	if (asprintf(&req, "GET %s HTTP/1.1\r\nHost: %s:%s\r\n"
	    "User-Agent: forkloop-bench-idle-conns\r\n\r\n",
	    path, host, argv[2]) < 0)
		return 2;
	reqlen = strlen(req);
	conns = calloc(nconns, sizeof(*conns));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (conns == NULL || ep < 0) {
		perror("idle-conns");
		return 2;
	}
	for (i = 0; i < nconns; i++)
		conns[i].fd = -1;

	t0 = now();
	deadline = t0 + maxsec;
	next = 0;
	for (;;) {
		pending = next - nidle - nfailed - nclosed;
		while (next < nconns && pending < INFLIGHT) {
			start(&conns[next++], &sin);
			pending = next - nidle - nfailed - nclosed;
		}
		if (next == nconns && pending == 0)
			break;
		if (now() > deadline) {
			fprintf(stderr, "idle-conns: gave up after %d s with "
			    "%d connections unanswered\n", maxsec, pending);
			break;
		}
		poll_once(100);
	}
	if (nbadstatus)
		fprintf(stderr, "idle-conns: %d answers were not 200\n",
		    nbadstatus);
	printf("ready %d %d\n", nidle, nfailed + nclosed);
	fflush(stdout);
	fprintf(stderr, "idle-conns: %d connections idle after %.2f s\n",
	    nidle, now() - t0);

	/* Hold them until stdin closes. */
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = NULL;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev) < 0) {
		/* stdin is not pollable (a regular file): hold until the time */
		for (;;) {
			if (now() > deadline)
				break;
			poll_once(200);
		}
	} else {
		for (;;) {
			struct epoll_event evs[512];
			int n, stop = 0;

			if (now() > deadline)
				break;
			n = epoll_wait(ep, evs, 512, 200);
			for (i = 0; i < n; i++) {
				if (evs[i].data.ptr == NULL) {
					ssize_t r = read(0, line, sizeof(line));
					if (r == 0 || (r < 0 && errno != EAGAIN))
						stop = 1;
				} else
					on_event(evs[i].data.ptr, evs[i].events);
			}
			if (stop)
				break;
		}
	}
	/* Count what the server closed meanwhile. */
	epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
	while (poll_once(0) > 0)
		;
	printf("done %d %d\n", nidle, nclosed);
	fflush(stdout);
	return (nidle == nconns && nbadstatus == 0) ? 0 : 1;
}
