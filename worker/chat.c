/*
 * chat.c: the group chat service's rooms, in which every line from one
 * client reaches every other client on every worker.  The clients are
 * line clients over TCP (chat_tcp.c) and browsers over WebSocket
 * (chat_ws.c): both sit on top of the room, tell it what their client
 * says (chat_member_*), and are written to through the ops they set.
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
 * - Browsers: a WebSocket that "websocket PATH ROOM" let in (chat_ws.c)
 *   is a member like a TCP client, in the same list: the ops it sets
 *   (chat.h) frame what it is sent, and it says its messages through
 *   chat_member_said().  So every rule here (the queue, notices, the
 *   relay and Redis) holds for it unchanged.
 *
 * Across hosts (a chat block with "redis"; the Redis part is
 * chat_redis.c, the frame chat_frame.c, the history chat_history.c).
 * The master relay stays the local path, so a host's clients keep
 * talking while Redis is away; besides, the worker that received the
 * line publishes it once to the room's Redis channel, and every worker
 * of every other host, being subscribed, delivers it to its own
 * clients.  What crosses Redis, and in a redis room the master relay
 * too, is a text frame that names the line's host (the master's random
 * id), worker (drawn at its start) and number in the room, then the
 * line itself:
 *
 *	"fl1 HOST WORKER SEQ KIND\n" "NAME: text\n"
 *
 * - Once per client: a host drops the frames of its own HOST (its relay
 *   delivered them; old and new workers share the master's id); a
 *   receiver drops a frame whose number it has seen from that worker.
 * - Order: one publisher connection per worker and one subscriber per
 *   receiving worker, each a FIFO stream through Redis.
 * - Loss: pub/sub is at-most-once.  A line said while the worker's
 *   publisher is down or stalled (over 4 MiB unanswered) reaches this
 *   host only and counts as a publish failure; lines published while a
 *   subscriber is down never reach its host (counted as lost when the
 *   sender's number jumps).  Nothing is queued for later.
 * - Back-pressure: a burst from Redis after a stall goes through the
 *   same per-client queue: a client that cannot take it is dropped as
 *   slow, nobody waits.
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
#include "common/stats.h"
#include "worker/chat.h"
#include "worker/chat_frame.h"
#include "worker/chat_history.h"
#include "worker/chat_redis.h"
#include "worker/net/conn.h"
#include "worker/conns.h"
#include "worker/protocols.h"

static struct chat_conn chat_clients = {
	.room_next = &chat_clients, .room_prev = &chat_clients,
};
static struct bufferevent *chat_master;
static unsigned chat_guest_counter;
static struct chat_room *chat_rooms;
static size_t chat_nrooms;

/* A room is named by its block's first listen address. */
static struct chat_room *
chat_room_named(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < chat_nrooms; i++)
		if (chat_rooms[i].name_len == len &&
		    memcmp(chat_rooms[i].name, name, len) == 0)
			return &chat_rooms[i];
	return NULL;
}

static struct chat_room *
chat_room_of(const struct conf_server *server)
{
	size_t i;

	for (i = 0; i < chat_nrooms; i++)
		if (chat_rooms[i].server == server)
			return &chat_rooms[i];
	return NULL;
}

#define CHAT_ROOM_STAT(room, field, n) do { \
	if ((room) != NULL && (room)->stats != NULL) \
		(room)->stats->field += (n); \
} while (0)

static void
chat_destroy(struct worker_conn *wc)
{
	struct chat_conn *c = (struct chat_conn *)wc;

	c->room_prev->room_next = c->room_next;
	c->room_next->room_prev = c->room_prev;
	CHAT_ROOM_STAT(c->room, clients, -1);
	if (c->ops->websocket)
		CHAT_ROOM_STAT(c->room, websocket_clients, -1);
	if (c->ops->free != NULL)
		c->ops->free(c);
	bufferevent_free(c->bev);
	worker_conn_remove(&c->base);
	free(c);
}

static void
chat_drain(struct worker_conn *wc)
{
	(void)wc;	/* chat sessions go on until shutdown_timeout */
}

static void chat_close_after_output(struct chat_conn *c);

/* shutdown_timeout: a WebSocket member is told the server goes away
 * (1001), then closed once that has gone out; a TCP one has nothing to
 * say and is closed with the rest. */
static int
chat_going_away(struct worker_conn *wc)
{
	struct chat_conn *c = (struct chat_conn *)wc;

	if (c->ops->send_close == NULL || c->closing)
		return 0;
	c->ops->send_close(c, CHAT_CLOSE_STOPPING);
	chat_close_after_output(c);
	return 1;
}
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
	bufferevent_setcb(c->bev, NULL, chat_on_flushed_close,
	    chat_member_on_event, c);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		chat_destroy(&c->base);
}

/* Queues a line (ending in LF) for c, as its protocol frames it. */
static void
chat_put(struct chat_conn *c, const char *line, size_t len)
{
	c->ops->send_text(c, line, len);
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
		chat_put(c, notice, sizeof(notice) - 1);
		if (c->ops->send_close != NULL)
			c->ops->send_close(c, CHAT_CLOSE_TOO_SLOW);
		chat_close_after_output(c);
		chat_notice_dropped(c);
		return;
	}
	chat_put(c, line, len);
}

/* Delivers a line to this worker's clients of room, except `except`. */
static void
chat_deliver_local(struct chat_room *room, const char *line, size_t len,
    const struct chat_conn *except)
{
	struct chat_conn *c, *next;

	for (c = chat_clients.room_next; c != &chat_clients; c = next) {
		next = c->room_next;
		if (c != except && c->room == room && !c->closing) {
			chat_send(c, line, len);
			CHAT_ROOM_STAT(room, lines_out, 1);
			if (c->ops->websocket)
				CHAT_ROOM_STAT(room, websocket_lines_out, 1);
		}
	}
}

/* A line from another worker or host, to this worker's clients. */
static void
chat_room_deliver(struct chat_room *room, const struct chat_line *line)
{
	chat_deliver_local(room, line->text, line->len, NULL);
}

/* One frame to the master, for the other workers of this host. */
static void
chat_relay(const struct chat_room *room, const char *payload, size_t len)
{
	unsigned char head[CHAT_FRAME_HEADER + 1];
	uint32_t frame_len = htonl((uint32_t)(1 + room->name_len + len));

	if (chat_master == NULL)
		return;
	memcpy(head, &frame_len, sizeof(frame_len));
	head[CHAT_FRAME_HEADER] = (unsigned char)room->name_len;
	if (bufferevent_write(chat_master, head, sizeof(head)) == -1 ||
	    bufferevent_write(chat_master, room->name, room->name_len) == -1 ||
	    bufferevent_write(chat_master, payload, len) == -1)
		log_warnx("chat: cannot queue a line for the other workers");
}

/*
 * To every client of room here but `except`, to the other workers of
 * this host through the master, and, with redis, to the other hosts.
 * With redis, what the master relays is the frame Redis carries, so
 * every worker knows each line's sender and number (for the history).
 */
static void
chat_broadcast_room(struct chat_room *room, char kind, const char *line,
    size_t len, const struct chat_conn *except)
{
	struct chat_line cl;
	size_t flen;
	char *frame;

	chat_deliver_local(room, line, len, except);
	if (room->redis == NULL) {
		chat_relay(room, line, len);
		return;
	}
	cl.host = chat_host_id;
	cl.worker = chat_worker_id;
	cl.seq = ++room->seq;
	cl.kind = kind;
	cl.text = line;
	cl.len = len;
	flen = chat_frame_format(&cl, NULL, 0);
	frame = malloc(flen);
	if (frame == NULL) {
		log_error("chat: allocating a frame");
		return;
	}
	chat_frame_format(&cl, frame, flen);
	chat_history_add(room, &cl);
	chat_relay(room, frame, flen);
	chat_redis_publish(room, &cl, frame, flen);
	free(frame);
}

static void
chat_broadcast(struct chat_conn *from, const char *line, size_t len)
{
	chat_broadcast_room(from->room, CHAT_KIND_NOTICE, line, len, from);
}

struct chat_pending_notice {
	struct chat_room *room;
	char line[CHAT_NAME_MAX + 48];
};

static void
chat_on_pending_notice(evutil_socket_t fd, short what, void *arg)
{
	struct chat_pending_notice *n = arg;

	(void)fd;
	(void)what;
	chat_broadcast_room(n->room, CHAT_KIND_NOTICE, n->line,
	    strlen(n->line), NULL);
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
	n->room = c->room;
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
chat_on_line(struct chat_conn *c, const char *line, size_t len)
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
		CHAT_ROOM_STAT(c->room, lines_in, 1);
		if (c->ops->websocket)
			CHAT_ROOM_STAT(c->room, websocket_lines_in, 1);
		chat_broadcast_room(c->room, CHAT_KIND_LINE, out, total, c);
		free(out);
	}
}

void
chat_member_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct chat_conn *c = arg;

	if (net_bufferevent_event(bev, what, c->server->idle_timeout_ms))
		return;
	chat_member_gone(c);
}

/*
 * A joining client hears the room's last lines, each marked
 * "* history: ", then "* end of history".  What fits in half its queue:
 * the newest lines, if not all of them.
 */
static void
chat_send_history(struct chat_conn *c)
{
	static const char mark[] = "* history: ", end[] = "* end of history\n";
	struct chat_room *room = c->room;
	size_t cap, i, first, room_left = c->server->queue / 2;
	char *line;

	if (room == NULL || room->history_count == 0)
		return;
	cap = (size_t)c->server->chat_history;
	/* From the newest back, as far as the room allows. */
	for (first = room->history_count; first > 0; first--) {
		const struct chat_history_entry *e = &room->history[
		    (room->history_first + first - 1) % cap];

		if (e->len + sizeof(mark) > room_left)
			break;
		room_left -= e->len + sizeof(mark);
	}
	for (i = first; i < room->history_count; i++) {
		const struct chat_history_entry *e = &room->history[
		    (room->history_first + i) % cap];

		/* One line, so a WebSocket gets it as one message. */
		if ((line = malloc(sizeof(mark) - 1 + e->len)) == NULL) {
			log_warnx("chat: cannot queue the history for %s",
			    c->name);
			return;
		}
		memcpy(line, mark, sizeof(mark) - 1);
		memcpy(line + sizeof(mark) - 1, e->text, e->len);
		chat_put(c, line, sizeof(mark) - 1 + e->len);
		free(line);
	}
	chat_put(c, end, sizeof(end) - 1);
}

struct chat_conn *
chat_member_new(struct bufferevent *bev, struct conf_server *server,
    const struct chat_member_ops *ops, void *proto)
{
	struct chat_conn *c = calloc(1, sizeof(*c));
	char hello[96];
	int n;

	if (c == NULL) {
		log_error("chat: allocating a connection");
		return NULL;
	}
	c->bev = bev;
	c->server = server;
	c->ops = ops;
	c->proto = proto;
	c->room = chat_room_of(server);
	snprintf(c->name, sizeof(c->name), "guest%ld-%u", (long)getpid(),
	    ++chat_guest_counter);
	c->base.drain = chat_drain;
	c->base.destroy = chat_destroy;
	c->base.going_away = chat_going_away;
	worker_conn_add(&c->base);
	c->room_next = chat_clients.room_next;
	c->room_prev = &chat_clients;
	chat_clients.room_next->room_prev = c;
	chat_clients.room_next = c;
	CHAT_ROOM_STAT(c->room, clients, 1);
	if (ops->websocket)
		CHAT_ROOM_STAT(c->room, websocket_clients, 1);
	n = snprintf(hello, sizeof(hello), "* welcome, %s\n", c->name);
	chat_put(c, hello, (size_t)n);
	chat_send_history(c);
	chat_notice(c, "* %s joined%s\n", c->name, "");
	return c;
}

void
chat_member_tell(struct chat_conn *c, const char *line, size_t len)
{
	chat_send(c, line, len);
}

void
chat_member_said(struct chat_conn *c, const char *line, size_t len)
{
	chat_on_line(c, line, len);
}

void
chat_member_leave(struct chat_conn *c)
{
	if (c->closing)
		return;
	chat_notice(c, "* %s left%s\n", c->name, "");
	chat_close_after_output(c);
}

void
chat_member_gone(struct chat_conn *c)
{
	if (!c->closing)
		chat_notice(c, "* %s left%s\n", c->name, "");
	chat_destroy(&c->base);
}

/*
 * A line from another worker of this host.  A room with redis gets the
 * frame that Redis carries (its sender and number feed the history); a
 * worker still on a config without redis sends the bare line.
 */
static void
chat_from_master(const char *name, size_t name_len, const char *payload,
    size_t len)
{
	struct chat_room *room = chat_room_named(name, name_len);
	struct chat_line line;
	const char *why;

	if (room == NULL)
		return;
	if (len < 4 || memcmp(payload, "fl1 ", 4) != 0) {
		chat_deliver_local(room, payload, len, NULL);
		return;
	}
	why = chat_frame_parse(payload, len, CHAT_FRAME_MAX, &line);
	if (why != NULL) {
		log_warnx("chat: a bad frame from another worker: %s", why);
		return;
	}
	chat_history_add(room, &line);
	chat_room_deliver(room, &line);
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
			chat_from_master((char *)frame + CHAT_FRAME_HEADER + 1,
			    room_len, (char *)frame + CHAT_FRAME_HEADER + 1 +
			    room_len, len - 1 - room_len);
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
	chat_redis_flush();
	if (chat_master == NULL ||
	    evbuffer_get_length(bufferevent_get_output(chat_master)) == 0)
		return 0;
	bufferevent_setcb(chat_master, chat_on_master_read,
	    chat_on_master_flushed, chat_on_master_event, w->base);
	return 1;
}

/* This worker's rooms: one per chat block, with its counters. */
static int
chat_rooms_init(struct worker *w)
{
	size_t i, nstats = 0;

	chat_rooms = calloc(w->conf->nservers + 1, sizeof(*chat_rooms));
	if (chat_rooms == NULL) {
		log_error("chat: allocating the rooms");
		return -1;
	}
	for (i = 0; i < w->conf->nservers; i++) {
		struct conf_server *s = &w->conf->servers[i];
		struct chat_room *room = &chat_rooms[chat_nrooms];

		if (s->kind != CONF_SERVER_CHAT)
			continue;
		room->server = s;
		room->name = s->listens[0].text;
		room->name_len = strlen(room->name);
		if (worker_stats != NULL && nstats < STATS_CHAT_ROOMS) {
			room->stats = &worker_stats->chat_rooms[nstats++];
			snprintf(room->stats->name, sizeof(room->stats->name),
			    "%s", room->name);
		}
		chat_nrooms++;
	}
	return chat_redis_init(w->base, chat_rooms, chat_nrooms,
	    chat_room_deliver);
}

int
chat_worker_init(struct worker *w, int master_fd)
{
	if (chat_rooms_init(w) == -1)
		return -1;
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
