/*
 * limit_stats.h: limit_req's and limit_conn's counters and zones for the
 * status route (limit_stats.c).
 */
#ifndef FORKLOOP_HTTP_LIMIT_STATS_H
#define FORKLOOP_HTTP_LIMIT_STATS_H

struct evbuffer;
struct stats_shared;
struct stats_worker;

/* "limits":{...}, a member of the totals object. */
void limit_stats_json(struct evbuffer *b, const struct stats_shared *s);
/* One worker's: ,"limit_req_rejected":N,... inside its object. */
void limit_stats_json_worker(struct evbuffer *b, const struct stats_worker *w);
void limit_stats_prometheus(struct evbuffer *b, const struct stats_shared *s);
/* An <h2> and a table, when the config has limit zones. */
void limit_stats_html(struct evbuffer *b, const struct stats_shared *s);

#endif
