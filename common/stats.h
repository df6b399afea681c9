/*
 * stats.h: the live counters shared by master and workers.
 *
 * The master maps one anonymous shared segment before it forks the first
 * worker, so every worker of every generation inherits it.  Each worker
 * owns one entry and is its only writer (plain aligned 64-bit stores, so
 * a reader never sees a torn value); the master hands entries out at fork
 * and takes them back when it reaps.  The status route reads it all.
 */
#ifndef FORKLOOP_STATS_H
#define FORKLOOP_STATS_H

#include <stdint.h>
#include <sys/types.h>

#define STATS_MAX_WORKERS 256
#define STATS_CHAT_ROOMS 4	/* chat blocks counted per worker */
/* Upstream servers whose state each worker shows, in the order of the
 * config's upstreams (blocks, then proxy_pass addresses) and servers. */
#define STATS_UPSTREAM_SERVERS 64

/* One chat room's counters in one worker (worker/chat.c). */
struct stats_chat_room {
	char name[64];			/* the room; "" while unused */
	volatile int64_t lines_in;	/* said by this worker's clients */
	volatile int64_t lines_out;	/* lines handed to this worker's clients */
	volatile int64_t history;	/* lines in the room's history in Redis */
	volatile int64_t clients;	/* members now: TCP and WebSocket */
	volatile int64_t websocket_clients;	/* of them, WebSockets */
	volatile int64_t websocket_lines_in;	/* of lines_in, from WebSockets */
	volatile int64_t websocket_lines_out;	/* of lines_out, to WebSockets */
};

/* chat_redis_state: the worst of a worker's Redis connections. */
enum stats_redis_state {
	STATS_REDIS_NONE,		/* no chat block uses redis */
	STATS_REDIS_UP,
	STATS_REDIS_CONNECTING,
	STATS_REDIS_DOWN,
};

struct stats_worker {
	volatile int64_t pid;		/* 0: entry free */
	int64_t slot;
	int64_t generation;
	int64_t started;		/* Unix time */
	volatile int64_t accepted;
	volatile int64_t active;
	volatile int64_t idle;
	volatile int64_t requests[6];	/* by status class: [1] 1xx ... [5] 5xx */
	volatile int64_t bytes_sent;
	/* TLS (worker/net/tls.c) */
	volatile int64_t tls_handshakes;	/* completed, resumed included */
	volatile int64_t tls_resumed;
	volatile int64_t tls_failed[5];		/* by enum stats_tls_failure */
	volatile int64_t tls_ktls;		/* connections sending with kTLS */
	/* HTTP/2 (worker/http/h2*.c) */
	volatile int64_t h2_connections;
	volatile int64_t h2_streams;
	volatile int64_t h2_resets_sent;
	volatile int64_t h2_resets_received;
	volatile int64_t h2_goaways_sent;
	volatile int64_t h2_flow_stalls;	/* a stream's send window ran out */
	/* The reverse proxy (worker/http/proxy.c) */
	volatile int64_t upstream_requests;	/* tries, retries included */
	volatile int64_t upstream_retries;
	volatile int64_t upstream_pool_hits;	/* tries on a kept connection */
	volatile int64_t upstream_failed[4];	/* by enum stats_upstream_failure */
	/* Until when (Unix time, ms) this worker leaves a server alone
	 * after max_fails failures; in the past: up. */
	volatile int64_t upstream_down_until_ms[STATS_UPSTREAM_SERVERS];
	/* Chat across hosts (worker/chat_redis.c) */
	volatile int64_t chat_redis_state;	/* enum stats_redis_state */
	volatile int64_t chat_redis_reconnects;	/* connections made again */
	volatile int64_t chat_redis_publish_failures;	/* lines not published */
	volatile int64_t chat_redis_frames_dropped;	/* not ours to deliver */
	volatile int64_t chat_redis_lines_lost;	/* gaps in a sender's numbers */
	/* limit_req and limit_conn (worker/http/limit.c), per request */
	volatile int64_t limit_req_passed;	/* under every rule's rate */
	volatile int64_t limit_req_delayed;	/* within a burst, waited */
	volatile int64_t limit_req_rejected;	/* over a burst */
	volatile int64_t limit_conn_passed;
	volatile int64_t limit_conn_rejected;
	struct stats_chat_room chat_rooms[STATS_CHAT_ROOMS];
};

enum stats_upstream_failure {
	STATS_UPSTREAM_CONNECT,		/* refused, unreachable */
	STATS_UPSTREAM_TIMEOUT,
	STATS_UPSTREAM_BAD_ANSWER,	/* a head or body that is refused */
	STATS_UPSTREAM_BROKEN,		/* closed or reset in the exchange */
};

enum stats_tls_failure {
	STATS_TLS_PROTOCOL,	/* a version we do not speak, not TLS at all */
	STATS_TLS_CIPHER,	/* no cipher, group or ALPN protocol in common */
	STATS_TLS_CERTIFICATE,	/* the client refused our certificate */
	STATS_TLS_TIMEOUT,	/* ssl_handshake_timeout */
	STATS_TLS_OTHER,
};

struct stats_shared {
	int64_t master_pid;
	int64_t started;
	volatile int64_t generation;
	volatile int64_t reloads;
	volatile int64_t respawns;
	/* Drawn at random when the master maps this: names the host to the
	 * other hosts of a chat room on Redis (worker/chat_frame.c); the
	 * same for every worker of every generation of this master. */
	uint64_t chat_host_id;
	struct stats_worker workers[STATS_MAX_WORKERS];
};

/* Maps the segment; NULL on failure.  Master only. */
struct stats_shared *stats_map(void);
/* A free entry for a new worker, or NULL when all are taken. */
struct stats_worker *stats_claim(struct stats_shared *s, pid_t pid, int slot,
    unsigned generation);
void stats_release(struct stats_shared *s, pid_t pid);

#endif
