/*
 * vhosts.c: the blocks that share one listen address, chosen by name.
 *
 * An address's first listen line is the one bound; the blocks that
 * repeat it are listed in its table with their server_name entries, so a
 * worker finds the block of a request (by its Host, RFC 9110 7.2) or of
 * a TLS connection (by SNI) with one hash lookup for an exact name.
 * Wildcards are few in practice and are tried in order of rank after an
 * exact name fails; then "~REGEX" names in the order written.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "conf/regex.h"
#include "conf/vhosts.h"

/*
 * The exact names are hashed and compared eight bytes at a time: a
 * request's Host is looked up on every request, and a byte loop with a
 * case test per byte cost more than the rest of choosing the block.
 */
#define VHOST_BYTES(b) ((uint64_t)(b) * 0x0101010101010101ull)

/*
 * Eight bytes with 'A'..'Z' made lower case and every other byte as it is
 * (what strncasecmp folds in the C locale): each byte's high bit says
 * whether it is >= 'A' and whether it is > 'Z' (no carry crosses a byte,
 * as the high bits are cleared first); a byte that had its own high bit
 * set is not ASCII and stays.
 */
static uint64_t
vhost_lower8(uint64_t w)
{
	uint64_t low = w & VHOST_BYTES(0x7f);
	uint64_t ge_a = low + VHOST_BYTES(0x80 - 'A');
	uint64_t gt_z = low + VHOST_BYTES(0x7f - 'Z');

	return w | ((ge_a & ~gt_z & ~w & VHOST_BYTES(0x80)) >> 2);
}

static uint64_t
vhost_load8(const char *s)
{
	uint64_t w;

	memcpy(&w, s, sizeof(w));
	return w;
}

/* A name of fewer than eight bytes as one word, zeros after it. */
static uint64_t
vhost_short(const char *s, size_t len)
{
	uint64_t w = 0;
	size_t i;

	for (i = 0; i < len; i++)
		w |= (uint64_t)(unsigned char)s[i] << (8 * i);
	return w;
}

static uint64_t
vhost_mix(uint64_t h, uint64_t w)
{
	return (h ^ w) * 0x9e3779b97f4a7c15ull;
}

/*
 * Words at 0, 8, ... and the last one ending at len (overlapping the one
 * before it): two names of one length are read at the same offsets.
 * Each byte is hashed with its 0x20 bit set, which makes a letter's two
 * cases alike for less than vhost_lower8 costs; the few other bytes it
 * makes alike ('@' and '`', say) only share a hash, as vhost_same tells
 * them apart.
 */
static uint64_t
vhost_hash(const char *s, size_t len)
{
	uint64_t h = len;
	size_t at;

	if (len < 8)
		return vhost_mix(h, vhost_short(s, len) | VHOST_BYTES(0x20));
	for (at = 0; at + 8 < len; at += 8)
		h = vhost_mix(h, vhost_load8(s + at) | VHOST_BYTES(0x20));
	return vhost_mix(h, vhost_load8(s + len - 8) | VHOST_BYTES(0x20));
}

/* Whether s[0..len) is name (lower case already) in any case. */
static int
vhost_same(const char *name, const char *s, size_t len)
{
	size_t at;

	if (len < 8)
		return vhost_short(name, len) ==
		    vhost_lower8(vhost_short(s, len));
	for (at = 0; at + 8 < len; at += 8)
		if (vhost_load8(name + at) != vhost_lower8(vhost_load8(s + at)))
			return 0;
	return vhost_load8(name + len - 8) ==
	    vhost_lower8(vhost_load8(s + len - 8));
}

static int
vhost_is_wild(const char *n, size_t len)
{
	return (n[0] == '*' && n[1] == '.') ||
	    (len > 2 && n[len - 2] == '.' && n[len - 1] == '*');
}

/* Leading wildcards before trailing ones, longer before shorter. */
static int
vhost_wild_cmp(const void *a, const void *b)
{
	const struct conf_vhost_name *x = a, *y = b;
	int xl = x->name[0] == '*', yl = y->name[0] == '*';

	if (xl != yl)
		return yl - xl;
	return (y->len > x->len) - (y->len < x->len);
}

static struct conf_vhost_name *
vhost_exact_slot(const struct conf_vhosts *v, const char *name, size_t len)
{
	uint64_t h = vhost_hash(name, len);
	size_t mask = v->exact_slots - 1, i = (size_t)(h >> 32) & mask;

	/* The multiply mixes into the high bits: the index is taken there. */
	while (v->exact[i].name != NULL && (v->exact[i].hash != h ||
	    v->exact[i].len != len || !vhost_same(v->exact[i].name, name, len)))
		i = (i + 1) & mask;
	return &v->exact[i];
}

static int
vhost_add_name(const struct conf *conf, struct conf_vhosts *v,
    struct conf_server *s, size_t k, const char *addr, char *err,
    size_t errlen)
{
	const char *name = s->server_names[k], *file;
	size_t len = strlen(name);
	struct conf_vhost_name *slot;
	char at[CONF_ERR_LEN];
	int line;

	if (s->server_name_regexes[k] != NULL) {
		v->regexes[v->nregexes].regex = s->server_name_regexes[k];
		v->regexes[v->nregexes++].server = s;
		return 0;
	}
	if (vhost_is_wild(name, len)) {
		v->wild[v->nwild].name = name;
		v->wild[v->nwild].len = len;
		v->wild[v->nwild++].server = s;
		return 0;
	}
	slot = vhost_exact_slot(v, name, len);
	if (slot->name != NULL && slot->server != s) {
		file = conf_where(conf, s->server_name_lines[k], &line);
		conf_line_ref(conf, slot->server->line,
		    s->server_name_lines[k], at, sizeof(at));
		snprintf(err, errlen, "%s:%d: server name \"%s\" on %s is also "
		    "the block's at %s", file, line, name, addr, at);
		return -1;
	}
	slot->name = name;
	slot->len = len;
	slot->hash = vhost_hash(name, len);
	slot->server = s;
	return 0;
}

static int
vhost_index_names(const struct conf *conf, struct conf_vhosts *v,
    const char *addr, char *err, size_t errlen)
{
	size_t i, k, names = 0;

	for (i = 0; i < v->nservers; i++)
		names += v->servers[i]->nserver_names;
	v->exact_slots = 8;
	while (v->exact_slots < 2 * names)
		v->exact_slots *= 2;
	v->exact = calloc(v->exact_slots, sizeof(*v->exact));
	v->wild = calloc(names + 1, sizeof(*v->wild));
	v->regexes = calloc(names + 1, sizeof(*v->regexes));
	if (v->exact == NULL || v->wild == NULL || v->regexes == NULL) {
		snprintf(err, errlen, "%s: out of memory", conf->file);
		return -1;
	}
	for (i = 0; i < v->nservers; i++)
		for (k = 0; k < v->servers[i]->nserver_names; k++)
			if (vhost_add_name(conf, v, v->servers[i], k, addr, err,
			    errlen) == -1)
				return -1;
	qsort(v->wild, v->nwild, sizeof(*v->wild), vhost_wild_cmp);
	return 0;
}

static int
vhost_second_default(const struct conf *conf, const struct conf_listen *l,
    const struct conf_listen *dflt, char *err, size_t errlen)
{
	char at[CONF_ERR_LEN];
	const char *file;
	int line;

	file = conf_where(conf, l->line, &line);
	conf_line_ref(conf, dflt->line, l->line, at, sizeof(at));
	snprintf(err, errlen, "%s:%d: a second default_server for %s (the "
	    "first at %s)", file, line, l->text, at);
	return -1;
}

/* Every block on first's address, and its default. */
static int
vhost_collect(struct conf *conf, struct conf_listen *first,
    struct conf_vhosts *v, char *err, size_t errlen)
{
	const struct conf_listen *dflt = NULL;
	size_t i, j;

	v->servers = calloc(conf->nservers, sizeof(*v->servers));
	if (v->servers == NULL) {
		snprintf(err, errlen, "%s: out of memory", conf->file);
		return -1;
	}
	for (i = 0; i < conf->nservers; i++)
		for (j = 0; j < conf->servers[i].nlistens; j++) {
			struct conf_listen *l = &conf->servers[i].listens[j];

			if (strcmp(l->text, first->text) != 0)
				continue;
			l->vhosts = v;
			v->servers[v->nservers++] = &conf->servers[i];
			if (!l->default_server)
				break;
			if (dflt != NULL)
				return vhost_second_default(conf, l, dflt, err,
				    errlen);
			dflt = l;
			v->dflt = &conf->servers[i];
			break;
		}
	if (v->dflt == NULL)
		v->dflt = v->servers[0];
	return 0;
}

int
conf_vhosts_build(struct conf *conf, char *err, size_t errlen)
{
	size_t i, j;

	for (i = 0; i < conf->nservers; i++)
		for (j = 0; j < conf->servers[i].nlistens; j++) {
			struct conf_listen *l = &conf->servers[i].listens[j];
			struct conf_vhosts *v;

			/* echo and chat have a table of one: TLS starts
			 * every connection from its address's table. */
			if (l->repeat)
				continue;
			v = calloc(1, sizeof(*v));
			if (v == NULL) {
				snprintf(err, errlen, "%s: out of memory",
				    conf->file);
				return -1;
			}
			l->vhosts = v;
			if (vhost_collect(conf, l, v, err, errlen) == -1 ||
			    vhost_index_names(conf, v, l->text, err,
			    errlen) == -1)
				return -1;
		}
	return 0;
}

void
conf_vhosts_free(struct conf *conf)
{
	size_t i, j;

	for (i = 0; i < conf->nservers; i++)
		for (j = 0; j < conf->servers[i].nlistens; j++) {
			struct conf_listen *l = &conf->servers[i].listens[j];

			if (l->vhosts != NULL && !l->repeat) {
				free(l->vhosts->servers);
				free(l->vhosts->exact);
				free(l->vhosts->wild);
				free(l->vhosts->regexes);
				free(l->vhosts);
			}
			l->vhosts = NULL;
		}
}

/* How name matches wildcard w, or 0: the suffix or prefix must be whole
 * labels, and something must stand for the "*". */
static int
vhost_wild_matches(const struct conf_vhost_name *w, const char *name,
    size_t len)
{
	size_t fixed = w->len - 1;	/* ".example.com" or "www.example." */

	if (len <= fixed)
		return 0;
	if (w->name[0] == '*')
		return strncasecmp(name + len - fixed, w->name + 1, fixed) == 0;
	return strncasecmp(name, w->name, fixed) == 0;
}

/* RFC 9110 7.2: a port may follow; an IPv6 literal is bracketed. */
size_t
conf_host_len(const char *host, size_t len)
{
	const char *end;

	if (len > 0 && host[0] == '[') {
		end = memchr(host, ']', len);
		return end != NULL ? (size_t)(end - host) + 1 : len;
	}
	end = memchr(host, ':', len);
	return end != NULL ? (size_t)(end - host) : len;
}

/*
 * The first "~REGEX" name that matches, in the order written.  A regex
 * that PCRE2 gives up on (its match limit) is taken as not matching:
 * the request then goes to the default block, which is where a name no
 * block has goes too.
 */
static struct conf_server *
vhost_regex_find(const struct conf_vhosts *v, const char *name, size_t len)
{
	char err[128];
	size_t i;

	for (i = 0; i < v->nregexes; i++)
		if (conf_regex_match(v->regexes[i].regex, name, len, NULL, 0,
		    err, sizeof(err)) == 1)
			return v->regexes[i].server;
	return NULL;
}

/* No exact name: the wildcards, then the regexes.  Out of line, so the
 * exact lookup of every request saves no registers for them. */
static __attribute__((noinline)) struct conf_server *
vhost_pattern_find(const struct conf_vhosts *v, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < v->nwild; i++)
		if (vhost_wild_matches(&v->wild[i], name, len))
			return v->wild[i].server;
	return vhost_regex_find(v, name, len);
}

struct conf_server *
conf_vhosts_find(const struct conf_vhosts *v, const char *name, size_t len)
{
	return conf_vhosts_find_name(v, name, conf_host_len(name, len));
}

struct conf_server *
conf_vhosts_find_name(const struct conf_vhosts *v, const char *name,
    size_t len)
{
	const struct conf_vhost_name *slot;

	if (len > 1 && name[len - 1] == '.')
		len--;
	if (len == 0)
		return NULL;
	slot = vhost_exact_slot(v, name, len);
	if (slot->name != NULL)
		return slot->server;
	return vhost_pattern_find(v, name, len);
}
