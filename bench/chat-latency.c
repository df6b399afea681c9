/*
 * chat-latency.c: a load generator for the chat across hosts (issue 15).
 *
 * Opens CLIENTS connections spread round-robin over the chat ports given
 * (one per forkloop host, all in one room through Redis), has each send
 * RATE lines a second for SECONDS seconds, evenly spread, and measures,
 * at PROBES of the clients, how long each line took from its sender's
 * write() to the probe's read().  Every client reads everything (a
 * client that did not would be dropped as slow); only the probes parse.
 * A line's path is told from the sender's name, "guestPID-N", and the
 * host (port) it was sent to: the same worker, another worker of the
 * same host (the master relay), or another host (Redis).
 *
 *	cc -O2 -o chat-latency bench/chat-latency.c
 *	chat-latency -p 7071,7072 -c 1000 -r 1 -d 20 -s 50
 *
 * Prints, per path, the lines measured and the median, 90th and 99th
 * percentile and largest latency in milliseconds.  One thread, epoll.
 * With -m MASTERPID[,...] (and -R REDISPID), also the CPU time of those
 * forkloop masters and their workers (and of redis-server), from /proc,
 * per line delivered, from the end of the warm-up to the end (what the
 * clients read in that time), and "other CPU": the machine's busy time
 * that none of these nor this process used, in CPUs.
 * The connection set-up is bench/chat-bench.h's, shared with ws-fanout.c.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>

#include "chat-bench.h"

#define MAX_PORTS 8
#define PATHS 3
static const char *const path_names[PATHS] = {
	"same worker", "same host, other worker (master relay)",
	"other host (Redis)",
};

struct client {
	int fd;
	int host;		/* index of its port */
	long pid;		/* its worker, from the welcome */
	int probe;
	char buf[65536];
	size_t len;
	int64_t next_send;
	unsigned sent;
};

struct samples {
	double *v;
	size_t n, cap;
};

static struct samples samples[PATHS];
/* pid of a worker -> host index, learnt from the welcomes. */
static long worker_pid[256];
static int worker_host[256];
static int nworkers;
static uint64_t lines_read;

static void
add_sample(int path, double ms)
{
	struct samples *s = &samples[path];

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (s->v == NULL)
			cb_die("realloc");
	}
	s->v[s->n++] = ms;
}

static int
host_of_worker(long pid)
{
	int i;

	for (i = 0; i < nworkers; i++)
		if (worker_pid[i] == pid)
			return worker_host[i];
	return -1;
}

static void
learn_worker(long pid, int host)
{
	if (host_of_worker(pid) >= 0 || nworkers == 256)
		return;
	worker_pid[nworkers] = pid;
	worker_host[nworkers++] = host;
}

/* One line at a probe: "guestPID-N: t SENDNS" */
static void
probe_line(struct client *c, const char *line, int64_t t)
{
	long pid;
	long long sent;
	int host, path;

	if (sscanf(line, "guest%ld-%*u: t %lld", &pid, &sent) != 2)
		return;
	host = host_of_worker(pid);
	if (host < 0)
		return;
	path = pid == c->pid ? 0 : host == c->host ? 1 : 2;
	add_sample(path, (double)(t - sent) / 1e6);
}

static void
on_readable(struct client *c)
{
	for (;;) {
		ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 -
		    c->len);
		int64_t t = cb_now_ns();
		char *p, *nl;

		if (n == 0) {
			fprintf(stderr, "a client was closed by the server\n");
			exit(1);
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			cb_die("read");
		}
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
		for (p = c->buf; (nl = memchr(p, '\n', c->buf + c->len - p));
		    p = nl + 1) {
			*nl = '\0';
			lines_read++;
			if (c->pid == 0 &&
			    sscanf(p, "* welcome, guest%ld-", &c->pid) == 1)
				learn_worker(c->pid, c->host);
			else if (c->probe && p[0] == 'g')
				probe_line(c, p, t);
		}
		c->len = (size_t)(c->buf + c->len - p);
		memmove(c->buf, p, c->len);
		if (c->len == sizeof(c->buf) - 1)
			c->len = 0;	/* a line too long: not ours */
	}
}

/* CPU ticks of the forkloops, redis-server, this process, the machine. */
struct cpu_snap {
	long long workers, masters, redis, self, machine;
};

static void
cpu_snap(struct cpu_snap *c, const long *masters, int nmasters, long redis)
{
	int i;

	c->workers = c->masters = 0;
	for (i = 0; i < nmasters; i++) {
		c->workers += cb_children_ticks(masters[i]);
		c->masters += cb_proc_ticks(masters[i]);
	}
	c->redis = redis > 0 ? cb_proc_ticks(redis) : 0;
	c->self = cb_proc_ticks((long)getpid());
	c->machine = cb_machine_busy_ticks();
}

static void
cpu_report(const struct cpu_snap *a, const struct cpu_snap *b,
    uint64_t lines, int64_t ns)
{
	double hz = (double)sysconf(_SC_CLK_TCK), per = 1e9 / hz / (double)lines;
	long long w = b->workers - a->workers, m = b->masters - a->masters;
	long long r = b->redis - a->redis, s = b->self - a->self;
	double other = (double)(b->machine - a->machine - w - m - r - s) /
	    ((double)ns / 1e9 * hz);

	printf("lines delivered after the warm-up: %llu in %.1f s (%.0f/s)\n",
	    (unsigned long long)lines, (double)ns / 1e9,
	    (double)lines / ((double)ns / 1e9));
	printf("CPU per line delivered: forkloop %.0f ns (workers %.0f, "
	    "masters %.0f), redis %.0f ns, this client %.0f ns; CPU used: "
	    "forkloop %.2f, redis %.2f, this client %.2f, other %.2f\n",
	    (double)(w + m) * per, (double)w * per, (double)m * per,
	    (double)r * per, (double)s * per, (double)(w + m) / hz /
	    ((double)ns / 1e9), (double)r / hz / ((double)ns / 1e9),
	    (double)s / hz / ((double)ns / 1e9), other < 0 ? 0 : other);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(void)
{
	int i;

	for (i = 0; i < PATHS; i++) {
		struct samples *s = &samples[i];

		if (s->n == 0)
			continue;
		qsort(s->v, s->n, sizeof(*s->v), cmp_double);
		printf("%-40s %8zu lines  median %7.3f ms  p90 %7.3f  "
		    "p99 %7.3f  max %7.3f\n", path_names[i], s->n,
		    s->v[s->n / 2], s->v[s->n * 90 / 100],
		    s->v[s->n * 99 / 100], s->v[s->n - 1]);
	}
	printf("lines read by all clients: %llu\n",
	    (unsigned long long)lines_read);
}

int
main(int argc, char **argv)
{
	int ports[MAX_PORTS], nports = 0, nclients = 1000, nprobes = 50;
	double rate = 1, seconds = 20, warmup = 3;
	struct epoll_event ev, events[256];
	struct client *clients;
	int64_t start, end, period, t_cpu0 = 0;
	long masters[MAX_PORTS], redis_pid = 0;
	int nmasters = 0;
	uint64_t lines0 = 0;
	struct cpu_snap cpu0, cpu1;
	int opt, ep, i;

	while ((opt = getopt(argc, argv, "p:c:r:d:s:w:m:R:")) != -1) {
		switch (opt) {
		case 'p':
			nports = cb_parse_ports(optarg, ports, MAX_PORTS);
			break;
		case 'c': nclients = atoi(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 'd': seconds = atof(optarg); break;
		case 's': nprobes = atoi(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case 'm':
			nmasters = cb_parse_pids(optarg, masters, MAX_PORTS);
			break;
		case 'R': redis_pid = atol(optarg); break;
		default:
			fprintf(stderr, "usage: chat-latency -p PORT[,PORT...] "
			    "[-c clients] [-r lines/s each] [-d seconds] "
			    "[-s probes] [-w warm-up seconds] [-m master pid[,...]] "
			    "[-R redis pid]\n");
			return 2;
		}
	}
	if (nports == 0 || nclients < 1 || rate <= 0)
		return fprintf(stderr, "chat-latency: -p is required\n"), 2;
	cb_raise_nofile((rlim_t)nclients + 64);
	clients = calloc((size_t)nclients, sizeof(*clients));
	ep = epoll_create1(0);
	if (clients == NULL || ep == -1)
		cb_die("setup");
	for (i = 0; i < nclients; i++) {
		struct client *c = &clients[i];

		c->host = i % nports;
		c->probe = i < nprobes;
		c->fd = cb_dial(ports[c->host]);
		if (fcntl(c->fd, F_SETFL, O_NONBLOCK) == -1)
			cb_die("fcntl");
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1)
			cb_die("epoll_ctl");
	}
	period = (int64_t)(1e9 / rate);
	start = cb_now_ns() + (int64_t)(warmup * 1e9);
	end = start + (int64_t)(seconds * 1e9);
	for (i = 0; i < nclients; i++)
		clients[i].next_send = start + period * i / nclients;
	for (;;) {
		int64_t t = cb_now_ns(), next = end;
		int n, timeout;

		if (t >= end + 2000000000LL)
			break;
		if (t >= start && t_cpu0 == 0) {
			cpu_snap(&cpu0, masters, nmasters, redis_pid);
			lines0 = lines_read;
			t_cpu0 = t;
		}
		for (i = 0; i < nclients && t < end; i++) {
			struct client *c = &clients[i];
			char line[64];
			int len;

			if (c->next_send > t) {
				if (c->next_send < next)
					next = c->next_send;
				continue;
			}
			if (c->pid == 0) {	/* not welcomed yet: later */
				c->next_send += period;
				continue;
			}
			len = snprintf(line, sizeof(line), "t %lld\n",
			    (long long)cb_now_ns());
			if (write(c->fd, line, (size_t)len) != len)
				cb_die("write");
			c->sent++;
			c->next_send += period;
			if (c->next_send < next)
				next = c->next_send;
		}
		timeout = t >= end ? 100 : (int)((next - cb_now_ns()) / 1000000);
		if (timeout < 0)
			timeout = 0;
		n = epoll_wait(ep, events, 256, timeout);
		if (n == -1 && errno != EINTR)
			cb_die("epoll_wait");
		for (i = 0; i < n; i++)
			on_readable(events[i].data.ptr);
	}
	printf("%d clients on %d hosts, %.1f lines/s each for %.0f s, "
	    "%d probes\n", nclients, nports, rate, seconds, nprobes);
	report();
	if (nmasters > 0) {
		cpu_snap(&cpu1, masters, nmasters, redis_pid);
		cpu_report(&cpu0, &cpu1, lines_read - lines0,
		    cb_now_ns() - t_cpu0);
	}
	return 0;
}
