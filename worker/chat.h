/*
 * chat.h: the chat room (chat.c) as its members' protocols see it: a
 * member, and what it can tell the room.  For the parts above the room
 * (chat_ws.c); the parts below it include chat_types.h, and the http
 * side has chat_ws.h.
 */
#ifndef FORKLOOP_WORKER_CHAT_H
#define FORKLOOP_WORKER_CHAT_H

#include <stddef.h>

#include "conf/conf.h"
#include "worker/chat_types.h"
#include "worker/conns.h"

struct bufferevent;
struct chat_conn;

/* Why the room closes a member, for a protocol that can say so. */
enum chat_close {
	CHAT_CLOSE_STOPPING,	/* the worker stops: shutdown_timeout */
	CHAT_CLOSE_TOO_SLOW,	/* it fell more than a queue behind */
};

/*
 * How a member is written to, set by whoever made it (chat.c for a TCP
 * client, chat_ws.c for a WebSocket): the room reaches a member's
 * protocol only through these, so the protocols sit on top of the room
 * and the room calls none of them by name.
 */
struct chat_member_ops {
	/* Queues a line (ending in LF) as the protocol frames it. */
	void (*send_text)(struct chat_conn *c, const char *line, size_t len);
	/* Says goodbye before the room closes c; NULL: nothing to say. */
	void (*send_close)(struct chat_conn *c, enum chat_close why);
	/* Frees the protocol's state (c->proto); NULL: it has none. */
	void (*free)(struct chat_conn *c);
	int websocket;		/* counted apart in the room's stats */
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
	const struct chat_member_ops *ops;
	void *proto;			/* the protocol's own state, or NULL */
	char name[CHAT_NAME_MAX + 1];
	int skipping;			/* dropping the rest of a long line */
	int closing;			/* output goes, then it closes */
};

/*
 * A member over bev (which it then owns), written to through ops with
 * its protocol's state proto, joins the room of the chat block server:
 * welcomed, shown the history, and announced.  NULL when out of memory
 * (bev and proto are the caller's again).
 */
struct chat_conn *chat_member_new(struct bufferevent *bev,
    struct conf_server *server, const struct chat_member_ops *ops,
    void *proto);
/* A notice (ending in LF) for the member alone, within its queue. */
void chat_member_tell(struct chat_conn *c, const char *line, size_t len);
/* A line (no LF) the member said, or a command (/nick). */
void chat_member_said(struct chat_conn *c, const char *line, size_t len);
/* The member leaves: the room is told; it closes once its output went. */
void chat_member_leave(struct chat_conn *c);
/* Its connection ended: the room is told (unless it was closing). */
void chat_member_gone(struct chat_conn *c);
/* A bufferevent event callback (arg: the member) for a protocol with no
 * last word of its own: idle_timeout or a broken connection is
 * chat_member_gone(). */
void chat_member_on_event(struct bufferevent *bev, short what, void *arg);

#endif
