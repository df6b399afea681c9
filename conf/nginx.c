/*
 * nginx.c: nginx's words in a forkloop config.  Directives nginx spells
 * differently for the same meaning are accepted under nginx's name, and
 * an nginx directive forkloop does not have gets an error that says so
 * and names the forkloop way, so a ported nginx config fails with advice
 * rather than with "unknown directive" one line at a time.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf/parser.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

struct conf_nginx_word {
	const char *nginx;
	const char *forkloop;
};

/* nginx's name -> forkloop's directive of the same meaning; sorted. */
static const struct conf_nginx_word conf_nginx_aliases[] = {
	{ "client_body_timeout", "body_timeout" },
	{ "client_header_timeout", "header_timeout" },
	{ "client_max_body_size", "max_body_size" },
	{ "worker_processes", "workers" },
	{ "worker_shutdown_timeout", "shutdown_timeout" },
};

/* nginx's directives forkloop lacks -> what it has instead; sorted.
 * Each completes "forkloop ...". */
static const struct conf_nginx_word conf_nginx_hints[] = {
	{ "accept_mutex", "needs no accept lock: each worker has its own "
	    "SO_REUSEPORT socket, and \"reuseport_steering\" says how "
	    "connections are spread" },
	{ "auth_request", "has no subrequest authentication; \"auth_basic\" "
	    "asks for a password" },
	{ "client_body_buffer_size", "sizes its buffers itself; "
	    "\"max_body_size\" bounds a body" },
	{ "client_header_buffer_size", "has \"max_header_size\" for the "
	    "whole head" },
	{ "events", "has \"worker_connections\" at the top level, outside "
	    "any block" },
	{ "fastcgi_pass", "proxies HTTP only: \"proxy_pass http://...\"" },
	{ "grpc_pass", "proxies HTTP/1.1 only: \"proxy_pass http://...\"" },
	{ "hash", "balances with round robin (weights) or \"least_conn\"" },
	{ "ip_hash", "balances with round robin (weights) or \"least_conn\"" },
	{ "keepalive_requests", "does not limit the requests of a "
	    "connection; \"keepalive_timeout\" ends an idle one" },
	{ "large_client_header_buffers", "has \"max_header_size\" for the "
	    "whole head" },
	{ "open_file_cache", "always caches open files" },
	{ "proxy_buffer_size", "sizes its proxy buffers itself" },
	{ "proxy_buffers", "sizes its proxy buffers itself" },
	{ "proxy_cache", "has no proxy cache" },
	{ "proxy_cache_path", "has no proxy cache" },
	{ "proxy_next_upstream", "retries idempotent requests on the next "
	    "server before any byte of the answer, by itself" },
	{ "proxy_request_buffering", "streams large request bodies and "
	    "never spools them to disk" },
	{ "proxy_ssl_certificate", "speaks plain HTTP to upstreams" },
	{ "proxy_ssl_verify", "speaks plain HTTP to upstreams" },
	{ "proxy_temp_path", "never spools proxied bodies to disk" },
	{ "rewrite", "has \"return\" (as in \"return 301 "
	    "https://$host$request_uri;\"), in a regex location with its "
	    "groups for a rewrite (\"location ~ ^/old/(.*)$ { return 301 "
	    "/new/$1; }\")" },
	{ "satisfy", "always wants both: the access rules first, then "
	    "auth_basic (nginx's \"satisfy all\")" },
	{ "scgi_pass", "proxies HTTP only: \"proxy_pass http://...\"" },
	{ "sendfile", "chooses how to send files itself" },
	{ "server", "calls a site \"http { ... }\": one block per site, "
	    "with listen, server_name and root in it (\"server\" names an "
	    "upstream's servers)" },
	{ "ssl_dhparam", "needs none: it offers ECDHE key exchange only" },
	{ "ssl_session_cache", "resumes sessions with tickets shared by "
	    "every worker (\"ssl_session_tickets\"), needing no cache" },
	{ "ssl_stapling", "has no OCSP stapling yet" },
	{ "sticky", "balances with round robin (weights) or \"least_conn\"" },
	{ "tcp_nodelay", "sets TCP_NODELAY itself where it helps" },
	{ "tcp_nopush", "chooses how to send files itself" },
	{ "types", "has a built-in table of types and \"default_type\"" },
	{ "uwsgi_pass", "proxies HTTP only: \"proxy_pass http://...\"" },
};

static int
conf_nginx_cmp(const void *key, const void *elem)
{
	const struct conf_nginx_word *w = elem;

	return strcmp(key, w->nginx);
}

static const char *
conf_nginx_find(const struct conf_nginx_word *table, size_t n,
    const char *name)
{
	const struct conf_nginx_word *w;

	w = bsearch(name, table, n, sizeof(*table), conf_nginx_cmp);
	return w != NULL ? w->forkloop : NULL;
}

/* forkloop's name for nginx's directive name, or NULL. */
const char *
conf_nginx_alias(const char *name)
{
	return conf_nginx_find(conf_nginx_aliases, nitems(conf_nginx_aliases),
	    name);
}

/* What forkloop has instead of nginx's directive name, or NULL. */
const char *
conf_nginx_hint(const char *name)
{
	return conf_nginx_find(conf_nginx_hints, nitems(conf_nginx_hints),
	    name);
}
