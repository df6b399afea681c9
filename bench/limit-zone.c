/*
 * limit-zone.c: what one limit_req update costs in the shared zone
 * (common/limit_zone.c), and whether workers updating at once wait for
 * each other: P processes each make N updates, all on one client address
 * (one bucket lock: the worst case) or each on addresses of its own;
 * prints the wall time per update per process and the total rate.
 *
 *   cc -O2 -I. -Ibench -o /tmp/limit-zone bench/limit-zone.c \
 *       common/limit_zone.c common/log.c -levent_core && /tmp/limit-zone
 */
#include "config.h"

#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/limit_zone.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
worker(struct limit_zone *z, int id, int shared, long n)
{
	struct limit_req_rule rule = { 1000000000ULL, 1000000000ULL,
	    UINT64_MAX };
	struct limit_key k;
	int64_t d;
	long i;

	memset(&k, 0, sizeof(k));
	k.family = 4;
	k.addr[0] = 10;
	for (i = 0; i < n; i++) {
		/* Its own: 256 addresses of its own, in turn. */
		if (!shared) {
			k.addr[1] = (uint8_t)id;
			k.addr[2] = (uint8_t)i;
		}
		limit_req_account(z, &k, &rule, limit_now_ms(), &d);
	}
}

static double
run(struct limit_zone *z, int procs, int shared, long n)
{
	double t0 = now();
	int p, status;

	for (p = 0; p < procs; p++) {
		pid_t pid = fork();

		if (pid == -1) {
			perror("fork");
			exit(1);
		}
		if (pid == 0) {
			worker(z, p, shared, n);
			_exit(0);
		}
	}
	for (p = 0; p < procs; p++)
		wait(&status);
	return now() - t0;
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 5000000;
	struct limit_zone *z = limit_zone_map(10 * 1024 * 1024);
	int procs, shared;

	if (z == NULL)
		return 1;
	printf("%-9s %-6s %12s %14s\n", "processes", "keys", "ns/update",
	    "updates/s");
	for (shared = 1; shared >= 0; shared--)
		for (procs = 1; procs <= 2; procs++) {
			double t = run(z, procs, shared, n);

			printf("%-9d %-6s %12.1f %14.0f\n", procs,
			    shared ? "one" : "apart", t / (double)n * 1e9,
			    (double)n * procs / t);
		}
	return 0;
}
