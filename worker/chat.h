/*
 * chat.h: what the chat service (chat.c) and its Redis part
 * (chat_redis.c) share: a worker's rooms, the frame a line crosses hosts
 * in, and the history a joining client is shown.  Not for other parts.
 */
#ifndef FORKLOOP_WORKER_CHAT_H
#define FORKLOOP_WORKER_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

struct chat_redis_link;
struct event_base;
struct stats_chat_room;

#define CHAT_NAME_MAX 32

/* A line with where it comes from (see chat_redis.c for the frame). */
struct chat_line {
	uint64_t host;		/* the sender's master: one per host */
	uint64_t worker;	/* the sender's worker, drawn at its start */
	uint64_t seq;		/* its count of lines in this room, from 1 */
	char kind;		/* CHAT_KIND_LINE or CHAT_KIND_NOTICE */
	const char *text;	/* "NAME: text\n" or "* notice\n" */
	size_t len;
};

#define CHAT_KIND_LINE		'L'	/* a client's line: kept in history */
#define CHAT_KIND_NOTICE	'N'	/* joins, leaves, renames */

/* One frame of the history: a copy, with the sender's numbers. */
struct chat_history_entry {
	uint64_t worker, seq;
	char *text;
	size_t len;
};

/* Where a sender's numbers stand, to drop a repeat and count a gap. */
struct chat_peer {
	uint64_t worker;
	uint64_t seq;
	uint64_t used;		/* the room's clock when last heard */
};

/* A chat block, as one worker serves it. */
struct chat_room {
	struct conf_server *server;
	const char *name;		/* its first listen address */
	size_t name_len;
	struct chat_redis_link *redis;	/* NULL: this host alone */
	uint64_t seq;			/* the last line this worker sent */
	/* The last chat_history lines, oldest first, in a ring. */
	struct chat_history_entry *history;
	size_t history_first, history_count;
	uint64_t history_added;		/* lines ever added */
	uint64_t history_mark;		/* history_added when Redis was asked */
	struct chat_peer *peers;	/* other hosts' senders */
	size_t npeers;
	uint64_t clock;
	struct stats_chat_room *stats;	/* or NULL */
};

/* chat.c: hands a line from another host (through Redis) to this
 * worker's clients of the room. */
void chat_room_deliver(struct chat_room *room, const struct chat_line *line);

/* chat_redis.c */
extern uint64_t chat_host_id, chat_worker_id;
/* The frame of a line: header and text, into buf (NULL: the length). */
size_t chat_frame_format(const struct chat_line *line, char *buf,
    size_t size);
/* NULL and line filled (text points into frame), or why it is not a
 * whole valid frame with at most max bytes of text. */
const char *chat_frame_parse(const char *frame, size_t len, size_t max,
    struct chat_line *line);
int chat_redis_init(struct event_base *base, struct chat_room *rooms,
    size_t nrooms);
/* Publishes a frame this worker made (and keeps it in the history). */
void chat_redis_publish(struct chat_room *room, const struct chat_line *line,
    const char *frame, size_t len);
/* Writes what is queued for Redis before the worker exits (bounded). */
void chat_redis_flush(void);

/* chat_history.c */
struct redisReply;
void chat_history_add(struct chat_room *room, const struct chat_line *line);
/* Redis's list (LRANGE) becomes the room's history. */
void chat_history_seed(struct chat_room *room, const struct redisReply *reply);

#endif
