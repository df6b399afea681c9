/*
 * log_format.c: nginx's "log_format NAME [escape=default|json|none]
 * STRING ...;", a line of literal text and $variables, and the
 * "access_log PATH NAME [buffer=SIZE] [flush=TIME]" that uses it.  The
 * strings are joined, split into parts once here, and each variable
 * checked against the ones forkloop knows, so a misspelt one is a
 * FILE:LINE: error, not an empty field in every line.  The worker
 * (worker/http/log_format.c) fills the parts in per request.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/parser.h"
#include "conf/value.h"

static const struct {
	const char *name;
	enum conf_log_var var;
} log_vars[] = {
	{ "args", CONF_LOG_ARGS },
	{ "body_bytes_sent", CONF_LOG_BODY_BYTES_SENT },
	{ "bytes_sent", CONF_LOG_BODY_BYTES_SENT },
	{ "host", CONF_LOG_HOST },
	{ "msec", CONF_LOG_MSEC },
	{ "pid", CONF_LOG_PID },
	{ "query_string", CONF_LOG_ARGS },
	{ "remote_addr", CONF_LOG_REMOTE_ADDR },
	{ "remote_user", CONF_LOG_REMOTE_USER },
	{ "request", CONF_LOG_REQUEST },
	{ "request_method", CONF_LOG_REQUEST_METHOD },
	{ "request_time", CONF_LOG_REQUEST_TIME },
	{ "request_uri", CONF_LOG_REQUEST_URI },
	{ "scheme", CONF_LOG_SCHEME },
	{ "server_name", CONF_LOG_SERVER_NAME },
	{ "server_protocol", CONF_LOG_SERVER_PROTOCOL },
	{ "ssl_cipher", CONF_LOG_SSL_CIPHER },
	{ "ssl_protocol", CONF_LOG_SSL_PROTOCOL },
	{ "ssl_session_reused", CONF_LOG_SSL_SESSION_REUSED },
	{ "status", CONF_LOG_STATUS },
	{ "time_iso8601", CONF_LOG_TIME_ISO8601 },
	{ "time_local", CONF_LOG_TIME_LOCAL },
	{ "upstream_addr", CONF_LOG_UPSTREAM_ADDR },
	{ "upstream_response_time", CONF_LOG_UPSTREAM_RESPONSE_TIME },
	{ "upstream_status", CONF_LOG_UPSTREAM_STATUS },
	{ "uri", CONF_LOG_URI },
};

static int
log_part_add(struct conf_log_format *f, enum conf_log_var var,
    const char *text, size_t len)
{
	struct conf_log_part *parts, *p;

	parts = realloc(f->parts, (f->nparts + 1) * sizeof(*parts));
	if (parts == NULL)
		return -1;
	f->parts = parts;
	p = &parts[f->nparts];
	memset(p, 0, sizeof(*p));
	p->var = var;
	if (text != NULL) {
		if ((p->text = malloc(len + 1)) == NULL)
			return -1;
		memcpy(p->text, text, len);
		p->text[len] = '\0';
		p->len = len;
	}
	f->nparts++;
	return 0;
}

/* $http_NAME: the request's NAME field, "_" standing for "-". */
static int
log_var_header(struct conf_log_format *f, const char *name, size_t len)
{
	size_t i;

	if (log_part_add(f, CONF_LOG_HTTP_FIELD, name, len) == -1)
		return -1;
	for (i = 0; i < len; i++)
		if (f->parts[f->nparts - 1].text[i] == '_')
			f->parts[f->nparts - 1].text[i] = '-';
	return 0;
}

/* A variable's name at s ("$name" or "${name}"), into *name and *len;
 * returns what it spans, 0 when it is no variable. */
static size_t
log_var_span(const char *s, const char **name, size_t *len)
{
	size_t i = 1;

	if (s[1] == '{') {
		const char *end = strchr(s + 2, '}');

		if (end == NULL)
			return 0;
		*name = s + 2;
		*len = (size_t)(end - s - 2);
		return *len > 0 ? (size_t)(end - s) + 1 : 0;
	}
	while ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
	    s[i] == '_')
		i++;
	*name = s + 1;
	*len = i - 1;
	return *len > 0 ? i : 0;
}

static int
log_var_add(struct parser *p, int line, struct conf_log_format *f,
    const char *name, size_t len)
{
	size_t i;

	if (len > 5 && strncmp(name, "http_", 5) == 0)
		return log_var_header(f, name + 5, len - 5);
	for (i = 0; i < sizeof(log_vars) / sizeof(log_vars[0]); i++)
		if (strlen(log_vars[i].name) == len &&
		    strncmp(log_vars[i].name, name, len) == 0)
			return log_part_add(f, log_vars[i].var, NULL, 0);
	return conf_perr(p, line, "unknown variable \"$%.*s\" in log_format",
	    (int)len, name);
}

static int
log_parse(struct parser *p, int line, struct conf_log_format *f,
    const char *s)
{
	const char *lit = s, *name;
	size_t len, span;

	while (*s != '\0') {
		if (*s != '$' || (span = log_var_span(s, &name, &len)) == 0) {
			s++;
			continue;
		}
		if (s > lit && log_part_add(f, CONF_LOG_LITERAL, lit,
		    (size_t)(s - lit)) == -1)
			return conf_perr(p, line, "out of memory");
		if (log_var_add(p, line, f, name, len) == -1)
			return -1;
		s += span;
		lit = s;
	}
	if (s > lit && log_part_add(f, CONF_LOG_LITERAL, lit,
	    (size_t)(s - lit)) == -1)
		return conf_perr(p, line, "out of memory");
	return 0;
}

void
conf_log_format_free(struct conf_log_format *f)
{
	size_t i;

	for (i = 0; i < f->nparts; i++)
		free(f->parts[i].text);
	free(f->parts);
	free(f->name);
}

/* log_format NAME [escape=default|json|none] STRING ...; (main, http) */
int
conf_set_log_format(struct parser *p, struct stmt *st, void *field)
{
	struct conf *conf = p->conf;
	struct conf_log_format *formats, *f;
	size_t i, first = 2;

	(void)field;
	if (strcmp(st->argv[1], "combined") == 0 ||
	    strcmp(st->argv[1], "combined_ssl") == 0)
		return conf_perr(p, st->lines[1], "log_format \"%s\" is built "
		    "in", st->argv[1]);
	for (i = 0; i < conf->nlog_formats; i++)
		if (strcmp(conf->log_formats[i].name, st->argv[1]) == 0)
			return conf_perr(p, st->lines[1], "duplicate log_format "
			    "\"%s\"", st->argv[1]);
	formats = realloc(conf->log_formats, (conf->nlog_formats + 1) *
	    sizeof(*formats));
	if (formats == NULL)
		return conf_perr(p, st->lines[0], "out of memory");
	conf->log_formats = formats;
	f = &formats[conf->nlog_formats];
	memset(f, 0, sizeof(*f));
	if ((f->name = conf_pstrdup(p, st->lines[1], st->argv[1])) == NULL)
		return -1;
	conf->nlog_formats++;
	if (strncmp(st->argv[2], "escape=", 7) == 0) {
		const char *e = st->argv[2] + 7;

		if (strcmp(e, "json") == 0)
			f->escape = CONF_LOG_ESCAPE_JSON;
		else if (strcmp(e, "none") == 0)
			f->escape = CONF_LOG_ESCAPE_NONE;
		else if (strcmp(e, "default") != 0)
			return conf_perr(p, st->lines[2], "invalid \"%s\" "
			    "(default, json or none)", st->argv[2]);
		first = 3;
	}
	if (first >= st->argc)
		return conf_perr(p, st->lines[0], "log_format \"%s\" has no "
		    "text", st->argv[1]);
	for (i = first; i < st->argc; i++)
		if (log_parse(p, st->lines[i], f, st->argv[i]) == -1)
			return -1;
	return 0;
}

static int
log_resolve_one(struct parser *p, struct conf *conf, struct conf_server *s)
{
	size_t i;

	s->access_custom = -1;
	if (s->access_format_name == NULL)
		return 0;
	for (i = 0; i < conf->nlog_formats; i++)
		if (strcmp(conf->log_formats[i].name,
		    s->access_format_name) == 0) {
			s->access_custom = (int)i;
			return 0;
		}
	return conf_perr(p, s->access_format_line, "unknown log_format \"%s\"",
	    s->access_format_name);
}

/* At the end of the file: each access_log's format, by its name. */
int
conf_log_formats_resolve(struct parser *p)
{
	struct conf *conf = p->conf;
	size_t i, j;

	for (i = 0; i < conf->nservers; i++) {
		struct conf_server *s = &conf->servers[i];

		if (log_resolve_one(p, conf, s) == -1)
			return -1;
		for (j = 0; j < s->nlocations; j++)
			if (log_resolve_one(p, conf,
			    s->locations[j].conf) == -1)
				return -1;
	}
	return 0;
}
