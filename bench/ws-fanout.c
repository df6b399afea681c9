/*
 * ws-fanout.c: fan-out of chat lines to many receivers (issue 15):
 * WebSocket clients against the same number of TCP (nc-style) clients,
 * and, over several chat ports, one room across forkloop hosts (Redis)
 * against one host (the master relay).
 *
 * Opens N receivers in one room, WebSockets (the handshake to PATH on
 * the http port) or, with -t, TCP clients spread round-robin over the
 * chat ports of -P, then, when the joins have settled, one TCP sender on
 * the first port.  Then:
 *  - latency (unless -d 0): the sender says RATE lines a second for
 *    SECONDS seconds; for each line, the time from its write() until the
 *    last of the N receivers has read it; median, p99 and largest, in ms;
 *  - ROUNDS bursts (-k): the sender writes BURST lines at once; the time
 *    until every receiver has all of them gives lines delivered per
 *    second (BURST * N / that time).
 * Receivers are read by one thread (epoll), which is part of what is
 * measured: run it the same way for every kind.  With -m MASTERPID[,...]
 * the CPU time (from /proc) of those forkloop masters' workers, and of
 * the masters themselves, per line delivered: for each burst, and from
 * the end of the joins to the end of the last burst; with -R the same for
 * a redis-server, reported apart; and "other CPU", the machine's busy
 * time that none of these nor this process used, in CPUs.  Each burst
 * has 60 s, the joins 20 minutes; past that it exits 1, as when the
 * server closes a receiver (the slow-reader rule).
 *
 *	cc -O2 -o ws-fanout bench/ws-fanout.c
 *	ws-fanout -P 7070 -H 8080 -n 1000		# WebSockets
 *	ws-fanout -P 7070 -n 1000 -t			# TCP, to compare
 *	ws-fanout -P 7071,7072 -n 10000 -t -d 0 -b 200 -k 5 -m 11,22 -R 33
 */
#define _GNU_SOURCE
#include <sys/epoll.h>

#include "chat-bench.h"

#define BUF 32768
#define MAX_PORTS 8
#define MAX_MASTERS 8

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
		cb_die("write handshake");
	for (;;) {
		ssize_t r = read(c->fd, c->buf + c->len, BUF - c->len);

		if (r <= 0)
			cb_die("read handshake");
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
	int64_t t = cb_now_ns();

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

/* CPU ticks of what is measured, and of the whole machine. */
struct cpu {
	long long workers, masters, redis, self, machine;
};

static long masters[MAX_MASTERS], redis_pid;
static int nmasters;

static void
cpu_now(struct cpu *c)
{
	int i;

	c->workers = c->masters = 0;
	for (i = 0; i < nmasters; i++) {
		c->workers += cb_children_ticks(masters[i]);
		c->masters += cb_proc_ticks(masters[i]);
	}
	c->redis = redis_pid > 0 ? cb_proc_ticks(redis_pid) : 0;
	c->self = cb_proc_ticks((long)getpid());
	c->machine = cb_machine_busy_ticks();
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

	sent_at[seq] = cb_now_ns();
	if (write(fd, line, (size_t)n) != n)
		cb_die("write line");
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Opens the receivers and the sender; returns when the joins settled. */
static int
join_all(const int *ports, int nports, int http_port, int tcp,
    const char *path)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int64_t t0 = cb_now_ns(), deadline = t0 + 1200000000000LL;
	int i, sender;

	for (i = 0; i < nclients; i++) {
		struct client *c = &clients[i];

		c->ws = !tcp;
		c->fd = cb_dial(tcp ? ports[i % nports] : http_port);
		if (c->ws)
			ws_handshake(c, path);
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) == -1)
			cb_die("epoll_ctl");
		pump(0);
	}
	/*
	 * The joins settle: half a second with nothing to read.  Every join
	 * is a notice to everyone already in: N*N/2 lines in all.
	 */
	while (pump(500) > 0)
		if (cb_now_ns() > deadline) {
			fprintf(stderr, "the joins did not settle in 20 min\n");
			exit(1);
		}
	/* The sender joins last, so it is never behind on join notices;
	 * what it is sent later (leave notices) is read and dropped. */
	sender = cb_dial(ports[0]);
	clients[nclients].fd = sender;
	clients[nclients].ws = 0;
	ev.data.ptr = &clients[nclients];
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, sender, &ev) == -1)
		cb_die("epoll_ctl");
	while (pump(500) > 0)
		;
	printf("joins of %d receivers and the sender settled in %.1f s\n",
	    nclients, (double)(cb_now_ns() - t0) / 1e9 - 0.5);
	return sender;
}

/* The latency phase: RATE lines a second, lines 0 to lat_lines - 1. */
static void
latency_phase(int sender, long lat_lines, int rate)
{
	double *lat = calloc((size_t)lat_lines + 1, sizeof(*lat));
	int64_t t0 = cb_now_ns(), deadline;
	long k, nlat = 0;

	if (lat == NULL)
		cb_die("calloc");
	for (k = 0; k < lat_lines; k++) {
		int64_t at = t0 + k * (1000000000LL / rate);

		while (cb_now_ns() < at)
			pump((int)((at - cb_now_ns()) / 1000000));
		say(sender, k);
	}
	deadline = cb_now_ns() + 10000000000LL;
	while (seen[lat_lines - 1] < nclients && cb_now_ns() < deadline)
		pump(100);
	for (k = 0; k < lat_lines; k++)
		if (seen[k] == nclients)
			lat[nlat++] = (double)(done_at[k] - sent_at[k]) / 1e6;
	qsort(lat, (size_t)nlat, sizeof(*lat), cmp_double);
	if (nlat > 0)
		printf("latency to the last receiver: %ld of %ld lines, median "
		    "%.2f ms, p99 %.2f ms, max %.2f ms\n", nlat, lat_lines,
		    lat[nlat / 2], lat[(nlat * 99) / 100], lat[nlat - 1]);
	free(lat);
}

/* One burst, lines first to first + burst - 1; returns its seconds. */
static double
burst_phase(int sender, long first, int burst)
{
	int64_t t0, deadline;
	long k, complete;
	int i;

	phase_base = first;
	for (i = 0; i < nclients; i++)
		clients[i].got = 0;
	t0 = cb_now_ns();
	for (k = first; k < first + burst; k++)
		say(sender, k);
	deadline = cb_now_ns() + 60000000000LL;
	for (;;) {
		for (complete = 0, i = 0; i < nclients; i++)
			complete += clients[i].got == burst;
		if (complete == nclients)
			break;
		if (cb_now_ns() > deadline) {
			fprintf(stderr, "burst: %ld of %d receivers had every "
			    "line after 60 s\n", complete, nclients);
			exit(1);
		}
		pump(100);
	}
	return (double)(cb_now_ns() - t0) / 1e9;
}

int
main(int argc, char **argv)
{
	int ports[MAX_PORTS] = { 7070 }, nports = 1, http_port = 8080;
	int tcp = 0, rate = 100, secs = 5, burst = 1000, rounds = 1, opt, r;
	const char *path = "/chat";
	double hz = (double)sysconf(_SC_CLK_TCK), *rate_v, *cpu_v, *redis_v;
	double *other_v, *self_v;
	struct cpu c0, c1, cj;
	long lat_lines;
	int sender;

	while ((opt = getopt(argc, argv, "P:H:p:n:tr:d:b:k:m:R:")) != -1) {
		switch (opt) {
		case 'm':
			nmasters = cb_parse_pids(optarg, masters, MAX_MASTERS);
			break;
		case 'R': redis_pid = atol(optarg); break;
		case 'P':
			nports = cb_parse_ports(optarg, ports, MAX_PORTS);
			break;
		case 'H': http_port = atoi(optarg); break;
		case 'p': path = optarg; break;
		case 'n': nclients = atoi(optarg); break;
		case 't': tcp = 1; break;
		case 'r': rate = atoi(optarg); break;
		case 'd': secs = atoi(optarg); break;
		case 'b': burst = atoi(optarg); break;
		case 'k': rounds = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: ws-fanout [-P chat port[,port...]] "
			    "[-H http port] [-p path] -n N [-t] [-r rate] "
			    "[-d secs] [-b burst] [-k rounds] [-m master pid[,...]] "
			    "[-R redis pid]\n");
			return 2;
		}
	}
	if (nclients < 1)
		nclients = 100;
	if (nports < 1 || rate < 1 || secs < 0 || burst < 1 || rounds < 1)
		return fprintf(stderr, "ws-fanout: bad arguments\n"), 2;
	cb_raise_nofile((rlim_t)nclients + 64);
	lat_lines = (long)rate * secs;
	nlines = lat_lines + (long)burst * rounds;
	seen = calloc((size_t)nlines, sizeof(*seen));
	sent_at = calloc((size_t)nlines, sizeof(*sent_at));
	done_at = calloc((size_t)nlines, sizeof(*done_at));
	clients = calloc((size_t)nclients + 1, sizeof(*clients));
	rate_v = calloc((size_t)rounds * 5, sizeof(*rate_v));
	if (!seen || !sent_at || !done_at || !clients || !rate_v)
		cb_die("calloc");
	cpu_v = rate_v + rounds;
	redis_v = cpu_v + rounds;
	other_v = redis_v + rounds;
	self_v = other_v + rounds;
	if ((epfd = epoll_create1(0)) == -1)
		cb_die("epoll_create1");
	sender = join_all(ports, nports, http_port, tcp, path);
	cpu_now(&cj);
	if (lat_lines > 0)
		latency_phase(sender, lat_lines, rate);
	printf("%s receivers: %d on %d port%s\n", tcp ? "TCP" : "WebSocket",
	    nclients, nports, nports > 1 ? "s" : "");
	for (r = 0; r < rounds; r++) {
		double secs_r, lines = (double)burst * nclients, wall;

		sleep(1);
		while (pump(0) > 0)
			;
		cpu_now(&c0);
		secs_r = burst_phase(sender, lat_lines + (long)r * burst, burst);
		cpu_now(&c1);
		wall = secs_r * hz;
		rate_v[r] = lines / secs_r;
		cpu_v[r] = (double)(c1.workers - c0.workers + c1.masters -
		    c0.masters) * 1e9 / hz / lines;
		redis_v[r] = (double)(c1.redis - c0.redis) * 1e9 / hz / lines;
		self_v[r] = (double)(c1.self - c0.self) * 1e9 / hz / lines;
		other_v[r] = (double)(c1.machine - c0.machine - (c1.workers -
		    c0.workers) - (c1.masters - c0.masters) - (c1.redis -
		    c0.redis) - (c1.self - c0.self)) / wall;
		if (other_v[r] < 0)	/* ticks are counted apart, 1/hz each */
			other_v[r] = 0;
		printf("burst %d of %d lines: %.3f s, %.0f lines delivered/s", r + 1,
		    burst, secs_r, rate_v[r]);
		if (nmasters > 0)
			printf("; CPU per line delivered: forkloop %.0f ns "
			    "(workers %.0f, masters %.0f)", cpu_v[r],
			    (double)(c1.workers - c0.workers) * 1e9 / hz / lines,
			    (double)(c1.masters - c0.masters) * 1e9 / hz / lines);
		if (redis_pid > 0)
			printf(", redis %.0f ns", redis_v[r]);
		printf(", this client %.0f ns; other CPU %.2f\n", self_v[r],
		    other_v[r]);
	}
	if (rounds > 1) {
		printf("median of %d bursts: %.0f lines delivered/s", rounds,
		    median(rate_v, rounds));
		if (nmasters > 0)
			printf(", forkloop %.0f ns per line", median(cpu_v,
			    rounds));
		if (redis_pid > 0)
			printf(", redis %.0f ns", median(redis_v, rounds));
		printf(", this client %.0f ns, other CPU %.2f\n",
		    median(self_v, rounds), median(other_v, rounds));
	}
	if (nmasters > 0)
		printf("workers' CPU from the joins' end: %.2f s, %.0f ns per "
		    "line delivered\n", (double)(c1.workers - cj.workers) / hz,
		    (double)(c1.workers - cj.workers) * 1e9 / hz /
		    ((double)nlines * nclients));
	return 0;
}
