/*
 * chat_tcp.c: a line client of the group chat, over TCP (or TLS): what
 * a chat block's listener hands a connection to.  It sits on top of the
 * room (chat.c), as the WebSocket member (chat_ws.c) does: it tells the
 * room what the client says (chat_member_*), and the room writes to it
 * through the member ops it sets (chat_tcp_ops, chat.h).
 *
 * - A line ends in LF; a CR before it is dropped, an empty line is not
 *   said.
 * - A line longer than the block's max_line is refused with a notice to
 *   its sender alone and dropped up to its end, without buffering it.
 * - The client is sent each line as it is, ending in LF.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/log.h"
#include "worker/chat.h"
#include "worker/net/conn.h"
#include "worker/protocols.h"

/* A TCP member is sent its lines as they are. */
static void
chat_tcp_send_text(struct chat_conn *c, const char *line, size_t len)
{
	if (bufferevent_write(c->bev, line, len) == -1)
		log_warnx("chat: cannot queue a line for %s", c->name);
}

/* A TCP member has no goodbye to say and no state of its own. */
static const struct chat_member_ops chat_tcp_ops = {
	.send_text = chat_tcp_send_text,
};

static void
chat_tcp_too_long(struct chat_conn *c)
{
	static const char notice[] = "* line too long; not sent\n";

	chat_member_tell(c, notice, sizeof(notice) - 1);
}

static void
chat_tcp_on_read(struct bufferevent *bev, void *arg)
{
	struct chat_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t max = c->server->max_line;

	for (;;) {
		struct evbuffer_ptr eol;
		size_t len;
		char *line;

		eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		if (eol.pos == -1) {
			if (evbuffer_get_length(in) <= max)
				return;
			/* Too long already: refuse it, drop to its end. */
			if (!c->skipping) {
				chat_tcp_too_long(c);
				c->skipping = 1;
			}
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		}
		len = (size_t)eol.pos;
		if (c->skipping || len > max) {
			if (!c->skipping)
				chat_tcp_too_long(c);
			c->skipping = 0;
			evbuffer_drain(in, len + 1);
			continue;
		}
		line = (char *)evbuffer_pullup(in, (ssize_t)len + 1);
		if (line == NULL)
			return;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len > 0)
			chat_member_said(c, line, len);
		if (c->closing)
			return;
		evbuffer_drain(in, (size_t)eol.pos + 1);
	}
}

/*
 * A chat line is small and must go at once.  With Nagle's algorithm (RFC
 * 896) a line written while the one before is unacknowledged waits for
 * the client's ACK, which a client that only reads delays (RFC 1122
 * 4.2.3.2; 40 ms on Linux): about one line in a hundred was late by
 * 30-40 ms at 200 clients (bench/chat-redis).  Lines of one loop pass
 * still leave in one write (the bufferevent's).
 */
static void
chat_tcp_nodelay(int fd)
{
	int on = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == -1)
		log_debug("chat: TCP_NODELAY: %s", strerror(errno));
}

void
chat_tcp_conn_new(int fd, struct conf_server *server,
    const struct conf_listen *listen, const struct sockaddr_storage *peer,
    socklen_t peerlen)
{
	struct bufferevent *bev;
	struct chat_conn *c;

	(void)peer;
	(void)peerlen;

	chat_tcp_nodelay(fd);
	bev = net_bufferevent_new(fd, listen, server);
	if (bev == NULL) {
		log_errorx("chat: cannot create a bufferevent");
		close(fd);
		return;
	}
	/* The welcome and history are queued before the callbacks are
	 * set: nothing is written before the loop runs. */
	if ((c = chat_member_new(bev, server, &chat_tcp_ops, NULL)) == NULL) {
		bufferevent_free(bev);
		return;
	}
	bufferevent_setcb(bev, chat_tcp_on_read, NULL, chat_member_on_event,
	    c);
	net_bufferevent_set_idle(bev, server->idle_timeout_ms);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}
