/*
 * chat_redis.c: a chat room across hosts, through Redis pub/sub (the
 * design is at the top of chat.c).  This file holds the worker's Redis
 * connections, driven by its own libevent loop through hiredis's
 * libevent adapter, and the room's history kept in Redis; the frame a
 * line crosses hosts in is chat_frame.c's.
 *
 * Connections.  Each worker holds, per Redis server its chat blocks name,
 * one subscriber connection (SUBSCRIBE to every room's channel: in that
 * state a connection can run no other command) and one publisher
 * connection (PUBLISH, and RPUSH/LTRIM/LRANGE for the history).  Fifty
 * hosts of sixteen workers make 1,600 connections, 3,200 while a reload
 * runs old and new workers side by side: well inside Redis's default
 * maxclients of 10,000; one connection per room would multiply that by
 * the rooms.
 *
 * Receiving.  A host drops the frames with its own HOST: the master
 * relay has delivered them already.  A receiver remembers each WORKER's
 * last SEQ: a frame at or below it is a repeat and dropped, a jump over
 * it counts the lines lost on the way.  Anything else on the channel
 * (another format, too long, binary junk) is dropped and logged, at most
 * once a second.
 *
 * Faults.  Pub/sub is at-most-once: a line published while this worker's
 * publisher is down, or while more than CHAT_REDIS_PENDING bytes wait
 * for Redis's answer (a stalled Redis), is not queued: it is counted as a
 * publish failure and reaches only this host.  A lost connection is
 * made again after a backoff that doubles from 50 ms up to 500 ms, with
 * up to half again of jitter, so a returning Redis is heard within a
 * second; the loss and the return are logged once each.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#include "common/log.h"
#include "common/stats.h"
#include "conf/conf.h"
#include "worker/chat_frame.h"
#include "worker/chat_history.h"
#include "worker/chat_redis.h"
#include "worker/conns.h"

/* Published bytes waiting for Redis's answer, per worker. */
#define CHAT_REDIS_PENDING	(4 * 1024 * 1024)
#define CHAT_REDIS_CONNECT_MS	3000
#define CHAT_REDIS_BACKOFF_MS	50
#define CHAT_REDIS_BACKOFF_MAX_MS 500
#define CHAT_PEERS_MAX		1024

struct chat_redis_link;

struct chat_redis_conn {
	struct chat_redis_link *link;
	const char *role;		/* "subscriber" or "publisher" */
	redisAsyncContext *ac;		/* NULL while down */
	int up;				/* connected */
	int ever_up;
	int down_logged;		/* the loss has been said */
	int stopping;			/* the worker is going */
	int refused;			/* AUTH or SELECT said no: said once */
	unsigned attempts;		/* failed since the last success */
	struct event *retry;
	struct event *connect_timer;
	size_t pending;			/* bytes published, not yet answered */
};

/* One Redis server (address, user, password, db) and its rooms. */
struct chat_redis_link {
	const struct conf_server *conf;	/* of its first room */
	struct chat_room **rooms;
	size_t nrooms;
	struct chat_redis_conn sub, pub;
};

static struct event_base *chat_redis_base;
/* The room's, given at init: Redis hands lines up without knowing it. */
static chat_redis_deliver_fn *chat_redis_deliver;
static struct chat_redis_link *chat_links;
static size_t chat_nlinks;

/*
 * Stats.
 */

static void
chat_redis_update_state(void)
{
	int64_t state = chat_nlinks > 0 ? STATS_REDIS_UP : STATS_REDIS_NONE;
	size_t i;

	for (i = 0; i < chat_nlinks; i++) {
		const struct chat_redis_conn *c[2] = { &chat_links[i].sub,
		    &chat_links[i].pub };
		int k;

		for (k = 0; k < 2; k++) {
			if (c[k]->up && !c[k]->refused)
				continue;
			if (c[k]->down_logged)
				state = STATS_REDIS_DOWN;
			else if (state == STATS_REDIS_UP)
				state = STATS_REDIS_CONNECTING;
		}
	}
	if (worker_stats != NULL)
		worker_stats->chat_redis_state = state;
}

#define CHAT_STAT(field, n) \
	do { if (worker_stats != NULL) worker_stats->field += (n); } while (0)

/*
 * Connections.
 */

static void chat_redis_connect(struct chat_redis_conn *c);

static const char *
chat_redis_addr(const struct chat_redis_conn *c)
{
	return c->link->conf->redis;
}

static void
chat_redis_schedule(struct chat_redis_conn *c)
{
	unsigned shift = c->attempts < 8 ? c->attempts : 8;
	long ms = (long)CHAT_REDIS_BACKOFF_MS << shift;
	struct timeval tv;

	if (ms > CHAT_REDIS_BACKOFF_MAX_MS)
		ms = CHAT_REDIS_BACKOFF_MAX_MS;
	/* Jitter: the workers of 50 hosts must not come back in step. */
	ms += random() % (ms / 2 + 1);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (evtimer_add(c->retry, &tv) == -1)
		log_warnx("chat: cannot arm the redis reconnect timer");
}

/* The connection is gone (ac already freed or being freed). */
static void
chat_redis_failed(struct chat_redis_conn *c, const char *why)
{
	c->ac = NULL;
	c->up = 0;
	c->pending = 0;
	evtimer_del(c->connect_timer);
	if (c->stopping)
		return;
	if (!c->down_logged) {
		log_warnx("chat: redis %s %s %s: %s; reconnecting",
		    chat_redis_addr(c), c->role,
		    c->ever_up ? "lost" : "unreachable", why);
		c->down_logged = 1;
	} else {
		log_debug("chat: redis %s %s: %s", chat_redis_addr(c),
		    c->role, why);
	}
	c->attempts++;
	chat_redis_update_state();
	chat_redis_schedule(c);
}

static void
chat_redis_on_connect(const redisAsyncContext *ac, int status)
{
	struct chat_redis_conn *c = ac->data;

	evtimer_del(c->connect_timer);
	if (status != REDIS_OK) {
		/* hiredis frees ac after this. */
		chat_redis_failed(c, ac->errstr);
		return;
	}
	c->up = 1;
	/* Refused last time: it says so again, or accepted, in on_setup. */
	if (c->refused)
		return;
	if (c->ever_up)
		CHAT_STAT(chat_redis_reconnects, 1);
	if (c->down_logged || !c->ever_up)
		log_info("chat: redis %s %s connected%s", chat_redis_addr(c),
		    c->role, c->down_logged ? " again" : "");
	c->ever_up = 1;
	c->down_logged = 0;
	c->attempts = 0;
	chat_redis_update_state();
}

static void
chat_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct chat_redis_conn *c = ac->data;

	chat_redis_failed(c, status == REDIS_OK ? "closed" :
	    ac->errstr[0] != '\0' ? ac->errstr : "connection lost");
}

static void
chat_redis_on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct chat_redis_conn *c = arg;
	redisAsyncContext *ac = c->ac;

	(void)fd;
	(void)what;
	if (ac == NULL || c->up)
		return;
	c->ac = NULL;
	/* Not connected: hiredis calls no disconnect callback. */
	redisAsyncFree(ac);
	chat_redis_failed(c, "connect timed out");
}

static void
chat_redis_on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	chat_redis_connect(arg);
}

/*
 * AUTH and SELECT: a refusal ends the connection, which is tried again
 * (the password may be set in Redis later); said once, as is the end of
 * it.
 */
static void
chat_redis_on_setup(redisAsyncContext *ac, void *r, void *arg)
{
	const redisReply *reply = r;
	struct chat_redis_conn *c = ac->data;

	if (reply == NULL)
		return;
	if (reply->type != REDIS_REPLY_ERROR) {
		if (c->refused)
			log_info("chat: redis %s %s accepted %s",
			    chat_redis_addr(c), c->role, (const char *)arg);
		c->refused = 0;
		c->down_logged = 0;
		c->ever_up = 1;
		chat_redis_update_state();
		return;
	}
	if (!c->refused)
		log_warnx("chat: redis %s %s refused %s: %s",
		    chat_redis_addr(c), c->role, (const char *)arg,
		    reply->str);
	c->refused = 1;
	c->down_logged = 1;
	redisAsyncDisconnect(ac);
}

/* Drops a frame not ours to deliver, saying so at most once a second. */
static void
chat_redis_drop(const struct chat_room *room, const char *why, size_t len)
{
	static time_t last;
	static unsigned quiet;
	time_t now = time(NULL);

	CHAT_STAT(chat_redis_frames_dropped, 1);
	if (now == last) {
		quiet++;
		return;
	}
	log_warnx("chat: dropped a frame of %zu bytes on redis channel %s: "
	    "%s%s", len, room->server->redis_channel, why,
	    quiet > 0 ? " (and others, not logged)" : "");
	last = now;
	quiet = 0;
}

/* The sender's place in its sequence: 0 to deliver, -1 for a repeat. */
static int
chat_redis_check_seq(struct chat_room *room, const struct chat_line *line)
{
	struct chat_peer *p = NULL, *oldest = NULL;
	size_t i;

	room->clock++;
	for (i = 0; i < room->npeers; i++) {
		if (room->peers[i].worker == line->worker) {
			p = &room->peers[i];
			break;
		}
		if (oldest == NULL || room->peers[i].used < oldest->used)
			oldest = &room->peers[i];
	}
	if (p == NULL) {
		if (room->npeers < CHAT_PEERS_MAX)
			p = &room->peers[room->npeers++];
		else
			p = oldest;
		p->worker = line->worker;
		p->seq = line->seq - 1;
	}
	p->used = room->clock;
	if (line->seq <= p->seq)
		return -1;
	if (line->seq > p->seq + 1)
		CHAT_STAT(chat_redis_lines_lost, (int64_t)(line->seq - p->seq - 1));
	p->seq = line->seq;
	return 0;
}

static void
chat_redis_take(struct chat_room *room, const char *frame, size_t len)
{
	size_t max = room->server->max_line + CHAT_NAME_MAX + 64;
	struct chat_line line;
	const char *why;

	why = chat_frame_parse(frame, len, max, &line);
	if (why != NULL) {
		chat_redis_drop(room, why, len);
		return;
	}
	/* This host's own lines came through the master already. */
	if (line.host == chat_host_id)
		return;
	if (chat_redis_check_seq(room, &line) == -1) {
		chat_redis_drop(room, "a repeated line", len);
		return;
	}
	chat_history_add(room, &line);
	chat_redis_deliver(room, &line);
}

/* Replies on the subscriber: confirmations, then messages. */
static void
chat_redis_on_message(redisAsyncContext *ac, void *r, void *arg)
{
	const redisReply *reply = r;
	struct chat_redis_link *link = arg;
	const redisReply *type, *channel, *payload;
	size_t i;

	(void)ac;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 3)
		return;
	type = reply->element[0];
	channel = reply->element[1];
	payload = reply->element[2];
	if (type->type != REDIS_REPLY_STRING || strcmp(type->str, "message") != 0 ||
	    channel->type != REDIS_REPLY_STRING ||
	    payload->type != REDIS_REPLY_STRING)
		return;
	for (i = 0; i < link->nrooms; i++) {
		struct chat_room *room = link->rooms[i];

		if (strlen(room->server->redis_channel) == (size_t)channel->len &&
		    memcmp(room->server->redis_channel, channel->str,
		    (size_t)channel->len) == 0) {
			chat_redis_take(room, payload->str, (size_t)payload->len);
			return;
		}
	}
}

static void
chat_redis_on_published(redisAsyncContext *ac, void *r, void *arg)
{
	const redisReply *reply = r;
	struct chat_redis_conn *c = ac->data;
	size_t len = (size_t)(uintptr_t)arg;

	c->pending = c->pending > len ? c->pending - len : 0;
	if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
		CHAT_STAT(chat_redis_publish_failures, 1);
}

static void
chat_redis_on_pushed(redisAsyncContext *ac, void *r, void *arg)
{
	const redisReply *reply = r;
	struct chat_room *room = arg;
	int64_t cap = room->server->chat_history;

	(void)ac;
	if (reply == NULL || reply->type != REDIS_REPLY_INTEGER ||
	    room->stats == NULL)
		return;
	room->stats->history = reply->integer < cap ? reply->integer : cap;
}

static void
chat_redis_on_history(redisAsyncContext *ac, void *r, void *arg)
{
	const redisReply *reply = r;

	(void)ac;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
		return;
	chat_history_seed(arg, reply);
}

static void
chat_redis_history_key(const struct chat_room *room, char *key, size_t size)
{
	snprintf(key, size, "%s:history", room->server->redis_channel);
}

/* What each connection says first, pipelined behind the connect. */
static void
chat_redis_setup(struct chat_redis_conn *c)
{
	const struct conf_server *s = c->link->conf;
	redisAsyncContext *ac = c->ac;
	size_t i;

	if (s->redis_password != NULL && s->redis_user != NULL)
		redisAsyncCommand(ac, chat_redis_on_setup, "AUTH", "AUTH %s %s",
		    s->redis_user, s->redis_password);
	else if (s->redis_password != NULL)
		redisAsyncCommand(ac, chat_redis_on_setup, "AUTH", "AUTH %s",
		    s->redis_password);
	if (c == &c->link->sub) {
		const char **argv = calloc(c->link->nrooms + 1, sizeof(*argv));

		if (argv == NULL) {
			log_error("chat: subscribing");
			return;
		}
		argv[0] = "SUBSCRIBE";
		for (i = 0; i < c->link->nrooms; i++)
			argv[i + 1] = c->link->rooms[i]->server->redis_channel;
		redisAsyncCommandArgv(ac, chat_redis_on_message, c->link,
		    (int)c->link->nrooms + 1, argv, NULL);
		free(argv);
		return;
	}
	if (s->redis_db != 0)
		redisAsyncCommand(ac, chat_redis_on_setup, "SELECT",
		    "SELECT %d", s->redis_db);
	for (i = 0; i < c->link->nrooms; i++) {
		struct chat_room *room = c->link->rooms[i];
		char key[256];

		if (room->server->chat_history == 0)
			continue;
		chat_redis_history_key(room, key, sizeof(key));
		room->history_mark = room->history_added;
		redisAsyncCommand(ac, chat_redis_on_history, room,
		    "LRANGE %s %d -1", key, -room->server->chat_history);
	}
}

static void
chat_redis_connect(struct chat_redis_conn *c)
{
	const struct conf_server *s = c->link->conf;
	struct timeval tv = { CHAT_REDIS_CONNECT_MS / 1000,
	    (CHAT_REDIS_CONNECT_MS % 1000) * 1000 };
	redisAsyncContext *ac;

	ac = s->redis_port == 0 ? redisAsyncConnectUnix(s->redis_host) :
	    redisAsyncConnect(s->redis_host, s->redis_port);
	if (ac == NULL) {
		chat_redis_failed(c, "out of memory");
		return;
	}
	if (ac->err != 0) {
		char why[128];

		snprintf(why, sizeof(why), "%s", ac->errstr);
		redisAsyncFree(ac);
		chat_redis_failed(c, why);
		return;
	}
	ac->data = c;
	if (redisLibeventAttach(ac, chat_redis_base) != REDIS_OK) {
		redisAsyncFree(ac);
		chat_redis_failed(c, "cannot watch the connection");
		return;
	}
	redisAsyncSetConnectCallback(ac, chat_redis_on_connect);
	redisAsyncSetDisconnectCallback(ac, chat_redis_on_disconnect);
	c->ac = ac;
	chat_redis_setup(c);
	if (evtimer_add(c->connect_timer, &tv) == -1)
		log_warnx("chat: cannot arm the redis connect timer");
	chat_redis_update_state();
}

/*
 * Publishing.
 */

static int
chat_redis_send(struct chat_redis_conn *c, redisCallbackFn *fn, void *arg,
    const char *cmd, const char *key, const char *frame, size_t len)
{
	const char *argv[3] = { cmd, key, frame };
	size_t lens[3] = { strlen(cmd), strlen(key), len };

	return redisAsyncCommandArgv(c->ac, fn, arg, 3, argv, lens);
}

void
chat_redis_publish(struct chat_room *room, const struct chat_line *line,
    const char *frame, size_t len)
{
	struct chat_redis_conn *c;
	char key[256];

	if (room->redis == NULL)
		return;
	c = &room->redis->pub;
	if (!c->up || c->pending + len > CHAT_REDIS_PENDING) {
		CHAT_STAT(chat_redis_publish_failures, 1);
		return;
	}
	if (chat_redis_send(c, chat_redis_on_published, (void *)(uintptr_t)len,
	    "PUBLISH", room->server->redis_channel, frame, len) != REDIS_OK) {
		CHAT_STAT(chat_redis_publish_failures, 1);
		return;
	}
	c->pending += len;
	if (room->server->chat_history == 0 || line->kind != CHAT_KIND_LINE)
		return;
	chat_redis_history_key(room, key, sizeof(key));
	chat_redis_send(c, chat_redis_on_pushed, room, "RPUSH", key, frame,
	    len);
	redisAsyncCommand(c->ac, NULL, NULL, "LTRIM %s %d -1", key,
	    -room->server->chat_history);
}

/*
 * Start and end.
 */

static int
chat_redis_same_server(const struct conf_server *a,
    const struct conf_server *b)
{
	return strcmp(a->redis_host, b->redis_host) == 0 &&
	    a->redis_port == b->redis_port && a->redis_db == b->redis_db &&
	    (a->redis_user == NULL) == (b->redis_user == NULL) &&
	    (a->redis_user == NULL || strcmp(a->redis_user,
	    b->redis_user) == 0) &&
	    (a->redis_password == NULL) == (b->redis_password == NULL) &&
	    (a->redis_password == NULL || strcmp(a->redis_password,
	    b->redis_password) == 0);
}

static struct chat_redis_link *
chat_redis_link_for(struct chat_room *room)
{
	struct chat_redis_link *link;
	struct chat_room **rooms;
	size_t i;

	for (i = 0; i < chat_nlinks; i++)
		if (chat_redis_same_server(chat_links[i].conf, room->server))
			break;
	link = &chat_links[i];
	if (i == chat_nlinks) {
		memset(link, 0, sizeof(*link));
		link->conf = room->server;
		chat_nlinks++;
	}
	rooms = realloc(link->rooms, (link->nrooms + 1) * sizeof(*rooms));
	if (rooms == NULL) {
		log_error("chat: allocating a redis link");
		return NULL;
	}
	link->rooms = rooms;
	rooms[link->nrooms++] = room;
	return link;
}

static int
chat_redis_conn_init(struct chat_redis_link *link, struct chat_redis_conn *c,
    const char *role)
{
	c->link = link;
	c->role = role;
	c->retry = evtimer_new(chat_redis_base, chat_redis_on_retry, c);
	c->connect_timer = evtimer_new(chat_redis_base,
	    chat_redis_on_connect_timeout, c);
	if (c->retry == NULL || c->connect_timer == NULL) {
		log_errorx("chat: cannot create the redis timers");
		return -1;
	}
	chat_redis_connect(c);
	return 0;
}

int
chat_redis_init(struct event_base *base, struct chat_room *rooms,
    size_t nrooms, chat_redis_deliver_fn *deliver)
{
	size_t i;

	chat_redis_base = base;
	chat_redis_deliver = deliver;
	chat_frame_ids_init();
	/* The reconnect jitter differs from worker to worker. */
	srandom((unsigned)chat_worker_id);
	chat_links = calloc(nrooms + 1, sizeof(*chat_links));
	if (chat_links == NULL) {
		log_error("chat: allocating redis links");
		return -1;
	}
	for (i = 0; i < nrooms; i++) {
		struct chat_room *room = &rooms[i];

		if (room->server->redis == NULL)
			continue;
		if (room->server->chat_history > 0) {
			room->history = calloc((size_t)room->server->chat_history,
			    sizeof(*room->history));
			if (room->history == NULL) {
				log_error("chat: allocating the history");
				return -1;
			}
		}
		room->peers = calloc(CHAT_PEERS_MAX, sizeof(*room->peers));
		if (room->peers == NULL) {
			log_error("chat: allocating the senders' table");
			return -1;
		}
		room->redis = chat_redis_link_for(room);
		if (room->redis == NULL)
			return -1;
	}
	for (i = 0; i < chat_nlinks; i++)
		if (chat_redis_conn_init(&chat_links[i], &chat_links[i].sub,
		    "subscriber") == -1 ||
		    chat_redis_conn_init(&chat_links[i], &chat_links[i].pub,
		    "publisher") == -1)
			return -1;
	chat_redis_update_state();
	return 0;
}

/*
 * Before the worker exits: what its clients said last is still in the
 * publisher's buffer.  Write it out, waiting at most half a second.
 */
void
chat_redis_flush(void)
{
	struct timespec start, now;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < chat_nlinks; i++) {
		struct chat_redis_conn *c = &chat_links[i].pub;
		int done = 0;

		chat_links[i].sub.stopping = c->stopping = 1;
		while (c->ac != NULL && c->up && !done) {
			struct pollfd pfd = { c->ac->c.fd, POLLOUT, 0 };
			long left;

			if (redisBufferWrite(&c->ac->c, &done) == REDIS_ERR)
				break;
			if (done)
				break;
			clock_gettime(CLOCK_MONOTONIC, &now);
			left = 500 - ((now.tv_sec - start.tv_sec) * 1000 +
			    (now.tv_nsec - start.tv_nsec) / 1000000);
			if (left <= 0)
				break;
			if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR) {
				log_warn("chat: waiting to write to redis");
				break;
			}
		}
	}
}
