/*
 * directives.c: the config directives, one row of the table below each:
 * where it may appear, how many arguments it takes, and the function that
 * stores its value.  Most of those are generic (a time, a size, a flag)
 * and find their field by an offset, as in nginx, so a new directive
 * usually costs one row.  The http, echo and chat blocks open a server
 * and read their body with the parser (parse.c).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/parser.h"
#include "conf/regex.h"
#include "conf/value.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define DEFAULT_ROOT		"/srv/www"
#define DEFAULT_INDEX		"index.html"
#define DEFAULT_TYPE		"application/octet-stream"

static const char *const server_kinds[] = {
	[CONF_SERVER_HTTP] = "http",
	[CONF_SERVER_ECHO] = "echo",
	[CONF_SERVER_CHAT] = "chat",
};

/* Room for one more element after n; the caller stores the new pointer. */
static void *
grow(struct parser *p, int line, void *array, size_t n, size_t size)
{
	void *bigger;

	bigger = realloc(array, (n + 1) * size);
	if (bigger == NULL)
		conf_perr(p, line, "out of memory");
	return bigger;
}

static int
set_flag(struct parser *p, struct stmt *st, void *field)
{
	if (value_switch(st->argv[0], st->argv[1], "on", field, p->msg,
	    sizeof(p->msg)) == -1)
		return conf_perr(p, st->lines[1], "%s", p->msg);
	return 0;
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
	if (value_switch(st->argv[0], st->argv[1], "auto", field, p->msg,
	    sizeof(p->msg)) == -1)
		return conf_perr(p, st->lines[1], "%s", p->msg);
	return 0;
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

static int
set_string(struct parser *p, struct stmt *st, void *field)
{
	char **value = field;

	if (st->argv[1][0] == '\0')
		return conf_perr(p, st->lines[1], "empty value for \"%s\"",
		    st->argv[0]);
	*value = conf_pstrdup(p, st->lines[1], st->argv[1]);
	return *value == NULL ? -1 : 0;
}

static int
set_path(struct parser *p, struct stmt *st, void *field)
{
	char **path = field;

	*path = value_path(p->basedir, st->argv[1], p->msg, sizeof(p->msg));
	if (*path == NULL)
		return conf_perr(p, st->lines[1], "%s", p->msg);
	return 0;
}

static int
set_path_or_off(struct parser *p, struct stmt *st, void *field)
{
	if (strcmp(st->argv[1], "off") == 0)
		return 0;
	return set_path(p, st, field);
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
	return set_path(p, st, &conf->error_log);
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
	routes = grow(p, st->lines[0], srv->routes, srv->nroutes,
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

/*
 * Two blocks on one address would fight over its connections, unless
 * both are http: the request's Host (and SNI) then says which block it
 * is for.  Both must speak the same on it (TLS or not, PROXY header or
 * not).  The later listen is marked a repeat; only the first is bound.
 */
static int
listen_check_duplicate(struct parser *p, struct conf_listen *l)
{
	const struct conf_server *srv, *cur = p->server;
	const struct conf_listen *first;
	char at[CONF_ERR_LEN];
	size_t i, j;

	for (i = 0; i < p->conf->nservers; i++) {
		srv = &p->conf->servers[i];
		for (j = 0; j < srv->nlistens; j++) {
			first = &srv->listens[j];
			if (strcmp(first->text, l->text) != 0)
				continue;
			conf_line_ref(p->conf, first->line, l->line, at,
			    sizeof(at));
			if (srv == cur || srv->kind != CONF_SERVER_HTTP ||
			    cur->kind != CONF_SERVER_HTTP)
				return conf_perr(p, l->line, "duplicate listen "
				    "address %s (first at %s); only http "
				    "blocks share an address", l->text, at);
			if (first->ssl != l->ssl)
				return conf_perr(p, l->line, "listen %s: "
				    "\"ssl\" differs from %s", l->text, at);
			if (first->proxy_protocol != l->proxy_protocol)
				return conf_perr(p, l->line, "listen %s: "
				    "proxy_protocol differs from %s", l->text,
				    at);
			l->repeat = 1;
			return 0;
		}
	}
	return 0;
}

static int
listen_parameter(struct parser *p, struct stmt *st, size_t i,
    struct conf_listen *l)
{
	struct conf_server *srv = p->server;

	if (strcmp(st->argv[i], "ssl") == 0) {
		l->ssl = 1;
		srv->has_ssl = 1;
		return 0;
	}
	/* nginx's older spelling of "http2 on;" */
	if (strcmp(st->argv[i], "http2") == 0) {
		if (srv->kind != CONF_SERVER_HTTP)
			return conf_perr(p, st->lines[i],
			    "http2 is only for http listeners");
		srv->http2 = 1;
		return 0;
	}
	if (strcmp(st->argv[i], "default_server") == 0) {
		if (srv->kind != CONF_SERVER_HTTP)
			return conf_perr(p, st->lines[i],
			    "default_server is only for http listeners");
		l->default_server = 1;
		return 0;
	}
	if (strcmp(st->argv[i], "proxy_protocol") != 0)
		return conf_perr(p, st->lines[i],
		    "invalid listen parameter \"%s\"", st->argv[i]);
	if (srv->kind != CONF_SERVER_HTTP)
		return conf_perr(p, st->lines[i],
		    "proxy_protocol is only for http listeners");
	l->proxy_protocol = 1;
	return 0;
}

static int
set_listen(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	struct conf_listen l, *listens;
	size_t i;

	memset(&l, 0, sizeof(l));
	if (value_listen(st->argv[1], &l, p->msg, sizeof(p->msg)) == -1)
		return conf_perr(p, st->lines[1], "%s", p->msg);
	l.line = st->lines[1];
	for (i = 2; i < st->argc; i++)
		if (listen_parameter(p, st, i, &l) == -1)
			return -1;
	if (listen_check_duplicate(p, &l) == -1)
		return -1;
	listens = grow(p, st->lines[0], srv->listens, srv->nlistens,
	    sizeof(*listens));
	if (listens == NULL)
		return -1;
	srv->listens = listens;
	listens[srv->nlistens++] = l;
	return 0;
}

static void
server_defaults(struct conf_server *srv)
{
	srv->ssl_protocols = CONF_TLS_1_2 | CONF_TLS_1_3;
	srv->ssl_session_tickets = 1;
	srv->ssl_session_timeout_ms = 5 * 60 * 1000;
	srv->ssl_handshake_timeout_ms = 10 * 1000;
	srv->ssl_ktls = 1;
	switch (srv->kind) {
	case CONF_SERVER_HTTP:
		srv->keepalive_timeout_ms = 75 * 1000;
		srv->header_timeout_ms = 10 * 1000;
		srv->body_timeout_ms = 60 * 1000;
		srv->max_body_size = 1024 * 1024;
		srv->max_header_size = 16 * 1024;
		srv->defer_accept = 1;
		srv->http2 = 1;
		srv->server_tokens = 1;
		srv->gzip_comp_level = 1;
		srv->gzip_min_length = 20;
		srv->gzip_vary = 1;
		srv->brotli_comp_level = 4;
		srv->http2_max_concurrent_streams = 128;
		srv->http2_initial_window_size = 65535;
		/* As nginx's defaults. */
		srv->proxy_redirect = 1;
		srv->proxy_buffering = 1;
		srv->proxy_connect_timeout_ms = 60 * 1000;
		srv->proxy_read_timeout_ms = 60 * 1000;
		srv->proxy_send_timeout_ms = 60 * 1000;
		srv->limit_req_status = 503;
		srv->limit_conn_status = 503;
		srv->limit_req_log_level = CONF_LOG_ERROR;
		srv->limit_conn_log_level = CONF_LOG_ERROR;
		srv->real_ip_recursive = -1;
		break;
	case CONF_SERVER_CHAT:
		srv->max_line = 4 * 1024;
		srv->queue = 256 * 1024;
		/* FALLTHROUGH */
	case CONF_SERVER_ECHO:
		srv->idle_timeout_ms = 5 * 60 * 1000;
		break;
	}
}

/* Set at the block's end, so no directive has a default to free. */
static int
server_string_defaults(struct parser *p, struct conf_server *srv, int line)
{
	if (srv->root == NULL &&
	    (srv->root = conf_pstrdup(p, line, DEFAULT_ROOT)) == NULL)
		return -1;
	if (srv->default_type == NULL &&
	    (srv->default_type = conf_pstrdup(p, line, DEFAULT_TYPE)) == NULL)
		return -1;
	if (srv->index != NULL)
		return 0;
	srv->index = calloc(1, sizeof(*srv->index));
	if (srv->index == NULL)
		return conf_perr(p, line, "out of memory");
	srv->index[0] = conf_pstrdup(p, line, DEFAULT_INDEX);
	if (srv->index[0] == NULL)
		return -1;
	srv->nindex = 1;
	return 0;
}

/* As nginx: an ssl listener needs a certificate, each with its key. */
static int
server_check_tls(struct parser *p, const struct conf_server *srv)
{
	size_t i;

	if (srv->ncerts > 0 && srv->certs[srv->ncerts - 1].key == NULL)
		return conf_perr(p, srv->certs[srv->ncerts - 1].cert_line,
		    "ssl_certificate \"%s\" has no \"ssl_certificate_key\"",
		    srv->certs[srv->ncerts - 1].cert);
	if (!srv->has_ssl)
		return 0;
	for (i = 0; i < srv->nlistens && !srv->listens[i].ssl; i++)
		;
	if (srv->ncerts == 0)
		return conf_perr(p, srv->listens[i].line, "no "
		    "\"ssl_certificate\" for \"listen %s ssl\"",
		    srv->listens[i].text);
	return 0;
}

static int
server_open(struct parser *p, enum conf_server_kind kind, int line)
{
	struct conf *conf = p->conf;
	struct conf_server *servers, *srv;

	servers = grow(p, line, conf->servers, conf->nservers,
	    sizeof(*servers));
	if (servers == NULL)
		return -1;
	conf->servers = servers;
	srv = &servers[conf->nservers++];
	memset(srv, 0, sizeof(*srv));
	srv->kind = kind;
	srv->line = line;
	server_defaults(srv);
	p->server = srv;
	return 0;
}

static int
server_close(struct parser *p)
{
	struct conf_server *srv = p->server;

	p->server = NULL;
	if (srv->nlistens == 0)
		return conf_perr(p, srv->line, "\"%s\" block has no \"listen\"",
		    server_kinds[srv->kind]);
	if (server_check_tls(p, srv) == -1)
		return -1;
	if (srv->kind == CONF_SERVER_CHAT)
		return conf_chat_finish(p, srv);
	if (srv->kind != CONF_SERVER_HTTP)
		return 0;
	if (server_string_defaults(p, srv, srv->line) == -1 ||
	    conf_auth_check(p, srv) == -1)
		return -1;
	return conf_locations_finish(p, srv);
}

static int
set_block(struct parser *p, struct stmt *st, enum conf_server_kind kind,
    int ctx)
{
	if (server_open(p, kind, st->lines[0]) == -1)
		return -1;
	if (conf_parse_body(p, ctx) == -1)
		return -1;
	return server_close(p);
}

static int
set_http(struct parser *p, struct stmt *st, void *field)
{
	(void)field;
	return set_block(p, st, CONF_SERVER_HTTP, CTX_HTTP);
}

static int
set_echo(struct parser *p, struct stmt *st, void *field)
{
	(void)field;
	return set_block(p, st, CONF_SERVER_ECHO, CTX_ECHO);
}

static int
set_chat(struct parser *p, struct stmt *st, void *field)
{
	(void)field;
	return set_block(p, st, CONF_SERVER_CHAT, CTX_CHAT);
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
	return set_path_or_off(p, st, &srv->access_log);
}

/*
 * A plain name is stored in lower case (SNI and Host compare without
 * case), without a trailing dot; "~REGEX" as written, its regex compiled
 * now, without case as nginx's (conf/vhosts.c tries it after the names).
 */
static int
server_name_add(struct parser *p, struct conf_server *srv, const char *arg,
    int line)
{
	struct conf_regex **regexes;
	char **names, *name;
	int *lines;
	size_t j;

	if ((names = grow(p, line, srv->server_names, srv->nserver_names,
	    sizeof(*names))) == NULL)
		return -1;
	srv->server_names = names;
	if ((lines = grow(p, line, srv->server_name_lines, srv->nserver_names,
	    sizeof(*lines))) == NULL)
		return -1;
	srv->server_name_lines = lines;
	if ((regexes = grow(p, line, srv->server_name_regexes,
	    srv->nserver_names, sizeof(*regexes))) == NULL)
		return -1;
	srv->server_name_regexes = regexes;
	if ((name = conf_pstrdup(p, line, arg)) == NULL)
		return -1;
	regexes[srv->nserver_names] = NULL;
	if (name[0] == '~' && (regexes[srv->nserver_names] =
	    conf_regex_compile(name + 1, 1, p->msg, sizeof(p->msg))) == NULL) {
		free(name);
		return conf_perr(p, line, "server_name: %s", p->msg);
	}
	for (j = 0; name[0] != '~' && name[j] != '\0'; j++)
		if (name[j] >= 'A' && name[j] <= 'Z')
			name[j] = (char)(name[j] - 'A' + 'a');
	if (name[0] != '~' && j > 1 && name[j - 1] == '.')
		name[j - 1] = '\0';
	lines[srv->nserver_names] = line;
	names[srv->nserver_names++] = name;
	return 0;
}

static int
set_server_name(struct parser *p, struct stmt *st, void *field)
{
	size_t i;

	for (i = 1; i < st->argc; i++) {
		if (st->argv[i][0] == '\0' || strcmp(st->argv[i], "~") == 0)
			return conf_perr(p, st->lines[i],
			    "invalid server name \"%s\"", st->argv[i]);
		if (server_name_add(p, field, st->argv[i], st->lines[i]) == -1)
			return -1;
	}
	return 0;
}

static int
set_ssl_certificate(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	struct conf_tls_cert *certs;

	if (srv->ncerts > 0 && srv->certs[srv->ncerts - 1].key == NULL)
		return conf_perr(p, srv->certs[srv->ncerts - 1].cert_line,
		    "ssl_certificate \"%s\" has no \"ssl_certificate_key\"",
		    srv->certs[srv->ncerts - 1].cert);
	certs = grow(p, st->lines[0], srv->certs, srv->ncerts,
	    sizeof(*certs));
	if (certs == NULL)
		return -1;
	srv->certs = certs;
	memset(&certs[srv->ncerts], 0, sizeof(certs[0]));
	certs[srv->ncerts].cert_line = st->lines[1];
	if (set_path(p, st, &certs[srv->ncerts].cert) == -1)
		return -1;
	srv->ncerts++;
	return 0;
}

static int
set_ssl_certificate_key(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	struct conf_tls_cert *c;

	if (srv->ncerts == 0 || srv->certs[srv->ncerts - 1].key != NULL)
		return conf_perr(p, st->lines[0], "\"ssl_certificate_key\" "
		    "without an \"ssl_certificate\" before it");
	c = &srv->certs[srv->ncerts - 1];
	c->key_line = st->lines[1];
	return set_path(p, st, &c->key);
}

/* TLS 1.0 and 1.1 (RFC 8996) and SSL are refused, even if asked for. */
static int
set_ssl_protocols(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	const char *v;
	size_t i;

	srv->ssl_protocols = 0;
	for (i = 1; i < st->argc; i++) {
		v = st->argv[i];
		if (strcmp(v, "TLSv1.2") == 0)
			srv->ssl_protocols |= CONF_TLS_1_2;
		else if (strcmp(v, "TLSv1.3") == 0)
			srv->ssl_protocols |= CONF_TLS_1_3;
		else if (strcmp(v, "TLSv1") == 0 ||
		    strcmp(v, "TLSv1.1") == 0 || strcmp(v, "SSLv2") == 0 ||
		    strcmp(v, "SSLv3") == 0)
			return conf_perr(p, st->lines[i], "%s is insecure and "
			    "not supported (RFC 8996); use TLSv1.2 and "
			    "TLSv1.3", v);
		else
			return conf_perr(p, st->lines[i], "unknown protocol "
			    "\"%s\" (TLSv1.2 or TLSv1.3)", v);
	}
	return 0;
}

static int
set_ssl_ciphers(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;

	srv->ssl_ciphers_line = st->lines[1];
	return set_string(p, st, &srv->ssl_ciphers);
}

static int
set_ssl_ecdh_curve(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;

	srv->ssl_ecdh_curve_line = st->lines[1];
	return set_string(p, st, &srv->ssl_ecdh_curve);
}

/* A header the client must read as the operator wrote it: the name a
 * token, the value without control bytes (RFC 9110 5.1, 5.5). */
static int
set_add_header(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	struct conf_header *h;
	const unsigned char *c;

	if (st->argc == 4 && strcmp(st->argv[3], "always") != 0)
		return conf_perr(p, st->lines[3], "invalid add_header parameter "
		    "\"%s\" (always)", st->argv[3]);
	if (st->argv[1][0] == '\0')
		return conf_perr(p, st->lines[1], "empty header name");
	for (c = (const unsigned char *)st->argv[1]; *c != '\0'; c++)
		if (*c <= ' ' || *c >= 127 || strchr("\"(),/:;<=>?@[\\]{}",
		    *c) != NULL)
			return conf_perr(p, st->lines[1], "invalid header name "
			    "\"%s\"", st->argv[1]);
	for (c = (const unsigned char *)st->argv[2]; *c != '\0'; c++)
		if ((*c < ' ' && *c != '\t') || *c == 127)
			return conf_perr(p, st->lines[2], "a control byte in the "
			    "value of \"%s\"", st->argv[1]);
	h = grow(p, st->lines[0], srv->add_headers, srv->nadd_headers,
	    sizeof(*h));
	if (h == NULL)
		return -1;
	srv->add_headers = h;
	h = &h[srv->nadd_headers];
	memset(h, 0, sizeof(*h));
	h->always = st->argc == 4;
	if ((h->name = conf_pstrdup(p, st->lines[1], st->argv[1])) == NULL ||
	    (h->value = conf_pstrdup(p, st->lines[2], st->argv[2])) == NULL) {
		free(h->name);
		return -1;
	}
	/* With variables ($host, a regex location's $1), as nginx's. */
	if (strchr(h->value, '$') != NULL && (h->text = value_text(h->value,
	    p->regex, p->msg, sizeof(p->msg))) == NULL) {
		free(h->name);
		free(h->value);
		return conf_perr(p, st->lines[2], "%s", p->msg);
	}
	srv->nadd_headers++;
	return 0;
}

/*
 * error_page CODE ... URI: the block's own page for those error codes,
 * a file under its root sent with the error's status.  nginx's "=CODE"
 * and named locations have no counterpart yet.
 */
static int
set_error_page(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	const char *uri = st->argv[st->argc - 1];
	struct conf_error_page *e;
	unsigned long code;
	size_t i, j;
	char *end;

	if (uri[0] != '/')
		return conf_perr(p, st->lines[st->argc - 1], "error_page URI "
		    "\"%s\" must start with \"/\"", uri);
	for (i = 1; i + 1 < st->argc; i++) {
		code = strtoul(st->argv[i], &end, 10);
		if (st->argv[i][0] < '0' || st->argv[i][0] > '9' ||
		    *end != '\0' || code < 300 || code > 599)
			return conf_perr(p, st->lines[i], "invalid error_page "
			    "code \"%s\" (300 to 599)", st->argv[i]);
		for (j = 0; j < srv->nerror_pages; j++)
			if (srv->error_pages[j].code == (int)code)
				return conf_perr(p, st->lines[i], "a second "
				    "error_page for %lu", code);
		e = grow(p, st->lines[i], srv->error_pages, srv->nerror_pages,
		    sizeof(*e));
		if (e == NULL)
			return -1;
		srv->error_pages = e;
		e[srv->nerror_pages].code = (int)code;
		e[srv->nerror_pages].uri = conf_pstrdup(p, st->lines[i], uri);
		if (e[srv->nerror_pages].uri == NULL)
			return -1;
		srv->nerror_pages++;
	}
	return 0;
}

/* nginx's expires: a time ahead, off, epoch or max. */
static int
set_expires(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;

	if (strcmp(st->argv[1], "off") == 0) {
		srv->expires = CONF_EXPIRES_OFF;
		return 0;
	}
	if (strcmp(st->argv[1], "epoch") == 0) {
		srv->expires = CONF_EXPIRES_EPOCH;
		return 0;
	}
	if (strcmp(st->argv[1], "max") == 0) {
		srv->expires = CONF_EXPIRES_MAX;
		return 0;
	}
	if (value_time_sec(st->argv[1], &srv->expires_sec, p->msg,
	    sizeof(p->msg)) == -1)
		return conf_perr(p, st->lines[1], "%s (or off, epoch, max)",
		    p->msg);
	srv->expires = CONF_EXPIRES_TIME;
	return 0;
}

/*
 * As nginx: "return CODE [TEXT]", the text a redirect's Location or
 * another code's body; "return URL" is a 302.  444 closes without an
 * answer.  Every request of the block gets it, before routes and files.
 */
static int
set_return(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	const char *text = st->argc == 3 ? st->argv[2] : NULL;
	int text_line = st->argc == 3 ? st->lines[2] : 0;
	unsigned long long code = 0;
	char *end;

	if (st->argc == 2 && (strncmp(st->argv[1], "http://", 7) == 0 ||
	    strncmp(st->argv[1], "https://", 8) == 0 ||
	    strncmp(st->argv[1], "$scheme", 7) == 0)) {
		code = 302;
		text = st->argv[1];
		text_line = st->lines[1];
	} else {
		/* A final status has three digits (RFC 9110 15); 1xx is
		 * never one. */
		code = strtoull(st->argv[1], &end, 10);
		if (st->argv[1][0] < '0' || st->argv[1][0] > '9' ||
		    *end != '\0' || code < 200 || code > 999)
			return conf_perr(p, st->lines[1], "invalid return code "
			    "\"%s\" (200 to 999, or a URL)", st->argv[1]);
	}
	if (conf_return_is_redirect((int)code) && (text == NULL || *text == '\0'))
		return conf_perr(p, st->lines[1], "\"return %llu\" needs the "
		    "URL to send the client to", code);
	srv->return_code = (int)code;
	if (text == NULL)
		return 0;
	srv->return_text = value_text(text, p->regex, p->msg,
	    sizeof(p->msg));
	if (srv->return_text == NULL)
		return conf_perr(p, text_line, "%s", p->msg);
	return 0;
}

/* Sorted by name, for bsearch. */
static const struct directive directives[] = {
	{ "access_log", CTX_HTTP | CTX_LOCATION, 0, 1, 4, set_access_log, 0 },
	{ "add_header", CTX_HTTP | CTX_LOCATION, DIR_MULTI, 2, 3,
	    set_add_header, 0 },
	{ "alias", CTX_LOCATION, 0, 1, 1, set_path, IN_SERVER(alias) },
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
	{ "chat", CTX_MAIN, DIR_BLOCK | DIR_MULTI, 0, 0, set_chat, 0 },
	{ "chat_history", CTX_CHAT, 0, 1, 1, conf_set_chat_history, 0 },
	{ "daemon", CTX_MAIN, 0, 1, 1, set_flag, IN_CONF(daemon) },
	{ "default_type", CTX_HTTP | CTX_LOCATION, 0, 1, 1, set_string,
	    IN_SERVER(default_type) },
	{ "defer_accept", CTX_HTTP, 0, 1, 1, set_flag,
	    IN_SERVER(defer_accept) },
	{ "deny", CTX_HTTP | CTX_LOCATION, DIR_MULTI, 1, 1, conf_set_access,
	    0 },
	{ "echo", CTX_MAIN, DIR_BLOCK | DIR_MULTI, 0, 0, set_echo, 0 },
	{ "error_log", CTX_MAIN, 0, 1, 2, set_error_log, 0 },
	{ "error_page", CTX_HTTP | CTX_LOCATION, DIR_MULTI, 2, ARGS_ANY,
	    set_error_page, 0 },
	{ "expires", CTX_HTTP | CTX_LOCATION, 0, 1, 1, set_expires, 0 },
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
	{ "http", CTX_MAIN, DIR_BLOCK | DIR_MULTI, 0, 0, set_http, 0 },
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
	{ "listen", CTX_SERVER, DIR_MULTI, 1, 6, set_listen, 0 },
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
	{ "pid", CTX_MAIN, 0, 1, 1, set_path_or_off, IN_CONF(pid_file) },
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
	{ "return", CTX_HTTP | CTX_LOCATION, 0, 1, 2, set_return, 0 },
	{ "root", CTX_HTTP | CTX_LOCATION, 0, 1, 1, set_path, IN_SERVER(root) },
	{ "route", CTX_HTTP, DIR_MULTI, 2, 2, set_route, 0 },
	{ "server", CTX_UPSTREAM, DIR_MULTI, 1, 5, conf_set_upstream_server,
	    0 },
	{ "server_name", CTX_HTTP, DIR_MULTI, 1, ARGS_ANY, set_server_name,
	    0 },
	{ "server_tokens", CTX_HTTP, 0, 1, 1, set_flag,
	    IN_SERVER(server_tokens) },
	{ "set_real_ip_from", CTX_MAIN | CTX_HTTP, DIR_MULTI, 1, 1,
	    conf_set_real_ip_from, 0 },
	{ "shutdown_timeout", CTX_MAIN, 0, 1, 1, set_time,
	    IN_CONF(shutdown_timeout_ms) },
	{ "ssl_certificate", CTX_SERVER, DIR_MULTI, 1, 1, set_ssl_certificate,
	    0 },
	{ "ssl_certificate_key", CTX_SERVER, DIR_MULTI, 1, 1,
	    set_ssl_certificate_key, 0 },
	{ "ssl_ciphers", CTX_SERVER, 0, 1, 1, set_ssl_ciphers, 0 },
	{ "ssl_ecdh_curve", CTX_SERVER, 0, 1, 1, set_ssl_ecdh_curve, 0 },
	{ "ssl_handshake_timeout", CTX_SERVER, 0, 1, 1, set_nonzero_time,
	    IN_SERVER(ssl_handshake_timeout_ms) },
	{ "ssl_ktls", CTX_SERVER, 0, 1, 1, set_flag, IN_SERVER(ssl_ktls) },
	{ "ssl_prefer_server_ciphers", CTX_SERVER, 0, 1, 1, set_flag,
	    IN_SERVER(ssl_prefer_server_ciphers) },
	{ "ssl_protocols", CTX_SERVER, 0, 1, ARGS_ANY, set_ssl_protocols, 0 },
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

