/*
 * chat_stats.c: the chat's part of the status route (worker/http/
 * status.c): every worker's chat counters (common/stats.h) added up by
 * room (lines, clients, and of those the WebSockets'), with the state of
 * the workers' Redis connections, as JSON, Prometheus text and HTML.
 */
#include "config.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include <event2/buffer.h>

#include "common/stats.h"
#include "worker/chat_stats.h"

/* enum stats_redis_state */
static const char *const chat_stats_states[] = {
	"none", "up", "connecting", "down",
};

struct chat_stats {
	int64_t state, workers_up, reconnects, publish_failures;
	int64_t frames_dropped, lines_lost;
	struct {
		const char *name;
		int64_t lines_in, lines_out, history;
		int64_t clients, ws_clients, ws_lines_in, ws_lines_out;
	} rooms[16];
	size_t nrooms;
};

static void
chat_stats_room(struct chat_stats *c, const struct stats_chat_room *r)
{
	size_t i;

	for (i = 0; i < c->nrooms; i++)
		if (strcmp(c->rooms[i].name, r->name) == 0)
			break;
	if (i == c->nrooms) {
		if (c->nrooms == sizeof(c->rooms) / sizeof(c->rooms[0]))
			return;
		c->rooms[c->nrooms++].name = r->name;
	}
	c->rooms[i].lines_in += r->lines_in;
	c->rooms[i].lines_out += r->lines_out;
	c->rooms[i].clients += r->clients;
	c->rooms[i].ws_clients += r->websocket_clients;
	c->rooms[i].ws_lines_in += r->websocket_lines_in;
	c->rooms[i].ws_lines_out += r->websocket_lines_out;
	/* The length of the one list in Redis, as the workers last saw it. */
	if (r->history > c->rooms[i].history)
		c->rooms[i].history = r->history;
}

static void
chat_stats_sum(const struct stats_shared *s, struct chat_stats *c)
{
	size_t i, k;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < STATS_MAX_WORKERS; i++) {
		const struct stats_worker *w = &s->workers[i];

		if (w->pid <= 0)
			continue;
		if (w->chat_redis_state > c->state &&
		    w->chat_redis_state <= STATS_REDIS_DOWN)
			c->state = w->chat_redis_state;
		c->workers_up += w->chat_redis_state == STATS_REDIS_UP;
		c->reconnects += w->chat_redis_reconnects;
		c->publish_failures += w->chat_redis_publish_failures;
		c->frames_dropped += w->chat_redis_frames_dropped;
		c->lines_lost += w->chat_redis_lines_lost;
		for (k = 0; k < STATS_CHAT_ROOMS; k++)
			if (w->chat_rooms[k].name[0] != '\0')
				chat_stats_room(c, &w->chat_rooms[k]);
	}
}

void
chat_stats_json(struct evbuffer *b, const struct stats_shared *s)
{
	struct chat_stats c;
	size_t i;

	chat_stats_sum(s, &c);
	evbuffer_add_printf(b, "\"chat\":{\"redis_state\":\"%s\","
	    "\"redis_workers_up\":%" PRId64 ",\"redis_reconnects\":%" PRId64
	    ",\"redis_publish_failures\":%" PRId64 ",\"redis_frames_dropped\":%"
	    PRId64 ",\"redis_lines_lost\":%" PRId64 ",\"rooms\":[",
	    chat_stats_states[c.state], c.workers_up, c.reconnects,
	    c.publish_failures, c.frames_dropped, c.lines_lost);
	for (i = 0; i < c.nrooms; i++)
		evbuffer_add_printf(b, "%s{\"room\":\"%s\",\"lines_in\":%"
		    PRId64 ",\"lines_out\":%" PRId64 ",\"history\":%" PRId64
		    ",\"clients\":%" PRId64 ",\"websocket_clients\":%" PRId64
		    ",\"websocket_lines_in\":%" PRId64
		    ",\"websocket_lines_out\":%" PRId64 "}", i > 0 ? "," : "",
		    c.rooms[i].name, c.rooms[i].lines_in, c.rooms[i].lines_out,
		    c.rooms[i].history, c.rooms[i].clients, c.rooms[i].ws_clients,
		    c.rooms[i].ws_lines_in, c.rooms[i].ws_lines_out);
	evbuffer_add_printf(b, "]}");
}

static void
chat_stats_metric(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* The per-room figures, one metric each with a room label. */
static void
chat_stats_rooms_prometheus(struct evbuffer *b, const struct chat_stats *c)
{
	static const struct {
		const char *name, *type, *help;
		size_t offset;
	} metrics[] = {
		{ "forkloop_chat_lines_in_total", "counter",
		    "Chat lines said by clients, by room.",
		    offsetof(struct chat_stats, rooms[0].lines_in) },
		{ "forkloop_chat_lines_out_total", "counter",
		    "Chat lines handed to clients, by room.",
		    offsetof(struct chat_stats, rooms[0].lines_out) },
		{ "forkloop_chat_history_lines", "gauge",
		    "Lines in a chat room's history in Redis, by room.",
		    offsetof(struct chat_stats, rooms[0].history) },
		{ "forkloop_chat_clients", "gauge",
		    "Chat clients connected, TCP and WebSocket, by room.",
		    offsetof(struct chat_stats, rooms[0].clients) },
		{ "forkloop_chat_websocket_clients", "gauge",
		    "Chat clients connected over WebSocket, by room.",
		    offsetof(struct chat_stats, rooms[0].ws_clients) },
		{ "forkloop_chat_websocket_lines_in_total", "counter",
		    "Chat lines said by WebSocket clients, by room.",
		    offsetof(struct chat_stats, rooms[0].ws_lines_in) },
		{ "forkloop_chat_websocket_lines_out_total", "counter",
		    "Chat lines handed to WebSocket clients, by room.",
		    offsetof(struct chat_stats, rooms[0].ws_lines_out) },
	};
	size_t m, i, stride = sizeof(c->rooms[0]);

	for (m = 0; m < sizeof(metrics) / sizeof(metrics[0]); m++) {
		chat_stats_metric(b, metrics[m].name, metrics[m].type,
		    metrics[m].help);
		for (i = 0; i < c->nrooms; i++)
			evbuffer_add_printf(b, "%s{room=\"%s\"} %" PRId64 "\n",
			    metrics[m].name, c->rooms[i].name,
			    *(const int64_t *)((const char *)c +
			    metrics[m].offset + i * stride));
	}
}

void
chat_stats_prometheus(struct evbuffer *b, const struct stats_shared *s)
{
	static const struct {
		const char *name, *type, *help;
		size_t offset;
	} counters[] = {
		{ "forkloop_chat_redis_reconnects_total", "counter",
		    "Chat's Redis connections made again after a loss.",
		    offsetof(struct chat_stats, reconnects) },
		{ "forkloop_chat_redis_publish_failures_total", "counter",
		    "Chat lines not published to Redis (away or stalled).",
		    offsetof(struct chat_stats, publish_failures) },
		{ "forkloop_chat_redis_frames_dropped_total", "counter",
		    "Frames on a chat channel dropped as invalid or repeated.",
		    offsetof(struct chat_stats, frames_dropped) },
		{ "forkloop_chat_redis_lines_lost_total", "counter",
		    "Other hosts' chat lines missed (gaps in their numbers).",
		    offsetof(struct chat_stats, lines_lost) },
		{ "forkloop_chat_redis_workers_up", "gauge",
		    "Workers whose chat Redis connections are all up.",
		    offsetof(struct chat_stats, workers_up) },
	};
	struct chat_stats c;
	size_t i;

	chat_stats_sum(s, &c);
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		chat_stats_metric(b, counters[i].name, counters[i].type,
		    counters[i].help);
		evbuffer_add_printf(b, "%s %" PRId64 "\n", counters[i].name,
		    *(const int64_t *)((const char *)&c + counters[i].offset));
	}
	chat_stats_rooms_prometheus(b, &c);
}

void
chat_stats_html(struct evbuffer *b, const struct stats_shared *s)
{
	struct chat_stats c;
	size_t i;

	chat_stats_sum(s, &c);
	/* A server without chat shows no chat section. */
	if (c.nrooms == 0)
		return;
	evbuffer_add_printf(b, "<h2>Chat</h2>\n<p>Redis %s (%" PRId64
	    " workers up), %" PRId64 " reconnects, %" PRId64 " publish "
	    "failures, %" PRId64 " frames dropped, %" PRId64 " lines lost.</p>\n"
	    "<table id=\"chat\"><tr><th>room</th><th>lines in</th>"
	    "<th>lines out</th><th>history</th><th>clients</th>"
	    "<th>WebSocket clients</th><th>WebSocket lines in</th>"
	    "<th>WebSocket lines out</th></tr>\n",
	    chat_stats_states[c.state], c.workers_up, c.reconnects,
	    c.publish_failures, c.frames_dropped, c.lines_lost);
	for (i = 0; i < c.nrooms; i++)
		evbuffer_add_printf(b, "<tr><td>%s</td><td>%" PRId64 "</td><td>%"
		    PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td>%"
		    PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64
		    "</td></tr>\n", c.rooms[i].name, c.rooms[i].lines_in,
		    c.rooms[i].lines_out, c.rooms[i].history, c.rooms[i].clients,
		    c.rooms[i].ws_clients, c.rooms[i].ws_lines_in,
		    c.rooms[i].ws_lines_out);
	evbuffer_add_printf(b, "</table>\n");
}
