/*
 * chat_ws.h: how the http side (http/websocket.c) hands a connection it
 * upgraded to the chat (chat_ws.c).
 */
#ifndef FORKLOOP_WORKER_CHAT_WS_H
#define FORKLOOP_WORKER_CHAT_WS_H

struct bufferevent;
struct conf_server;
struct evbuffer;

/*
 * bev, which has the 101 queued, becomes a WebSocket member of the room
 * of the chat block chat; unread holds what the client sent after its
 * request (frames, already).  It owns bev from here, also on failure
 * (-1).
 */
int chat_ws_start(struct bufferevent *bev, struct conf_server *chat,
    struct evbuffer *unread);

#endif
