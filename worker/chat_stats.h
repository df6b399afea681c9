/*
 * chat_stats.h: the chat's counters for the status route (chat_stats.c).
 */
#ifndef FORKLOOP_WORKER_CHAT_STATS_H
#define FORKLOOP_WORKER_CHAT_STATS_H

struct evbuffer;
struct stats_shared;

/* "chat":{...}, a member of the totals object. */
void chat_stats_json(struct evbuffer *b, const struct stats_shared *s);
void chat_stats_prometheus(struct evbuffer *b, const struct stats_shared *s);
/* An <h2> and a table, when there are chat rooms. */
void chat_stats_html(struct evbuffer *b, const struct stats_shared *s);

#endif
