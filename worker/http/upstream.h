/*
 * upstream.h: a worker's view of the servers behind the reverse proxy:
 * which one the next request goes to (weighted round robin or least
 * connections), which are down (passive health: max_fails within
 * fail_timeout), and the idle keep-alive connections kept to them.
 * All of it is per worker, as nginx without a shared "zone": weights
 * and counts hold within each worker.
 */
#ifndef FORKLOOP_HTTP_UPSTREAM_H
#define FORKLOOP_HTTP_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

struct upstream_peer {
	const struct conf_upstream_server *conf;
	int current_weight;		/* smooth weighted round robin */
	int active;			/* requests in flight (least_conn) */
	int fails;			/* within fail_timeout of fail_since */
	double fail_since;
	double down_until;		/* marked down until then */
};

struct upstream_idle;

struct upstream {
	const struct conf_upstream *conf;
	struct upstream_peer *peers;
	size_t npeers;
	struct upstream_idle *idle;	/* most recent first */
	int nidle;
	unsigned rr;			/* breaks least_conn's ties */
	size_t stats_first;		/* its first server's stats index */
};

/* The stats index of the upstream c's first server: the servers of the
 * upstreams before it in conf, counted. */
size_t upstream_stats_first(const struct conf *conf,
    const struct conf_upstream *c);

/* The worker's state of the upstream c; NULL when out of memory. */
struct upstream *upstream_of(const struct conf_upstream *c);

/*
 * The peer for the next try: not in tried (one byte per peer), not down;
 * backups only when no other is left.  -1 when none is.
 */
int upstream_pick(struct upstream *u, const unsigned char *tried);

/* Whether a peer not in tried is up (upstream_pick() would find one). */
int upstream_has_peer(const struct upstream *u, const unsigned char *tried);

struct bufferevent;

/*
 * A kept connection to peer, or NULL: the caller owns the bufferevent
 * and sets its callbacks.  Kept connections stay registered for reading
 * with the loop, so taking and keeping one costs no system call.
 */
struct bufferevent *upstream_idle_take(struct upstream *u, size_t peer);

/* Keeps bev (its input empty), idle after a whole answer; frees it when
 * the pool is full or the worker stops. */
void upstream_idle_put(struct upstream *u, size_t peer,
    struct bufferevent *bev);

void upstream_peer_failed(struct upstream *u, size_t peer);
void upstream_peer_ok(struct upstream *u, size_t peer);

/* Closes every kept connection (the worker stops). */
void upstream_idle_close_all(void);

#endif
