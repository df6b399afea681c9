/*
 * websocket.c: "websocket PATH ROOM" (conf/chat.c): a request for PATH
 * is a WebSocket opening handshake (RFC 6455 4.2), answered with 101;
 * the connection is then taken over from HTTP/1.1 (plain or TLS, the
 * protocol's takeover hook, as the proxy's tunnels are) and handed to
 * the chat (chat_ws.c) as a member of the room.
 *
 * What is refused, before any 101:
 * - over HTTP/2: 400 with a text saying so.  RFC 8441's extended
 *   CONNECT is not offered (no SETTINGS_ENABLE_CONNECT_PROTOCOL), so
 *   browsers open WebSockets over HTTP/1.1, also to an h2 server;
 * - a method other than GET: 405 with Allow: GET (4.1);
 * - no "Upgrade: websocket" with "Connection: upgrade" (a page asked
 *   for by a plain GET): 426 with Upgrade: websocket (RFC 9110 15.5.22);
 * - HTTP/1.0, a body, a missing or malformed Sec-WebSocket-Key, no
 *   Sec-WebSocket-Version: 400 (4.2.1);
 * - a Sec-WebSocket-Version other than 13: 426 with
 *   Sec-WebSocket-Version: 13 (4.2.2, 4.4).
 * No subprotocol and no extension is chosen: the answer names none,
 * which tells the client that none is in use (4.2.2).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/log.h"
#include "worker/chat_ws.h"
#include "worker/conns.h"
#include "worker/http/handlers.h"
#include "worker/http/response.h"
#include "worker/http/vars.h"
#include "worker/ws_frame.h"

/* What the switch needs after the request's fields are gone. */
struct http_websocket {
	struct conf_server *chat;
	char accept[WS_ACCEPT_LEN + 1];
};

const struct conf_websocket *
http_websocket_find(const struct http_req *r)
{
	const struct conf_server *s = r->server;
	size_t i;

	if (!r->has_path)
		return NULL;
	for (i = 0; i < s->nwebsockets; i++)
		if (s->websockets[i].path_len == r->path_len &&
		    memcmp(s->websockets[i].path, r->path, r->path_len) == 0)
			return &s->websockets[i];
	return NULL;
}

/* Whether a list field (every line of it) holds token, any case. */
static int
http_websocket_lists(const struct http_req *r, const char *field,
    const char *token)
{
	const struct http_header *h;
	size_t tlen = strlen(token);

	for (h = http_vars_field(r, field, strlen(field)); h != NULL;
	    h = http_header_next(&r->head, h)) {
		const char *p = h->value, *end = h->value + h->value_len;

		while (p < end) {
			const char *t;

			while (p < end &&
			    (*p == ' ' || *p == '\t' || *p == ','))
				p++;
			for (t = p; p < end && *p != ','; p++)
				;
			/* Trailing blanks are not part of the token. */
			while (p > t && (p[-1] == ' ' || p[-1] == '\t'))
				p--;
			if ((size_t)(p - t) == tlen &&
			    http_token_equal(t, tlen, token))
				return 1;
			while (p < end && *p != ',')
				p++;
		}
	}
	return 0;
}

/* A refusal with a plain text and up to two header fields. */
static void
http_websocket_refuse(struct http_req *r, int status, const char *text,
    const char *name1, const char *value1, const char *name2,
    const char *value2)
{
	log_debug("websocket %.*s: %d, %s", (int)r->path_len, r->path, status,
	    text);
	http_response_start(r, status, "text/plain; charset=utf-8",
	    (int64_t)strlen(text));
	if (name1 != NULL)
		http_response_header(r, name1, value1);
	if (name2 != NULL)
		http_response_header(r, name2, value2);
	http_response_end_head(r);
	http_response_body(r, text, strlen(text));
	http_request_done(r);
}

/* The one Sec-WebSocket-Key, or NULL when it is missing or repeated. */
static const struct http_header *
http_websocket_key(const struct http_req *r)
{
	const struct http_header *h;

	h = http_vars_field(r, "sec-websocket-key", 17);
	if (h == NULL || http_header_next(&r->head, h) != NULL)
		return NULL;
	return h;
}

/*
 * Checks the handshake (4.2.1); answers and returns -1 when it is not
 * one to accept.
 */
static int
http_websocket_check(struct http_req *r)
{
	const struct http_header *key, *version;

	if (r->head.version >= 20 || r->proto->takeover == NULL) {
		http_websocket_refuse(r, 400, "WebSocket needs HTTP/1.1 here: "
		    "WebSocket over HTTP/2 (RFC 8441) is not offered\n",
		    NULL, NULL, NULL, NULL);
		return -1;
	}
	if (r->head.method != HTTP_METHOD_GET) {
		http_respond_error_with(r, 405, "Allow", "GET");
		return -1;
	}
	if (!http_websocket_lists(r, "upgrade", "websocket") ||
	    !http_websocket_lists(r, "connection", "upgrade")) {
		http_websocket_refuse(r, 426, "this is a WebSocket: it needs "
		    "Upgrade: websocket and Connection: Upgrade\n", "Upgrade",
		    "websocket", "Connection", "Upgrade");
		return -1;
	}
	key = http_websocket_key(r);
	version = http_vars_field(r, "sec-websocket-version", 21);
	if (r->head.version < 11 || r->head.chunked ||
	    r->head.content_length > 0 || key == NULL ||
	    !ws_key_valid(key->value, key->value_len) || version == NULL) {
		http_websocket_refuse(r, 400, "a bad WebSocket handshake (RFC "
		    "6455 4.1)\n", NULL, NULL, NULL, NULL);
		return -1;
	}
	if (version->value_len != 2 || memcmp(version->value, "13", 2) != 0 ||
	    http_header_next(&r->head, version) != NULL) {
		http_websocket_refuse(r, 426, "WebSocket version 13 only\n",
		    "Sec-WebSocket-Version", "13", NULL, NULL);
		return -1;
	}
	return 0;
}

static void
http_websocket_cleanup(struct http_req *r)
{
	free(r->handler);
	r->handler = NULL;
}

/*
 * From the loop, not from the dispatch: taking the connection over
 * frees it, which its protocol must not be in the middle of.
 */
static void
http_websocket_on_switch(evutil_socket_t fd, short what, void *arg)
{
	struct http_req *r = arg;
	struct http_websocket *hw = r->handler;
	struct evbuffer *unread = evbuffer_new();
	struct bufferevent *bev = NULL;
	char head[160];
	int n;

	(void)fd;
	(void)what;
	n = snprintf(head, sizeof(head), "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n\r\n", hw->accept);
	r->handler = NULL;
	r->cleanup = NULL;
	r->status = 101;
	if (unread != NULL)
		bev = r->proto->takeover(r, unread);
	if (bev == NULL) {
		log_warnx("websocket: cannot take the connection over");
		r->handler = hw;
		r->cleanup = http_websocket_cleanup;
		r->close = 1;
		http_respond_error(r, 503);
		if (unread != NULL)
			evbuffer_free(unread);
		return;
	}
	/* r is gone: logged with its 101, freed. */
	if (bufferevent_write(bev, head, (size_t)n) == -1) {
		log_warnx("websocket: cannot queue the 101");
		bufferevent_free(bev);
	} else {
		chat_ws_start(bev, hw->chat, unread);
	}
	evbuffer_free(unread);
	free(hw);
}

void
http_websocket_serve(struct http_req *r, const struct conf_websocket *ws)
{
	const struct http_header *key;
	struct http_websocket *hw;
	struct timeval now = { 0, 0 };

	if (http_websocket_check(r) == -1)
		return;
	key = http_websocket_key(r);
	if ((hw = calloc(1, sizeof(*hw))) == NULL ||
	    ws_accept(key->value, key->value_len, hw->accept) == -1 ||
	    (r->timer = evtimer_new(worker_self->base,
	    http_websocket_on_switch, r)) == NULL) {
		free(hw);
		http_respond_error(r, 503);
		return;
	}
	hw->chat = ws->chat;
	r->handler = hw;
	r->cleanup = http_websocket_cleanup;
	http_request_wait(r);
	evtimer_add(r->timer, &now);
}
