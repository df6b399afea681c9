/*
 * status.c: the status route ("route /status status;"): live
 * counters of every worker from the shared segment (common/stats.h), as
 * JSON (the default), as Prometheus text (?format=prometheus), or as a
 * small HTML page for a person (?format=html).
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "common/log.h"
#include "common/stats.h"
#include "worker/chat_stats.h"
#include "worker/http/handlers.h"
#include "worker/http/limit_stats.h"
#include "worker/http/response.h"
#include "worker/http/upstream_stats.h"
#include "worker/conns.h"

struct http_status_totals {
	int64_t accepted, active, idle, bytes_sent, requests[6], workers;
	int64_t tls_handshakes, tls_resumed, tls_failed[5], tls_ktls;
	int64_t h2_connections, h2_streams, h2_resets_sent, h2_resets_received;
	int64_t h2_goaways_sent, h2_flow_stalls;
	int64_t upstream_requests, upstream_retries, upstream_pool_hits;
	int64_t upstream_failed[4];
};

/* enum stats_upstream_failure, as the stats name the kinds. */
static const char *const http_status_upstream_failures[] = {
	"connect", "timeout", "bad_answer", "broken",
};

/* enum stats_tls_failure, as the stats name the reasons. */
static const char *const http_status_tls_failures[] = {
	"protocol", "cipher", "certificate", "timeout", "other",
};

static const char *const http_status_classes[] = {
	"", "1xx", "2xx", "3xx", "4xx", "5xx",
};

static void
http_status_sum(const struct stats_shared *s, struct http_status_totals *t)
{
	size_t i, k;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < STATS_MAX_WORKERS; i++) {
		const struct stats_worker *w = &s->workers[i];

		if (w->pid <= 0)
			continue;
		t->workers++;
		t->accepted += w->accepted;
		t->active += w->active;
		t->idle += w->idle;
		t->bytes_sent += w->bytes_sent;
		for (k = 1; k < 6; k++)
			t->requests[k] += w->requests[k];
		t->tls_handshakes += w->tls_handshakes;
		t->tls_resumed += w->tls_resumed;
		t->tls_ktls += w->tls_ktls;
		for (k = 0; k < 5; k++)
			t->tls_failed[k] += w->tls_failed[k];
		t->h2_connections += w->h2_connections;
		t->h2_streams += w->h2_streams;
		t->h2_resets_sent += w->h2_resets_sent;
		t->h2_resets_received += w->h2_resets_received;
		t->h2_goaways_sent += w->h2_goaways_sent;
		t->h2_flow_stalls += w->h2_flow_stalls;
		t->upstream_requests += w->upstream_requests;
		t->upstream_retries += w->upstream_retries;
		t->upstream_pool_hits += w->upstream_pool_hits;
		for (k = 0; k < 4; k++)
			t->upstream_failed[k] += w->upstream_failed[k];
	}
}

static int64_t
http_status_requests(const volatile int64_t *r)
{
	return r[1] + r[2] + r[3] + r[4] + r[5];
}

static void
http_status_json(struct evbuffer *b, const struct stats_shared *s,
    const struct http_status_totals *t)
{
	size_t i, k;
	int first = 1;

	evbuffer_add_printf(b, "{\"version\":\"%s\",\"master_pid\":%" PRId64
	    ",\"uptime_seconds\":%" PRId64 ",\"generation\":%" PRId64
	    ",\"reloads\":%" PRId64 ",\"respawns\":%" PRId64 ",\n"
	    "\"totals\":{\"workers\":%" PRId64 ",\"accepted\":%" PRId64
	    ",\"active\":%" PRId64 ",\"idle\":%" PRId64 ",\"requests\":%"
	    PRId64 ",\"bytes_sent\":%" PRId64 ",\"responses\":{",
	    PACKAGE_VERSION, s->master_pid, (int64_t)time(NULL) - s->started,
	    s->generation, s->reloads, s->respawns, t->workers, t->accepted,
	    t->active, t->idle, http_status_requests(t->requests),
	    t->bytes_sent);
	for (k = 1; k < 6; k++)
		evbuffer_add_printf(b, "%s\"%s\":%" PRId64, k > 1 ? "," : "",
		    http_status_classes[k], t->requests[k]);
	evbuffer_add_printf(b, "},\"tls_handshakes\":%" PRId64 ",\"tls_resumed\":%"
	    PRId64 ",\"tls_ktls\":%" PRId64, t->tls_handshakes, t->tls_resumed,
	    t->tls_ktls);
	for (k = 0; k < 5; k++)
		evbuffer_add_printf(b, ",\"tls_failed_%s\":%" PRId64,
		    http_status_tls_failures[k], t->tls_failed[k]);
	evbuffer_add_printf(b, ",\"h2_connections\":%" PRId64 ",\"h2_streams\":%"
	    PRId64 ",\"h2_resets_sent\":%" PRId64 ",\"h2_resets_received\":%"
	    PRId64 ",\"h2_goaways_sent\":%" PRId64 ",\"h2_flow_stalls\":%"
	    PRId64, t->h2_connections, t->h2_streams, t->h2_resets_sent,
	    t->h2_resets_received, t->h2_goaways_sent, t->h2_flow_stalls);
	evbuffer_add_printf(b, ",\"upstream_requests\":%" PRId64
	    ",\"upstream_retries\":%" PRId64 ",\"upstream_pool_hits\":%"
	    PRId64, t->upstream_requests, t->upstream_retries,
	    t->upstream_pool_hits);
	for (k = 0; k < 4; k++)
		evbuffer_add_printf(b, ",\"upstream_failed_%s\":%" PRId64,
		    http_status_upstream_failures[k], t->upstream_failed[k]);
	evbuffer_add_printf(b, ",\n");
	limit_stats_json(b, s);
	evbuffer_add_printf(b, ",\n");
	chat_stats_json(b, s);
	evbuffer_add_printf(b, "},\n\"workers\":[");
	for (i = 0; i < STATS_MAX_WORKERS; i++) {
		const struct stats_worker *w = &s->workers[i];

		if (w->pid <= 0)
			continue;
		evbuffer_add_printf(b, "%s\n{\"pid\":%" PRId64 ",\"slot\":%"
		    PRId64 ",\"generation\":%" PRId64 ",\"started\":%" PRId64
		    ",\"accepted\":%" PRId64 ",\"active\":%" PRId64
		    ",\"idle\":%" PRId64 ",\"requests\":%" PRId64
		    ",\"bytes_sent\":%" PRId64 ",\"responses\":{",
		    first ? "" : ",", w->pid, w->slot, w->generation,
		    w->started, w->accepted, w->active, w->idle,
		    http_status_requests(w->requests), w->bytes_sent);
		for (k = 1; k < 6; k++)
			evbuffer_add_printf(b, "%s\"%s\":%" PRId64,
			    k > 1 ? "," : "", http_status_classes[k],
			    w->requests[k]);
		evbuffer_add_printf(b, "}");
		limit_stats_json_worker(b, w);
		evbuffer_add_printf(b, "}");
		first = 0;
	}
	evbuffer_add_printf(b, "\n],\n");
	upstream_stats_json(b, s);
	evbuffer_add_printf(b, "}\n");
}

static void
http_status_metric(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* The text exposition format, version 0.0.4. */
static void
http_status_prometheus(struct evbuffer *b, const struct stats_shared *s)
{
	static const struct {
		const char *name, *type, *help;
		size_t offset;
	} per_worker[] = {
		{ "forkloop_connections_accepted_total", "counter",
		    "Connections accepted by the worker.",
		    offsetof(struct stats_worker, accepted) },
		{ "forkloop_connections_active", "gauge",
		    "Connections open in the worker.",
		    offsetof(struct stats_worker, active) },
		{ "forkloop_connections_idle", "gauge",
		    "Keep-alive connections waiting for a request.",
		    offsetof(struct stats_worker, idle) },
		{ "forkloop_sent_bytes_total", "counter",
		    "Response body bytes sent.",
		    offsetof(struct stats_worker, bytes_sent) },
		{ "forkloop_tls_handshakes_total", "counter",
		    "TLS handshakes completed, resumed ones included.",
		    offsetof(struct stats_worker, tls_handshakes) },
		{ "forkloop_tls_resumed_total", "counter",
		    "TLS handshakes that resumed a session (tickets).",
		    offsetof(struct stats_worker, tls_resumed) },
		{ "forkloop_tls_ktls_total", "counter",
		    "TLS connections whose sending the kernel encrypts (kTLS).",
		    offsetof(struct stats_worker, tls_ktls) },
		{ "forkloop_h2_connections_total", "counter",
		    "HTTP/2 connections (ALPN h2 or the h2c preface).",
		    offsetof(struct stats_worker, h2_connections) },
		{ "forkloop_h2_streams_total", "counter",
		    "HTTP/2 streams that carried a request.",
		    offsetof(struct stats_worker, h2_streams) },
		{ "forkloop_h2_resets_sent_total", "counter",
		    "HTTP/2 RST_STREAM frames sent.",
		    offsetof(struct stats_worker, h2_resets_sent) },
		{ "forkloop_h2_resets_received_total", "counter",
		    "HTTP/2 RST_STREAM frames received.",
		    offsetof(struct stats_worker, h2_resets_received) },
		{ "forkloop_h2_goaways_sent_total", "counter",
		    "HTTP/2 GOAWAY frames sent.",
		    offsetof(struct stats_worker, h2_goaways_sent) },
		{ "forkloop_h2_flow_stalls_total", "counter",
		    "HTTP/2 sends that stopped for a closed flow-control window.",
		    offsetof(struct stats_worker, h2_flow_stalls) },
		{ "forkloop_upstream_requests_total", "counter",
		    "Requests sent to upstream servers, retries included.",
		    offsetof(struct stats_worker, upstream_requests) },
		{ "forkloop_upstream_retries_total", "counter",
		    "Proxied requests sent again after a failed try.",
		    offsetof(struct stats_worker, upstream_retries) },
		{ "forkloop_upstream_pool_hits_total", "counter",
		    "Upstream tries on a kept keep-alive connection.",
		    offsetof(struct stats_worker, upstream_pool_hits) },
		{ "forkloop_worker_start_time_seconds", "gauge",
		    "When the worker started, in Unix time.",
		    offsetof(struct stats_worker, started) },
	};
	size_t i, m, k;

	for (m = 0; m < sizeof(per_worker) / sizeof(per_worker[0]); m++) {
		http_status_metric(b, per_worker[m].name, per_worker[m].type,
		    per_worker[m].help);
		for (i = 0; i < STATS_MAX_WORKERS; i++) {
			const struct stats_worker *w = &s->workers[i];
			const volatile int64_t *v;

			if (w->pid <= 0)
				continue;
			v = (const volatile int64_t *)((const char *)w +
			    per_worker[m].offset);
			evbuffer_add_printf(b, "%s{worker=\"%" PRId64 "\",slot=\"%"
			    PRId64 "\",generation=\"%" PRId64 "\"} %" PRId64 "\n",
			    per_worker[m].name, w->pid, w->slot, w->generation,
			    *v);
		}
	}
	http_status_metric(b, "forkloop_requests_total", "counter",
	    "Requests answered, by status class.");
	for (i = 0; i < STATS_MAX_WORKERS; i++) {
		const struct stats_worker *w = &s->workers[i];

		if (w->pid <= 0)
			continue;
		for (k = 1; k < 6; k++)
			evbuffer_add_printf(b, "forkloop_requests_total{worker=\"%"
			    PRId64 "\",slot=\"%" PRId64 "\",generation=\"%" PRId64
			    "\",code=\"%s\"} %" PRId64 "\n", w->pid, w->slot,
			    w->generation, http_status_classes[k], w->requests[k]);
	}
	http_status_metric(b, "forkloop_tls_handshake_failures_total",
	    "counter", "TLS handshakes that failed, by reason.");
	for (i = 0; i < STATS_MAX_WORKERS; i++) {
		const struct stats_worker *w = &s->workers[i];

		if (w->pid <= 0)
			continue;
		for (k = 0; k < 5; k++)
			evbuffer_add_printf(b,
			    "forkloop_tls_handshake_failures_total{worker=\"%"
			    PRId64 "\",slot=\"%" PRId64 "\",generation=\"%"
			    PRId64 "\",reason=\"%s\"} %" PRId64 "\n", w->pid,
			    w->slot, w->generation, http_status_tls_failures[k],
			    w->tls_failed[k]);
	}
	http_status_metric(b, "forkloop_upstream_failures_total", "counter",
	    "Upstream tries that failed, by kind.");
	for (i = 0; i < STATS_MAX_WORKERS; i++) {
		const struct stats_worker *w = &s->workers[i];

		if (w->pid <= 0)
			continue;
		for (k = 0; k < 4; k++)
			evbuffer_add_printf(b,
			    "forkloop_upstream_failures_total{worker=\"%"
			    PRId64 "\",slot=\"%" PRId64 "\",generation=\"%"
			    PRId64 "\",kind=\"%s\"} %" PRId64 "\n", w->pid,
			    w->slot, w->generation,
			    http_status_upstream_failures[k],
			    w->upstream_failed[k]);
	}
	limit_stats_prometheus(b, s);
	chat_stats_prometheus(b, s);
	upstream_stats_prometheus(b, s);
	http_status_metric(b, "forkloop_reloads_total", "counter",
	    "Configuration reloads done by the master.");
	evbuffer_add_printf(b, "forkloop_reloads_total %" PRId64 "\n",
	    s->reloads);
	http_status_metric(b, "forkloop_respawns_total", "counter",
	    "Workers restarted after an unexpected exit.");
	evbuffer_add_printf(b, "forkloop_respawns_total %" PRId64 "\n",
	    s->respawns);
	http_status_metric(b, "forkloop_generation", "gauge",
	    "The current worker generation.");
	evbuffer_add_printf(b, "forkloop_generation %" PRId64 "\n",
	    s->generation);
}

static void
http_status_html(struct evbuffer *b, const struct stats_shared *s,
    const struct http_status_totals *t)
{
	size_t i;

	evbuffer_add_printf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><title>forkloop status</title>\n"
	    "<style>body{font-family:sans-serif;margin:2em}"
	    "table{border-collapse:collapse}td,th{border:1px solid #999;"
	    "padding:.3em .8em;text-align:right}</style></head><body>\n"
	    "<h1>forkloop status</h1>\n<p>Master %" PRId64 ", up %" PRId64
	    " s, generation %" PRId64 ", %" PRId64 " reloads, %" PRId64
	    " respawns.</p>\n<h2>Totals</h2>\n<table id=\"totals\"><tr>"
	    "<th>workers</th><th>accepted</th><th>active</th><th>idle</th>"
	    "<th>requests</th><th>2xx</th><th>4xx</th><th>5xx</th>"
	    "<th>bytes sent</th></tr>\n<tr><td>%" PRId64 "</td><td>%" PRId64
	    "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64
	    "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64
	    "</td><td>%" PRId64 "</td></tr></table>\n<h2>Workers</h2>\n"
	    "<table id=\"workers\"><tr><th>pid</th><th>slot</th>"
	    "<th>generation</th><th>accepted</th><th>active</th><th>idle</th>"
	    "<th>requests</th><th>bytes sent</th></tr>\n", s->master_pid,
	    (int64_t)time(NULL) - s->started, s->generation, s->reloads,
	    s->respawns, t->workers, t->accepted, t->active, t->idle,
	    http_status_requests(t->requests), t->requests[2], t->requests[4],
	    t->requests[5], t->bytes_sent);
	for (i = 0; i < STATS_MAX_WORKERS; i++) {
		const struct stats_worker *w = &s->workers[i];

		if (w->pid <= 0)
			continue;
		evbuffer_add_printf(b, "<tr><td>%" PRId64 "</td><td>%" PRId64
		    "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64
		    "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64
		    "</td></tr>\n", w->pid, w->slot, w->generation,
		    w->accepted, w->active, w->idle,
		    http_status_requests(w->requests), w->bytes_sent);
	}
	evbuffer_add_printf(b, "</table>\n<h2>TLS</h2>\n<table id=\"tls\"><tr>"
	    "<th>handshakes</th><th>resumed</th><th>kTLS</th>"
	    "<th>failed: protocol</th><th>cipher</th><th>certificate</th>"
	    "<th>timeout</th><th>other</th></tr>\n<tr><td>%" PRId64
	    "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64
	    "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64
	    "</td><td>%" PRId64 "</td></tr></table>\n",
	    t->tls_handshakes, t->tls_resumed, t->tls_ktls, t->tls_failed[0],
	    t->tls_failed[1], t->tls_failed[2], t->tls_failed[3],
	    t->tls_failed[4]);
	limit_stats_html(b, s);
	chat_stats_html(b, s);
	upstream_stats_html(b, s);
	evbuffer_add_printf(b, "</body></html>\n");
}

/* The value of "format" in the query string, or NULL. */
static int
http_status_format_is(const struct http_req *r, const char *want)
{
	const char *q = r->head.query, *end;
	size_t wlen = strlen(want);

	if (q == NULL)
		return 0;
	end = q + r->head.query_len;
	while (q < end) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *e = amp != NULL ? amp : end;

		if ((size_t)(e - q) == 7 + wlen && memcmp(q, "format=", 7) == 0 &&
		    memcmp(q + 7, want, wlen) == 0)
			return 1;
		q = amp != NULL ? amp + 1 : end;
	}
	return 0;
}

void
http_status_serve(struct http_req *r)
{
	struct http_status_totals totals;
	/*
	 * One copy of the shared table, read once: workers come and go while
	 * the page is built, and totals must add up to the entries shown.
	 */
	static struct stats_shared snapshot;
	const struct stats_shared *s = &snapshot;
	struct evbuffer *body;
	const char *type;
	size_t len;

	if (worker_stats_all == NULL) {
		http_respond_error(r, 503);
		return;
	}
	memcpy(&snapshot, (const void *)worker_stats_all, sizeof(snapshot));
	body = evbuffer_new();
	if (body == NULL) {
		http_respond_error(r, 503);
		return;
	}
	http_status_sum(s, &totals);
	if (http_status_format_is(r, "prometheus")) {
		type = "text/plain; version=0.0.4; charset=utf-8";
		http_status_prometheus(body, s);
	} else if (http_status_format_is(r, "html")) {
		type = "text/html; charset=utf-8";
		http_status_html(body, s, &totals);
	} else {
		type = "application/json";
		http_status_json(body, s, &totals);
	}
	len = evbuffer_get_length(body);
	http_response_start(r, 200, type, (int64_t)len);
	http_response_header(r, "Cache-Control", "no-store");
	http_response_end_head(r);
	http_response_buffer(r, body);
	evbuffer_free(body);
	http_request_done(r);
}
