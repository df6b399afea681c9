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
struct chat_ws;

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

#endif
