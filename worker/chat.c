/*
 * chat.c: the group chat service, a line-based TCP chat in which every
 * line from one client reaches every other client on every worker.
 *
 * Design.  Clients of one room land on different workers, so a line has
 * to cross processes.  Each worker has one stream socketpair to the
 * master (made at fork); a worker that receives a line formats it once
 * ("NAME: text\n"), delivers it to its own other clients at once, and
 * sends it to the master as one frame (common/chat_frame.h).  The master
 * (master/chat_relay.c) forwards each frame, unparsed, to every other
 * live worker of every generation, which delivers it to its clients.
 *
 * - Order: every hop is a single FIFO stream (sender's worker to master,
 *   master to each receiving worker), so each receiver gets each
 *   sender's lines in the order they were sent.
 * - No loss: frames are never dropped on the way (both ends queue in
 *   bufferevents); a client that keeps reading gets every line.
 * - No busy polling: every step runs from socket readiness in libevent.
 * - Back-pressure: each client's output is bounded by `queue`.  A client
 *   whose queue would overflow is told so and disconnected; nobody else
 *   waits for it.  A line longer than `max_line` is refused with a notice.
 * - Reload: old workers keep their chat clients and their channel to the
 *   master, so they still hear and are heard by clients of new workers,
 *   until the clients leave or shutdown_timeout ends them.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/chat_frame.h"
#include "common/log.h"
#include "worker/net/conn.h"
#include "worker/conns.h"
#include "worker/protocols.h"

#define CHAT_NAME_MAX 32

struct chat_conn {
	struct worker_conn base;	/* first: the worker's list */
	struct chat_conn *room_next, *room_prev;
	struct bufferevent *bev;
	struct conf_server *server;
	char name[CHAT_NAME_MAX + 1];
	int skipping;			/* dropping the rest of a long line */
	int closing;			/* told it is too slow: close when sent */
};

static struct chat_conn chat_clients = {
	.room_next = &chat_clients, .room_prev = &chat_clients,
};
static struct bufferevent *chat_master;
static unsigned chat_guest_counter;

/* A room is named by its block's first listen address. */
static const char *
chat_room(const struct conf_server *s)
{
	return s->listens[0].text;
}

static void
chat_destroy(struct worker_conn *wc)
{
	struct chat_conn *c = (struct chat_conn *)wc;

	c->room_prev->room_next = c->room_next;
	c->room_next->room_prev = c->room_prev;
	bufferevent_free(c->bev);
	worker_conn_remove(&c->base);
	free(c);
}

static void
chat_drain(struct worker_conn *wc)
{
	(void)wc;	/* chat sessions go on until shutdown_timeout */
}

static void chat_on_event(struct bufferevent *, short, void *);
static void chat_notice_dropped(const struct chat_conn *c);

static void
chat_on_flushed_close(struct bufferevent *bev, void *arg)
{
	(void)bev;
	chat_destroy(arg);
}

/* Stops reading c and closes it once what is queued has gone out. */
static void
chat_close_after_output(struct chat_conn *c)
{
	struct timeval last_write = { 5, 0 };

	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	/* A client that never reads again does not keep its socket. */
	bufferevent_set_timeouts(c->bev, NULL, &last_write);
	bufferevent_setcb(c->bev, NULL, chat_on_flushed_close, chat_on_event, c);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		chat_destroy(&c->base);
}

static void
chat_send(struct chat_conn *c, const char *line, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (c->closing)
		return;
	/*
	 * The queue is what the client has not taken: lines delivered in one
	 * batch are appended before the loop gets to write any, so hand the
	 * kernel what it takes now before judging the client slow.
	 */
	if (evbuffer_get_length(out) + len > c->server->queue &&
	    net_bufferevent_write_now(c->bev) == -1 &&
	    errno != EAGAIN && errno != EINTR)
		log_debug("chat: writing to %s: %s", c->name, strerror(errno));
	if (evbuffer_get_length(out) + len > c->server->queue) {
		static const char notice[] =
		    "* you are not reading; disconnecting\n";

		log_info("chat: %s fell %zu bytes behind; disconnecting",
		    c->name, evbuffer_get_length(out));
		/* The notice goes beyond the bound: it is the last thing. */
		bufferevent_write(c->bev, notice, sizeof(notice) - 1);
		chat_close_after_output(c);
		chat_notice_dropped(c);
		return;
	}
	bufferevent_write(c->bev, line, len);
}

/* Delivers a line to this worker's clients of room, except `except`. */
static void
chat_deliver_local(const char *room, size_t room_len, const char *line,
    size_t len, const struct chat_conn *except)
{
	struct chat_conn *c, *next;

	for (c = chat_clients.room_next; c != &chat_clients; c = next) {
		const char *r = chat_room(c->server);

		next = c->room_next;
		if (c != except && strlen(r) == room_len &&
		    memcmp(r, room, room_len) == 0)
			chat_send(c, line, len);
	}
}

/* To every client of room here but `except`, and to the other workers. */
static void
chat_broadcast_room(const char *room, const char *line, size_t len,
    const struct chat_conn *except)
{
	size_t room_len = strlen(room);
	unsigned char head[CHAT_FRAME_HEADER + 1];
	uint32_t frame_len = htonl((uint32_t)(1 + room_len + len));

	chat_deliver_local(room, room_len, line, len, except);
	if (chat_master == NULL)
		return;
	memcpy(head, &frame_len, sizeof(frame_len));
	head[CHAT_FRAME_HEADER] = (unsigned char)room_len;
	if (bufferevent_write(chat_master, head, sizeof(head)) == -1 ||
	    bufferevent_write(chat_master, room, room_len) == -1 ||
	    bufferevent_write(chat_master, line, len) == -1)
		log_warnx("chat: cannot queue a line for the other workers");
}

static void
chat_broadcast(struct chat_conn *from, const char *line, size_t len)
{
	chat_broadcast_room(chat_room(from->server), line, len, from);
}

struct chat_pending_notice {
	struct conf_server *server;
	char line[CHAT_NAME_MAX + 48];
};

static void
chat_on_pending_notice(evutil_socket_t fd, short what, void *arg)
{
	struct chat_pending_notice *n = arg;

	(void)fd;
	(void)what;
	chat_broadcast_room(chat_room(n->server), n->line, strlen(n->line),
	    NULL);
	free(n);
}

/*
 * The room hears that a slow client was dropped, from the event loop
 * rather than here: this runs while a line is being delivered.
 */
static void
chat_notice_dropped(const struct chat_conn *c)
{
	struct chat_pending_notice *n = malloc(sizeof(*n));

	if (n == NULL)
		return;
	n->server = c->server;
	snprintf(n->line, sizeof(n->line), "* %s left (too slow)\n", c->name);
	if (event_base_once(worker_self->base, -1, EV_TIMEOUT,
	    chat_on_pending_notice, n, NULL) == -1)
		free(n);
}

static void
chat_notice(struct chat_conn *from, const char *fmt, const char *a,
    const char *b)
{
	char line[128];
	int n = snprintf(line, sizeof(line), fmt, a, b);

	if (n > 0)
		chat_broadcast(from, line, (size_t)n < sizeof(line) ?
		    (size_t)n : sizeof(line) - 1);
}

static int
chat_valid_name(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > CHAT_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (name[i] <= ' ' || name[i] == 0x7f || name[i] == ':')
			return 0;
	return 1;
}

static void
chat_on_line(struct chat_conn *c, char *line, size_t len)
{
	char old[CHAT_NAME_MAX + 1];

	if (len >= 5 && memcmp(line, "/nick", 5) == 0 &&
	    (len == 5 || line[5] == ' ')) {
		if (len <= 6 || !chat_valid_name(line + 6, len - 6)) {
			static const char bad[] = "* names are 1 to 32 "
			    "characters, no spaces or colons\n";

			chat_send(c, bad, sizeof(bad) - 1);
			return;
		}
		memcpy(old, c->name, sizeof(old));
		memcpy(c->name, line + 6, len - 6);
		c->name[len - 6] = '\0';
		chat_notice(c, "* %s is now %s\n", old, c->name);
		{
			char mine[CHAT_NAME_MAX + 32];
			int n = snprintf(mine, sizeof(mine),
			    "* you are now %s\n", c->name);

			chat_send(c, mine, (size_t)n);
		}
		return;
	}
	{
		size_t name_len = strlen(c->name);
		size_t total = name_len + 2 + len + 1;
		char *out = malloc(total);

		if (out == NULL) {
			log_error("chat: allocating a line");
			return;
		}
		memcpy(out, c->name, name_len);
		memcpy(out + name_len, ": ", 2);
		memcpy(out + name_len + 2, line, len);
		out[total - 1] = '\n';
		chat_broadcast(c, out, total);
		free(out);
	}
}

static void
chat_on_read(struct bufferevent *bev, void *arg)
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
				static const char notice[] =
				    "* line too long; not sent\n";

				chat_send(c, notice, sizeof(notice) - 1);
				c->skipping = 1;
			}
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		}
		len = (size_t)eol.pos;
		if (c->skipping || len > max) {
			if (!c->skipping) {
				static const char notice[] =
				    "* line too long; not sent\n";

				chat_send(c, notice, sizeof(notice) - 1);
			}
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
			chat_on_line(c, line, len);
		if (c->closing)
			return;
		evbuffer_drain(in, (size_t)eol.pos + 1);
	}
}

static void
chat_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct chat_conn *c = arg;

	if (net_bufferevent_event(bev, what, c->server->idle_timeout_ms))
		return;
	if (!c->closing)
		chat_notice(c, "* %s left%s\n", c->name, "");
	chat_destroy(&c->base);
}

void
chat_conn_new(int fd, struct conf_server *server,
    const struct conf_listen *listen, const struct sockaddr_storage *peer,
    socklen_t peerlen)
{
	struct chat_conn *c;

	(void)peer;
	(void)peerlen;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		log_error("chat: allocating a connection");
		close(fd);
		return;
	}
	c->bev = net_bufferevent_new(fd, listen, server);
	if (c->bev == NULL) {
		log_errorx("chat: cannot create a bufferevent");
		close(fd);
		free(c);
		return;
	}
	c->server = server;
	snprintf(c->name, sizeof(c->name), "guest%ld-%u", (long)getpid(),
	    ++chat_guest_counter);
	c->base.drain = chat_drain;
	c->base.destroy = chat_destroy;
	worker_conn_add(&c->base);
	c->room_next = chat_clients.room_next;
	c->room_prev = &chat_clients;
	chat_clients.room_next->room_prev = c;
	chat_clients.room_next = c;
	bufferevent_setcb(c->bev, chat_on_read, NULL, chat_on_event, c);
	net_bufferevent_set_idle(c->bev, server->idle_timeout_ms);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	{
		char hello[96];
		int n = snprintf(hello, sizeof(hello), "* welcome, %s\n",
		    c->name);

		bufferevent_write(c->bev, hello, (size_t)n);
	}
	chat_notice(c, "* %s joined%s\n", c->name, "");
}

/* Frames from the master: lines from clients of the other workers. */
static void
chat_on_master_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);

	(void)arg;
	for (;;) {
		unsigned char *frame;
		uint32_t len;
		size_t room_len;

		if (evbuffer_copyout(in, &len, sizeof(len)) < (ssize_t)sizeof(len))
			return;
		len = ntohl(len);
		if (len > CHAT_FRAME_MAX || len < 1) {
			log_warnx("chat: bad frame from the master; closing "
			    "the channel");
			bufferevent_free(bev);
			chat_master = NULL;
			return;
		}
		if (evbuffer_get_length(in) < CHAT_FRAME_HEADER + len)
			return;
		frame = evbuffer_pullup(in, CHAT_FRAME_HEADER + len);
		if (frame == NULL)
			return;
		room_len = frame[CHAT_FRAME_HEADER];
		if (1 + room_len <= len)
			chat_deliver_local((char *)frame + CHAT_FRAME_HEADER + 1,
			    room_len, (char *)frame + CHAT_FRAME_HEADER + 1 +
			    room_len, len - 1 - room_len, NULL);
		evbuffer_drain(in, CHAT_FRAME_HEADER + len);
	}
}

static void
chat_on_master_event(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	log_warnx("chat: the channel to the master closed");
	bufferevent_free(bev);
	chat_master = NULL;
}

static void
chat_on_master_flushed(struct bufferevent *bev, void *arg)
{
	(void)bev;
	event_base_loopbreak(arg);
}

/*
 * Before a worker exits, what its clients said last (lines, leave
 * notices) still has to reach the other workers.  Returns 1 when output
 * is pending: the loop must run on until the write callback (output
 * empty) ends it; 0 when the worker can go now.
 */
int
chat_worker_flush_pending(struct worker *w)
{
	if (chat_master == NULL ||
	    evbuffer_get_length(bufferevent_get_output(chat_master)) == 0)
		return 0;
	bufferevent_setcb(chat_master, chat_on_master_read,
	    chat_on_master_flushed, chat_on_master_event, w->base);
	return 1;
}

int
chat_worker_init(struct worker *w, int master_fd)
{
	if (master_fd == -1)
		return 0;
	chat_master = bufferevent_socket_new(w->base, master_fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (chat_master == NULL) {
		log_errorx("chat: cannot watch the channel to the master");
		return -1;
	}
	bufferevent_setcb(chat_master, chat_on_master_read, NULL,
	    chat_on_master_event, NULL);
	return bufferevent_enable(chat_master, EV_READ | EV_WRITE);
}
