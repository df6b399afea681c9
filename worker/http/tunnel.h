/*
 * tunnel.h: an upgraded connection (WebSocket) carried both ways
 * between the client and the upstream (tunnel.c).
 */
#ifndef FORKLOOP_HTTP_TUNNEL_H
#define FORKLOOP_HTTP_TUNNEL_H

struct bufferevent;
struct evbuffer;

/*
 * Joins client and upstream: head (the 101 answer) goes to the client
 * first, unread (what the client sent after its request) to the
 * upstream.  The tunnel owns both bufferevents from here, also on
 * failure (-1).  idle_ms without a byte either way closes it.
 */
int tunnel_start(struct bufferevent *client, struct bufferevent *upstream,
    struct evbuffer *head, struct evbuffer *unread, int idle_ms,
    const char *name);

#endif
