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
struct event;

/*
 * A connection to an upstream server (upstream_conn.c): the bufferevent
 * connects and writes, and holds in its input what was read; reading is
 * c->rd, an event of its own calling on_read(c, what, arg) with EV_READ
 * or EV_TIMEOUT, and upstream_conn_read().
 */
struct upstream_conn {
	struct bufferevent *bev;
	struct event *rd;
	void (*on_read)(struct upstream_conn *c, short what, void *arg);
	void *arg;
	int error;			/* a read failed: its errno */
	unsigned eof:1;			/* the server closed its side */
};

/* Connects to s (the connect goes on in the loop); NULL with errno. */
struct upstream_conn *upstream_conn_connect(
    const struct conf_upstream_server *s);
void upstream_conn_free(struct upstream_conn *c);
/* Frees c but its bufferevent, which is returned (for a tunnel). */
struct bufferevent *upstream_conn_detach(struct upstream_conn *c);
void upstream_conn_set_read(struct upstream_conn *c,
    void (*on_read)(struct upstream_conn *, short, void *), void *arg);
/* Reading on, with a timeout in ms from the last readiness (0: none). */
int upstream_conn_read_on(struct upstream_conn *c, int timeout_ms);
int upstream_conn_read_off(struct upstream_conn *c);
/*
 * Reads what the socket has, up to room bytes, into the bufferevent's
 * input.  0, or 1 once the server has closed (c->eof) or the connection
 * broke (c->error).
 */
int upstream_conn_read(struct upstream_conn *c, size_t room);

/*
 * A kept connection to peer, or NULL: the caller owns it and sets its
 * callbacks and timeouts (it is still reading, with no timeout).  Kept
 * connections stay registered for reading with the loop, so taking and
 * keeping one costs no system call.
 */
struct upstream_conn *upstream_idle_take(struct upstream *u, size_t peer);

/* Keeps c (its input empty), idle after a whole answer; frees it when
 * the pool is full or the worker stops. */
void upstream_idle_put(struct upstream *u, size_t peer,
    struct upstream_conn *c);

void upstream_peer_failed(struct upstream *u, size_t peer);
void upstream_peer_ok(struct upstream *u, size_t peer);

/* Closes every kept connection (the worker stops). */
void upstream_idle_close_all(void);

#endif
