/*
 * vhosts.h: the blocks that share one listen address, and finding the
 * one a name (a request's Host, a TLS client's SNI) is for.
 */
#ifndef FORKLOOP_CONF_VHOSTS_H
#define FORKLOOP_CONF_VHOSTS_H

#include <stddef.h>
#include <stdint.h>

struct conf;
struct conf_regex;
struct conf_server;

struct conf_vhost_name {
	const char *name;		/* lower case, no trailing dot */
	size_t len;
	uint64_t hash;			/* exact names: vhosts.c's hash */
	struct conf_server *server;
};

struct conf_vhost_regex {
	const struct conf_regex *regex;
	struct conf_server *server;
};

struct conf_vhosts {
	struct conf_server **servers;	/* in file order */
	size_t nservers;
	struct conf_server *dflt;	/* default_server, else the first */
	/* Exact names: open addressing, a power of two of slots. */
	struct conf_vhost_name *exact;
	size_t exact_slots;
	/* Wildcards ("*.example.com", "www.example.*"), best first. */
	struct conf_vhost_name *wild;
	size_t nwild;
	/* "~REGEX" names, in the order written: the first match wins. */
	struct conf_vhost_regex *regexes;
	size_t nregexes;
};

/*
 * Builds the table of every listen address (echo and chat have tables
 * of one block); 0, or -1 with "FILE:LINE: what" in err (two blocks
 * with one name, two default_server).  Called by the parser once the
 * whole file is read.
 */
int conf_vhosts_build(struct conf *conf, char *err, size_t errlen);
void conf_vhosts_free(struct conf *conf);

/* The length of host[0..len) without its ":port". */
size_t conf_host_len(const char *host, size_t len);

/*
 * The block for name[0..len) (case does not matter, a trailing dot and a
 * ":port" are ignored), or NULL when no server_name matches: an exact
 * name, else the longest leading wildcard, else the longest trailing one,
 * else the first regex that matches, as nginx ranks them.
 */
struct conf_server *conf_vhosts_find(const struct conf_vhosts *v,
    const char *name, size_t len);

/* The same for a name without its ":port" (a request's, which the
 * parser split already). */
struct conf_server *conf_vhosts_find_name(const struct conf_vhosts *v,
    const char *name, size_t len);

#endif
