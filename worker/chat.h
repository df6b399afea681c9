/*
 * chat.h: what the chat service (chat.c), its Redis part (chat_redis.c)
 * and its WebSocket members (chat_ws.c) share: a worker's rooms and
 * their members, the frame a line crosses hosts in, and the history a
 * joining client is shown.  Not for other parts (the http side has
 * chat_ws.h).
 */
#ifndef FORKLOOP_WORKER_CHAT_H
#define FORKLOOP_WORKER_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "worker/conns.h"

struct bufferevent;
struct chat_redis_link;
struct chat_ws;
struct event_base;
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

/*
 * A member of a room in this worker: a TCP client that speaks lines
 * (chat.c), or a WebSocket (chat_ws.c), which frames what it is sent
 * and reads frames; both are in one list and get the same lines.
 */
struct chat_conn {
	struct worker_conn base;	/* first: the worker's list */
	struct chat_conn *room_next, *room_prev;
	struct bufferevent *bev;
	struct conf_server *server;
	struct chat_room *room;
	struct chat_ws *ws;		/* NULL: a line client */
	char name[CHAT_NAME_MAX + 1];
	int skipping;			/* dropping the rest of a long line */
	int closing;			/* output goes, then it closes */
};

/*
 * For the WebSocket part: a member over bev (which it then owns) joins
 * the room of the chat block server: welcomed, shown the history, and
 * announced.  NULL when out of memory (bev is the caller's again).
 */
struct chat_conn *chat_member_new(struct bufferevent *bev,
    struct conf_server *server, struct chat_ws *ws);
/* A line (no LF) the member said, or a command (/nick). */
void chat_member_said(struct chat_conn *c, const char *line, size_t len);
/* The member leaves: the room is told; it closes once its output went. */
void chat_member_leave(struct chat_conn *c);
/* Its connection ended: the room is told (unless it was closing). */
void chat_member_gone(struct chat_conn *c);

/* chat_ws.c: what a WebSocket member is sent, as one text frame each. */
void chat_ws_send_text(struct chat_conn *c, const char *line, size_t len);
/* Its close frame, once: code, and a reason (or ""). */
void chat_ws_send_close(struct chat_conn *c, unsigned code,
    const char *reason);
void chat_ws_free(struct chat_ws *ws);

/* chat_frame.c: this host's id and this worker's, as frames name them. */
extern uint64_t chat_host_id, chat_worker_id;
/* Draws this worker's id and reads the host's (once, at start). */
void chat_frame_ids_init(void);
/* The frame of a line: header and text, into buf (NULL: the length). */
size_t chat_frame_format(const struct chat_line *line, char *buf,
    size_t size);
/* NULL and line filled (text points into frame), or why it is not a
 * whole valid frame with at most max bytes of text. */
const char *chat_frame_parse(const char *frame, size_t len, size_t max,
    struct chat_line *line);

/* chat_redis.c */
/* What the room does with a line from another host (chat.c gives it):
 * hands it to this worker's clients of the room. */
typedef void chat_redis_deliver_fn(struct chat_room *room,
    const struct chat_line *line);
int chat_redis_init(struct event_base *base, struct chat_room *rooms,
    size_t nrooms, chat_redis_deliver_fn *deliver);
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
