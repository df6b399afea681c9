/*
 * limit_zone.c: the shared tables of limit_req and limit_conn (see
 * limit_zone.h): mapping a zone, finding an address's entry in its
 * bucket, the leaky bucket's arithmetic and the in-flight counts.
 *
 * Locks are per bucket, not per zone (nginx takes one lock per zone),
 * so two workers wait for each other only when their clients' addresses
 * fall in the same bucket.  The locks are robust: a worker that dies
 * holding one leaves it to the next taker, who marks it consistent (the
 * entries it guards are plain numbers, each valid on its own).
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/random.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "common/limit_zone.h"
#include "common/log.h"

struct limit_entry {
	struct limit_key key;
	uint8_t pad[7];
	int64_t last_ms;	/* its last use: the least recent gives way */
	int64_t excess;		/* limit_req: thousandths of a request */
	struct {
		uint16_t lane;	/* limit_conn: the worker, 0 unused */
		uint16_t count;
	} lanes[LIMIT_ZONE_LANES];
};

struct limit_bucket {
	pthread_mutex_t lock;
	struct limit_entry entries[LIMIT_ZONE_WAYS];
} __attribute__((aligned(64)));

struct limit_zone {
	size_t mapped;		/* bytes, for munmap */
	uint64_t nbuckets;
	uint64_t seed;		/* random: a client cannot aim at a bucket */
	volatile uint64_t used;
	volatile uint64_t evicted;
	struct limit_bucket buckets[] __attribute__((aligned(64)));
};

int64_t
limit_now_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC is one clock for every process of the host. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
limit_bucket_init(struct limit_bucket *b)
{
	pthread_mutexattr_t attr;
	int rc;

	if ((rc = pthread_mutexattr_init(&attr)) != 0)
		return rc;
	if ((rc = pthread_mutexattr_setpshared(&attr,
	    PTHREAD_PROCESS_SHARED)) == 0 &&
	    (rc = pthread_mutexattr_setrobust(&attr,
	    PTHREAD_MUTEX_ROBUST)) == 0)
		rc = pthread_mutex_init(&b->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	return rc;
}

struct limit_zone *
limit_zone_map(size_t size)
{
	struct limit_zone *z;
	uint64_t i, nbuckets;
	int rc;

	if (size < LIMIT_ZONE_MIN)
		size = LIMIT_ZONE_MIN;
	nbuckets = (size - sizeof(*z)) / sizeof(struct limit_bucket);
	size = sizeof(*z) + nbuckets * sizeof(struct limit_bucket);
	z = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (z == MAP_FAILED) {
		log_error("mapping a limit zone of %zu bytes", size);
		return NULL;
	}
	/* A fresh anonymous mapping is zeroed: every entry is empty. */
	z->mapped = size;
	z->nbuckets = nbuckets;
	if (getrandom(&z->seed, sizeof(z->seed), 0) != sizeof(z->seed)) {
		log_warn("getrandom for a limit zone's hash");
		z->seed = (uint64_t)limit_now_ms() * 0x9e3779b97f4a7c15ULL;
	}
	for (i = 0; i < nbuckets; i++)
		if ((rc = limit_bucket_init(&z->buckets[i])) != 0) {
			log_errorx("a limit zone's lock: %s", strerror(rc));
			munmap(z, size);
			return NULL;
		}
	return z;
}

void
limit_zone_unmap(struct limit_zone *z)
{
	if (z != NULL && munmap(z, z->mapped) == -1)
		log_warn("unmapping a limit zone");
}

size_t
limit_zone_capacity(const struct limit_zone *z)
{
	return (size_t)z->nbuckets * LIMIT_ZONE_WAYS;
}

uint64_t
limit_zone_used(const struct limit_zone *z)
{
	return __atomic_load_n(&z->used, __ATOMIC_RELAXED);
}

uint64_t
limit_zone_evicted(const struct limit_zone *z)
{
	return __atomic_load_n(&z->evicted, __ATOMIC_RELAXED);
}

/* FNV-1a over the seed and the address, then a final mix (splitmix64's). */
static struct limit_bucket *
limit_bucket_of(struct limit_zone *z, const struct limit_key *key)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ z->seed;
	size_t i, n = key->family == 4 ? 4 : 16;

	h = (h ^ key->family) * 0x100000001b3ULL;
	for (i = 0; i < n; i++)
		h = (h ^ key->addr[i]) * 0x100000001b3ULL;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return &z->buckets[h % z->nbuckets];
}

static void
limit_lock(struct limit_bucket *b)
{
	int rc = pthread_mutex_lock(&b->lock);

	/* Its holder died inside: the numbers are each whole; go on. */
	if (rc == EOWNERDEAD)
		pthread_mutex_consistent(&b->lock);
	else if (rc != 0)
		log_warnx("a limit zone's lock: %s", strerror(rc));
}

static void
limit_unlock(struct limit_bucket *b)
{
	pthread_mutex_unlock(&b->lock);
}

static int
limit_key_equal(const struct limit_key *a, const struct limit_key *b)
{
	return a->family == b->family &&
	    memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16) == 0;
}

static int
limit_entry_busy(const struct limit_entry *e)
{
	size_t i;

	for (i = 0; i < LIMIT_ZONE_LANES; i++)
		if (e->lanes[i].count > 0)
			return 1;
	return 0;
}

/*
 * key's entry in its bucket (locked), or a new one: an empty entry, else
 * the least recently used that holds no in-flight count.  *fresh tells
 * which.  NULL when every entry is in flight (limit_conn only).
 */
static struct limit_entry *
limit_entry_find(struct limit_zone *z, struct limit_bucket *b,
    const struct limit_key *key, int *fresh)
{
	struct limit_entry *e, *empty = NULL, *oldest = NULL;
	size_t i;

	*fresh = 0;
	for (i = 0; i < LIMIT_ZONE_WAYS; i++) {
		e = &b->entries[i];
		if (e->key.family == 0) {
			if (empty == NULL)
				empty = e;
			continue;
		}
		if (limit_key_equal(&e->key, key))
			return e;
		if (!limit_entry_busy(e) &&
		    (oldest == NULL || e->last_ms < oldest->last_ms))
			oldest = e;
	}
	*fresh = 1;
	if (empty != NULL) {
		__atomic_add_fetch(&z->used, 1, __ATOMIC_RELAXED);
		e = empty;
	} else if (oldest != NULL) {
		__atomic_add_fetch(&z->evicted, 1, __ATOMIC_RELAXED);
		e = oldest;
	} else {
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	e->key = *key;
	return e;
}

enum limit_req_verdict
limit_req_step(const struct limit_req_rule *rule, int64_t *excess,
    int64_t *last_ms, int64_t now_ms, int fresh, int64_t *delay_ms)
{
	int64_t elapsed, e;

	*delay_ms = 0;
	if (fresh) {
		/* A client's first request, as nginx: nothing in its bucket. */
		e = 0;
	} else {
		elapsed = now_ms - *last_ms;
		if (elapsed < 0)
			elapsed = 0;
		e = *excess - (int64_t)(rule->rate * (uint64_t)elapsed / 1000) +
		    1000;
		if (e < 0)
			e = 0;
		if ((uint64_t)e > rule->burst)
			return LIMIT_REQ_REJECT;
	}
	*excess = e;
	*last_ms = now_ms;
	if ((uint64_t)e <= rule->delay)
		return LIMIT_REQ_PASS;
	*delay_ms = (int64_t)(((uint64_t)e - rule->delay) * 1000 / rule->rate);
	return LIMIT_REQ_DELAY;
}

enum limit_req_verdict
limit_req_account(struct limit_zone *z, const struct limit_key *key,
    const struct limit_req_rule *rule, int64_t now_ms, int64_t *delay_ms)
{
	struct limit_bucket *b = limit_bucket_of(z, key);
	struct limit_entry *e;
	enum limit_req_verdict v;
	int fresh;

	limit_lock(b);
	/* limit_req entries are never busy: one is always found. */
	e = limit_entry_find(z, b, key, &fresh);
	v = limit_req_step(rule, &e->excess, &e->last_ms, now_ms, fresh,
	    delay_ms);
	limit_unlock(b);
	return v;
}

int
limit_conn_acquire(struct limit_zone *z, const struct limit_key *key,
    unsigned lane, unsigned max, int64_t now_ms)
{
	struct limit_bucket *b = limit_bucket_of(z, key);
	struct limit_entry *e;
	unsigned total = 0;
	int fresh, slot = -1, rc = -1;
	size_t i;

	limit_lock(b);
	if ((e = limit_entry_find(z, b, key, &fresh)) == NULL)
		goto done;
	e->last_ms = now_ms;
	for (i = 0; i < LIMIT_ZONE_LANES; i++) {
		total += e->lanes[i].count;
		if (e->lanes[i].lane == lane ||
		    (slot == -1 && e->lanes[i].count == 0))
			slot = (int)i;
	}
	/* More workers than lanes serving one address at once: refused. */
	if (total >= max || slot == -1 || e->lanes[slot].count == UINT16_MAX)
		goto done;
	if (e->lanes[slot].lane != lane) {
		e->lanes[slot].lane = (uint16_t)lane;
		e->lanes[slot].count = 0;
	}
	e->lanes[slot].count++;
	rc = 0;
done:
	limit_unlock(b);
	return rc;
}

void
limit_conn_release(struct limit_zone *z, const struct limit_key *key,
    unsigned lane)
{
	struct limit_bucket *b = limit_bucket_of(z, key);
	size_t i, j;

	limit_lock(b);
	for (i = 0; i < LIMIT_ZONE_WAYS; i++) {
		struct limit_entry *e = &b->entries[i];

		if (!limit_key_equal(&e->key, key))
			continue;
		for (j = 0; j < LIMIT_ZONE_LANES; j++)
			if (e->lanes[j].lane == lane && e->lanes[j].count > 0)
				e->lanes[j].count--;
		break;
	}
	limit_unlock(b);
}

unsigned
limit_conn_count(struct limit_zone *z, const struct limit_key *key)
{
	struct limit_bucket *b = limit_bucket_of(z, key);
	unsigned total = 0;
	size_t i, j;

	limit_lock(b);
	for (i = 0; i < LIMIT_ZONE_WAYS; i++)
		if (limit_key_equal(&b->entries[i].key, key))
			for (j = 0; j < LIMIT_ZONE_LANES; j++)
				total += b->entries[i].lanes[j].count;
	limit_unlock(b);
	return total;
}

void
limit_zone_forget_lane(struct limit_zone *z, unsigned lane)
{
	uint64_t i;
	size_t j, k;

	for (i = 0; i < z->nbuckets; i++) {
		struct limit_bucket *b = &z->buckets[i];

		limit_lock(b);
		for (j = 0; j < LIMIT_ZONE_WAYS; j++)
			for (k = 0; k < LIMIT_ZONE_LANES; k++)
				if (b->entries[j].lanes[k].lane == lane) {
					b->entries[j].lanes[k].lane = 0;
					b->entries[j].lanes[k].count = 0;
				}
		limit_unlock(b);
	}
}
