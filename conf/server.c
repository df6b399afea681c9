/*
 * server.c: the http, echo and chat blocks: opening one with its
 * defaults, its listen addresses (several http blocks may share one),
 * server_name, the TLS certificate and protocol settings, and the checks
 * made when the block closes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf/parser.h"
#include "conf/regex.h"
#include "conf/value.h"

#define DEFAULT_ROOT		"/srv/www"
#define DEFAULT_INDEX		"index.html"
#define DEFAULT_TYPE		"application/octet-stream"

static const char *const server_kinds[] = {
	[CONF_SERVER_HTTP] = "http",
	[CONF_SERVER_ECHO] = "echo",
	[CONF_SERVER_CHAT] = "chat",
};

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
	/* nginx's opt-in; forkloop's sockets always are (see
	 * reuseport_steering). */
	if (strcmp(st->argv[i], "reuseport") == 0)
		return 0;
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

int
conf_set_listen(struct parser *p, struct stmt *st, void *field)
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
	listens = conf_grow(p, st->lines[0], srv->listens, srv->nlistens,
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

	servers = conf_grow(p, line, conf->servers, conf->nservers,
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

int
conf_set_http(struct parser *p, struct stmt *st, void *field)
{
	(void)field;
	return set_block(p, st, CONF_SERVER_HTTP, CTX_HTTP);
}

int
conf_set_echo(struct parser *p, struct stmt *st, void *field)
{
	(void)field;
	return set_block(p, st, CONF_SERVER_ECHO, CTX_ECHO);
}

int
conf_set_chat(struct parser *p, struct stmt *st, void *field)
{
	(void)field;
	return set_block(p, st, CONF_SERVER_CHAT, CTX_CHAT);
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

	if ((names = conf_grow(p, line, srv->server_names, srv->nserver_names,
	    sizeof(*names))) == NULL)
		return -1;
	srv->server_names = names;
	if ((lines = conf_grow(p, line, srv->server_name_lines, srv->nserver_names,
	    sizeof(*lines))) == NULL)
		return -1;
	srv->server_name_lines = lines;
	if ((regexes = conf_grow(p, line, srv->server_name_regexes,
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

int
conf_set_server_name(struct parser *p, struct stmt *st, void *field)
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

int
conf_set_ssl_certificate(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	struct conf_tls_cert *certs;

	if (srv->ncerts > 0 && srv->certs[srv->ncerts - 1].key == NULL)
		return conf_perr(p, srv->certs[srv->ncerts - 1].cert_line,
		    "ssl_certificate \"%s\" has no \"ssl_certificate_key\"",
		    srv->certs[srv->ncerts - 1].cert);
	certs = conf_grow(p, st->lines[0], srv->certs, srv->ncerts,
	    sizeof(*certs));
	if (certs == NULL)
		return -1;
	srv->certs = certs;
	memset(&certs[srv->ncerts], 0, sizeof(certs[0]));
	certs[srv->ncerts].cert_line = st->lines[1];
	if (conf_set_path(p, st, &certs[srv->ncerts].cert) == -1)
		return -1;
	srv->ncerts++;
	return 0;
}

int
conf_set_ssl_certificate_key(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	struct conf_tls_cert *c;

	if (srv->ncerts == 0 || srv->certs[srv->ncerts - 1].key != NULL)
		return conf_perr(p, st->lines[0], "\"ssl_certificate_key\" "
		    "without an \"ssl_certificate\" before it");
	c = &srv->certs[srv->ncerts - 1];
	c->key_line = st->lines[1];
	return conf_set_path(p, st, &c->key);
}

/* TLS 1.0 and 1.1 (RFC 8996) and SSL are refused, even if asked for. */
int
conf_set_ssl_protocols(struct parser *p, struct stmt *st, void *field)
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

int
conf_set_ssl_ciphers(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;

	srv->ssl_ciphers_line = st->lines[1];
	return conf_set_string(p, st, &srv->ssl_ciphers);
}

int
conf_set_ssl_ecdh_curve(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;

	srv->ssl_ecdh_curve_line = st->lines[1];
	return conf_set_string(p, st, &srv->ssl_ecdh_curve);
}
