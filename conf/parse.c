/*
 * parse.c: reads forkloop.conf into a struct conf.
 *
 * A statement is a directive's name, its arguments and either ";" or, for
 * http, echo and chat, a { } block of statements.  Each directive is one
 * row of the table below: where it may appear, how many arguments it
 * takes, and the function that stores its value.  Most of those are
 * generic (a time, a size, a flag) and find their field by an offset, as
 * in nginx, so a new directive usually costs one row.  What a single
 * word means (a size, a time, an address, a path) is read in
 * conf/value.c; this file knows the directives, the blocks and the tree.
 *
 * The first error ends the parse and is reported as "FILE:LINE: message"
 * with the line of the token that is wrong; the half-built tree is freed.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/lex.h"
#include "conf/value.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Where a directive may appear. */
#define CTX_MAIN	0x01
#define CTX_HTTP	0x02
#define CTX_ECHO	0x04
#define CTX_CHAT	0x08
#define CTX_SERVER	(CTX_HTTP | CTX_ECHO | CTX_CHAT)

#define DIR_BLOCK	0x01	/* opens a { } block, no ; */
#define DIR_MULTI	0x02	/* may repeat in one block */

#define ARGS_ANY	-1

/* Where a directive's value goes: its field in struct conf or conf_server. */
#define IN_CONF(field)		offsetof(struct conf, field)
#define IN_SERVER(field)	offsetof(struct conf_server, field)

#define DEFAULT_ROOT		"/srv/www"
#define DEFAULT_INDEX		"index.html"
#define DEFAULT_TYPE		"application/octet-stream"

struct stmt {
	char **argv;		/* argv[0] is the directive's name */
	int *lines;		/* the line of each word */
	size_t argc;
	size_t cap;
	enum lex_type end;	/* what ended it: ; { } or end of file */
	int end_line;
};

struct parser {
	struct lex lex;
	const char *name;	/* for error messages */
	const char *basedir;	/* relative paths start here; or NULL */
	char *err;
	size_t errlen;
	int last_line;		/* of the end of file */
	struct conf *conf;
	struct conf_server *server;	/* the block being read */
	char msg[CONF_ERR_LEN];	/* a value_ function's error */
};

/* set() gets the field at offset inside struct conf (main) or the server. */
struct directive {
	const char *name;
	int where;
	int flags;
	int min_args;
	int max_args;
	int (*set)(struct parser *, struct stmt *, void *);
	size_t offset;
};

static const char *const server_kinds[] = {
	[CONF_SERVER_HTTP] = "http",
	[CONF_SERVER_ECHO] = "echo",
	[CONF_SERVER_CHAT] = "chat",
};

static int parse_body(struct parser *, int);
static int perr(struct parser *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void conf_err(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
perr(struct parser *p, int line, const char *fmt, ...)
{
	char msg[CONF_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conf_err(p->err, p->errlen, "%s:%d: %s", p->name, line, msg);
	return -1;
}

static void
conf_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static char *
pstrdup(struct parser *p, int line, const char *s)
{
	char *copy;

	copy = strdup(s);
	if (copy == NULL)
		perr(p, line, "out of memory");
	return copy;
}

/* Room for one more element after n; the caller stores the new pointer. */
static void *
grow(struct parser *p, int line, void *array, size_t n, size_t size)
{
	void *bigger;

	bigger = realloc(array, (n + 1) * size);
	if (bigger == NULL)
		perr(p, line, "out of memory");
	return bigger;
}

static int
set_flag(struct parser *p, struct stmt *st, void *field)
{
	if (value_switch(st->argv[0], st->argv[1], "on", field, p->msg,
	    sizeof(p->msg)) == -1)
		return perr(p, st->lines[1], "%s", p->msg);
	return 0;
}

static int
set_cpu_affinity(struct parser *p, struct stmt *st, void *field)
{
	if (value_switch(st->argv[0], st->argv[1], "auto", field, p->msg,
	    sizeof(p->msg)) == -1)
		return perr(p, st->lines[1], "%s", p->msg);
	return 0;
}

static int
set_time(struct parser *p, struct stmt *st, void *field)
{
	if (value_time(st->argv[1], field, p->msg, sizeof(p->msg)) == -1)
		return perr(p, st->lines[1], "%s", p->msg);
	return 0;
}

static int
set_size(struct parser *p, struct stmt *st, void *field)
{
	if (value_size(st->argv[1], field, p->msg, sizeof(p->msg)) == -1)
		return perr(p, st->lines[1], "%s", p->msg);
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
		return perr(p, st->lines[1], "\"%s\" must not be 0",
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
		return perr(p, st->lines[1], "\"%s\" must be at least 1k",
		    st->argv[0]);
	return 0;
}

static int
set_number(struct parser *p, struct stmt *st, void *field)
{
	if (value_number(st->argv[1], field, p->msg, sizeof(p->msg)) == -1)
		return perr(p, st->lines[1], "%s", p->msg);
	return 0;
}

static int
set_workers(struct parser *p, struct stmt *st, void *field)
{
	if (value_workers(st->argv[1], field, p->msg, sizeof(p->msg)) == -1)
		return perr(p, st->lines[1], "%s", p->msg);
	return 0;
}

static int
set_string(struct parser *p, struct stmt *st, void *field)
{
	char **value = field;

	if (st->argv[1][0] == '\0')
		return perr(p, st->lines[1], "empty value for \"%s\"",
		    st->argv[0]);
	*value = pstrdup(p, st->lines[1], st->argv[1]);
	return *value == NULL ? -1 : 0;
}

static int
set_path(struct parser *p, struct stmt *st, void *field)
{
	char **path = field;

	*path = value_path(p->basedir, st->argv[1], p->msg, sizeof(p->msg));
	if (*path == NULL)
		return perr(p, st->lines[1], "%s", p->msg);
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
		return perr(p, st->lines[2], "%s", p->msg);
	if (strcmp(st->argv[1], "stderr") == 0)
		return 0;
	return set_path(p, st, &conf->error_log);
}

/* Only the syntax: the names are looked up when the master drops root. */
static int
set_user(struct parser *p, struct stmt *st, void *field)
{
	struct conf *conf = field;

	if (st->argv[1][0] == '\0')
		return perr(p, st->lines[1], "invalid user \"\"");
	if (st->argc == 3 && st->argv[2][0] == '\0')
		return perr(p, st->lines[2], "invalid group \"\"");
	conf->user = pstrdup(p, st->lines[1], st->argv[1]);
	if (conf->user == NULL)
		return -1;
	if (st->argc < 3)
		return 0;
	conf->group = pstrdup(p, st->lines[2], st->argv[2]);
	return conf->group == NULL ? -1 : 0;
}

static int
set_index(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	size_t i;

	srv->index = calloc(st->argc - 1, sizeof(*srv->index));
	if (srv->index == NULL)
		return perr(p, st->lines[0], "out of memory");
	for (i = 1; i < st->argc; i++) {
		if (st->argv[i][0] == '\0')
			return perr(p, st->lines[i], "invalid index \"\"");
		srv->index[i - 1] = pstrdup(p, st->lines[i], st->argv[i]);
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
		return perr(p, st->lines[1],
		    "route prefix \"%s\" must start with \"/\"", st->argv[1]);
	if (value_route_handler(st->argv[2], &handler, p->msg,
	    sizeof(p->msg)) == -1)
		return perr(p, st->lines[2], "%s", p->msg);
	for (i = 0; i < srv->nroutes; i++)
		if (strcmp(srv->routes[i].prefix, st->argv[1]) == 0)
			return perr(p, st->lines[1], "duplicate route \"%s\"",
			    st->argv[1]);
	routes = grow(p, st->lines[0], srv->routes, srv->nroutes,
	    sizeof(*routes));
	if (routes == NULL)
		return -1;
	srv->routes = routes;
	prefix = pstrdup(p, st->lines[1], st->argv[1]);
	if (prefix == NULL)
		return -1;
	routes[srv->nroutes].prefix = prefix;
	routes[srv->nroutes].prefix_len = strlen(prefix);
	routes[srv->nroutes].handler = handler;
	srv->nroutes++;
	return 0;
}

/* Two blocks on one address would fight over its connections. */
static int
listen_check_duplicate(struct parser *p, const struct conf_listen *l)
{
	const struct conf_server *srv;
	size_t i, j;

	for (i = 0; i < p->conf->nservers; i++) {
		srv = &p->conf->servers[i];
		for (j = 0; j < srv->nlistens; j++)
			if (strcmp(srv->listens[j].text, l->text) == 0)
				return perr(p, l->line, "duplicate listen "
				    "address %s (first at line %d)", l->text,
				    srv->listens[j].line);
	}
	return 0;
}

static int
set_listen(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	struct conf_listen l, *listens;

	memset(&l, 0, sizeof(l));
	if (value_listen(st->argv[1], &l, p->msg, sizeof(p->msg)) == -1)
		return perr(p, st->lines[1], "%s", p->msg);
	l.line = st->lines[1];
	if (st->argc == 3) {
		if (strcmp(st->argv[2], "proxy_protocol") != 0)
			return perr(p, st->lines[2],
			    "invalid listen parameter \"%s\"", st->argv[2]);
		if (srv->kind != CONF_SERVER_HTTP)
			return perr(p, st->lines[2],
			    "proxy_protocol is only for http listeners");
		l.proxy_protocol = 1;
	}
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
	switch (srv->kind) {
	case CONF_SERVER_HTTP:
		srv->keepalive_timeout_ms = 75 * 1000;
		srv->header_timeout_ms = 10 * 1000;
		srv->body_timeout_ms = 60 * 1000;
		srv->max_body_size = 1024 * 1024;
		srv->max_header_size = 16 * 1024;
		srv->defer_accept = 1;
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
	    (srv->root = pstrdup(p, line, DEFAULT_ROOT)) == NULL)
		return -1;
	if (srv->default_type == NULL &&
	    (srv->default_type = pstrdup(p, line, DEFAULT_TYPE)) == NULL)
		return -1;
	if (srv->index != NULL)
		return 0;
	srv->index = calloc(1, sizeof(*srv->index));
	if (srv->index == NULL)
		return perr(p, line, "out of memory");
	srv->index[0] = pstrdup(p, line, DEFAULT_INDEX);
	if (srv->index[0] == NULL)
		return -1;
	srv->nindex = 1;
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
		return perr(p, srv->line, "\"%s\" block has no \"listen\"",
		    server_kinds[srv->kind]);
	if (srv->kind == CONF_SERVER_HTTP)
		return server_string_defaults(p, srv, srv->line);
	return 0;
}

static int
set_block(struct parser *p, struct stmt *st, enum conf_server_kind kind,
    int ctx)
{
	if (server_open(p, kind, st->lines[0]) == -1)
		return -1;
	if (parse_body(p, ctx) == -1)
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

/* Sorted by name, for bsearch. */
static const struct directive directives[] = {
	{ "access_log", CTX_HTTP, 0, 1, 1, set_path_or_off,
	    IN_SERVER(access_log) },
	{ "body_timeout", CTX_HTTP, 0, 1, 1, set_time,
	    IN_SERVER(body_timeout_ms) },
	{ "chat", CTX_MAIN, DIR_BLOCK | DIR_MULTI, 0, 0, set_chat, 0 },
	{ "daemon", CTX_MAIN, 0, 1, 1, set_flag, IN_CONF(daemon) },
	{ "default_type", CTX_HTTP, 0, 1, 1, set_string,
	    IN_SERVER(default_type) },
	{ "defer_accept", CTX_HTTP, 0, 1, 1, set_flag,
	    IN_SERVER(defer_accept) },
	{ "echo", CTX_MAIN, DIR_BLOCK | DIR_MULTI, 0, 0, set_echo, 0 },
	{ "error_log", CTX_MAIN, 0, 1, 2, set_error_log, 0 },
	{ "follow_symlinks", CTX_HTTP, 0, 1, 1, set_flag,
	    IN_SERVER(follow_symlinks) },
	{ "header_timeout", CTX_HTTP, 0, 1, 1, set_time,
	    IN_SERVER(header_timeout_ms) },
	{ "http", CTX_MAIN, DIR_BLOCK | DIR_MULTI, 0, 0, set_http, 0 },
	{ "idle_timeout", CTX_ECHO | CTX_CHAT, 0, 1, 1, set_time,
	    IN_SERVER(idle_timeout_ms) },
	{ "index", CTX_HTTP, 0, 1, ARGS_ANY, set_index, 0 },
	{ "keepalive_timeout", CTX_HTTP, 0, 1, 1, set_time,
	    IN_SERVER(keepalive_timeout_ms) },
	{ "listen", CTX_SERVER, DIR_MULTI, 1, 2, set_listen, 0 },
	{ "max_body_size", CTX_HTTP, 0, 1, 1, set_size,
	    IN_SERVER(max_body_size) },
	{ "max_header_size", CTX_HTTP, 0, 1, 1, set_header_size,
	    IN_SERVER(max_header_size) },
	{ "max_line", CTX_CHAT, 0, 1, 1, set_nonzero_size,
	    IN_SERVER(max_line) },
	{ "pid", CTX_MAIN, 0, 1, 1, set_path_or_off, IN_CONF(pid_file) },
	{ "queue", CTX_CHAT, 0, 1, 1, set_nonzero_size, IN_SERVER(queue) },
	{ "root", CTX_HTTP, 0, 1, 1, set_path, IN_SERVER(root) },
	{ "route", CTX_HTTP, DIR_MULTI, 2, 2, set_route, 0 },
	{ "shutdown_timeout", CTX_MAIN, 0, 1, 1, set_time,
	    IN_CONF(shutdown_timeout_ms) },
	{ "user", CTX_MAIN, 0, 1, 2, set_user, 0 },
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

static const struct directive *
directive_find(const char *name)
{
	return bsearch(name, directives, nitems(directives),
	    sizeof(directives[0]), directive_cmp);
}

static void
stmt_clear(struct stmt *st)
{
	size_t i;

	for (i = 0; i < st->argc; i++)
		free(st->argv[i]);
	st->argc = 0;
}

static void
stmt_free(struct stmt *st)
{
	stmt_clear(st);
	free(st->argv);
	free(st->lines);
}

static int
stmt_push(struct parser *p, struct stmt *st, const struct lex_token *tok)
{
	size_t cap;
	char **argv;
	int *lines;

	if (st->argc == st->cap) {
		cap = st->cap == 0 ? 8 : st->cap * 2;
		argv = realloc(st->argv, cap * sizeof(*argv));
		if (argv == NULL)
			return perr(p, tok->line, "out of memory");
		st->argv = argv;
		lines = realloc(st->lines, cap * sizeof(*lines));
		if (lines == NULL)
			return perr(p, tok->line, "out of memory");
		st->lines = lines;
		st->cap = cap;
	}
	st->argv[st->argc] = pstrdup(p, tok->line, tok->text);
	if (st->argv[st->argc] == NULL)
		return -1;
	st->lines[st->argc++] = tok->line;
	return 0;
}

/*
 * Reads the words of one statement and what ends it.  Returns 1 when the
 * scope ends instead: "}" inside a block, end of file outside.
 */
static int
stmt_read(struct parser *p, struct stmt *st, int in_block)
{
	struct lex_token tok;

	stmt_clear(st);
	switch (lex_next(&p->lex, &tok)) {
	case LEX_WORD:
		break;
	case LEX_CLOSE:
		if (!in_block)
			return perr(p, tok.line, "unexpected \"}\"");
		return 1;
	case LEX_EOF:
		if (in_block)
			return perr(p, tok.line,
			    "unexpected end of file, expecting \"}\"");
		p->last_line = tok.line;
		return 1;
	case LEX_ERROR:
		return perr(p, tok.line, "%s", tok.text);
	default:
		return perr(p, tok.line, "unexpected \"%s\"", tok.text);
	}
	while (tok.type == LEX_WORD) {
		if (stmt_push(p, st, &tok) == -1)
			return -1;
		lex_next(&p->lex, &tok);
	}
	if (tok.type == LEX_ERROR)
		return perr(p, tok.line, "%s", tok.text);
	st->end = tok.type;
	st->end_line = tok.line;
	return 0;
}

/* Whether the statement ended the way this directive must: ; or {. */
static int
stmt_check_end(struct parser *p, const struct stmt *st,
    const struct directive *d)
{
	int block = (d->flags & DIR_BLOCK) != 0;

	switch (st->end) {
	case LEX_SEMICOLON:
		if (block)
			return perr(p, st->end_line,
			    "\"%s\" directive has no opening \"{\"", d->name);
		return 0;
	case LEX_OPEN:
		if (!block)
			return perr(p, st->end_line,
			    "\"%s\" directive does not take a block", d->name);
		return 0;
	case LEX_CLOSE:
		return perr(p, st->end_line, "unexpected \"}\"");
	default:
		return perr(p, st->end_line,
		    "unexpected end of file, expecting \"%s\"",
		    block ? "{" : ";");
	}
}

static int
stmt_check_args(struct parser *p, const struct stmt *st,
    const struct directive *d)
{
	int n = (int)st->argc - 1;

	if (n >= d->min_args && (d->max_args == ARGS_ANY || n <= d->max_args))
		return 0;
	if (d->max_args == 0)
		return perr(p, st->lines[0], "\"%s\" takes no arguments",
		    d->name);
	if (d->max_args == ARGS_ANY)
		return perr(p, st->lines[0], "\"%s\" takes at least %d "
		    "argument%s", d->name, d->min_args,
		    d->min_args == 1 ? "" : "s");
	if (d->min_args == d->max_args)
		return perr(p, st->lines[0], "\"%s\" takes %d argument%s",
		    d->name, d->min_args, d->min_args == 1 ? "" : "s");
	return perr(p, st->lines[0], "\"%s\" takes %d %s %d arguments",
	    d->name, d->min_args, d->max_args == d->min_args + 1 ? "or" : "to",
	    d->max_args);
}

static int
stmt_run(struct parser *p, struct stmt *st, int ctx, unsigned char *seen)
{
	const struct directive *d;
	void *base;
	size_t i;

	d = directive_find(st->argv[0]);
	if (d == NULL)
		return perr(p, st->lines[0], "unknown directive \"%s\"",
		    st->argv[0]);
	if ((d->where & ctx) == 0)
		return perr(p, st->lines[0],
		    "\"%s\" directive is not allowed here", d->name);
	if (stmt_check_end(p, st, d) == -1 || stmt_check_args(p, st, d) == -1)
		return -1;
	i = (size_t)(d - directives);
	if (seen[i] && (d->flags & DIR_MULTI) == 0)
		return perr(p, st->lines[0], "duplicate \"%s\" directive",
		    d->name);
	seen[i] = 1;
	base = ctx == CTX_MAIN ? (void *)p->conf : (void *)p->server;
	return d->set(p, st, (char *)base + d->offset);
}

/* The statements of the file (CTX_MAIN) or of one block, up to its end. */
static int
parse_body(struct parser *p, int ctx)
{
	unsigned char seen[nitems(directives)];
	struct stmt st;
	int rc;

	memset(seen, 0, sizeof(seen));
	memset(&st, 0, sizeof(st));
	while ((rc = stmt_read(p, &st, ctx != CTX_MAIN)) == 0)
		if (stmt_run(p, &st, ctx, seen) == -1) {
			rc = -1;
			break;
		}
	stmt_free(&st);
	return rc == 1 ? 0 : -1;
}

static struct conf *
conf_new(const char *name)
{
	struct conf *conf;

	conf = calloc(1, sizeof(*conf));
	if (conf == NULL)
		return NULL;
	conf->file = strdup(name);
	if (conf->file == NULL) {
		free(conf);
		return NULL;
	}
	conf->workers = value_cpu_count();
	conf->error_log_level = CONF_LOG_INFO;
	conf->worker_connections = 10000;
	conf->shutdown_timeout_ms = 30 * 1000;
	return conf;
}

static struct conf *
conf_parse(const char *name, const char *text, size_t len,
    const char *basedir, char *err, size_t errlen)
{
	struct parser p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.name = name;
	p.basedir = basedir;
	p.err = err;
	p.errlen = errlen;
	p.conf = conf_new(name);
	if (p.conf == NULL) {
		conf_err(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	lex_init(&p.lex, text, len);
	rc = parse_body(&p, CTX_MAIN);
	if (rc == 0 && p.conf->nservers == 0)
		rc = perr(&p, p.last_line, "no http, echo or chat block");
	lex_free(&p.lex);
	if (rc == -1) {
		conf_free(p.conf);
		return NULL;
	}
	conf_err(err, errlen, "%s", "");
	return p.conf;
}

struct conf *
conf_load_string(const char *name, const char *text, const char *basedir,
    char *err, size_t errlen)
{
	if (name == NULL)
		name = "(string)";
	return conf_parse(name, text, strlen(text), basedir, err, errlen);
}

static char *
read_file(const char *path, size_t *lenp, char *err, size_t errlen)
{
	char *text = NULL, *bigger;
	size_t len = 0, cap = 0, n;
	FILE *fp;

	fp = fopen(path, "re");
	if (fp == NULL) {
		conf_err(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return NULL;
	}
	for (;;) {
		if (len == cap) {
			cap = cap == 0 ? 8192 : cap * 2;
			bigger = realloc(text, cap);
			if (bigger == NULL) {
				conf_err(err, errlen, "%s: out of memory",
				    path);
				goto fail;
			}
			text = bigger;
		}
		n = fread(text + len, 1, cap - len, fp);
		if (n == 0)
			break;
		len += n;
	}
	if (ferror(fp)) {
		conf_err(err, errlen, "%s: cannot read: %s", path,
		    strerror(errno));
		goto fail;
	}
	fclose(fp);
	*lenp = len;
	return text;
fail:
	fclose(fp);
	free(text);
	return NULL;
}

struct conf *
conf_load_file(const char *path, char *err, size_t errlen)
{
	struct conf *conf = NULL;
	char *text, *dir;
	size_t len;

	text = read_file(path, &len, err, errlen);
	if (text == NULL)
		return NULL;
	dir = value_dir_of(path);
	if (dir == NULL)
		conf_err(err, errlen, "%s: cannot find its directory: %s",
		    path, strerror(errno));
	else
		conf = conf_parse(path, text, len, dir, err, errlen);
	free(dir);
	free(text);
	return conf;
}

static void
server_free(struct conf_server *srv)
{
	size_t i;

	free(srv->listens);
	free(srv->root);
	for (i = 0; i < srv->nindex; i++)
		free(srv->index[i]);
	free(srv->index);
	free(srv->access_log);
	free(srv->default_type);
	for (i = 0; i < srv->nroutes; i++)
		free(srv->routes[i].prefix);
	free(srv->routes);
}

void
conf_free(struct conf *conf)
{
	size_t i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->nservers; i++)
		server_free(&conf->servers[i]);
	free(conf->servers);
	free(conf->file);
	free(conf->pid_file);
	free(conf->error_log);
	free(conf->user);
	free(conf->group);
	free(conf);
}
