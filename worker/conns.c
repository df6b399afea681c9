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
	if (w->conn_gone != NULL)
		w->conn_gone(w);
}
