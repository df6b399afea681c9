/*
 * limit.c: limit_req and limit_conn on a request, after its block and
 * location are chosen and before allow/deny, as nginx's preaccess phase:
 * so an address that floods is held back before its requests cost a
 * check of rules or passwords.  The states are shared by every worker
 * of the host (common/limit_zone.c), keyed by the client's address
 * (after real_ip.c).
 *
 * limit_req: a request over its zone's rate and burst gets
 * limit_req_status; one within the burst but past delay= waits, on a
 * libevent timer (the worker serves others meanwhile), unless nodelay.
 * limit_conn: each rule counts the requests (HTTP/1.1) or streams
 * (HTTP/2) of an address in flight; the count is given back when the
 * request is freed, and by the master for a worker that died.
 */
#include "config.h"

#include <sys/time.h>

#include <stdint.h>
#include <string.h>

#include <event2/event.h>

#include "common/limit_zone.h"
#include "common/log.h"
#include "common/stats.h"
#include "worker/conns.h"
#include "worker/http/access_log.h"
#include "worker/http/limit.h"
#include "worker/http/request.h"
#include "worker/http/response.h"

/* The key of an address; an IPv4-mapped IPv6 one is the IPv4 one. */
static int
http_limit_key(const struct sockaddr *sa, struct limit_key *k)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	const uint8_t *a;

	memset(k, 0, sizeof(*k));
	if (sa->sa_family == AF_INET) {
		k->family = 4;
		memcpy(k->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family != AF_INET6)
		return -1;
	a = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (memcmp(a, mapped, sizeof(mapped)) == 0) {
		k->family = 4;
		memcpy(k->addr, a + 12, 4);
		return 0;
	}
	k->family = 6;
	memcpy(k->addr, a, 16);
	return 0;
}

/* This worker's lane in limit_conn states: its stats entry, 1-based. */
static unsigned
http_limit_lane(void)
{
	if (worker_stats_all == NULL || worker_stats < worker_stats_all->workers ||
	    worker_stats >= worker_stats_all->workers + STATS_MAX_WORKERS)
		return UINT16_MAX;
	return (unsigned)(worker_stats - worker_stats_all->workers) + 1;
}

static enum log_level
http_limit_level(enum conf_log_level level, int lower)
{
	if (lower && level > CONF_LOG_DEBUG)
		level--;
	return (enum log_level)level;
}

static int
http_limit_req(struct http_req *r, const struct limit_key *key, int64_t now)
{
	const struct conf_server *s = r->server;
	int64_t delay = 0, d;
	char addr[INET6_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < s->nlimit_reqs; i++) {
		const struct conf_limit_req *l = &s->limit_reqs[i];
		struct limit_req_rule rule = { l->zone->rate, l->burst,
		    l->delay };

		if (l->zone->shm == NULL)
			continue;
		switch (limit_req_account(l->zone->shm, key, &rule, now, &d)) {
		case LIMIT_REQ_REJECT:
			worker_stats->limit_req_rejected++;
			http_log_peer(r, addr, sizeof(addr));
			log_emit(http_limit_level(s->limit_req_log_level, 0), 0,
			    __func__, "limiting requests by zone \"%s\", "
			    "client: %s", l->zone->name, addr);
			http_respond_error(r, s->limit_req_status);
			return -1;
		case LIMIT_REQ_DELAY:
			if (d > delay)
				delay = d;
			break;
		case LIMIT_REQ_PASS:
			break;
		}
	}
	if (delay == 0) {
		worker_stats->limit_req_passed++;
		return 0;
	}
	worker_stats->limit_req_delayed++;
	http_log_peer(r, addr, sizeof(addr));
	log_emit(http_limit_level(s->limit_req_log_level, 1), 0, __func__,
	    "delaying a request %lld ms, client: %s", (long long)delay, addr);
	r->limit_delay_ms = delay;
	return 0;
}

static int
http_limit_conn(struct http_req *r, const struct limit_key *key, int64_t now)
{
	const struct conf_server *s = r->server;
	unsigned lane = http_limit_lane();
	char addr[INET6_ADDRSTRLEN];
	size_t i;

	r->limit_conn_server = s;
	r->limit_key = *key;
	for (i = 0; i < s->nlimit_conns; i++) {
		const struct conf_limit_conn *l = &s->limit_conns[i];

		if (l->zone->shm == NULL || limit_conn_acquire(l->zone->shm,
		    key, lane, l->max, now) == 0) {
			r->limit_conn_held = (unsigned)i + 1;
			continue;
		}
		http_limit_release(r);
		worker_stats->limit_conn_rejected++;
		http_log_peer(r, addr, sizeof(addr));
		log_emit(http_limit_level(s->limit_conn_log_level, 0), 0,
		    __func__, "limiting connections by zone \"%s\", client: %s",
		    l->zone->name, addr);
		http_respond_error(r, s->limit_conn_status);
		return -1;
	}
	worker_stats->limit_conn_passed++;
	return 0;
}

int
http_limit_check(struct http_req *r)
{
	const struct conf_server *s = r->server;
	struct limit_key key;
	int64_t now;

	if ((s->nlimit_reqs == 0 && s->nlimit_conns == 0) ||
	    http_limit_key(r->peer, &key) == -1)
		return 0;
	now = limit_now_ms();
	if (s->nlimit_reqs > 0 && http_limit_req(r, &key, now) == -1)
		return -1;
	if (s->nlimit_conns > 0 && http_limit_conn(r, &key, now) == -1)
		return -1;
	return 0;
}

void
http_limit_release(struct http_req *r)
{
	const struct conf_server *s = r->limit_conn_server;
	unsigned lane = http_limit_lane(), i;

	for (i = 0; i < r->limit_conn_held; i++)
		if (s->limit_conns[i].zone->shm != NULL)
			limit_conn_release(s->limit_conns[i].zone->shm,
			    &r->limit_key, lane);
	r->limit_conn_held = 0;
}

/* What a delayed request goes on with: the dispatch, which calls in
 * here (request.c), so it comes as an argument, not as a call upward. */
static void (*http_limit_resume)(struct http_req *);

static void
http_limit_on_delay(evutil_socket_t fd, short what, void *arg)
{
	struct http_req *r = arg;

	(void)fd;
	(void)what;
	event_free(r->timer);
	r->timer = NULL;
	r->limit_delay_ms = 0;
	http_limit_resume(r);
}

int
http_limit_delay(struct http_req *r, void (*resume)(struct http_req *))
{
	struct timeval tv;

	http_limit_resume = resume;
	r->timer = evtimer_new(worker_self->base, http_limit_on_delay, r);
	if (r->timer == NULL) {
		/* Better served early than not at all. */
		log_warnx("cannot delay a request: no timer");
		r->limit_delay_ms = 0;
		return 0;
	}
	tv.tv_sec = (time_t)(r->limit_delay_ms / 1000);
	tv.tv_usec = (suseconds_t)(r->limit_delay_ms % 1000) * 1000;
	if (evtimer_add(r->timer, &tv) == -1) {
		log_warnx("cannot delay a request: evtimer_add failed");
		event_free(r->timer);
		r->timer = NULL;
		r->limit_delay_ms = 0;
		return 0;
	}
	http_request_wait(r);
	return 1;
}
