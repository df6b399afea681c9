/*
 * chat_ws.c: a browser in a chat room: a WebSocket (RFC 6455) whose
 * handshake http/websocket.c answered, made a member of the room like a
 * TCP client (chat.c), so it gets the same lines, across workers and,
 * with redis, across hosts.  It sits on top of the room: it tells the
 * room what the browser says (chat_member_*), and the room writes to it
 * only through the member ops it sets (chat_ws_ops, chat.h).
 *
 * - Each line the room sends is one text message, without its LF.  A
 *   line from a TCP client that is not valid UTF-8 has each bad byte
 *   replaced by U+FFFD, since a text frame must be UTF-8 (5.6).
 * - Each text message the browser sends is said as lines (split at LF,
 *   a CR before it dropped), /nick included.  Fragments are put
 *   together first (5.4); control frames may come between them.
 * - The chat block's max_line bounds a message: one longer is closed
 *   with 1009 as soon as its frame head says so, before its payload.
 * - Failures close with the code RFC 6455 7.4.1 names: 1002 for an
 *   unmasked frame, a reserved bit or opcode, a fragmented or long
 *   control frame, a continuation out of place, an invalid close
 *   frame; 1003 for a binary message (chat is text); 1007 for text
 *   that is not UTF-8; 1009 for a message over max_line; 1001 for the
 *   chat block's idle_timeout; 1008 for a client too slow to read.
 * - A ping gets its pong.  A close frame gets the same code back (or
 *   an empty close frame for one without a code: 7.1.5's 1005), then
 *   the server closes the TCP connection first, as 7.1.1 wants.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/log.h"
#include "worker/chat.h"
#include "worker/chat_ws.h"
#include "worker/ws_frame.h"

struct chat_ws {
	/* A fragmented text message being put together (5.4); allocated
	 * for its first frame: most messages come whole. */
	unsigned char *msg;
	size_t msg_len;
	int in_message;		/* its first frame came, not its last */
	int close_sent;
};

/* What the room keeps for this protocol in each of its members. */
static struct chat_ws *
chat_ws_of(const struct chat_conn *c)
{
	return c->proto;
}

static void
chat_ws_free(struct chat_ws *ws)
{
	if (ws == NULL)
		return;
	free(ws->msg);
	free(ws);
}

/* One final frame to c. */
static void
chat_ws_frame(struct chat_conn *c, int opcode, const void *payload,
    size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	unsigned char head[WS_HEAD_MAX];
	size_t hlen = ws_frame_head_make(head, opcode, len);

	if (evbuffer_add(out, head, hlen) == -1 ||
	    (len > 0 && evbuffer_add(out, payload, len) == -1))
		log_warnx("chat: cannot queue a WebSocket frame for %s",
		    c->name);
}

/* A line the room sends: one text message, without its LF. */
static void
chat_ws_send_text(struct chat_conn *c, const char *line, size_t len)
{
	static const unsigned char replacement[] = { 0xef, 0xbf, 0xbd };
	const unsigned char *p = (const unsigned char *)line;
	unsigned char *fixed;
	size_t i, k, n = 0;

	if (chat_ws_of(c)->close_sent)
		return;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (ws_utf8_valid(p, len)) {
		chat_ws_frame(c, WS_OP_TEXT, p, len);
		return;
	}
	/* Each byte that starts no valid character becomes U+FFFD. */
	if ((fixed = malloc(len * sizeof(replacement))) == NULL) {
		log_warnx("chat: out of memory for a line to %s", c->name);
		return;
	}
	for (i = 0; i < len; i += k) {
		if ((k = ws_utf8_char_len(p + i, len - i)) == 0) {
			memcpy(fixed + n, replacement, sizeof(replacement));
			n += sizeof(replacement);
			k = 1;
			continue;
		}
		memcpy(fixed + n, p + i, k);
		n += k;
	}
	chat_ws_frame(c, WS_OP_TEXT, fixed, n);
	free(fixed);
}

/* The close frame, once: code, and a reason (or ""). */
static void
chat_ws_send_close(struct chat_conn *c, unsigned code, const char *reason)
{
	unsigned char payload[WS_CONTROL_MAX];
	size_t rlen = strlen(reason);

	if (chat_ws_of(c)->close_sent)
		return;
	chat_ws_of(c)->close_sent = 1;
	/* 5.5.1: no code (1005) is a close frame with no payload. */
	if (code == 0) {
		chat_ws_frame(c, WS_OP_CLOSE, NULL, 0);
		return;
	}
	if (rlen > sizeof(payload) - 2)
		rlen = sizeof(payload) - 2;
	payload[0] = (unsigned char)(code >> 8);
	payload[1] = (unsigned char)code;
	memcpy(payload + 2, reason, rlen);
	chat_ws_frame(c, WS_OP_CLOSE, payload, 2 + rlen);
}

/* The room closes c: 1001 when the server stops, 1008 when c is too
 * slow (7.4.1). */
static void
chat_ws_member_close(struct chat_conn *c, enum chat_close why)
{
	if (why == CHAT_CLOSE_STOPPING)
		chat_ws_send_close(c, WS_CLOSE_GOING_AWAY, "server stopping");
	else
		chat_ws_send_close(c, WS_CLOSE_POLICY, "too slow");
}

static void
chat_ws_member_free(struct chat_conn *c)
{
	chat_ws_free(chat_ws_of(c));
}

/* How the room writes to a WebSocket member. */
static const struct chat_member_ops chat_ws_ops = {
	.send_text = chat_ws_send_text,
	.send_close = chat_ws_member_close,
	.free = chat_ws_member_free,
	.websocket = 1,
};

/* Fails the connection (7.1.7): a close frame with code, then close. */
static void
chat_ws_fail(struct chat_conn *c, unsigned code, const char *why)
{
	log_info("chat: WebSocket %s: %s; closing with %u", c->name, why,
	    code);
	chat_ws_send_close(c, code, why);
	chat_member_leave(c);
}

/* A whole text message: its lines are said. */
static void
chat_ws_message(struct chat_conn *c, const unsigned char *text, size_t n)
{
	const char *p = (const char *)text, *end = p + n;

	/* 8.1: text that is not UTF-8 fails the connection with 1007. */
	if (!ws_utf8_valid(text, n)) {
		chat_ws_fail(c, WS_CLOSE_INVALID_DATA, "text is not UTF-8");
		return;
	}
	while (p < end && !c->closing) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((eol != NULL ? eol : end) - p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > 0)
			chat_member_said(c, p, len);
		p = eol != NULL ? eol + 1 : end;
	}
}

/* A close frame from the client (5.5.1, 7.4). */
static void
chat_ws_on_close(struct chat_conn *c, const unsigned char *p, size_t len)
{
	unsigned code;

	if (len == 0) {
		chat_ws_send_close(c, 0, "");
		chat_member_leave(c);
		return;
	}
	code = (unsigned)p[0] << 8 | p[1];
	if (len == 1 || !ws_close_code_valid(code)) {
		chat_ws_fail(c, WS_CLOSE_PROTOCOL, "an invalid close frame");
		return;
	}
	if (!ws_utf8_valid(p + 2, len - 2)) {
		chat_ws_fail(c, WS_CLOSE_INVALID_DATA, "a close reason that "
		    "is not UTF-8");
		return;
	}
	/* 5.5.1: the answer typically echoes the code received. */
	chat_ws_send_close(c, code, "");
	chat_member_leave(c);
}

/*
 * Whether a frame with head h may be read, judged before its payload
 * has come: 0, or the code to close with.
 */
static unsigned
chat_ws_judge(struct chat_conn *c, const struct ws_frame_head *h,
    const char **why)
{
	struct chat_ws *ws = chat_ws_of(c);
	int code = ws_frame_head_check(h);

	*why = "a frame unmasked, fragmented or long where it may not be, "
	    "or with a reserved bit or opcode";
	if (code != 0)
		return (unsigned)code;
	if (h->opcode & 0x08)
		return 0;
	/* 5.4: a continuation follows a first frame, which follows a
	 * final one. */
	if ((h->opcode == WS_OP_CONTINUATION) != ws->in_message) {
		*why = "a continuation frame out of place";
		return WS_CLOSE_PROTOCOL;
	}
	if (h->opcode == WS_OP_BINARY) {
		*why = "binary data (chat is text)";
		return WS_CLOSE_UNSUPPORTED;
	}
	if (h->len > c->server->max_line - ws->msg_len) {
		*why = "a message longer than max_line";
		return WS_CLOSE_TOO_BIG;
	}
	return 0;
}

/* A frame whose head passed chat_ws_judge, with its unmasked payload. */
static void
chat_ws_on_frame(struct chat_conn *c, const struct ws_frame_head *h,
    const unsigned char *p, size_t len)
{
	struct chat_ws *ws = chat_ws_of(c);

	switch (h->opcode) {
	case WS_OP_PING:
		chat_ws_frame(c, WS_OP_PONG, p, len);
		return;
	case WS_OP_PONG:
		return;
	case WS_OP_CLOSE:
		chat_ws_on_close(c, p, len);
		return;
	}
	if (h->fin && !ws->in_message) {
		chat_ws_message(c, p, len);
		return;
	}
	if (ws->msg == NULL &&
	    (ws->msg = malloc(c->server->max_line)) == NULL) {
		chat_ws_fail(c, WS_CLOSE_INTERNAL, "out of memory");
		return;
	}
	/* chat_ws_judge() kept msg_len + len within max_line. */
	if (len > 0) {
		memcpy(ws->msg + ws->msg_len, p, len);
		ws->msg_len += len;
	}
	ws->in_message = !h->fin;
	if (!h->fin)
		return;
	chat_ws_message(c, ws->msg, ws->msg_len);
	/* A browser that fragments once may again: keep the buffer. */
	ws->msg_len = 0;
}

static void
chat_ws_on_read(struct bufferevent *bev, void *arg)
{
	struct chat_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (!c->closing) {
		unsigned char head[WS_HEAD_MAX], *payload = NULL;
		struct ws_frame_head h;
		ev_ssize_t n = evbuffer_copyout(in, head, sizeof(head));
		const char *why;
		unsigned code;

		if (n < 2 || ws_frame_head_parse(head, (size_t)n, &h) == 0)
			return;
		if ((code = chat_ws_judge(c, &h, &why)) != 0) {
			chat_ws_fail(c, code, why);
			return;
		}
		/* The length is bounded now: max_line, or 125. */
		if (evbuffer_get_length(in) < h.head_len + h.len)
			return;
		evbuffer_drain(in, h.head_len);
		if (h.len > 0 && (payload = evbuffer_pullup(in,
		    (ev_ssize_t)h.len)) == NULL) {
			chat_ws_fail(c, WS_CLOSE_INTERNAL, "out of memory");
			return;
		}
		if (payload != NULL)
			ws_unmask(payload, h.len, h.mask, 0);
		chat_ws_on_frame(c, &h, payload, h.len);
		evbuffer_drain(in, h.len);
	}
}

static void
chat_ws_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct chat_conn *c = arg;

	(void)bev;
	/* Nothing from the client for idle_timeout: 1001, as a server
	 * going away from this client. */
	if ((what & BEV_EVENT_TIMEOUT) && !c->closing) {
		chat_ws_send_close(c, WS_CLOSE_GOING_AWAY, "idle");
		chat_member_leave(c);
		return;
	}
	chat_member_gone(c);
}

int
chat_ws_start(struct bufferevent *bev, struct conf_server *chat,
    struct evbuffer *unread)
{
	struct chat_ws *ws = calloc(1, sizeof(*ws));
	struct timeval idle = { chat->idle_timeout_ms / 1000,
	    (chat->idle_timeout_ms % 1000) * 1000 };
	struct chat_conn *c;

	if (ws == NULL) {
		log_warnx("chat: out of memory for a WebSocket");
		bufferevent_free(bev);
		return -1;
	}
	if ((c = chat_member_new(bev, chat, &chat_ws_ops, ws)) == NULL) {
		chat_ws_free(ws);
		bufferevent_free(bev);
		return -1;
	}
	bufferevent_setcb(bev, chat_ws_on_read, NULL, chat_ws_on_event, c);
	bufferevent_set_timeouts(bev, &idle, NULL);
	if (bufferevent_enable(bev, EV_READ | EV_WRITE) == -1) {
		log_warnx("chat: cannot watch a WebSocket");
		chat_member_gone(c);
		return -1;
	}
	/* Frames that came with the request. */
	if (evbuffer_get_length(unread) > 0) {
		if (evbuffer_add_buffer(bufferevent_get_input(bev),
		    unread) == -1) {
			chat_member_gone(c);
			return -1;
		}
		chat_ws_on_read(bev, c);
	}
	return 0;
}
