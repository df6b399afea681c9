/*
 * upstream_stats.c: each upstream server's state for the status route.
 *
 * Health is passive and per worker (upstream.c): a worker that saw a
 * server fail max_fails times leaves it alone for fail_timeout, and says
 * until when in its stats entry.  A server is shown with how many of the
 * workers of this generation (which share this configuration, so its
 * servers' order) have it down now: "up" when none does, "down" when all
 * do, "partial" between.
 */
#include "config.h"

#include <inttypes.h>
#include <sys/time.h>

#include <event2/buffer.h>

#include "common/stats.h"
#include "worker/conns.h"
#include "worker/http/upstream_stats.h"

struct upstream_state {
	int workers;		/* live workers of this generation */
	int down;		/* of which have the server down */
};

static int64_t
upstream_stats_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static struct upstream_state
upstream_stats_state(const struct stats_shared *s, size_t index, int64_t now)
{
	struct upstream_state st = { 0, 0 };
	size_t i;

	for (i = 0; i < STATS_MAX_WORKERS; i++) {
		const struct stats_worker *w = &s->workers[i];

		if (w->pid <= 0 || w->generation != worker_self->generation)
			continue;
		st.workers++;
		if (index < STATS_UPSTREAM_SERVERS &&
		    w->upstream_down_until_ms[index] > now)
			st.down++;
	}
	return st;
}

static const char *
upstream_stats_word(struct upstream_state st)
{
	if (st.down == 0)
		return "up";
	return st.down >= st.workers ? "down" : "partial";
}

/* Calls fn for each server shown, with its upstream and state. */
typedef void upstream_stats_fn(struct evbuffer *, const struct conf_upstream *,
    const struct conf_upstream_server *, struct upstream_state, int first);

static void
upstream_stats_each(struct evbuffer *b, const struct stats_shared *s,
    upstream_stats_fn *fn)
{
	const struct conf *conf;
	int64_t now = upstream_stats_now_ms();
	size_t i, j, index = 0;
	int first = 1;

	if (worker_self == NULL || (conf = worker_self->conf) == NULL)
		return;
	for (i = 0; i < conf->nupstreams; i++) {
		const struct conf_upstream *u = conf->upstreams[i];

		for (j = 0; j < u->nservers; j++, index++) {
			if (index >= STATS_UPSTREAM_SERVERS)
				return;
			fn(b, u, &u->servers[j],
			    upstream_stats_state(s, index, now), first);
			first = 0;
		}
	}
}

/* Names and addresses are the config's: no quote or backslash can be in
 * an address, and an upstream name is a bare word, but escape anyway. */
static void
upstream_stats_json_str(struct evbuffer *b, const char *v)
{
	evbuffer_add(b, "\"", 1);
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			evbuffer_add(b, "\\", 1);
		if ((unsigned char)*v < 0x20)
			evbuffer_add_printf(b, "\\u%04x", (unsigned char)*v);
		else
			evbuffer_add(b, v, 1);
	}
	evbuffer_add(b, "\"", 1);
}

static void
upstream_stats_json_one(struct evbuffer *b, const struct conf_upstream *u,
    const struct conf_upstream_server *sv, struct upstream_state st, int first)
{
	evbuffer_add_printf(b, "%s\n{\"upstream\":", first ? "" : ",");
	upstream_stats_json_str(b, u->name);
	evbuffer_add_printf(b, ",\"server\":");
	upstream_stats_json_str(b, sv->text);
	evbuffer_add_printf(b, ",\"weight\":%d,\"backup\":%s,\"state\":\"%s\","
	    "\"down_workers\":%d,\"workers\":%d}", sv->weight,
	    sv->backup ? "true" : "false", upstream_stats_word(st), st.down,
	    st.workers);
}

void
upstream_stats_json(struct evbuffer *b, const struct stats_shared *s)
{
	evbuffer_add_printf(b, "\"upstream_servers\":[");
	upstream_stats_each(b, s, upstream_stats_json_one);
	evbuffer_add_printf(b, "\n]");
}

/* Prometheus label values: backslash, quote and newline escaped. */
static void
upstream_stats_label(struct evbuffer *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			evbuffer_add(b, "\\", 1);
		if (*v == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, v, 1);
	}
}

static void
upstream_stats_prom_one(struct evbuffer *b, const struct conf_upstream *u,
    const struct conf_upstream_server *sv, struct upstream_state st, int first)
{
	(void)first;
	evbuffer_add_printf(b, "forkloop_upstream_server_down_workers"
	    "{upstream=\"");
	upstream_stats_label(b, u->name);
	evbuffer_add_printf(b, "\",server=\"");
	upstream_stats_label(b, sv->text);
	evbuffer_add_printf(b, "\"} %d\n", st.down);
}

void
upstream_stats_prometheus(struct evbuffer *b, const struct stats_shared *s)
{
	evbuffer_add_printf(b, "# HELP forkloop_upstream_server_down_workers "
	    "Workers of the current generation that leave this upstream "
	    "server alone after max_fails failures.\n"
	    "# TYPE forkloop_upstream_server_down_workers gauge\n");
	upstream_stats_each(b, s, upstream_stats_prom_one);
}

/* HTML text: the few characters that matter escaped. */
static void
upstream_stats_html_text(struct evbuffer *b, const char *v)
{
	for (; *v != '\0'; v++) {
		switch (*v) {
		case '<':
			evbuffer_add(b, "&lt;", 4);
			break;
		case '>':
			evbuffer_add(b, "&gt;", 4);
			break;
		case '&':
			evbuffer_add(b, "&amp;", 5);
			break;
		default:
			evbuffer_add(b, v, 1);
		}
	}
}

static void
upstream_stats_html_one(struct evbuffer *b, const struct conf_upstream *u,
    const struct conf_upstream_server *sv, struct upstream_state st, int first)
{
	if (first)
		evbuffer_add_printf(b, "<h2>Upstream servers</h2>\n"
		    "<table id=\"upstreams\"><tr><th>upstream</th>"
		    "<th>server</th><th>weight</th><th>backup</th>"
		    "<th>state</th><th>down in workers</th></tr>\n");
	evbuffer_add_printf(b, "<tr><td>");
	upstream_stats_html_text(b, u->name);
	evbuffer_add_printf(b, "</td><td>");
	upstream_stats_html_text(b, sv->text);
	evbuffer_add_printf(b, "</td><td>%d</td><td>%s</td><td>%s</td>"
	    "<td>%d of %d</td></tr>\n", sv->weight, sv->backup ? "yes" : "no",
	    upstream_stats_word(st), st.down, st.workers);
}

void
upstream_stats_html(struct evbuffer *b, const struct stats_shared *s)
{
	size_t before = evbuffer_get_length(b);

	upstream_stats_each(b, s, upstream_stats_html_one);
	if (evbuffer_get_length(b) > before)
		evbuffer_add_printf(b, "</table>\n");
}
