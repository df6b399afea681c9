/*
 * limit_zone_test.c: unit tests for the shared tables of limit_req and
 * limit_conn (common/limit_zone.c): the leaky bucket's arithmetic with
 * times given, not read from a clock (nodelay, delay=, burst, the drain,
 * a clock that steps back); a zone filled past its capacity (the oldest
 * give way, the used count stays within it); limit_conn's counts per
 * worker lane, taken back for a dead worker; and two processes updating
 * one state at once, none of whose updates may be lost.
 */
#include "config.h"

#include <sys/wait.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/limit_zone.h"
#include "tests/unit/tap.h"

static struct limit_key
key4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct limit_key k;

	memset(&k, 0, sizeof(k));
	k.family = 4;
	k.addr[0] = a, k.addr[1] = b, k.addr[2] = c, k.addr[3] = d;
	return k;
}

/* rate=1r/m burst=5 nodelay: six pass at once, the seventh is refused. */
static void
test_nodelay(void)
{
	struct limit_req_rule rule = { 1000 / 60, 5000, UINT64_MAX };
	int64_t excess = 0, last = 0, d;
	int i, passed = 0;

	for (i = 0; i < 10; i++)
		if (limit_req_step(&rule, &excess, &last, 1000, i == 0, &d) ==
		    LIMIT_REQ_PASS)
			passed++;
	ok(passed == 6, "1r/m burst=5 nodelay: 6 of 10 pass (%d)", passed);
	ok(excess == 5000, "the excess is the burst: %lld", (long long)excess);
	/* A minute later one request has drained (16/1000 a second). */
	ok(limit_req_step(&rule, &excess, &last, 1000 + 63000, 0, &d) ==
	    LIMIT_REQ_PASS, "63 s later one more passes");
	ok(limit_req_step(&rule, &excess, &last, 1000 + 63000, 0, &d) ==
	    LIMIT_REQ_REJECT, "and the next at once does not");
}

/* rate=10r/s burst=2, delayed: each waits its turn, 100 ms apart. */
static void
test_delay(void)
{
	struct limit_req_rule rule = { 10000, 2000, 0 };
	int64_t excess = 0, last = 0, d = -1;
	enum limit_req_verdict v;

	v = limit_req_step(&rule, &excess, &last, 5000, 1, &d);
	ok(v == LIMIT_REQ_PASS && d == 0, "the first passes at once");
	v = limit_req_step(&rule, &excess, &last, 5000, 0, &d);
	ok(v == LIMIT_REQ_DELAY && d == 100, "the second waits 100 ms (%lld)",
	    (long long)d);
	v = limit_req_step(&rule, &excess, &last, 5000, 0, &d);
	ok(v == LIMIT_REQ_DELAY && d == 200, "the third 200 ms (%lld)",
	    (long long)d);
	ok(limit_req_step(&rule, &excess, &last, 5000, 0, &d) ==
	    LIMIT_REQ_REJECT, "the fourth is past the burst");
	ok(excess == 2000 && last == 5000, "a refused one changes nothing");
	v = limit_req_step(&rule, &excess, &last, 5150, 0, &d);
	ok(v == LIMIT_REQ_DELAY && d == 150, "150 ms later: 1.5 drained, "
	    "waits 150 ms (%lld)", (long long)d);
	/* A clock that steps back drains nothing, and is no error. */
	ok(limit_req_step(&rule, &excess, &last, 100, 0, &d) ==
	    LIMIT_REQ_REJECT, "a time before the last: nothing drained");
	ok(limit_req_step(&rule, &excess, &last, 60000, 0, &d) ==
	    LIMIT_REQ_PASS && excess == 0, "long idle: empty again");
}

/* delay=1 burst=3: the first two pass at once, then each waits. */
static void
test_delay_threshold(void)
{
	struct limit_req_rule rule = { 2000, 3000, 1000 };
	int64_t excess = 0, last = 0, d;
	enum limit_req_verdict v;

	limit_req_step(&rule, &excess, &last, 0, 1, &d);
	ok(limit_req_step(&rule, &excess, &last, 0, 0, &d) ==
	    LIMIT_REQ_PASS, "delay=1: the second passes undelayed");
	v = limit_req_step(&rule, &excess, &last, 0, 0, &d);
	ok(v == LIMIT_REQ_DELAY && d == 500, "the third waits 500 ms at 2r/s "
	    "(%lld)", (long long)d);
}

static void
test_zone_eviction(void)
{
	struct limit_req_rule rule = { 1000, 0, UINT64_MAX };
	struct limit_zone *z = limit_zone_map(LIMIT_ZONE_MIN);
	struct limit_key k;
	size_t cap, i;
	int64_t d;

	ok(z != NULL, "a 32k zone maps");
	if (z == NULL)
		return;
	cap = limit_zone_capacity(z);
	ok(cap >= 400 && cap <= 32 * 1024 / 56, "capacity %zu", cap);
	k = key4(192, 0, 2, 1);
	ok(limit_req_account(z, &k, &rule, 1, &d) == LIMIT_REQ_PASS,
	    "burst=0: the first request passes");
	ok(limit_req_account(z, &k, &rule, 1, &d) == LIMIT_REQ_REJECT,
	    "the second at once is refused");
	for (i = 0; i < cap * 4; i++) {
		k = key4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i);
		limit_req_account(z, &k, &rule, 2 + (int64_t)i, &d);
	}
	ok(limit_zone_used(z) <= cap, "used %llu within capacity",
	    (unsigned long long)limit_zone_used(z));
	ok(limit_zone_evicted(z) >= cap * 3 - cap / 8, "the oldest gave way: "
	    "%llu evictions", (unsigned long long)limit_zone_evicted(z));
	k = key4(192, 0, 2, 1);
	ok(limit_req_account(z, &k, &rule, 3, &d) == LIMIT_REQ_PASS,
	    "192.0.2.1's old state was evicted: it starts afresh");
	limit_zone_unmap(z);
}

static void
test_conn(void)
{
	struct limit_zone *z = limit_zone_map(LIMIT_ZONE_MIN);
	struct limit_key k = key4(127, 0, 0, 1), v6;
	unsigned lane;

	if (z == NULL) {
		ok(0, "zone");
		return;
	}
	memset(&v6, 0, sizeof(v6));
	v6.family = 6;
	v6.addr[15] = 1;
	ok(limit_conn_acquire(z, &k, 1, 2, 0) == 0 &&
	    limit_conn_acquire(z, &k, 2, 2, 0) == 0, "max 2: two in flight");
	ok(limit_conn_acquire(z, &k, 1, 2, 0) == -1, "a third is refused");
	ok(limit_conn_acquire(z, &v6, 1, 1, 0) == 0 &&
	    limit_conn_count(z, &v6) == 1 && limit_conn_count(z, &k) == 2,
	    "::1 is counted apart from 127.0.0.1");
	limit_conn_release(z, &k, 2);
	ok(limit_conn_count(z, &k) == 1, "given back: one in flight");
	ok(limit_conn_acquire(z, &k, 3, 2, 0) == 0, "another may come");
	limit_zone_forget_lane(z, 1);
	ok(limit_conn_count(z, &k) == 1 && limit_conn_count(z, &v6) == 0,
	    "worker 1 died: its counts are gone, worker 3's stays");
	for (lane = 10; lane < 10 + LIMIT_ZONE_LANES - 1; lane++)
		limit_conn_acquire(z, &k, lane, 100, 0);
	ok(limit_conn_acquire(z, &k, 99, 100, 0) == -1, "more workers than "
	    "lanes at once on one address: refused, not miscounted");
	limit_zone_unmap(z);
}

/* Two processes, 20000 updates each on one address: none is lost. */
static void
test_processes(void)
{
	struct limit_zone *z = limit_zone_map(LIMIT_ZONE_MIN);
	struct limit_key k = key4(198, 51, 100, 7);
	pid_t pid[2];
	int i, j, status, clean = 1;

	if (z == NULL) {
		ok(0, "zone");
		return;
	}
	for (i = 0; i < 2; i++) {
		if ((pid[i] = fork()) == -1) {
			ok(0, "fork");
			return;
		}
		if (pid[i] == 0) {
			for (j = 0; j < 20000; j++)
				if (limit_conn_acquire(z, &k, (unsigned)i + 1,
				    65535 * 2, 0) == -1)
					_exit(1);
			_exit(0);
		}
	}
	for (i = 0; i < 2; i++)
		if (waitpid(pid[i], &status, 0) != pid[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			clean = 0;
	ok(clean, "both processes counted without a refusal");
	ok(limit_conn_count(z, &k) == 40000, "40000 in flight, none lost "
	    "(%u)", limit_conn_count(z, &k));
	limit_zone_unmap(z);
}

int
main(void)
{
	test_nodelay();
	test_delay();
	test_delay_threshold();
	test_zone_eviction();
	test_conn();
	test_processes();
	return done_testing();
}
