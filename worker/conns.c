/*
 * conns.c: the worker's list of connections and its counters, which every
 * protocol adds to and removes from (see conns.h).
 */
#include "config.h"

#include <stddef.h>

#include "common/stats.h"
#include "worker/conns.h"

struct worker *worker_self;
static struct stats_worker worker_stats_local;
struct stats_worker *worker_stats = &worker_stats_local;
struct stats_shared *worker_stats_all;

/* The load the master's reuseport program balances by (steer.c): the
 * worker's real count overwrites the program's own additions, so the
 * cell never drifts from connections that never came. */
static void
worker_publish_load(const struct worker *w)
{
	if (w->steer_load != NULL && !w->draining)
		__atomic_store_n(w->steer_load, (uint32_t)w->nconns,
		    __ATOMIC_RELAXED);
}

void
worker_conn_add(struct worker_conn *c)
{
	struct worker *w = worker_self;

	c->next = w->conns.next;
	c->prev = &w->conns;
	w->conns.next->prev = c;
	w->conns.next = c;
	w->nconns++;
	worker_stats->active = w->nconns;
	worker_publish_load(w);
}

void
worker_conn_remove(struct worker_conn *c)
{
	struct worker *w = worker_self;

	c->prev->next = c->next;
	c->next->prev = c->prev;
	c->next = c->prev = NULL;
	w->nconns--;
	worker_stats->active = w->nconns;
	worker_publish_load(w);
	if (w->conn_gone != NULL)
		w->conn_gone(w);
}
