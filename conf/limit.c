/*
 * limit.c: nginx's request and connection limits per client address.
 *
 *   limit_req_zone $binary_remote_addr zone=NAME:SIZE rate=Nr/s|Nr/m;
 *   limit_conn_zone $binary_remote_addr zone=NAME:SIZE;	(top level)
 *   limit_req zone=NAME [burst=N] [nodelay | delay=N];
 *   limit_conn NAME N;
 *   limit_req_status CODE;  limit_conn_status CODE;
 *   limit_req_log_level LEVEL;  limit_conn_log_level LEVEL;
 *					(http block or location)
 *
 * A zone may be named before it is defined; the names are resolved when
 * the whole file is read.  The master maps the zones (master/limits.c);
 * the worker applies the rules (worker/http/limit.c).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/limit_zone.h"
#include "conf/conf.h"
#include "conf/parser.h"
#include "conf/value.h"

/* A whole number 0..max, or -1. */
static int64_t
limit_number(const char *text, int64_t max)
{
	char *end;
	long long v;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	v = strtoll(text, &end, 10);
	if (*end != '\0' || v < 0 || v > max)
		return -1;
	return v;
}

/* rate=Nr/s or Nr/m, in thousandths of a request a second (nginx's). */
static int
limit_rate(const char *text, uint64_t *rate)
{
	const char *r = strstr(text, "r/");
	char digits[16];
	int64_t n;
	size_t len;

	if (r == NULL || (len = (size_t)(r - text)) == 0 ||
	    len >= sizeof(digits) || (strcmp(r, "r/s") != 0 &&
	    strcmp(r, "r/m") != 0))
		return -1;
	memcpy(digits, text, len);
	digits[len] = '\0';
	if ((n = limit_number(digits, 1000000)) < 1)
		return -1;
	*rate = (uint64_t)n * 1000;
	if (r[2] == 'm')
		*rate /= 60;
	/* Under 1r/m would never drain. */
	return *rate == 0 ? -1 : 0;
}

/* zone=NAME:SIZE of a zone's definition. */
static int
limit_zone_arg(struct parser *p, struct stmt *st, size_t i,
    struct conf_limit_zone *z)
{
	const char *arg = st->argv[i] + 5, *colon = strchr(arg, ':');
	char *name;

	if (colon == NULL)
		return conf_perr(p, st->lines[i], "zone \"%s\" has no size "
		    "(zone=NAME:SIZE)", arg);
	if (colon == arg)
		return conf_perr(p, st->lines[i], "a zone needs a name "
		    "(zone=NAME:SIZE)");
	if (value_size(colon + 1, &z->size, p->msg, sizeof(p->msg)) == -1)
		return conf_perr(p, st->lines[i], "zone \"%.*s\": %s",
		    (int)(colon - arg), arg, p->msg);
	if (z->size < LIMIT_ZONE_MIN)
		return conf_perr(p, st->lines[i], "zone \"%.*s\" is too small: "
		    "at least 32k", (int)(colon - arg), arg);
	if ((name = strndup(arg, (size_t)(colon - arg))) == NULL)
		return conf_perr(p, st->lines[i], "out of memory");
	z->name = name;
	return 0;
}

static int
limit_zone_add(struct parser *p, struct stmt *st, struct conf_limit_zone *z)
{
	struct conf *conf = p->conf;
	struct conf_limit_zone **zones, *copy;
	size_t i;

	for (i = 0; i < conf->nlimit_zones; i++)
		if (strcmp(conf->limit_zones[i]->name, z->name) == 0)
			return conf_perr(p, st->lines[0], "duplicate zone "
			    "\"%s\"", z->name);
	zones = realloc(conf->limit_zones, (conf->nlimit_zones + 1) *
	    sizeof(*zones));
	if (zones == NULL)
		return conf_perr(p, st->lines[0], "out of memory");
	conf->limit_zones = zones;
	if ((copy = malloc(sizeof(*copy))) == NULL)
		return conf_perr(p, st->lines[0], "out of memory");
	*copy = *z;
	zones[conf->nlimit_zones++] = copy;
	z->name = NULL;
	return 0;
}

/*
 * limit_req_zone KEY zone=NAME:SIZE rate=R;  limit_conn_zone KEY
 * zone=NAME:SIZE;  The key is the client's address: forkloop keys zones
 * by nothing else.
 */
int
conf_set_limit_zone(struct parser *p, struct stmt *st, void *field)
{
	struct conf_limit_zone z;
	int is_req = strcmp(st->argv[0], "limit_req_zone") == 0;
	size_t i;
	int rc = -1;

	(void)field;
	memset(&z, 0, sizeof(z));
	z.kind = is_req ? CONF_LIMIT_REQ : CONF_LIMIT_CONN;
	z.line = st->lines[0];
	if (strcmp(st->argv[1], "$binary_remote_addr") != 0 &&
	    strcmp(st->argv[1], "$remote_addr") != 0)
		return conf_perr(p, st->lines[1], "\"%s\" keys zones by "
		    "$binary_remote_addr only, not \"%s\"", st->argv[0],
		    st->argv[1]);
	for (i = 2; i < st->argc; i++) {
		const char *a = st->argv[i];

		if (strncmp(a, "zone=", 5) == 0 && z.name == NULL) {
			if (limit_zone_arg(p, st, i, &z) == -1)
				goto done;
		} else if (is_req && strncmp(a, "rate=", 5) == 0) {
			if (limit_rate(a + 5, &z.rate) == -1) {
				conf_perr(p, st->lines[i], "invalid rate \"%s\" "
				    "(Nr/s or Nr/m)", a + 5);
				goto done;
			}
		} else {
			conf_perr(p, st->lines[i], "invalid parameter \"%s\" "
			    "for \"%s\"", a, st->argv[0]);
			goto done;
		}
	}
	if (z.name == NULL)
		conf_perr(p, st->lines[0], "\"%s\" needs zone=NAME:SIZE",
		    st->argv[0]);
	else if (is_req && z.rate == 0)
		conf_perr(p, st->lines[0], "\"limit_req_zone\" needs "
		    "rate=Nr/s or rate=Nr/m");
	else
		rc = limit_zone_add(p, st, &z);
done:
	free(z.name);
	return rc;
}

/* burst=N, nodelay or delay=N after "limit_req zone=NAME". */
static int
limit_req_param(struct parser *p, struct stmt *st, size_t i,
    struct conf_limit_req *l)
{
	const char *a = st->argv[i];
	int64_t n;

	if (strcmp(a, "nodelay") == 0) {
		l->delay = UINT64_MAX;
		return 0;
	}
	if (strncmp(a, "burst=", 6) == 0 || strncmp(a, "delay=", 6) == 0) {
		if ((n = limit_number(a + 6, 1000000)) == -1)
			return conf_perr(p, st->lines[i], "invalid %.5s \"%s\" "
			    "(0 to 1000000)", a, a + 6);
		if (a[0] == 'b')
			l->burst = (uint64_t)n * 1000;
		else
			l->delay = (uint64_t)n * 1000;
		return 0;
	}
	if (strncmp(a, "zone=", 5) == 0) {
		if (l->zone_name != NULL || a[5] == '\0')
			return conf_perr(p, st->lines[i], "invalid parameter "
			    "\"%s\"", a);
		l->zone_name = conf_pstrdup(p, st->lines[i], a + 5);
		return l->zone_name == NULL ? -1 : 0;
	}
	return conf_perr(p, st->lines[i], "invalid parameter \"%s\" for "
	    "\"limit_req\" (zone=, burst=, nodelay or delay=)", a);
}

/* limit_req zone=NAME [burst=N] [nodelay | delay=N]  (field: the block) */
int
conf_set_limit_req(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	struct conf_limit_req l, *rules;
	size_t i;

	memset(&l, 0, sizeof(l));
	l.line = st->lines[0];
	for (i = 1; i < st->argc; i++)
		if (limit_req_param(p, st, i, &l) == -1)
			goto fail;
	if (l.zone_name == NULL) {
		conf_perr(p, st->lines[0], "\"limit_req\" needs zone=NAME");
		goto fail;
	}
	rules = realloc(srv->limit_reqs, (srv->nlimit_reqs + 1) *
	    sizeof(*rules));
	if (rules == NULL) {
		conf_perr(p, st->lines[0], "out of memory");
		goto fail;
	}
	srv->limit_reqs = rules;
	rules[srv->nlimit_reqs++] = l;
	return 0;
fail:
	free(l.zone_name);
	return -1;
}

/* limit_conn NAME N  (field: the block) */
int
conf_set_limit_conn(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	struct conf_limit_conn l, *rules;
	int64_t n;

	memset(&l, 0, sizeof(l));
	l.line = st->lines[0];
	if ((n = limit_number(st->argv[2], 65535)) < 1)
		return conf_perr(p, st->lines[2], "invalid number of "
		    "connections \"%s\" (1 to 65535)", st->argv[2]);
	l.max = (unsigned)n;
	rules = realloc(srv->limit_conns, (srv->nlimit_conns + 1) *
	    sizeof(*rules));
	if (rules == NULL)
		return conf_perr(p, st->lines[0], "out of memory");
	srv->limit_conns = rules;
	if ((l.zone_name = conf_pstrdup(p, st->lines[1], st->argv[1])) == NULL)
		return -1;
	rules[srv->nlimit_conns++] = l;
	return 0;
}

/* limit_req_status / limit_conn_status CODE: 400 to 599, as nginx. */
int
conf_set_limit_status(struct parser *p, struct stmt *st, void *field)
{
	int64_t code = limit_number(st->argv[1], 599);

	if (code < 400)
		return conf_perr(p, st->lines[1], "invalid status \"%s\" for "
		    "\"%s\" (400 to 599)", st->argv[1], st->argv[0]);
	*(int *)field = (int)code;
	return 0;
}

static const struct conf_limit_zone *
limit_zone_find(const struct conf *conf, const char *name)
{
	size_t i;

	for (i = 0; i < conf->nlimit_zones; i++)
		if (strcmp(conf->limit_zones[i]->name, name) == 0)
			return conf->limit_zones[i];
	return NULL;
}

static int
limit_resolve_block(struct parser *p, struct conf_server *s)
{
	const struct conf_limit_zone *z;
	size_t i;

	for (i = 0; i < s->nlimit_reqs; i++) {
		z = limit_zone_find(p->conf, s->limit_reqs[i].zone_name);
		if (z == NULL || z->kind != CONF_LIMIT_REQ)
			return conf_perr(p, s->limit_reqs[i].line, "unknown "
			    "limit_req_zone \"%s\"", s->limit_reqs[i].zone_name);
		s->limit_reqs[i].zone = z;
	}
	for (i = 0; i < s->nlimit_conns; i++) {
		z = limit_zone_find(p->conf, s->limit_conns[i].zone_name);
		if (z == NULL || z->kind != CONF_LIMIT_CONN)
			return conf_perr(p, s->limit_conns[i].line, "unknown "
			    "limit_conn_zone \"%s\"",
			    s->limit_conns[i].zone_name);
		s->limit_conns[i].zone = z;
	}
	return 0;
}

/* The file is read: each limit_req and limit_conn finds its zone. */
int
conf_limits_resolve(struct parser *p)
{
	size_t i, j;

	for (i = 0; i < p->conf->nservers; i++) {
		struct conf_server *s = &p->conf->servers[i];

		if (s->kind != CONF_SERVER_HTTP)
			continue;
		if (limit_resolve_block(p, s) == -1)
			return -1;
		for (j = 0; j < s->nlocations; j++)
			if (limit_resolve_block(p, s->locations[j].conf) == -1)
				return -1;
	}
	return 0;
}

/* A block's (or a location's own) limit_req rules, limit_conn rules. */
void
conf_limit_reqs_free(struct conf_server *s)
{
	size_t i;

	for (i = 0; i < s->nlimit_reqs; i++)
		free(s->limit_reqs[i].zone_name);
	free(s->limit_reqs);
}

void
conf_limit_conns_free(struct conf_server *s)
{
	size_t i;

	for (i = 0; i < s->nlimit_conns; i++)
		free(s->limit_conns[i].zone_name);
	free(s->limit_conns);
}

/* The zones' definitions; the master unmaps their memory itself. */
void
conf_limit_zones_free(struct conf *conf)
{
	size_t i;

	for (i = 0; i < conf->nlimit_zones; i++) {
		free(conf->limit_zones[i]->name);
		free(conf->limit_zones[i]);
	}
	free(conf->limit_zones);
}
