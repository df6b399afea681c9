/*
 * upstream_stats.h: each upstream server's state for the status route
 * (upstream_stats.c).
 */
#ifndef FORKLOOP_WORKER_HTTP_UPSTREAM_STATS_H
#define FORKLOOP_WORKER_HTTP_UPSTREAM_STATS_H

struct evbuffer;
struct stats_shared;

/* "upstream_servers":[...], a member of the top-level object. */
void upstream_stats_json(struct evbuffer *b, const struct stats_shared *s);
void upstream_stats_prometheus(struct evbuffer *b,
    const struct stats_shared *s);
/* An <h2> and a table, when there are upstream servers. */
void upstream_stats_html(struct evbuffer *b, const struct stats_shared *s);

#endif
