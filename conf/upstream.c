/*
 * upstream.c: the reverse proxy's configuration, in nginx's words:
 * "upstream NAME { server ADDRESS [weight=N] [max_fails=N]
 * [fail_timeout=TIME] [backup]; least_conn; keepalive N; }" at the top
 * level, and "proxy_pass http://NAME_OR_ADDRESS[/URI];" with its
 * proxy_set_header, proxy_hide_header, proxy_redirect and
 * proxy_http_version in an http block or a location.
 *
 * A proxy_pass to an address makes an upstream of its own (implicit),
 * so the worker sees one kind of thing.  Names are resolved when the
 * whole file is read (conf_upstreams_resolve()), since an upstream block
 * may come after the http block that uses it, as in nginx: a name that
 * is no upstream block is looked up in DNS then, once, and each address
 * it has becomes a server.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/parser.h"
#include "conf/value.h"

#define UPSTREAM_KEEPALIVE	32
#define UPSTREAM_KEEPALIVE_MS	(60 * 1000)
#define UPSTREAM_FAIL_TIMEOUT_MS	(10 * 1000)

static struct conf_upstream *
upstream_add(struct parser *p, const char *name, int line, int implicit)
{
	struct conf *conf = p->conf;
	struct conf_upstream **all, *u;

	all = realloc(conf->upstreams, (conf->nupstreams + 1) * sizeof(*all));
	if (all == NULL)
		goto nomem;
	conf->upstreams = all;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		goto nomem;
	if ((u->name = strdup(name)) == NULL) {
		free(u);
		goto nomem;
	}
	u->line = line;
	u->implicit = implicit;
	u->keepalive = UPSTREAM_KEEPALIVE;
	u->keepalive_timeout_ms = UPSTREAM_KEEPALIVE_MS;
	all[conf->nupstreams++] = u;
	return u;
nomem:
	conf_perr(p, line, "out of memory");
	return NULL;
}

static struct conf_upstream *
upstream_find(const struct conf *conf, const char *name, int implicit)
{
	size_t i;

	for (i = 0; i < conf->nupstreams; i++)
		if (conf->upstreams[i]->implicit == implicit &&
		    strcmp(conf->upstreams[i]->name, name) == 0)
			return conf->upstreams[i];
	return NULL;
}

static struct conf_upstream_server *
upstream_server_add(struct parser *p, struct conf_upstream *u, int line)
{
	struct conf_upstream_server *s;

	s = realloc(u->servers, (u->nservers + 1) * sizeof(*s));
	if (s == NULL) {
		conf_perr(p, line, "out of memory");
		return NULL;
	}
	u->servers = s;
	s = &s[u->nservers++];
	memset(s, 0, sizeof(*s));
	s->weight = 1;
	s->max_fails = 1;
	s->fail_timeout_ms = UPSTREAM_FAIL_TIMEOUT_MS;
	s->line = line;
	return s;
}

static int
upstream_unix(struct parser *p, struct conf_upstream_server *s,
    const char *path, int line)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&s->addr;

	if (path[0] != '/' || strlen(path) >= sizeof(sun->sun_path))
		return conf_perr(p, line, "invalid unix socket path \"%s\"",
		    path);
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, path);
	s->addrlen = (socklen_t)sizeof(*sun);
	snprintf(s->text, sizeof(s->text), "unix:%s", path);
	return 0;
}

/* host and port of "host:port", "[v6]:port" or "host" (port dflt). */
static int
upstream_split(const char *text, char *host, size_t hostlen, char *port,
    size_t portlen, const char *dflt)
{
	const char *colon, *h = text;
	size_t n;

	if (text[0] == '[') {
		const char *end = strchr(text, ']');

		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return -1;
		h = text + 1;
		n = (size_t)(end - h);
		colon = end[1] == ':' ? end + 1 : NULL;
	} else {
		colon = strrchr(text, ':');
		if (colon != NULL && strchr(text, ':') != colon)
			return -1;	/* a bare IPv6 address: needs [] */
		n = colon != NULL ? (size_t)(colon - text) : strlen(text);
	}
	if (n == 0 || n >= hostlen)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	if (colon == NULL) {
		snprintf(port, portlen, "%s", dflt);
		return 0;
	}
	if (colon[1] == '\0' || strlen(colon + 1) >= portlen ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -1;
	snprintf(port, portlen, "%s", colon + 1);
	return atoi(port) >= 1 && atoi(port) <= 65535 ? 0 : -1;
}

static void
upstream_text(struct conf_upstream_server *s)
{
	char addr[INET6_ADDRSTRLEN];

	if (s->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (void *)&s->addr;

		inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
		snprintf(s->text, sizeof(s->text), "[%s]:%u", addr,
		    ntohs(in6->sin6_port));
	} else {
		const struct sockaddr_in *in = (void *)&s->addr;

		inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
		snprintf(s->text, sizeof(s->text), "%s:%u", addr,
		    ntohs(in->sin_port));
	}
}

/*
 * The servers an address stands for, each added to u with the
 * parameters of proto (or the defaults): "unix:/path", an IP address
 * with a port, or a name, resolved now (as nginx does at start).
 */
static int
upstream_address(struct parser *p, struct conf_upstream *u,
    const char *text, int line, const struct conf_upstream_server *proto)
{
	struct addrinfo hints, *res, *ai;
	struct conf_upstream_server *s;
	char host[256], port[8];
	int rc;

	if (strncmp(text, "unix:", 5) == 0) {
		if ((s = upstream_server_add(p, u, line)) == NULL)
			return -1;
		if (proto != NULL)
			*s = *proto;
		return upstream_unix(p, s, text + 5, line);
	}
	if (upstream_split(text, host, sizeof(host), port, sizeof(port),
	    "80") == -1)
		return conf_perr(p, line, "invalid upstream address \"%s\"",
		    text);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
#ifdef FORKLOOP_FUZZING
	/* The config fuzzer must not wait on DNS for the names it makes. */
	hints.ai_flags |= AI_NUMERICHOST;
#endif
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		return conf_perr(p, line, "host not found in upstream \"%s\": "
		    "%s", text, gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(s->addr))
			continue;
		if ((s = upstream_server_add(p, u, line)) == NULL) {
			freeaddrinfo(res);
			return -1;
		}
		if (proto != NULL)
			*s = *proto;
		memcpy(&s->addr, ai->ai_addr, ai->ai_addrlen);
		s->addrlen = ai->ai_addrlen;
		upstream_text(s);
	}
	freeaddrinfo(res);
	return 0;
}

/* "upstream NAME { ... }" */
int
conf_set_upstream(struct parser *p, struct stmt *st, void *field)
{
	struct conf_upstream *u;
	int rc;

	(void)field;
	if (upstream_find(p->conf, st->argv[1], 0) != NULL)
		return conf_perr(p, st->lines[1], "duplicate upstream \"%s\"",
		    st->argv[1]);
	if ((u = upstream_add(p, st->argv[1], st->lines[0], 0)) == NULL)
		return -1;
	p->upstream = u;
	rc = conf_parse_body(p, CTX_UPSTREAM);
	p->upstream = NULL;
	if (rc == 0 && u->nservers == 0)
		return conf_perr(p, u->line, "no servers are inside upstream "
		    "\"%s\"", u->name);
	return rc;
}

/* One "weight=N", "max_fails=N", "fail_timeout=TIME" or "backup". */
static int
upstream_server_param(struct parser *p, struct stmt *st, size_t i,
    struct conf_upstream_server *s)
{
	const char *a = st->argv[i], *eq = strchr(a, '=');

	if (strcmp(a, "backup") == 0) {
		s->backup = 1;
		return 0;
	}
	if (eq != NULL && strncmp(a, "weight=", 7) == 0)
		return value_number(eq + 1, &s->weight, p->msg,
		    sizeof(p->msg)) == -1 ? conf_perr(p, st->lines[i], "%s",
		    p->msg) : 0;
	if (eq != NULL && strncmp(a, "max_fails=", 10) == 0) {
		if (strcmp(eq + 1, "0") == 0) {
			s->max_fails = 0;
			return 0;
		}
		return value_number(eq + 1, &s->max_fails, p->msg,
		    sizeof(p->msg)) == -1 ? conf_perr(p, st->lines[i], "%s",
		    p->msg) : 0;
	}
	if (eq != NULL && strncmp(a, "fail_timeout=", 13) == 0)
		return value_time(eq + 1, &s->fail_timeout_ms, p->msg,
		    sizeof(p->msg)) == -1 ? conf_perr(p, st->lines[i], "%s",
		    p->msg) : 0;
	return conf_perr(p, st->lines[i], "invalid parameter \"%s\"", a);
}

/* "server ADDRESS [parameters];" inside an upstream block. */
int
conf_set_upstream_server(struct parser *p, struct stmt *st, void *field)
{
	struct conf_upstream_server proto;
	size_t i;

	(void)field;
	memset(&proto, 0, sizeof(proto));
	proto.weight = 1;
	proto.max_fails = 1;
	proto.fail_timeout_ms = UPSTREAM_FAIL_TIMEOUT_MS;
	proto.line = st->lines[1];
	for (i = 2; i < st->argc; i++)
		if (upstream_server_param(p, st, i, &proto) == -1)
			return -1;
	if (proto.weight > 1000)
		return conf_perr(p, st->lines[1], "weight %d is over 1000",
		    proto.weight);
	return upstream_address(p, p->upstream, st->argv[1], st->lines[1],
	    &proto);
}

/*
 * keepalive_timeout: an idle client connection's in an http block, an
 * idle upstream connection's inside an upstream block, as in nginx.
 */
int
conf_set_keepalive_timeout(struct parser *p, struct stmt *st, void *field)
{
	int *ms = p->ctx == CTX_UPSTREAM ? &p->upstream->keepalive_timeout_ms :
	    &p->server->keepalive_timeout_ms;

	(void)field;
	if (value_time(st->argv[1], ms, p->msg, sizeof(p->msg)) == -1)
		return conf_perr(p, st->lines[1], "%s", p->msg);
	return 0;
}

/*
 * "proxy_pass http://AUTHORITY[/URI]": keeps the authority (an upstream
 * block's name or an address, resolved at the end), the URI part, and
 * $proxy_host, the Host sent by default: the authority, or "localhost"
 * for a Unix socket.
 */
int
conf_set_proxy_pass(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	const char *url = st->argv[1], *auth, *slash;
	size_t alen;

	(void)field;
	if (strncmp(url, "https://", 8) == 0)
		return conf_perr(p, st->lines[1], "proxy_pass to https is not "
		    "supported: forkloop speaks plain HTTP to upstreams");
	if (strncmp(url, "http://", 7) != 0)
		return conf_perr(p, st->lines[1], "invalid URL prefix in "
		    "\"%s\": it must start with \"http://\"", url);
	auth = url + 7;
	if (strncmp(auth, "unix:", 5) == 0) {
		/* nginx's form: http://unix:/path/to.sock:/uri */
		const char *end = strchr(auth + 5, ':');

		alen = end != NULL ? (size_t)(end - auth) : strlen(auth);
		slash = end != NULL ? end + 1 : NULL;
		if (slash != NULL && *slash == '\0')
			slash = NULL;
		if (slash != NULL && *slash != '/')
			return conf_perr(p, st->lines[1], "invalid URL \"%s\"",
			    url);
	} else {
		slash = strchr(auth, '/');
		alen = slash != NULL ? (size_t)(slash - auth) : strlen(auth);
		if (strpbrk(auth, "?#") != NULL)
			return conf_perr(p, st->lines[1], "invalid URL \"%s\": "
			    "no query or fragment", url);
	}
	if (alen == 0 || alen > 255)
		return conf_perr(p, st->lines[1], "invalid host in \"%s\"", url);
	if ((srv->proxy_pass = strndup(auth, alen)) == NULL ||
	    (slash != NULL && (srv->proxy_uri = strdup(slash)) == NULL) ||
	    (srv->proxy_host = strdup(strncmp(auth, "unix:", 5) == 0 ?
	    "localhost" : srv->proxy_pass)) == NULL)
		return conf_perr(p, st->lines[1], "out of memory");
	srv->proxy_pass_line = st->lines[1];
	return 0;
}

/* "proxy_set_header NAME VALUE": VALUE may hold variables; "" drops. */
int
conf_set_proxy_header(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	struct conf_proxy_header *h;
	const char *name = st->argv[1];
	size_t i;

	for (i = 0; name[i] != '\0'; i++)
		if (strchr("()<>@,;:\\\"/[]?={} \t", name[i]) != NULL ||
		    (unsigned char)name[i] <= 0x20 ||
		    (unsigned char)name[i] >= 0x7f)
			return conf_perr(p, st->lines[1], "invalid header name "
			    "\"%s\"", name);
	if (strpbrk(st->argv[2], "\r\n") != NULL)
		return conf_perr(p, st->lines[2], "a header value may not hold "
		    "a line break");
	h = realloc(srv->proxy_headers, (srv->nproxy_headers + 1) * sizeof(*h));
	if (h == NULL)
		return conf_perr(p, st->lines[0], "out of memory");
	srv->proxy_headers = h;
	h = &h[srv->nproxy_headers];
	if ((h->name = conf_pstrdup(p, st->lines[1], name)) == NULL)
		return -1;
	if ((h->value = value_text(st->argv[2], p->regex, p->msg,
	    sizeof(p->msg))) == NULL) {
		free(h->name);
		return conf_perr(p, st->lines[2], "%s", p->msg);
	}
	srv->nproxy_headers++;
	return 0;
}

/* "proxy_hide_header NAME": a field of the upstream's answer not sent
 * on; kept in lower case for the comparison. */
int
conf_set_proxy_hide_header(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	char **names, *name;
	size_t i;

	names = realloc(srv->proxy_hide_headers,
	    (srv->nproxy_hide_headers + 1) * sizeof(*names));
	if (names == NULL)
		return conf_perr(p, st->lines[0], "out of memory");
	srv->proxy_hide_headers = names;
	if ((name = conf_pstrdup(p, st->lines[1], st->argv[1])) == NULL)
		return -1;
	for (i = 0; name[i] != '\0'; i++)
		if (name[i] >= 'A' && name[i] <= 'Z')
			name[i] = (char)(name[i] - 'A' + 'a');
	names[srv->nproxy_hide_headers++] = name;
	return 0;
}

/* "proxy_redirect default | off": nginx's other forms are not here. */
int
conf_set_proxy_redirect(struct parser *p, struct stmt *st, void *field)
{
	int *flag = field;

	if (strcmp(st->argv[1], "default") == 0)
		*flag = 1;
	else if (strcmp(st->argv[1], "off") == 0)
		*flag = 0;
	else
		return conf_perr(p, st->lines[1], "proxy_redirect takes "
		    "\"default\" or \"off\"; forkloop has no other forms");
	return 0;
}

/* forkloop always speaks HTTP/1.1 to upstreams (keep-alive needs it). */
int
conf_set_proxy_http_version(struct parser *p, struct stmt *st, void *field)
{
	(void)field;
	if (strcmp(st->argv[1], "1.1") != 0)
		return conf_perr(p, st->lines[1], "proxy_http_version \"%s\": "
		    "forkloop speaks HTTP/1.1 to upstreams", st->argv[1]);
	return 0;
}

/* The upstream a block's or location's proxy_pass names. */
static int
upstream_resolve_one(struct parser *p, struct conf_server *s)
{
	struct conf_upstream *u;

	if (s->proxy_pass == NULL)
		return 0;
	u = upstream_find(p->conf, s->proxy_pass, 0);
	if (u == NULL)
		u = upstream_find(p->conf, s->proxy_pass, 1);
	if (u == NULL) {
		if ((u = upstream_add(p, s->proxy_pass, s->proxy_pass_line,
		    1)) == NULL)
			return -1;
		if (upstream_address(p, u, s->proxy_pass, s->proxy_pass_line,
		    NULL) == -1)
			return -1;
		if (u->nservers == 0)
			return conf_perr(p, s->proxy_pass_line, "no address for "
			    "\"%s\"", s->proxy_pass);
	}
	s->proxy_upstream = u;
	return 0;
}

/* Every proxy_pass names its upstream; called when the file is read. */
int
conf_upstreams_resolve(struct parser *p)
{
	struct conf *conf = p->conf;
	size_t i, j;

	for (i = 0; i < conf->nservers; i++) {
		struct conf_server *s = &conf->servers[i];

		if (upstream_resolve_one(p, s) == -1)
			return -1;
		for (j = 0; j < s->nlocations; j++)
			if (upstream_resolve_one(p, s->locations[j].conf) == -1)
				return -1;
	}
	return 0;
}

void
conf_upstreams_free(struct conf *conf)
{
	size_t i;

	for (i = 0; i < conf->nupstreams; i++) {
		free(conf->upstreams[i]->name);
		free(conf->upstreams[i]->servers);
		free(conf->upstreams[i]);
	}
	free(conf->upstreams);
}

/* Frees a block's proxy settings, or those a location owns (parts). */
void
conf_proxy_free(struct conf_server *s, unsigned parts)
{
	size_t i;

	if (parts & PROXY_OWN_PASS) {
		free(s->proxy_pass);
		free(s->proxy_host);
		free(s->proxy_uri);
	}
	if (parts & PROXY_OWN_HEADERS) {
		for (i = 0; i < s->nproxy_headers; i++) {
			free(s->proxy_headers[i].name);
			conf_text_free(s->proxy_headers[i].value);
		}
		free(s->proxy_headers);
	}
	if (parts & PROXY_OWN_HIDE) {
		for (i = 0; i < s->nproxy_hide_headers; i++)
			free(s->proxy_hide_headers[i]);
		free(s->proxy_hide_headers);
	}
}
