/*
 * upstream.c: choosing a server behind the reverse proxy, marking
 * failed ones down, and keeping idle connections to them.
 *
 * Balancing is nginx's: smooth weighted round robin (each pick adds
 * every live peer's weight to its current weight, takes the largest and
 * takes the total off it, so weights 5,1,1 give a a a b a c a and not
 * a a a a a b c), or least_conn (fewest requests in flight relative to
 * weight, round robin among equals).  Health is passive: max_fails
 * failures within fail_timeout mark a peer down for fail_timeout.
 *
 * Kept connections: up to "keepalive" per upstream in each worker,
 * most recent first (the oldest is closed for a new one), each with its
 * read event, which stays registered: the server closing it, or sending
 * anything unasked, drops it, as does keepalive_timeout.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/stats.h"
#include "worker/conns.h"
#include "worker/http/date.h"
#include "worker/http/request.h"
#include "worker/http/upstream.h"

struct upstream_idle {
	struct upstream_idle *next, *prev;
	struct upstream *u;
	size_t peer;
	struct upstream_conn *conn;
};

/* The worker's upstreams, in the order first used. */
static struct upstream **upstream_all;
static size_t upstream_nall;

struct upstream *
upstream_of(const struct conf_upstream *c)
{
	struct upstream **all, *u;
	size_t i;

	for (i = 0; i < upstream_nall; i++)
		if (upstream_all[i]->conf == c)
			return upstream_all[i];
	all = realloc(upstream_all, (upstream_nall + 1) * sizeof(*all));
	if (all == NULL)
		return NULL;
	upstream_all = all;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return NULL;
	if ((u->peers = calloc(c->nservers, sizeof(*u->peers))) == NULL) {
		free(u);
		return NULL;
	}
	u->conf = c;
	u->npeers = c->nservers;
	u->stats_first = upstream_stats_first(worker_self->conf, c);
	for (i = 0; i < c->nservers; i++)
		u->peers[i].conf = &c->servers[i];
	upstream_all[upstream_nall++] = u;
	return u;
}

size_t
upstream_stats_first(const struct conf *conf, const struct conf_upstream *c)
{
	size_t i, n = 0;

	for (i = 0; i < conf->nupstreams && conf->upstreams[i] != c; i++)
		n += conf->upstreams[i]->nservers;
	return n;
}

static int
upstream_peer_live(const struct upstream_peer *p, double now)
{
	return p->down_until <= now;
}

/* Smooth weighted round robin among the candidates (backup or not). */
static int
upstream_pick_rr(struct upstream *u, const unsigned char *tried, int backup,
    double now)
{
	int best = -1, total = 0;
	size_t i;

	for (i = 0; i < u->npeers; i++) {
		struct upstream_peer *p = &u->peers[i];

		if (tried[i] || p->conf->backup != backup ||
		    !upstream_peer_live(p, now))
			continue;
		p->current_weight += p->conf->weight;
		total += p->conf->weight;
		if (best == -1 ||
		    p->current_weight > u->peers[best].current_weight)
			best = (int)i;
	}
	if (best != -1)
		u->peers[best].current_weight -= total;
	return best;
}

/* Fewest in flight per weight: a/wa < b/wb as a*wb < b*wa. */
static int
upstream_pick_least(struct upstream *u, const unsigned char *tried,
    int backup, double now)
{
	int best = -1;
	size_t i, k;

	for (k = 0; k < u->npeers; k++) {
		struct upstream_peer *p;

		/* Start from a turning point, so equals take turns. */
		i = (k + u->rr) % u->npeers;
		p = &u->peers[i];
		if (tried[i] || p->conf->backup != backup ||
		    !upstream_peer_live(p, now))
			continue;
		if (best == -1 || (long)p->active * u->peers[best].conf->weight <
		    (long)u->peers[best].active * p->conf->weight)
			best = (int)i;
	}
	u->rr++;
	return best;
}

int
upstream_pick(struct upstream *u, const unsigned char *tried)
{
	double now = http_clock();
	int backup, peer;

	for (backup = 0; backup <= 1; backup++) {
		peer = u->conf->least_conn ?
		    upstream_pick_least(u, tried, backup, now) :
		    upstream_pick_rr(u, tried, backup, now);
		if (peer != -1)
			return peer;
	}
	return -1;
}

int
upstream_has_peer(const struct upstream *u, const unsigned char *tried)
{
	double now = http_clock();
	size_t i;

	for (i = 0; i < u->npeers; i++)
		if (!tried[i] && upstream_peer_live(&u->peers[i], now))
			return 1;
	return 0;
}

/* As nginx: a lone server is never marked down (it has no stand-in). */
void
upstream_peer_failed(struct upstream *u, size_t peer)
{
	struct upstream_peer *p = &u->peers[peer];
	double now = http_clock(), window;

	if (p->conf->max_fails == 0 || u->npeers == 1)
		return;
	window = p->conf->fail_timeout_ms / 1000.0;
	if (now - p->fail_since > window) {
		p->fails = 0;
		p->fail_since = now;
	}
	if (++p->fails < p->conf->max_fails)
		return;
	p->down_until = now + window;
	p->fails = 0;
	if (worker_stats != NULL &&
	    u->stats_first + peer < STATS_UPSTREAM_SERVERS)
		worker_stats->upstream_down_until_ms[u->stats_first + peer] =
		    (int64_t)(p->down_until * 1000);
	log_warnx("upstream %s (%s) is down for %d ms after %d failure%s",
	    p->conf->text, u->conf->name, p->conf->fail_timeout_ms,
	    p->conf->max_fails, p->conf->max_fails == 1 ? "" : "s");
}

void
upstream_peer_ok(struct upstream *u, size_t peer)
{
	u->peers[peer].fails = 0;
}

static void
upstream_idle_unlink(struct upstream_idle *idle)
{
	struct upstream *u = idle->u;

	if (idle->prev != NULL)
		idle->prev->next = idle->next;
	else
		u->idle = idle->next;
	if (idle->next != NULL)
		idle->next->prev = idle->prev;
	u->nidle--;
}

static void
upstream_idle_free(struct upstream_idle *idle)
{
	upstream_idle_unlink(idle);
	upstream_conn_free(idle->conn);
	free(idle);
}

/*
 * An idle connection became readable: the server closed it, or sent
 * what nobody asked for; either way it cannot carry a request.  Or it
 * stayed idle for keepalive_timeout.
 */
static void
upstream_on_idle_read(struct upstream_conn *c, short what, void *arg)
{
	struct upstream_idle *idle = arg;
	char byte;
	ssize_t n;

	if (what & EV_TIMEOUT) {
		log_debug("upstream %s: an idle connection timed out",
		    idle->u->peers[idle->peer].conf->text);
	} else {
		n = recv(bufferevent_getfd(c->bev), &byte, 1,
		    MSG_PEEK | MSG_DONTWAIT);
		/* Made active by hand before it was kept: nothing came. */
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;
		log_debug("upstream %s: an idle connection %s; closed",
		    idle->u->peers[idle->peer].conf->text, n > 0 ? "spoke" :
		    n == 0 ? "closed" : strerror(errno));
	}
	upstream_idle_free(idle);
}

struct upstream_conn *
upstream_idle_take(struct upstream *u, size_t peer)
{
	struct upstream_idle *idle;
	struct upstream_conn *c;

	for (idle = u->idle; idle != NULL; idle = idle->next)
		if (idle->peer == peer)
			break;
	if (idle == NULL)
		return NULL;
	c = idle->conn;
	upstream_idle_unlink(idle);
	free(idle);
	upstream_conn_set_read(c, NULL, NULL);
	if (upstream_conn_read_on(c, 0) == -1) {
		log_warnx("upstream %s: cannot clear a kept connection's "
		    "timeout", u->peers[peer].conf->text);
		upstream_conn_free(c);
		return NULL;
	}
	return c;
}

void
upstream_idle_put(struct upstream *u, size_t peer, struct upstream_conn *c)
{
	struct upstream_idle *idle;

	if (u->conf->keepalive <= 0 || worker_self->draining ||
	    (idle = calloc(1, sizeof(*idle))) == NULL) {
		upstream_conn_free(c);
		return;
	}
	idle->u = u;
	idle->peer = peer;
	idle->conn = c;
	upstream_conn_set_read(c, upstream_on_idle_read, idle);
	if (upstream_conn_read_on(c, u->conf->keepalive_timeout_ms) == -1) {
		log_warnx("upstream %s: cannot keep a connection",
		    u->peers[peer].conf->text);
		upstream_conn_free(c);
		free(idle);
		return;
	}
	idle->next = u->idle;
	if (u->idle != NULL)
		u->idle->prev = idle;
	u->idle = idle;
	if (++u->nidle <= u->conf->keepalive)
		return;
	for (idle = u->idle; idle->next != NULL; idle = idle->next)
		;
	upstream_idle_free(idle);
}

void
upstream_idle_close_all(void)
{
	size_t i;

	for (i = 0; i < upstream_nall; i++)
		while (upstream_all[i]->idle != NULL)
			upstream_idle_free(upstream_all[i]->idle);
}
