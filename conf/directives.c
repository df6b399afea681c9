/*
 * directives.c: the config directives, one row of the table below each:
 * where it may appear, how many arguments it takes, and the function that
 * stores its value.  Most of those are generic (a time, a size, a flag)
 * and find their field by an offset, as in nginx, so a new directive
 * usually costs one row.  The blocks' own setters live by their part:
 * server.c (http, echo, chat, listen, TLS), response.c (add_header,
 * return...), location.c, upstream.c and the others named in parser.h.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/parser.h"
#include "conf/value.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Room for one more element after n; the caller stores the new pointer. */
void *
conf_grow(struct parser *p, int line, void *array, size_t n, size_t size)
{
	void *bigger;

	bigger = realloc(array, (n + 1) * size);
	if (bigger == NULL)
		conf_perr(p, line, "out of memory");
	return bigger;
}

/* NAME WORD|off: the flag is 1 for WORD ("on", "auto", "cpu"). */
static int
set_switch(struct parser *p, struct stmt *st, void *field, const char *on)
{
	if (value_switch(st->argv[0], st->argv[1], on, field, p->msg,
	    sizeof(p->msg)) == -1)
		return conf_perr(p, st->lines[1], "%s", p->msg);
	return 0;
}

static int
set_flag(struct parser *p, struct stmt *st, void *field)
{
	return set_switch(p, st, field, "on");
}

/* A directive that takes no argument and turns its flag on. */
static int
set_on(struct parser *p, struct stmt *st, void *field)
{
	(void)p;
	(void)st;
	*(int *)field = 1;
	return 0;
}

static int
set_cpu_affinity(struct parser *p, struct stmt *st, void *field)
{
	return set_switch(p, st, field, "auto");
}

static int
set_steering(struct parser *p, struct stmt *st, void *field)
{
	return set_switch(p, st, field, "cpu");
}

static int
set_time(struct parser *p, struct stmt *st, void *field)
{
	if (value_time(st->argv[1], field, p->msg, sizeof(p->msg)) == -1)
		return conf_perr(p, st->lines[1], "%s", p->msg);
	return 0;
}

static int
set_size(struct parser *p, struct stmt *st, void *field)
{
	if (value_size(st->argv[1], field, p->msg, sizeof(p->msg)) == -1)
		return conf_perr(p, st->lines[1], "%s", p->msg);
	return 0;
}

/* Zero would time every request out at once. */
static int
set_nonzero_time(struct parser *p, struct stmt *st, void *field)
{
	int *ms = field;

	if (set_time(p, st, ms) == -1)
		return -1;
	if (*ms == 0)
		return conf_perr(p, st->lines[1], "\"%s\" must not be 0",
		    st->argv[0]);
	return 0;
}

/* As nginx's client_max_body_size: 0 means no limit. */
static int
set_body_size(struct parser *p, struct stmt *st, void *field)
{
	size_t *size = field;

	if (set_size(p, st, size) == -1)
		return -1;
	if (*size == 0)
		*size = (size_t)INT64_MAX;
	return 0;
}

/* A chat line or queue of zero bytes could never hold a message. */
static int
set_nonzero_size(struct parser *p, struct stmt *st, void *field)
{
	size_t *size = field;

	if (set_size(p, st, size) == -1)
		return -1;
	if (*size == 0)
		return conf_perr(p, st->lines[1], "\"%s\" must not be 0",
		    st->argv[0]);
	return 0;
}

/* Below 1k not even a request line with a modest URL fits. */
static int
set_header_size(struct parser *p, struct stmt *st, void *field)
{
	size_t *size = field;

	if (set_size(p, st, size) == -1)
		return -1;
	if (*size < 1024)
		return conf_perr(p, st->lines[1], "\"%s\" must be at least 1k",
		    st->argv[0]);
	return 0;
}

static int
set_number(struct parser *p, struct stmt *st, void *field)
{
	if (value_number(st->argv[1], field, p->msg, sizeof(p->msg)) == -1)
		return conf_perr(p, st->lines[1], "%s", p->msg);
	return 0;
}

/* gzip_comp_level 1-9 (zlib), brotli_comp_level 0-11 (brotli). */
static int
set_comp_level(struct parser *p, struct stmt *st, void *field)
{
	int *n = field, max = strcmp(st->argv[0], "brotli_comp_level") == 0 ?
	    11 : 9, min = max == 11 ? 0 : 1;
	char *end;
	long v = strtol(st->argv[1], &end, 10);

	if (st->argv[1][0] < '0' || st->argv[1][0] > '9' || *end != '\0' ||
	    v < min || v > max)
		return conf_perr(p, st->lines[1], "\"%s\" must be %d to %d",
		    st->argv[0], min, max);
	*n = (int)v;
	return 0;
}

/* autoindex_format html | json: nginx's xml and jsonp are not here. */
static int
set_autoindex_format(struct parser *p, struct stmt *st, void *field)
{
	enum conf_autoindex_format *format = field;

	if (strcmp(st->argv[1], "html") == 0)
		*format = CONF_AUTOINDEX_HTML;
	else if (strcmp(st->argv[1], "json") == 0)
		*format = CONF_AUTOINDEX_JSON;
	else
		return conf_perr(p, st->lines[1], "invalid value \"%s\" for "
		    "\"%s\", expecting \"html\" or \"json\"", st->argv[1],
		    st->argv[0]);
	return 0;
}

/* gzip_static, brotli_static on|off|always (nginx, ngx_brotli). */
static int
set_static_coding(struct parser *p, struct stmt *st, void *field)
{
	enum conf_static_coding *c = field;

	if (strcmp(st->argv[1], "on") == 0)
		*c = CONF_STATIC_ON;
	else if (strcmp(st->argv[1], "off") == 0)
		*c = CONF_STATIC_OFF;
	else if (strcmp(st->argv[1], "always") == 0)
		*c = CONF_STATIC_ALWAYS;
	else
		return conf_perr(p, st->lines[1], "invalid value \"%s\" for "
		    "\"%s\", expecting \"on\", \"off\" or \"always\"",
		    st->argv[1], st->argv[0]);
	return 0;
}

/* gzip_types TYPE ...: media types, "type/subtype", lower case. */
static int
set_gzip_types(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	size_t i, j;

	srv->gzip_types = calloc(st->argc - 1, sizeof(*srv->gzip_types));
	if (srv->gzip_types == NULL)
		return conf_perr(p, st->lines[0], "out of memory");
	for (i = 1; i < st->argc; i++) {
		char *t = st->argv[i];

		if (strcmp(t, "*") != 0 && (strchr(t, '/') == NULL ||
		    t[0] == '/' || strchr(t, ';') != NULL))
			return conf_perr(p, st->lines[i], "invalid media type "
			    "\"%s\" (type/subtype, or *)", t);
		if ((srv->gzip_types[i - 1] = conf_pstrdup(p, st->lines[i],
		    t)) == NULL)
			return -1;
		for (j = 0; srv->gzip_types[i - 1][j] != '\0'; j++)
			if (srv->gzip_types[i - 1][j] >= 'A' &&
			    srv->gzip_types[i - 1][j] <= 'Z')
				srv->gzip_types[i - 1][j] += 'a' - 'A';
		srv->ngzip_types++;
	}
	return 0;
}

/* SETTINGS_MAX_CONCURRENT_STREAMS: 0 would refuse every request. */
static int
set_streams(struct parser *p, struct stmt *st, void *field)
{
	int *n = field;

	if (set_number(p, st, field) == -1)
		return -1;
	if (*n < 1 || *n > 65536)
		return conf_perr(p, st->lines[1], "\"%s\" must be 1 to 65536",
		    st->argv[0]);
	return 0;
}

/* SETTINGS_INITIAL_WINDOW_SIZE: at most 2^31-1 (RFC 9113 6.5.2). */
static int
set_window_size(struct parser *p, struct stmt *st, void *field)
{
	size_t *size = field;

	if (set_size(p, st, size) == -1)
		return -1;
	if (*size < 1 || *size > 0x7fffffff)
		return conf_perr(p, st->lines[1], "\"%s\" must be 1 to "
		    "2147483647 bytes", st->argv[0]);
	return 0;
}

/* limit_req_log_level, limit_conn_log_level: nginx's notice is info. */
static int
set_limit_log_level(struct parser *p, struct stmt *st, void *field)
{
	const char *v = strcmp(st->argv[1], "notice") == 0 ? "info" :
	    st->argv[1];

	if (strcmp(v, "debug") == 0 || value_log_level(v, field, p->msg,
	    sizeof(p->msg)) == -1)
		return conf_perr(p, st->lines[1], "invalid value \"%s\" for "
		    "\"%s\", expecting info, notice, warn or error",
		    st->argv[1], st->argv[0]);
	return 0;
}

static int
set_workers(struct parser *p, struct stmt *st, void *field)
{
	if (value_workers(st->argv[1], field, p->msg, sizeof(p->msg)) == -1)
		return conf_perr(p, st->lines[1], "%s", p->msg);
	return 0;
}

int
conf_set_string(struct parser *p, struct stmt *st, void *field)
{
	char **value = field;

	if (st->argv[1][0] == '\0')
		return conf_perr(p, st->lines[1], "empty value for \"%s\"",
		    st->argv[0]);
	*value = conf_pstrdup(p, st->lines[1], st->argv[1]);
	return *value == NULL ? -1 : 0;
}

int
conf_set_path(struct parser *p, struct stmt *st, void *field)
{
	char **path = field;

	*path = value_path(p->basedir, st->argv[1], p->msg, sizeof(p->msg));
	if (*path == NULL)
		return conf_perr(p, st->lines[1], "%s", p->msg);
	return 0;
}

int
conf_set_path_or_off(struct parser *p, struct stmt *st, void *field)
{
	if (strcmp(st->argv[1], "off") == 0)
		return 0;
	return conf_set_path(p, st, field);
}

static int
set_error_log(struct parser *p, struct stmt *st, void *field)
{
	struct conf *conf = field;

	if (st->argc == 3 && value_log_level(st->argv[2],
	    &conf->error_log_level, p->msg, sizeof(p->msg)) == -1)
		return conf_perr(p, st->lines[2], "%s", p->msg);
	if (strcmp(st->argv[1], "stderr") == 0)
		return 0;
	conf->error_log_line = st->lines[1];
	return conf_set_path(p, st, &conf->error_log);
}

/* The syntax; the master looks the names up (master/conf_check.c). */
static int
set_user(struct parser *p, struct stmt *st, void *field)
{
	struct conf *conf = field;

	if (st->argv[1][0] == '\0')
		return conf_perr(p, st->lines[1], "invalid user \"\"");
	if (st->argc == 3 && st->argv[2][0] == '\0')
		return conf_perr(p, st->lines[2], "invalid group \"\"");
	conf->user = conf_pstrdup(p, st->lines[1], st->argv[1]);
	if (conf->user == NULL)
		return -1;
	conf->user_line = st->lines[1];
	if (st->argc < 3)
		return 0;
	conf->group_line = st->lines[2];
	conf->group = conf_pstrdup(p, st->lines[2], st->argv[2]);
	return conf->group == NULL ? -1 : 0;
}

static int
set_index(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	size_t i;

	srv->index = calloc(st->argc - 1, sizeof(*srv->index));
	if (srv->index == NULL)
		return conf_perr(p, st->lines[0], "out of memory");
	for (i = 1; i < st->argc; i++) {
		if (st->argv[i][0] == '\0')
			return conf_perr(p, st->lines[i], "invalid index \"\"");
		srv->index[i - 1] = conf_pstrdup(p, st->lines[i], st->argv[i]);
		if (srv->index[i - 1] == NULL)
			return -1;
		srv->nindex++;
	}
	return 0;
}

static int
set_route(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	struct conf_route *routes;
	enum conf_route_handler handler;
	char *prefix;
	size_t i;

	if (st->argv[1][0] != '/')
		return conf_perr(p, st->lines[1],
		    "route prefix \"%s\" must start with \"/\"", st->argv[1]);
	if (value_route_handler(st->argv[2], &handler, p->msg,
	    sizeof(p->msg)) == -1)
		return conf_perr(p, st->lines[2], "%s", p->msg);
	for (i = 0; i < srv->nroutes; i++)
		if (strcmp(srv->routes[i].prefix, st->argv[1]) == 0)
			return conf_perr(p, st->lines[1], "duplicate route \"%s\"",
			    st->argv[1]);
	routes = conf_grow(p, st->lines[0], srv->routes, srv->nroutes,
	    sizeof(*routes));
	if (routes == NULL)
		return -1;
	srv->routes = routes;
	prefix = conf_pstrdup(p, st->lines[1], st->argv[1]);
	if (prefix == NULL)
		return -1;
	routes[srv->nroutes].prefix = prefix;
	routes[srv->nroutes].prefix_len = strlen(prefix);
	routes[srv->nroutes].handler = handler;
	srv->nroutes++;
	return 0;
}


/* buffer=SIZE or flush=TIME after "access_log PATH [FORMAT]". */
static int
access_log_param(struct parser *p, struct stmt *st, size_t i,
    struct conf_server *srv)
{
	const char *a = st->argv[i];

	if (strncmp(a, "buffer=", 7) == 0) {
		if (value_size(a + 7, &srv->access_buffer, p->msg,
		    sizeof(p->msg)) == -1)
			return conf_perr(p, st->lines[i], "%s", p->msg);
		if (srv->access_buffer < 512 ||
		    srv->access_buffer > 16 * 1024 * 1024)
			return conf_perr(p, st->lines[i], "buffer= must be 512 "
			    "to 16m");
		return 0;
	}
	if (strncmp(a, "flush=", 6) == 0) {
		if (value_time(a + 6, &srv->access_flush_ms, p->msg,
		    sizeof(p->msg)) == -1)
			return conf_perr(p, st->lines[i], "%s", p->msg);
		if (srv->access_flush_ms < 10)
			return conf_perr(p, st->lines[i], "flush= must be at "
			    "least 10ms");
		return 0;
	}
	return conf_perr(p, st->lines[i], "invalid access_log parameter "
	    "\"%s\" (buffer= or flush=)", a);
}

/* access_log PATH|off [combined|combined_ssl|NAME] [buffer=] [flush=] */
static int
set_access_log(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	size_t i = 2;

	if (st->argc > 2 && strchr(st->argv[2], '=') == NULL) {
		if (strcmp(st->argv[2], "combined") == 0)
			srv->access_format = CONF_ACCESS_COMBINED;
		else if (strcmp(st->argv[2], "combined_ssl") == 0)
			srv->access_format = CONF_ACCESS_COMBINED_SSL;
		else if ((srv->access_format_name = conf_pstrdup(p,
		    st->lines[2], st->argv[2])) == NULL)
			return -1;
		srv->access_format_line = st->lines[2];
		i = 3;
	}
	for (; i < st->argc; i++)
		if (access_log_param(p, st, i, srv) == -1)
			return -1;
	srv->access_log_line = st->lines[1];
	return conf_set_path_or_off(p, st, &srv->access_log);
}


/* Sorted by name, for bsearch. */
static const struct directive directives[] = {
	{ "access_log", CTX_HTTP | CTX_LOCATION, 0, 1, 4, set_access_log, 0 },
	{ "add_header", CTX_HTTP | CTX_LOCATION, DIR_MULTI, 2, 3,
	    conf_set_add_header, 0 },
	{ "alias", CTX_LOCATION, 0, 1, 1, conf_set_path, IN_SERVER(alias) },
	{ "allow", CTX_HTTP | CTX_LOCATION, DIR_MULTI, 1, 1, conf_set_access,
	    0 },
	{ "auth_basic", CTX_HTTP | CTX_LOCATION, 0, 1, 1, conf_set_auth_basic,
	    0 },
	{ "auth_basic_user_file", CTX_HTTP | CTX_LOCATION, 0, 1, 1,
	    conf_set_auth_user_file, 0 },
	{ "autoindex", CTX_HTTP | CTX_LOCATION, 0, 1, 1, set_flag,
	    IN_SERVER(autoindex) },
	{ "autoindex_format", CTX_HTTP | CTX_LOCATION, 0, 1, 1,
	    set_autoindex_format, IN_SERVER(autoindex_format) },
	{ "body_timeout", CTX_HTTP, 0, 1, 1, set_nonzero_time,
	    IN_SERVER(body_timeout_ms) },
	{ "brotli", CTX_HTTP, 0, 1, 1, set_flag, IN_SERVER(brotli) },
	{ "brotli_comp_level", CTX_HTTP, 0, 1, 1, set_comp_level,
	    IN_SERVER(brotli_comp_level) },
	{ "brotli_static", CTX_HTTP | CTX_LOCATION, 0, 1, 1,
	    set_static_coding, IN_SERVER(brotli_static) },
	{ "chat", CTX_MAIN, DIR_BLOCK | DIR_MULTI, 0, 0, conf_set_chat, 0 },
	{ "chat_history", CTX_CHAT, 0, 1, 1, conf_set_chat_history, 0 },
	{ "daemon", CTX_MAIN, 0, 1, 1, set_flag, IN_CONF(daemon) },
	{ "default_type", CTX_HTTP | CTX_LOCATION, 0, 1, 1, conf_set_string,
	    IN_SERVER(default_type) },
	{ "defer_accept", CTX_HTTP, 0, 1, 1, set_flag,
	    IN_SERVER(defer_accept) },
	{ "deny", CTX_HTTP | CTX_LOCATION, DIR_MULTI, 1, 1, conf_set_access,
	    0 },
	{ "echo", CTX_MAIN, DIR_BLOCK | DIR_MULTI, 0, 0, conf_set_echo, 0 },
	{ "error_log", CTX_MAIN, 0, 1, 2, set_error_log, 0 },
	{ "error_page", CTX_HTTP | CTX_LOCATION, DIR_MULTI, 2, ARGS_ANY,
	    conf_set_error_page, 0 },
	{ "expires", CTX_HTTP | CTX_LOCATION, 0, 1, 1, conf_set_expires, 0 },
	{ "follow_symlinks", CTX_HTTP | CTX_LOCATION, 0, 1, 1, set_flag,
	    IN_SERVER(follow_symlinks) },
	{ "gzip", CTX_HTTP, 0, 1, 1, set_flag, IN_SERVER(gzip) },
	{ "gzip_comp_level", CTX_HTTP, 0, 1, 1, set_comp_level,
	    IN_SERVER(gzip_comp_level) },
	{ "gzip_min_length", CTX_HTTP, 0, 1, 1, set_size,
	    IN_SERVER(gzip_min_length) },
	{ "gzip_static", CTX_HTTP | CTX_LOCATION, 0, 1, 1, set_static_coding,
	    IN_SERVER(gzip_static) },
	{ "gzip_types", CTX_HTTP, 0, 1, ARGS_ANY, set_gzip_types, 0 },
	{ "gzip_vary", CTX_HTTP, 0, 1, 1, set_flag, IN_SERVER(gzip_vary) },
	{ "header_timeout", CTX_HTTP, 0, 1, 1, set_nonzero_time,
	    IN_SERVER(header_timeout_ms) },
	{ "hidden_files", CTX_HTTP | CTX_LOCATION, 0, 1, 1, set_flag,
	    IN_SERVER(hidden_files) },
	{ "http", CTX_MAIN, DIR_BLOCK | DIR_MULTI, 0, 0, conf_set_http, 0 },
	{ "http2", CTX_HTTP, 0, 1, 1, set_flag, IN_SERVER(http2) },
	{ "http2_initial_window_size", CTX_HTTP, 0, 1, 1, set_window_size,
	    IN_SERVER(http2_initial_window_size) },
	{ "http2_max_concurrent_streams", CTX_HTTP, 0, 1, 1, set_streams,
	    IN_SERVER(http2_max_concurrent_streams) },
	{ "http2_max_header_size", CTX_HTTP, 0, 1, 1, set_header_size,
	    IN_SERVER(http2_max_header_size) },
	{ "idle_timeout", CTX_ECHO | CTX_CHAT, 0, 1, 1, set_time,
	    IN_SERVER(idle_timeout_ms) },
	{ "include", CTX_MAIN | CTX_SERVER | CTX_LOCATION | CTX_UPSTREAM,
	    DIR_MULTI, 1, 1, conf_set_include, 0 },
	{ "index", CTX_HTTP | CTX_LOCATION, 0, 1, ARGS_ANY, set_index, 0 },
	{ "keepalive", CTX_UPSTREAM, 0, 1, 1, set_number,
	    IN_UPSTREAM(keepalive) },
	{ "keepalive_timeout", CTX_HTTP | CTX_UPSTREAM, 0, 1, 1,
	    conf_set_keepalive_timeout, 0 },
	{ "least_conn", CTX_UPSTREAM, 0, 0, 0, set_on, IN_UPSTREAM(least_conn) },
	{ "limit_conn", CTX_HTTP | CTX_LOCATION, DIR_MULTI, 2, 2,
	    conf_set_limit_conn, 0 },
	{ "limit_conn_log_level", CTX_HTTP | CTX_LOCATION, 0, 1, 1,
	    set_limit_log_level, IN_SERVER(limit_conn_log_level) },
	{ "limit_conn_status", CTX_HTTP | CTX_LOCATION, 0, 1, 1,
	    conf_set_limit_status, IN_SERVER(limit_conn_status) },
	{ "limit_conn_zone", CTX_MAIN, DIR_MULTI, 2, 2, conf_set_limit_zone,
	    0 },
	{ "limit_req", CTX_HTTP | CTX_LOCATION, DIR_MULTI, 1, 3,
	    conf_set_limit_req, 0 },
	{ "limit_req_log_level", CTX_HTTP | CTX_LOCATION, 0, 1, 1,
	    set_limit_log_level, IN_SERVER(limit_req_log_level) },
	{ "limit_req_status", CTX_HTTP | CTX_LOCATION, 0, 1, 1,
	    conf_set_limit_status, IN_SERVER(limit_req_status) },
	{ "limit_req_zone", CTX_MAIN, DIR_MULTI, 3, 3, conf_set_limit_zone,
	    0 },
	{ "listen", CTX_SERVER, DIR_MULTI, 1, 6, conf_set_listen, 0 },
	{ "location", CTX_HTTP, DIR_BLOCK | DIR_MULTI, 1, 2, conf_set_location,
	    0 },
	{ "log_format", CTX_MAIN | CTX_HTTP, DIR_MULTI, 2, ARGS_ANY,
	    conf_set_log_format, 0 },
	{ "max_body_size", CTX_HTTP | CTX_LOCATION, 0, 1, 1, set_body_size,
	    IN_SERVER(max_body_size) },
	{ "max_header_size", CTX_HTTP, 0, 1, 1, set_header_size,
	    IN_SERVER(max_header_size) },
	{ "max_line", CTX_CHAT, 0, 1, 1, set_nonzero_size,
	    IN_SERVER(max_line) },
	{ "pid", CTX_MAIN, 0, 1, 1, conf_set_path_or_off, IN_CONF(pid_file) },
	{ "proxy_buffering", CTX_HTTP | CTX_LOCATION, 0, 1, 1, set_flag,
	    IN_SERVER(proxy_buffering) },
	{ "proxy_connect_timeout", CTX_HTTP | CTX_LOCATION, 0, 1, 1,
	    set_nonzero_time, IN_SERVER(proxy_connect_timeout_ms) },
	{ "proxy_hide_header", CTX_HTTP | CTX_LOCATION, DIR_MULTI, 1, 1,
	    conf_set_proxy_hide_header, 0 },
	{ "proxy_http_version", CTX_HTTP | CTX_LOCATION, 0, 1, 1,
	    conf_set_proxy_http_version, 0 },
	{ "proxy_pass", CTX_HTTP | CTX_LOCATION, 0, 1, 1, conf_set_proxy_pass,
	    0 },
	{ "proxy_read_timeout", CTX_HTTP | CTX_LOCATION, 0, 1, 1,
	    set_nonzero_time, IN_SERVER(proxy_read_timeout_ms) },
	{ "proxy_redirect", CTX_HTTP | CTX_LOCATION, 0, 1, 1,
	    conf_set_proxy_redirect, IN_SERVER(proxy_redirect) },
	{ "proxy_send_timeout", CTX_HTTP | CTX_LOCATION, 0, 1, 1,
	    set_nonzero_time, IN_SERVER(proxy_send_timeout_ms) },
	{ "proxy_set_header", CTX_HTTP | CTX_LOCATION, DIR_MULTI, 2, 2,
	    conf_set_proxy_header, 0 },
	{ "queue", CTX_CHAT, 0, 1, 1, set_nonzero_size, IN_SERVER(queue) },
	{ "real_ip_header", CTX_MAIN | CTX_HTTP, 0, 1, 1,
	    conf_set_real_ip_header, 0 },
	{ "real_ip_recursive", CTX_MAIN | CTX_HTTP, 0, 1, 1,
	    conf_set_real_ip_recursive, 0 },
	{ "redis", CTX_CHAT, 0, 1, 1, conf_set_redis, 0 },
	{ "redis_channel", CTX_CHAT, 0, 1, 1, conf_set_redis_channel, 0 },
	{ "redis_db", CTX_CHAT, 0, 1, 1, conf_set_redis_db, 0 },
	{ "redis_password", CTX_CHAT, 0, 1, 2, conf_set_redis_password, 0 },
	{ "return", CTX_HTTP | CTX_LOCATION, 0, 1, 2, conf_set_return, 0 },
	{ "reuseport_steering", CTX_MAIN, 0, 1, 1, set_steering,
	    IN_CONF(reuseport_steering) },
	{ "root", CTX_HTTP | CTX_LOCATION, 0, 1, 1, conf_set_path, IN_SERVER(root) },
	{ "route", CTX_HTTP, DIR_MULTI, 2, 2, set_route, 0 },
	{ "server", CTX_UPSTREAM, DIR_MULTI, 1, 5, conf_set_upstream_server,
	    0 },
	{ "server_name", CTX_HTTP, DIR_MULTI, 1, ARGS_ANY, conf_set_server_name,
	    0 },
	{ "server_tokens", CTX_HTTP, 0, 1, 1, set_flag,
	    IN_SERVER(server_tokens) },
	{ "set_real_ip_from", CTX_MAIN | CTX_HTTP, DIR_MULTI, 1, 1,
	    conf_set_real_ip_from, 0 },
	{ "shutdown_timeout", CTX_MAIN, 0, 1, 1, set_time,
	    IN_CONF(shutdown_timeout_ms) },
	{ "ssl_certificate", CTX_SERVER, DIR_MULTI, 1, 1, conf_set_ssl_certificate,
	    0 },
	{ "ssl_certificate_key", CTX_SERVER, DIR_MULTI, 1, 1,
	    conf_set_ssl_certificate_key, 0 },
	{ "ssl_ciphers", CTX_SERVER, 0, 1, 1, conf_set_ssl_ciphers, 0 },
	{ "ssl_ecdh_curve", CTX_SERVER, 0, 1, 1, conf_set_ssl_ecdh_curve, 0 },
	{ "ssl_handshake_timeout", CTX_SERVER, 0, 1, 1, set_nonzero_time,
	    IN_SERVER(ssl_handshake_timeout_ms) },
	{ "ssl_ktls", CTX_SERVER, 0, 1, 1, set_flag, IN_SERVER(ssl_ktls) },
	{ "ssl_prefer_server_ciphers", CTX_SERVER, 0, 1, 1, set_flag,
	    IN_SERVER(ssl_prefer_server_ciphers) },
	{ "ssl_protocols", CTX_SERVER, 0, 1, ARGS_ANY, conf_set_ssl_protocols, 0 },
	{ "ssl_session_ticket_rotate", CTX_MAIN, 0, 1, 1, set_nonzero_time,
	    IN_CONF(ssl_session_ticket_rotate_ms) },
	{ "ssl_session_tickets", CTX_SERVER, 0, 1, 1, set_flag,
	    IN_SERVER(ssl_session_tickets) },
	{ "ssl_session_timeout", CTX_SERVER, 0, 1, 1, set_nonzero_time,
	    IN_SERVER(ssl_session_timeout_ms) },
	{ "try_files", CTX_HTTP | CTX_LOCATION, 0, 2, ARGS_ANY,
	    conf_set_try_files, 0 },
	{ "upstream", CTX_MAIN, DIR_BLOCK | DIR_MULTI, 1, 1, conf_set_upstream, 0 },
	{ "user", CTX_MAIN, 0, 1, 2, set_user, 0 },
	{ "websocket", CTX_HTTP, DIR_MULTI, 2, 2, conf_set_websocket, 0 },
	{ "worker_connections", CTX_MAIN, 0, 1, 1, set_number,
	    IN_CONF(worker_connections) },
	{ "worker_cpu_affinity", CTX_MAIN, 0, 1, 1, set_cpu_affinity,
	    IN_CONF(worker_cpu_affinity) },
	{ "worker_rlimit_nofile", CTX_MAIN, 0, 1, 1, set_number,
	    IN_CONF(worker_rlimit_nofile) },
	{ "workers", CTX_MAIN, 0, 1, 1, set_workers, IN_CONF(workers) },
};

static int
directive_cmp(const void *key, const void *elem)
{
	const struct directive *d = elem;

	return strcmp(key, d->name);
}

const struct directive *
directive_find(const char *name)
{
	return bsearch(name, directives, nitems(directives),
	    sizeof(directives[0]), directive_cmp);
}

size_t
directive_index(const struct directive *d)
{
	return (size_t)(d - directives);
}

_Static_assert(nitems(directives) <= DIRECTIVES_MAX,
    "DIRECTIVES_MAX in conf/parser.h is too small");

