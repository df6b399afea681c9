/*
 * chat-bench.h: what the chat load generators (chat-latency.c,
 * ws-fanout.c) share: the clock, dying loudly, the open files limit,
 * connecting a client to a chat port on loopback, and the CPU time of a
 * process and of its children from /proc.  Header only (static
 * functions), so each tool still builds with one cc line.
 */
#ifndef CHAT_BENCH_H
#define CHAT_BENCH_H

#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline int64_t
cb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void
cb_die(const char *what)
{
	perror(what);
	exit(1);
}

/*
 * Room for `want` descriptors: raises the soft limit, and the hard one
 * if this process may (root); dies when it cannot have them all, rather
 * than failing at the thousandth connect.
 */
static inline void
cb_raise_nofile(rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		cb_die("getrlimit");
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		cb_die("getrlimit");
	rl.rlim_cur = rl.rlim_max;
	if (rl.rlim_max < want || setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		fprintf(stderr, "cannot have %llu open files (hard limit %llu)\n",
		    (unsigned long long)want, (unsigned long long)rl.rlim_max);
		exit(1);
	}
}

/* A blocking TCP connection to 127.0.0.1:port, Nagle off. */
static inline int
cb_dial(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		cb_die("connect");
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		cb_die("setsockopt TCP_NODELAY");
	return fd;
}

/* Parses "7071,7072" into ports[]; returns how many (at most max). */
static inline int
cb_parse_ports(char *list, int *ports, int max)
{
	int n = 0;
	char *save, *t;

	for (t = strtok_r(list, ",", &save); t != NULL && n < max;
	    t = strtok_r(NULL, ",", &save))
		ports[n++] = atoi(t);
	return n;
}

/* Parses "11,22" into pids[]; returns how many (at most max). */
static inline int
cb_parse_pids(char *list, long *pids, int max)
{
	int n = 0;
	char *save, *t;

	for (t = strtok_r(list, ",", &save); t != NULL && n < max;
	    t = strtok_r(NULL, ",", &save))
		pids[n++] = atol(t);
	return n;
}

/* User + system CPU of one process, in clock ticks (-1: gone). */
static inline long long
cb_proc_ticks(long pid)
{
	char path[64], stat[1024], *q;
	unsigned long long ut, st;
	long long ticks = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	/* The name in parentheses may hold spaces: fields follow the last ')'. */
	if (fgets(stat, sizeof(stat), f) != NULL &&
	    (q = strrchr(stat, ')')) != NULL &&
	    sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu", &ut, &st) == 2)
		ticks = (long long)(ut + st);
	fclose(f);
	return ticks;
}

/* The summed CPU of pid's children (a master's workers), in ticks. */
static inline long long
cb_children_ticks(long pid)
{
	char path[80], buf[4096], *p, *save;
	long long ticks = 0, t;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", pid, pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	for (p = strtok_r(buf, " \n", &save); p != NULL;
	    p = strtok_r(NULL, " \n", &save))
		if ((t = cb_proc_ticks(atol(p))) > 0)
			ticks += t;
	return ticks;
}

/* Busy ticks of the whole machine (user, nice, system, irq, softirq,
 * steal), from /proc/stat: with the ticks of what is measured, "other
 * CPU". */
static inline long long
cb_machine_busy_ticks(void)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (f == NULL)
		return -1;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n != 8)
		return -1;
	/* v[3] idle and v[4] iowait are not busy. */
	return (long long)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);
}

#endif
