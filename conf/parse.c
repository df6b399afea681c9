/*
 * parse.c: reads forkloop.conf into a struct conf.
 *
 * A statement is a directive's name, its arguments and either ";" or, for
 * http, echo and chat, a { } block of statements.  This file reads the
 * statements, checks each against its row of the directive table
 * (conf/directives.c: where it may appear, how many arguments, whether it
 * may repeat) and calls that row's function to store the value.  What a
 * single word means (a size, a time, an address, a path) is read in
 * conf/value.c.
 *
 * The first error ends the parse and is reported as "FILE:LINE: message"
 * with the line of the token that is wrong, in the file it is in (an
 * "include" reads other files in the middle of this one: conf/include.c);
 * the half-built tree is freed.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/vhosts.h"
#include "conf/conf.h"
#include "conf/lex.h"
#include "conf/parser.h"
#include "conf/regex.h"
#include "conf/value.h"

static void conf_err(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

int
conf_perr(struct parser *p, int line, const char *fmt, ...)
{
	char msg[CONF_ERR_LEN];
	const char *name;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	name = conf_where(p->conf, line, &line);
	conf_err(p->err, p->errlen, "%s:%d: %s", name, line, msg);
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


char *
conf_pstrdup(struct parser *p, int line, const char *s)
{
	char *copy;

	copy = strdup(s);
	if (copy == NULL)
		conf_perr(p, line, "out of memory");
	return copy;
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
			return conf_perr(p, tok->line, "out of memory");
		st->argv = argv;
		lines = realloc(st->lines, cap * sizeof(*lines));
		if (lines == NULL)
			return conf_perr(p, tok->line, "out of memory");
		st->lines = lines;
		st->cap = cap;
	}
	st->argv[st->argc] = conf_pstrdup(p, tok->line, tok->text);
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
			return conf_perr(p, tok.line, "unexpected \"}\"");
		return 1;
	case LEX_EOF:
		if (in_block)
			return conf_perr(p, tok.line,
			    "unexpected end of file, expecting \"}\"");
		p->last_line = tok.line;
		return 1;
	case LEX_ERROR:
		return conf_perr(p, tok.line, "%s", tok.text);
	default:
		return conf_perr(p, tok.line, "unexpected \"%s\"", tok.text);
	}
	while (tok.type == LEX_WORD) {
		if (stmt_push(p, st, &tok) == -1)
			return -1;
		lex_next(&p->lex, &tok);
	}
	if (tok.type == LEX_ERROR)
		return conf_perr(p, tok.line, "%s", tok.text);
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
			return conf_perr(p, st->end_line,
			    "\"%s\" directive has no opening \"{\"", d->name);
		return 0;
	case LEX_OPEN:
		if (!block)
			return conf_perr(p, st->end_line,
			    "\"%s\" directive does not take a block", d->name);
		return 0;
	case LEX_CLOSE:
		return conf_perr(p, st->end_line, "unexpected \"}\"");
	default:
		return conf_perr(p, st->end_line,
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
		return conf_perr(p, st->lines[0], "\"%s\" takes no arguments",
		    d->name);
	if (d->max_args == ARGS_ANY)
		return conf_perr(p, st->lines[0], "\"%s\" takes at least %d "
		    "argument%s", d->name, d->min_args,
		    d->min_args == 1 ? "" : "s");
	if (d->min_args == d->max_args)
		return conf_perr(p, st->lines[0], "\"%s\" takes %d argument%s",
		    d->name, d->min_args, d->min_args == 1 ? "" : "s");
	return conf_perr(p, st->lines[0], "\"%s\" takes %d %s %d arguments",
	    d->name, d->min_args, d->max_args == d->min_args + 1 ? "or" : "to",
	    d->max_args);
}

static int
stmt_run(struct parser *p, struct stmt *st)
{
	int ctx = p->ctx;
	const struct directive *d;
	const char *nginx;
	void *base;
	size_t i;

	d = directive_find(st->argv[0]);
	/* nginx's spelling of one of ours, or advice for one we lack. */
	if (d == NULL && (nginx = conf_nginx_alias(st->argv[0])) != NULL)
		d = directive_find(nginx);
	if (d == NULL && (nginx = conf_nginx_hint(st->argv[0])) != NULL)
		return conf_perr(p, st->lines[0], "\"%s\" is nginx's; "
		    "forkloop %s", st->argv[0], nginx);
	if (d == NULL)
		return conf_perr(p, st->lines[0], "unknown directive \"%s\"",
		    st->argv[0]);
	/* "server" is an upstream's; elsewhere say what forkloop has. */
	if ((d->where & ctx) == 0 &&
	    (nginx = conf_nginx_hint(st->argv[0])) != NULL)
		return conf_perr(p, st->lines[0], "\"%s\" is not allowed "
		    "here: forkloop %s", st->argv[0], nginx);
	if ((d->where & ctx) == 0)
		return conf_perr(p, st->lines[0],
		    "\"%s\" directive is not allowed here", d->name);
	if (stmt_check_end(p, st, d) == -1 || stmt_check_args(p, st, d) == -1)
		return -1;
	i = directive_index(d);
	if (p->seen[i] && (d->flags & DIR_MULTI) == 0)
		return conf_perr(p, st->lines[0], "duplicate \"%s\" directive",
		    d->name);
	p->seen[i] = 1;
	if (ctx == CTX_MAIN)
		base = p->conf;
	else if (ctx == CTX_UPSTREAM)
		base = p->upstream;
	else
		base = p->server;
	return d->set(p, st, (char *)base + d->offset);
}

/*
 * Statements into the body being read (p->ctx, p->seen) up to the end of
 * its scope: its "}" in_block, else the end of the file, which for an
 * included file is not the end of the body.
 */
int
conf_parse_stmts(struct parser *p, int in_block)
{
	struct stmt st;
	int rc;

	memset(&st, 0, sizeof(st));
	while ((rc = stmt_read(p, &st, in_block)) == 0)
		if (stmt_run(p, &st) == -1) {
			rc = -1;
			break;
		}
	stmt_free(&st);
	return rc == 1 ? 0 : -1;
}

/* The statements of the file (CTX_MAIN) or of one block, up to its end. */
int
conf_parse_body(struct parser *p, int ctx)
{
	unsigned char seen[DIRECTIVES_MAX], *outer_seen = p->seen;
	int outer_ctx = p->ctx, rc;

	memset(seen, 0, sizeof(seen));
	p->ctx = ctx;
	p->seen = seen;
	rc = conf_parse_stmts(p, ctx != CTX_MAIN);
	p->ctx = outer_ctx;
	p->seen = outer_seen;
	if (p->seen_out != NULL && ctx == CTX_LOCATION)
		memcpy(p->seen_out, seen, sizeof(seen));
	return rc;
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
	conf->reuseport_steering = 1;
	conf->shutdown_timeout_ms = 30 * 1000;
	conf->ssl_session_ticket_rotate_ms = 60 * 60 * 1000;
	conf->real_ip_recursive = -1;
	return conf;
}

static struct conf *
conf_parse(const char *name, const char *text, size_t len,
    const char *basedir, char *err, size_t errlen)
{
	struct parser p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.basedir = basedir;
	p.err = err;
	p.errlen = errlen;
	p.conf = conf_new(name);
	if (p.conf == NULL) {
		conf_err(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	lex_init(&p.lex, text, len);
	rc = -1;
	if (conf_source_add(&p, name, text, len, 1) == 0)
		rc = conf_parse_body(&p, CTX_MAIN);
	if (rc == 0 && p.conf->nservers == 0)
		rc = conf_perr(&p, p.last_line, "no http, echo or chat block");
	if (rc == 0)
		rc = conf_upstreams_resolve(&p);
	if (rc == 0)
		rc = conf_limits_resolve(&p);
	if (rc == 0)
		conf_real_ip_resolve(p.conf);
	if (rc == 0)
		rc = conf_websockets_resolve(&p);
	if (rc == 0)
		rc = conf_vhosts_build(p.conf, err, errlen);
	if (rc == 0)
		rc = conf_log_formats_resolve(&p);
	if (rc == 0)
		conf_locations_number(p.conf);
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

struct conf *
conf_load_file(const char *path, char *err, size_t errlen)
{
	char why[CONF_ERR_LEN], *text, *dir;
	struct conf *conf = NULL;
	size_t len;

	text = conf_read_file(path, 0, &len, why, sizeof(why));
	if (text == NULL) {
		conf_err(err, errlen, "%s: %s", path, why);
		return NULL;
	}
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
	for (i = 0; i < srv->nserver_names; i++) {
		free(srv->server_names[i]);
		conf_regex_free(srv->server_name_regexes[i]);
	}
	free(srv->server_names);
	free(srv->server_name_regexes);
	free(srv->server_name_lines);
	for (i = 0; i < srv->ncerts; i++) {
		free(srv->certs[i].cert);
		free(srv->certs[i].key);
	}
	free(srv->certs);
	conf_text_free(srv->return_text);
	for (i = 0; i < srv->nadd_headers; i++) {
		free(srv->add_headers[i].name);
		free(srv->add_headers[i].value);
		conf_text_free(srv->add_headers[i].text);
	}
	free(srv->add_headers);
	for (i = 0; i < srv->nerror_pages; i++)
		free(srv->error_pages[i].uri);
	free(srv->error_pages);
	free(srv->ssl_ciphers);
	free(srv->ssl_ecdh_curve);
	conf_try_files_free(srv);
	conf_chat_free(srv);
	free(srv->access_format_name);
	free(srv->access);
	free(srv->auth_challenge);
	conf_htpasswd_free(srv->auth_users);
	for (i = 0; i < srv->ngzip_types; i++)
		free(srv->gzip_types[i]);
	free(srv->gzip_types);
	for (i = 0; i < srv->nlocations; i++)
		conf_location_free(&srv->locations[i]);
	free(srv->locations);
	conf_proxy_free(srv, PROXY_OWN_ALL);
	conf_limit_reqs_free(srv);
	conf_limit_conns_free(srv);
	conf_real_ip_free(srv);
}

void
conf_free(struct conf *conf)
{
	size_t i;

	if (conf == NULL)
		return;
	if (conf->tls_free != NULL)
		conf->tls_free(conf);
	conf_vhosts_free(conf);
	for (i = 0; i < conf->nservers; i++)
		server_free(&conf->servers[i]);
	free(conf->servers);
	conf_upstreams_free(conf);
	conf_limit_zones_free(conf);
	free(conf->real_ip_from);
	free(conf->real_ip_header);
	for (i = 0; i < conf->nlog_formats; i++)
		conf_log_format_free(&conf->log_formats[i]);
	free(conf->log_formats);
	conf_sources_free(conf);
	free(conf->file);
	free(conf->pid_file);
	free(conf->error_log);
	free(conf->user);
	free(conf->group);
	free(conf);
}
