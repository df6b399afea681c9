/*
 * limit_zone.h: the shared-memory tables behind limit_req and limit_conn
 * (limit_zone.c): one state per client address, kept in a segment the
 * master maps before it forks the workers, so every worker of the host
 * reads and updates the same states and a limit holds per host.
 *
 * The table is set-associative: an address hashes to one bucket of
 * LIMIT_ZONE_WAYS entries, which has its own lock (a process-shared,
 * robust mutex), so workers serving different clients never wait for
 * one another; when a bucket is full the oldest (least recently used)
 * of its entries gives way.  A zone's size (zone=NAME:SIZE) fixes the
 * number of buckets.
 */
#ifndef FORKLOOP_LIMIT_ZONE_H
#define FORKLOOP_LIMIT_ZONE_H

#include <stddef.h>
#include <stdint.h>

#define LIMIT_ZONE_WAYS		8
/* Workers counted apart in one limit_conn state, so a dead worker's
 * count can be taken back (limit_zone_forget_lane()). */
#define LIMIT_ZONE_LANES	4
/* The smallest zone, as nginx's (eight 4k pages). */
#define LIMIT_ZONE_MIN		(32 * 1024)

/* A client address as the tables key it: IPv4 in 4 bytes, IPv6 in 16. */
struct limit_key {
	uint8_t family;		/* 4 or 6; 0 marks an empty entry */
	uint8_t addr[16];
};

struct limit_zone;

/* Maps a zone of about size bytes; NULL (logged) on failure. */
struct limit_zone *limit_zone_map(size_t size);
void limit_zone_unmap(struct limit_zone *z);
size_t limit_zone_capacity(const struct limit_zone *z);
/* Entries holding an address now, and those that gave way to another. */
uint64_t limit_zone_used(const struct limit_zone *z);
uint64_t limit_zone_evicted(const struct limit_zone *z);

/*
 * limit_req's leaky bucket, as nginx's: excess is in thousandths of a
 * request and drains at rate (thousandths per second); a request adds
 * 1000.  The state is updated only when the request passes.
 */
struct limit_req_rule {
	uint64_t rate;		/* thousandths of a request per second */
	uint64_t burst;		/* thousandths */
	uint64_t delay;		/* thousandths let through undelayed; with
				 * nodelay, UINT64_MAX */
};

enum limit_req_verdict {
	LIMIT_REQ_PASS,
	LIMIT_REQ_DELAY,	/* passes after *delay_ms */
	LIMIT_REQ_REJECT,
};

/* The pure arithmetic, on one state (unit-tested alone). */
enum limit_req_verdict limit_req_step(const struct limit_req_rule *rule,
    int64_t *excess, int64_t *last_ms, int64_t now_ms, int fresh,
    int64_t *delay_ms);
/* The same on the zone's state for key, under its bucket's lock. */
enum limit_req_verdict limit_req_account(struct limit_zone *z,
    const struct limit_key *key, const struct limit_req_rule *rule,
    int64_t now_ms, int64_t *delay_ms);

/*
 * limit_conn: takes one of key's max in-flight requests for lane (the
 * worker's, 1-based), returning 0, or -1 when max are in flight (or no
 * entry could be had: the bucket's all in use).  Each taken one is given
 * back with limit_conn_release().
 */
int limit_conn_acquire(struct limit_zone *z, const struct limit_key *key,
    unsigned lane, unsigned max, int64_t now_ms);
void limit_conn_release(struct limit_zone *z, const struct limit_key *key,
    unsigned lane);
/* In-flight count of key, for tests. */
unsigned limit_conn_count(struct limit_zone *z, const struct limit_key *key);
/* Drops every count a worker (its lane) held: the master, when it died. */
void limit_zone_forget_lane(struct limit_zone *z, unsigned lane);

/* Milliseconds on the host's monotonic clock, the same in every process. */
int64_t limit_now_ms(void);

#endif
