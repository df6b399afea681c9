/*
 * ws-fanout.c: fan-out of chat lines to many WebSocket clients (issue
 * 15), against the same number of TCP (nc-style) clients.
 *
 * Opens N receivers in one room, WebSockets (the handshake to PATH on
 * the http port) or, with -t, TCP clients of the chat port, and one TCP
 * sender.  Then:
 *  - latency: the sender says RATE lines a second for SECONDS seconds;
 *    for each line, the time from its write() until the last of the N
 *    receivers has read it; median, p99 and largest, in ms;
 *  - burst: the sender writes BURST lines at once; the time until every
 *    receiver has all of them gives lines delivered per second.
 * Receivers are read by one thread (epoll), which is part of what is
 * measured: run it the same way for both kinds.  With -m MASTERPID, the
 * CPU time its workers spent from the end of the joins to the end of the
 * burst (from /proc), per line delivered.
 *
 *	cc -O2 -o ws-fanout bench/ws-fanout.c
 *	ws-fanout -P 7070 -H 8080 -n 1000		# WebSockets
 *	ws-fanout -P 7070 -n 1000 -t			# TCP, to compare
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BUF 262144

struct client {
	int fd;
	int ws;
	unsigned char buf[BUF];
	size_t len;
	long got;		/* lines of this phase read */
};

static struct client *clients;
static int nclients, epfd;
static long *seen;		/* per line: receivers that have it */
static int64_t *sent_at, *done_at;
static long nlines;
static long phase_base;	/* first line number of the phase */

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static int
dial(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* The handshake, blocking; what came after the 101 stays in c->buf. */
static void
ws_handshake(struct client *c, const char *path)
{
	char req[256];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
	    "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
	    path);
	char *end;

	if (write(c->fd, req, (size_t)n) != n)
		die("write handshake");
	for (;;) {
		ssize_t r = read(c->fd, c->buf + c->len, BUF - c->len);

		if (r <= 0)
			die("read handshake");
		c->len += (size_t)r;
		if ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) != NULL)
			break;
	}
	if (memcmp(c->buf, "HTTP/1.1 101", 12) != 0) {
		fprintf(stderr, "handshake refused: %.40s\n", c->buf);
		exit(1);
	}
	c->len -= (size_t)(end + 4 - (char *)c->buf);
	memmove(c->buf, end + 4, c->len);
}

/* A line "guestP-N: f SEQ" read by c at t. */
static void
on_line(struct client *c, const unsigned char *p, size_t len, int64_t t)
{
	const unsigned char *f = memmem(p, len, ": f ", 4), *end = p + len;
	long seq = 0;

	if (f == NULL)
		return;
	/* A frame's payload is not followed by an end: digits up to len. */
	for (f += 4; f < end && *f >= '0' && *f <= '9'; f++)
		seq = seq * 10 + (*f - '0');
	if (seq < phase_base || seq >= nlines)
		return;
	c->got++;
	if (++seen[seq] == nclients)
		done_at[seq] = t;
}

/* Every whole line or frame in c's buffer. */
static void
consume(struct client *c, int64_t t)
{
	size_t off = 0;

	for (;;) {
		unsigned char *p = c->buf + off;
		size_t left = c->len - off, head = 2, plen;

		if (c->ws) {
			if (left < 2)
				break;
			plen = p[1] & 0x7f;
			if (plen == 126) {
				if (left < 4)
					break;
				plen = (size_t)p[2] << 8 | p[3];
				head = 4;
			}
			if (left < head + plen)
				break;
			on_line(c, p + head, plen, t);
			off += head + plen;
		} else {
			unsigned char *nl = memchr(p, '\n', left);

			if (nl == NULL)
				break;
			on_line(c, p, (size_t)(nl - p), t);
			off += (size_t)(nl - p) + 1;
		}
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
}

/* Reads what is ready, up to ms; returns the events handled. */
static int
pump(int ms)
{
	struct epoll_event ev[256];
	int n = epoll_wait(epfd, ev, 256, ms), i;
	int64_t t = now_ns();

	for (i = 0; i < n; i++) {
		struct client *c = ev[i].data.ptr;
		ssize_t r = read(c->fd, c->buf + c->len, BUF - c->len);

		if (r <= 0) {
			fprintf(stderr, "a receiver was closed (too slow?)\n");
			exit(1);
		}
		c->len += (size_t)r;
		consume(c, t);
	}
	return n;
}

/* User + system CPU of master's children, in clock ticks (-1: none). */
static long long
workers_ticks(int master)
{
	char path[64], buf[4096], stat[1024], *p, *next;
	long long ticks = 0;
	FILE *f;

	if (master <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", master,
	    master);
	if ((f = fopen(path, "r")) == NULL ||
	    fgets(buf, sizeof(buf), f) == NULL) {
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	for (p = strtok_r(buf, " \n", &next); p != NULL;
	    p = strtok_r(NULL, " \n", &next)) {
		unsigned long long ut, st;
		char *q;

		snprintf(path, sizeof(path), "/proc/%s/stat", p);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(stat, sizeof(stat), f) != NULL &&
		    (q = strrchr(stat, ')')) != NULL &&
		    sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		    "%llu %llu", &ut, &st) == 2)
			ticks += (long long)(ut + st);
		fclose(f);
	}
	return ticks;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
say(int fd, long seq)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "f %ld\n", seq);

	sent_at[seq] = now_ns();
	if (write(fd, line, (size_t)n) != n)
		die("write line");
}

int
main(int argc, char **argv)
{
	int chat_port = 7070, http_port = 8080, tcp = 0, rate = 100, secs = 5;
	int burst = 1000, opt, i, sender, master = 0;
	long long cpu0, cpu1;
	const char *path = "/chat";
	struct rlimit rl = { 65536, 65536 };
	double *lat;
	long k, nlat = 0, lat_lines;
	int64_t t0, deadline, elapsed;

	while ((opt = getopt(argc, argv, "P:H:p:n:tr:d:b:m:")) != -1) {
		switch (opt) {
		case 'm': master = atoi(optarg); break;
		case 'P': chat_port = atoi(optarg); break;
		case 'H': http_port = atoi(optarg); break;
		case 'p': path = optarg; break;
		case 'n': nclients = atoi(optarg); break;
		case 't': tcp = 1; break;
		case 'r': rate = atoi(optarg); break;
		case 'd': secs = atoi(optarg); break;
		case 'b': burst = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: ws-fanout [-P chat port] [-H http "
			    "port] [-p path] -n N [-t] [-r rate] [-d secs] "
			    "[-b burst] [-m master pid]\n");
			return 2;
		}
	}
	if (nclients < 1)
		nclients = 100;
	setrlimit(RLIMIT_NOFILE, &rl);
	lat_lines = (long)rate * secs;
	nlines = lat_lines + burst;
	seen = calloc((size_t)nlines, sizeof(*seen));
	sent_at = calloc((size_t)nlines, sizeof(*sent_at));
	done_at = calloc((size_t)nlines, sizeof(*done_at));
	clients = calloc((size_t)nclients, sizeof(*clients));
	lat = calloc((size_t)lat_lines + 1, sizeof(*lat));
	if (!seen || !sent_at || !done_at || !clients || !lat)
		die("calloc");
	if ((epfd = epoll_create1(0)) == -1)
		die("epoll_create1");
	sender = dial(chat_port);
	for (i = 0; i < nclients; i++) {
		struct client *c = &clients[i];
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

		c->ws = !tcp;
		c->fd = dial(tcp ? chat_port : http_port);
		if (c->ws)
			ws_handshake(c, path);
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) == -1)
			die("epoll_ctl");
		pump(0);
	}
	/* The joins settle: half a second with nothing to read. */
	while (pump(500) > 0)
		;
	cpu0 = workers_ticks(master);

	/* Latency: RATE lines a second. */
	t0 = now_ns();
	for (k = 0; k < lat_lines; k++) {
		int64_t at = t0 + k * (1000000000LL / rate);

		while (now_ns() < at)
			pump((int)((at - now_ns()) / 1000000));
		say(sender, k);
	}
	deadline = now_ns() + 10000000000LL;
	while (seen[lat_lines - 1] < nclients && now_ns() < deadline)
		pump(100);
	for (k = 0; k < lat_lines; k++)
		if (seen[k] == nclients)
			lat[nlat++] = (double)(done_at[k] - sent_at[k]) / 1e6;
	qsort(lat, (size_t)nlat, sizeof(*lat), cmp_double);

	/* Burst: every line at once. */
	phase_base = lat_lines;
	for (i = 0; i < nclients; i++)
		clients[i].got = 0;
	t0 = now_ns();
	for (k = lat_lines; k < nlines; k++)
		say(sender, k);
	deadline = now_ns() + 60000000000LL;
	for (;;) {
		long complete = 0;

		for (i = 0; i < nclients; i++)
			complete += clients[i].got == burst;
		if (complete == nclients || now_ns() > deadline)
			break;
		pump(100);
	}
	elapsed = now_ns() - t0;
	cpu1 = workers_ticks(master);
	printf("%s receivers: %d\n", tcp ? "TCP" : "WebSocket", nclients);
	if (nlat > 0)
		printf("latency to the last receiver: %ld of %ld lines, median "
		    "%.2f ms, p99 %.2f ms, max %.2f ms\n", nlat, lat_lines,
		    lat[nlat / 2], lat[(nlat * 99) / 100], lat[nlat - 1]);
	printf("burst of %d lines: %.3f s, %.0f lines delivered/s\n", burst,
	    (double)elapsed / 1e9, (double)burst * nclients /
	    ((double)elapsed / 1e9));
	if (cpu0 >= 0 && cpu1 >= 0)
		printf("workers' CPU from the joins' end: %.2f s, %.0f ns per "
		    "line delivered\n", (double)(cpu1 - cpu0) /
		    sysconf(_SC_CLK_TCK), (double)(cpu1 - cpu0) * 1e9 /
		    sysconf(_SC_CLK_TCK) / ((double)nlines * nclients));
	return 0;
}
