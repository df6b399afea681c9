/*
 * limit_stats.c: limit_req's and limit_conn's part of the status route
 * (worker/http/status.c): what every worker counted (common/stats.h),
 * requests passed, delayed and rejected by kind, and the zones of the
 * running config with how full they are, as JSON, Prometheus text and
 * HTML.
 */
#include "config.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include <event2/buffer.h>

#include "common/limit_zone.h"
#include "common/stats.h"
#include "conf/conf.h"
#include "worker/conns.h"
#include "worker/http/limit_stats.h"

/* The counters, by kind and result, as the stats name them. */
static const struct {
	const char *kind, *result;
	size_t offset;
} limit_stats_counters[] = {
	{ "req", "passed", offsetof(struct stats_worker, limit_req_passed) },
	{ "req", "delayed", offsetof(struct stats_worker, limit_req_delayed) },
	{ "req", "rejected", offsetof(struct stats_worker,
	    limit_req_rejected) },
	{ "conn", "passed", offsetof(struct stats_worker,
	    limit_conn_passed) },
	{ "conn", "rejected", offsetof(struct stats_worker,
	    limit_conn_rejected) },
};
#define LIMIT_STATS_NCOUNTERS \
	(sizeof(limit_stats_counters) / sizeof(limit_stats_counters[0]))

static int64_t
limit_stats_of(const struct stats_worker *w, size_t k)
{
	return *(const volatile int64_t *)((const char *)w +
	    limit_stats_counters[k].offset);
}

static void
limit_stats_sum(const struct stats_shared *s, int64_t *sum)
{
	size_t i, k;

	memset(sum, 0, LIMIT_STATS_NCOUNTERS * sizeof(*sum));
	for (i = 0; i < STATS_MAX_WORKERS; i++) {
		if (s->workers[i].pid <= 0)
			continue;
		for (k = 0; k < LIMIT_STATS_NCOUNTERS; k++)
			sum[k] += limit_stats_of(&s->workers[i], k);
	}
}

/* The zones of this worker's config: the running one's, after a HUP. */
static const struct conf *
limit_stats_conf(void)
{
	return worker_self != NULL ? worker_self->conf : NULL;
}

void
limit_stats_json_worker(struct evbuffer *b, const struct stats_worker *w)
{
	size_t k;

	for (k = 0; k < LIMIT_STATS_NCOUNTERS; k++)
		evbuffer_add_printf(b, ",\"limit_%s_%s\":%" PRId64,
		    limit_stats_counters[k].kind,
		    limit_stats_counters[k].result, limit_stats_of(w, k));
}

void
limit_stats_json(struct evbuffer *b, const struct stats_shared *s)
{
	const struct conf *conf = limit_stats_conf();
	int64_t sum[LIMIT_STATS_NCOUNTERS];
	size_t k, i;

	limit_stats_sum(s, sum);
	evbuffer_add_printf(b, "\"limits\":{");
	for (k = 0; k < LIMIT_STATS_NCOUNTERS; k++)
		evbuffer_add_printf(b, "%s\"%s_%s\":%" PRId64, k > 0 ? "," : "",
		    limit_stats_counters[k].kind,
		    limit_stats_counters[k].result, sum[k]);
	evbuffer_add_printf(b, ",\"zones\":[");
	for (i = 0; conf != NULL && i < conf->nlimit_zones; i++) {
		const struct conf_limit_zone *z = conf->limit_zones[i];

		if (z->shm == NULL)
			continue;
		evbuffer_add_printf(b, "%s{\"name\":\"%s\",\"kind\":\"%s\","
		    "\"capacity\":%zu,\"used\":%" PRIu64 ",\"evicted\":%"
		    PRIu64 "}", i > 0 ? "," : "", z->name,
		    z->kind == CONF_LIMIT_REQ ? "req" : "conn",
		    limit_zone_capacity(z->shm), limit_zone_used(z->shm),
		    limit_zone_evicted(z->shm));
	}
	evbuffer_add_printf(b, "]}");
}

static void
limit_stats_metric(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

void
limit_stats_prometheus(struct evbuffer *b, const struct stats_shared *s)
{
	const struct conf *conf = limit_stats_conf();
	size_t i, k;

	limit_stats_metric(b, "forkloop_limited_requests_total", "counter",
	    "Requests under limit_req or limit_conn, by kind and result.");
	for (i = 0; i < STATS_MAX_WORKERS; i++) {
		const struct stats_worker *w = &s->workers[i];

		if (w->pid <= 0)
			continue;
		for (k = 0; k < LIMIT_STATS_NCOUNTERS; k++)
			evbuffer_add_printf(b, "forkloop_limited_requests_total"
			    "{worker=\"%" PRId64 "\",slot=\"%" PRId64
			    "\",generation=\"%" PRId64 "\",kind=\"%s\","
			    "result=\"%s\"} %" PRId64 "\n", w->pid, w->slot,
			    w->generation, limit_stats_counters[k].kind,
			    limit_stats_counters[k].result,
			    limit_stats_of(w, k));
	}
	if (conf == NULL || conf->nlimit_zones == 0)
		return;
	limit_stats_metric(b, "forkloop_limit_zone_entries", "gauge",
	    "Client addresses a limit zone holds a state for.");
	for (i = 0; i < conf->nlimit_zones; i++)
		if (conf->limit_zones[i]->shm != NULL)
			evbuffer_add_printf(b, "forkloop_limit_zone_entries"
			    "{zone=\"%s\"} %" PRIu64 "\n",
			    conf->limit_zones[i]->name,
			    limit_zone_used(conf->limit_zones[i]->shm));
	limit_stats_metric(b, "forkloop_limit_zone_capacity", "gauge",
	    "Client addresses a limit zone can hold.");
	for (i = 0; i < conf->nlimit_zones; i++)
		if (conf->limit_zones[i]->shm != NULL)
			evbuffer_add_printf(b, "forkloop_limit_zone_capacity"
			    "{zone=\"%s\"} %zu\n", conf->limit_zones[i]->name,
			    limit_zone_capacity(conf->limit_zones[i]->shm));
	limit_stats_metric(b, "forkloop_limit_zone_evictions_total", "counter",
	    "States that gave way to a new address in a full bucket.");
	for (i = 0; i < conf->nlimit_zones; i++)
		if (conf->limit_zones[i]->shm != NULL)
			evbuffer_add_printf(b, "forkloop_limit_zone_evictions_total"
			    "{zone=\"%s\"} %" PRIu64 "\n",
			    conf->limit_zones[i]->name,
			    limit_zone_evicted(conf->limit_zones[i]->shm));
}

void
limit_stats_html(struct evbuffer *b, const struct stats_shared *s)
{
	const struct conf *conf = limit_stats_conf();
	int64_t sum[LIMIT_STATS_NCOUNTERS];

	/* As the chat's: a table only where there is something to count. */
	if (conf == NULL || conf->nlimit_zones == 0)
		return;
	limit_stats_sum(s, sum);
	evbuffer_add_printf(b, "<h2>Limits</h2>\n<table id=\"limits\"><tr>"
	    "<th>limit_req passed</th><th>delayed</th><th>rejected</th>"
	    "<th>limit_conn passed</th><th>rejected</th></tr>\n<tr><td>%"
	    PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64
	    "</td><td>%" PRId64 "</td></tr></table>\n", sum[0], sum[1], sum[2],
	    sum[3], sum[4]);
}
