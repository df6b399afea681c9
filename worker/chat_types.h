/*
 * chat_types.h: the chat's data, with no code of its own: a line and
 * where it comes from, a room as one worker serves it, its history and
 * the senders it has heard.  Every chat part includes it; the parts
 * below the room (chat_frame.c, chat_history.c, chat_redis.c) include it
 * instead of chat.h, so they know the room's data but not the room.
 */
#ifndef FORKLOOP_WORKER_CHAT_TYPES_H
#define FORKLOOP_WORKER_CHAT_TYPES_H

#include <stddef.h>
#include <stdint.h>

struct chat_redis_link;
struct conf_server;
struct stats_chat_room;

#define CHAT_NAME_MAX 32

/* A line with where it comes from (see chat_frame.c for the frame). */
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

#endif
