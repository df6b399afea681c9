/*
 * location.c: "location [=|^~|~|~*] PATH { ... }" inside an http block,
 * as in nginx: a path prefix (or, with "=", one exact path; with "~" or
 * "~*", a regular expression, conf/regex.c) whose requests get
 * their own root, alias, index, try_files, return, error pages, headers,
 * expiry, type, body limit, access log, folder listings (autoindex),
 * access rules, reverse proxy or auth_basic.
 * And try_files, which is mostly written in a location.
 *
 * Directives inherit as in nginx: a location has the block's settings,
 * whatever their place in the block, except those it sets itself; a
 * list (add_header, error_page, index) set in a location replaces the
 * block's rather than adding to it.  So each location's settings are
 * made once, when the block is read: a copy of the block's struct
 * conf_server that shares the block's values and owns only its own
 * (conf_location_free() frees those alone).  At request time choosing
 * the location makes that copy the request's block, and no handler needs
 * to know locations exist.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/parser.h"
#include "conf/regex.h"
#include "conf/value.h"

/* What a location may set, one bit each in conf_location.owns. */
enum {
	LOC_ROOT, LOC_ALIAS, LOC_INDEX, LOC_RETURN, LOC_ERROR_PAGE,
	LOC_ADD_HEADER, LOC_EXPIRES, LOC_DEFAULT_TYPE, LOC_HIDDEN_FILES,
	LOC_MAX_BODY_SIZE, LOC_ACCESS_LOG, LOC_FOLLOW_SYMLINKS, LOC_TRY_FILES,
	LOC_AUTOINDEX, LOC_AUTOINDEX_FORMAT, LOC_ALLOW, LOC_DENY,
	LOC_GZIP_STATIC, LOC_BROTLI_STATIC, LOC_PROXY_PASS, LOC_PROXY_SET_HEADER,
	LOC_PROXY_HIDE_HEADER,
	LOC_PROXY_REDIRECT, LOC_PROXY_BUFFERING, LOC_PROXY_CONNECT_TIMEOUT,
	LOC_PROXY_READ_TIMEOUT, LOC_PROXY_SEND_TIMEOUT, LOC_LIMIT_REQ,
	LOC_LIMIT_REQ_STATUS, LOC_LIMIT_REQ_LOG_LEVEL, LOC_LIMIT_CONN,
	LOC_LIMIT_CONN_STATUS, LOC_LIMIT_CONN_LOG_LEVEL,
	LOC_AUTH_BASIC, LOC_AUTH_BASIC_USER_FILE,
	LOC_NGROUPS
};

/* conf_location.owns has a bit for each. */
_Static_assert(LOC_NGROUPS <= 64, "conf_location.owns is too small");

static const char *const loc_directives[LOC_NGROUPS] = {
	[LOC_ROOT] = "root",
	[LOC_ALIAS] = "alias",
	[LOC_INDEX] = "index",
	[LOC_RETURN] = "return",
	[LOC_ERROR_PAGE] = "error_page",
	[LOC_ADD_HEADER] = "add_header",
	[LOC_EXPIRES] = "expires",
	[LOC_DEFAULT_TYPE] = "default_type",
	[LOC_HIDDEN_FILES] = "hidden_files",
	[LOC_MAX_BODY_SIZE] = "max_body_size",
	[LOC_ACCESS_LOG] = "access_log",
	[LOC_FOLLOW_SYMLINKS] = "follow_symlinks",
	[LOC_TRY_FILES] = "try_files",
	[LOC_AUTOINDEX] = "autoindex",
	[LOC_AUTOINDEX_FORMAT] = "autoindex_format",
	[LOC_ALLOW] = "allow",
	[LOC_DENY] = "deny",
	[LOC_GZIP_STATIC] = "gzip_static",
	[LOC_BROTLI_STATIC] = "brotli_static",
	[LOC_PROXY_PASS] = "proxy_pass",
	[LOC_PROXY_SET_HEADER] = "proxy_set_header",
	[LOC_PROXY_HIDE_HEADER] = "proxy_hide_header",
	[LOC_PROXY_REDIRECT] = "proxy_redirect",
	[LOC_PROXY_BUFFERING] = "proxy_buffering",
	[LOC_PROXY_CONNECT_TIMEOUT] = "proxy_connect_timeout",
	[LOC_PROXY_READ_TIMEOUT] = "proxy_read_timeout",
	[LOC_PROXY_SEND_TIMEOUT] = "proxy_send_timeout",
	[LOC_LIMIT_REQ] = "limit_req",
	[LOC_LIMIT_REQ_STATUS] = "limit_req_status",
	[LOC_LIMIT_REQ_LOG_LEVEL] = "limit_req_log_level",
	[LOC_LIMIT_CONN] = "limit_conn",
	[LOC_LIMIT_CONN_STATUS] = "limit_conn_status",
	[LOC_LIMIT_CONN_LOG_LEVEL] = "limit_conn_log_level",
	[LOC_AUTH_BASIC] = "auth_basic",
	[LOC_AUTH_BASIC_USER_FILE] = "auth_basic_user_file",
};

/* A bit of conf_location.owns. */
#define LOC_BIT(g)	((uint64_t)1 << (g))

/* limit_req and limit_conn (conf/limit.c): a list set in the location
 * replaces the block's, as nginx's. */
static void
loc_take_limit(struct conf_server *eff, struct conf_server *own, int g)
{
	switch (g) {
	case LOC_LIMIT_REQ:
		eff->limit_reqs = own->limit_reqs;
		eff->nlimit_reqs = own->nlimit_reqs;
		break;
	case LOC_LIMIT_REQ_STATUS:
		eff->limit_req_status = own->limit_req_status;
		break;
	case LOC_LIMIT_REQ_LOG_LEVEL:
		eff->limit_req_log_level = own->limit_req_log_level;
		break;
	case LOC_LIMIT_CONN:
		eff->limit_conns = own->limit_conns;
		eff->nlimit_conns = own->nlimit_conns;
		break;
	case LOC_LIMIT_CONN_STATUS:
		eff->limit_conn_status = own->limit_conn_status;
		break;
	case LOC_LIMIT_CONN_LOG_LEVEL:
		eff->limit_conn_log_level = own->limit_conn_log_level;
		break;
	}
}

/* The reverse proxy's groups (conf/upstream.c). */
static void
loc_take_proxy(struct conf_server *eff, struct conf_server *own, int g)
{
	switch (g) {
	case LOC_PROXY_PASS:
		eff->proxy_pass = own->proxy_pass;
		eff->proxy_pass_line = own->proxy_pass_line;
		eff->proxy_host = own->proxy_host;
		eff->proxy_uri = own->proxy_uri;
		break;
	case LOC_PROXY_SET_HEADER:
		eff->proxy_headers = own->proxy_headers;
		eff->nproxy_headers = own->nproxy_headers;
		break;
	case LOC_PROXY_HIDE_HEADER:
		eff->proxy_hide_headers = own->proxy_hide_headers;
		eff->nproxy_hide_headers = own->nproxy_hide_headers;
		break;
	case LOC_PROXY_REDIRECT:
		eff->proxy_redirect = own->proxy_redirect;
		break;
	case LOC_PROXY_BUFFERING:
		eff->proxy_buffering = own->proxy_buffering;
		break;
	case LOC_PROXY_CONNECT_TIMEOUT:
		eff->proxy_connect_timeout_ms = own->proxy_connect_timeout_ms;
		break;
	case LOC_PROXY_READ_TIMEOUT:
		eff->proxy_read_timeout_ms = own->proxy_read_timeout_ms;
		break;
	case LOC_PROXY_SEND_TIMEOUT:
		eff->proxy_send_timeout_ms = own->proxy_send_timeout_ms;
		break;
	}
}

/* Moves the fields of group g from the location's own into eff. */
static void
loc_take(struct conf_server *eff, struct conf_server *own, int g)
{
	switch (g) {
	case LOC_ROOT:
		eff->root = own->root;
		eff->alias = NULL;
		break;
	case LOC_ALIAS:
		/* Files are opened under the alias, with the location's
		 * prefix taken off the path (static.c). */
		eff->alias = eff->root = own->alias;
		break;
	case LOC_INDEX:
		eff->index = own->index;
		eff->nindex = own->nindex;
		break;
	case LOC_RETURN:
		eff->return_code = own->return_code;
		eff->return_text = own->return_text;
		break;
	case LOC_ERROR_PAGE:
		eff->error_pages = own->error_pages;
		eff->nerror_pages = own->nerror_pages;
		break;
	case LOC_ADD_HEADER:
		eff->add_headers = own->add_headers;
		eff->nadd_headers = own->nadd_headers;
		break;
	case LOC_EXPIRES:
		eff->expires = own->expires;
		eff->expires_sec = own->expires_sec;
		break;
	case LOC_DEFAULT_TYPE:
		eff->default_type = own->default_type;
		break;
	case LOC_HIDDEN_FILES:
		eff->hidden_files = own->hidden_files;
		break;
	case LOC_MAX_BODY_SIZE:
		eff->max_body_size = own->max_body_size;
		break;
	case LOC_ACCESS_LOG:
		eff->access_log = own->access_log;
		eff->access_format = own->access_format;
		eff->access_log_line = own->access_log_line;
		eff->access_format_name = own->access_format_name;
		eff->access_format_line = own->access_format_line;
		eff->access_buffer = own->access_buffer;
		eff->access_flush_ms = own->access_flush_ms;
		break;
	case LOC_FOLLOW_SYMLINKS:
		eff->follow_symlinks = own->follow_symlinks;
		break;
	case LOC_TRY_FILES:
		eff->try_files = own->try_files;
		eff->ntry_files = own->ntry_files;
		break;
	case LOC_AUTOINDEX:
		eff->autoindex = own->autoindex;
		break;
	case LOC_AUTOINDEX_FORMAT:
		eff->autoindex_format = own->autoindex_format;
		break;
	case LOC_ALLOW:
	case LOC_DENY:
		/* One list, in the order written: both take it whole. */
		eff->access = own->access;
		eff->naccess = own->naccess;
		break;
	case LOC_AUTH_BASIC:
		eff->auth_challenge = own->auth_challenge;
		eff->auth_basic_line = own->auth_basic_line;
		break;
	case LOC_AUTH_BASIC_USER_FILE:
		eff->auth_users = own->auth_users;
		eff->auth_users_line = own->auth_users_line;
		break;
	case LOC_GZIP_STATIC:
		eff->gzip_static = own->gzip_static;
		break;
	case LOC_BROTLI_STATIC:
		eff->brotli_static = own->brotli_static;
		break;
	default:
		if (g >= LOC_LIMIT_REQ)
			loc_take_limit(eff, own, g);
		else
			loc_take_proxy(eff, own, g);
		break;
	}
}

/* Frees what a location's settings own (conf_location.owns). */
void
conf_location_free(struct conf_location *loc)
{
	struct conf_server *s = loc->conf;
	size_t i;

	free(loc->path);
	conf_regex_free(loc->regex);
	if (s == NULL)
		return;
	conf_text_free(s->alias_file);
	if (loc->owns & LOC_BIT(LOC_ROOT))
		free(s->root);
	if (loc->owns & LOC_BIT(LOC_ALIAS))
		free(s->alias);
	if (loc->owns & LOC_BIT(LOC_INDEX)) {
		for (i = 0; i < s->nindex; i++)
			free(s->index[i]);
		free(s->index);
	}
	if (loc->owns & LOC_BIT(LOC_RETURN))
		conf_text_free(s->return_text);
	if (loc->owns & LOC_BIT(LOC_ERROR_PAGE)) {
		for (i = 0; i < s->nerror_pages; i++)
			free(s->error_pages[i].uri);
		free(s->error_pages);
	}
	if (loc->owns & LOC_BIT(LOC_ADD_HEADER)) {
		for (i = 0; i < s->nadd_headers; i++) {
			free(s->add_headers[i].name);
			free(s->add_headers[i].value);
			conf_text_free(s->add_headers[i].text);
		}
		free(s->add_headers);
	}
	if (loc->owns & LOC_BIT(LOC_DEFAULT_TYPE))
		free(s->default_type);
	if (loc->owns & LOC_BIT(LOC_ACCESS_LOG)) {
		free(s->access_log);
		free(s->access_format_name);
	}
	if (loc->owns & LOC_BIT(LOC_TRY_FILES))
		conf_try_files_free(s);
	if (loc->owns & (LOC_BIT(LOC_ALLOW) | LOC_BIT(LOC_DENY)))
		free(s->access);
	if (loc->owns & LOC_BIT(LOC_AUTH_BASIC))
		free(s->auth_challenge);
	if (loc->owns & LOC_BIT(LOC_AUTH_BASIC_USER_FILE))
		conf_htpasswd_free(s->auth_users);
	conf_proxy_free(s, ((loc->owns & LOC_BIT(LOC_PROXY_PASS)) ?
	    PROXY_OWN_PASS : 0) |
	    ((loc->owns & LOC_BIT(LOC_PROXY_SET_HEADER)) ? PROXY_OWN_HEADERS :
	    0) | ((loc->owns & LOC_BIT(LOC_PROXY_HIDE_HEADER)) ?
	    PROXY_OWN_HIDE : 0));
	if (loc->owns & LOC_BIT(LOC_LIMIT_REQ))
		conf_limit_reqs_free(s);
	if (loc->owns & LOC_BIT(LOC_LIMIT_CONN))
		conf_limit_conns_free(s);
	free(s);
}

void
conf_try_files_free(struct conf_server *s)
{
	size_t i;

	for (i = 0; i < s->ntry_files; i++)
		free(s->try_files[i]);
	free(s->try_files);
}

/*
 * try_files PATH ... LAST: each PATH (with $uri, the decoded path) is
 * tried in turn, a folder when it ends in "/"; LAST, when none is there,
 * is "=CODE" or a path served instead (static.c).  Named locations
 * ("@name") are not supported.
 */
int
conf_set_try_files(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	const char *last = st->argv[st->argc - 1];
	size_t i;

	for (i = 1; i < st->argc; i++) {
		const char *a = st->argv[i];

		if (a[0] == '/' || strncmp(a, "$uri", 4) == 0)
			continue;
		if (i + 1 == st->argc && a[0] == '=')
			continue;
		return conf_perr(p, st->lines[i], "invalid try_files \"%s\": "
		    "a path starting with \"/\" or \"$uri\"%s", a,
		    i + 1 == st->argc ? ", or =CODE" : "");
	}
	if (last[0] == '=') {
		char *end;
		unsigned long code = strtoul(last + 1, &end, 10);

		if (last[1] < '0' || last[1] > '9' || *end != '\0' ||
		    code < 200 || code > 599)
			return conf_perr(p, st->lines[st->argc - 1], "invalid "
			    "try_files code \"%s\" (=200 to =599)", last);
	}
	srv->try_files = calloc(st->argc - 1, sizeof(*srv->try_files));
	if (srv->try_files == NULL)
		return conf_perr(p, st->lines[0], "out of memory");
	for (i = 1; i < st->argc; i++) {
		srv->try_files[i - 1] = conf_pstrdup(p, st->lines[i],
		    st->argv[i]);
		if (srv->try_files[i - 1] == NULL)
			return -1;
		srv->ntry_files++;
	}
	return 0;
}

/* Which groups the location's own directives set, from their "seen". */
static uint64_t
loc_owns(const unsigned char *seen)
{
	uint64_t owns = 0;
	int g;

	for (g = 0; g < LOC_NGROUPS; g++) {
		const struct directive *d = directive_find(loc_directives[g]);

		if (d != NULL && seen[directive_index(d)])
			owns |= LOC_BIT(g);
	}
	return owns;
}

/* The modifiers nginx has, with the path glued on or apart. */
enum loc_kind { LOC_PREFIX, LOC_EXACT, LOC_NO_REGEX, LOC_REGEX,
	LOC_REGEX_CASELESS };

static int
loc_modifier(const char *m, enum loc_kind *kind)
{
	static const struct { const char *text; enum loc_kind kind; } mods[] = {
		/* Longest first: "~*" before "~". */
		{ "~*", LOC_REGEX_CASELESS }, { "^~", LOC_NO_REGEX },
		{ "=", LOC_EXACT }, { "~", LOC_REGEX },
	};
	size_t i;

	for (i = 0; i < sizeof(mods) / sizeof(mods[0]); i++)
		if (strncmp(m, mods[i].text, strlen(mods[i].text)) == 0) {
			*kind = mods[i].kind;
			return (int)strlen(mods[i].text);
		}
	return 0;
}

/*
 * "location [MODIFIER] PATH": its kind, and the path (or regex) with
 * its line.  As nginx, the modifier may be glued to the path
 * ("location =/x", "location ~\.php$").
 */
static int
loc_args(struct parser *p, struct stmt *st, enum loc_kind *kind,
    const char **path, int *line)
{
	int used;

	*kind = LOC_PREFIX;
	*path = st->argv[st->argc - 1];
	*line = st->lines[st->argc - 1];
	if (st->argc == 3) {
		used = loc_modifier(st->argv[1], kind);
		if (used == 0 || st->argv[1][used] != '\0')
			return conf_perr(p, st->lines[1], "invalid location "
			    "modifier \"%s\"", st->argv[1]);
	} else if ((*path)[0] != '/' && (used = loc_modifier(*path,
	    kind)) > 0) {
		/* "location ~ { }": a modifier and no path. */
		if ((*path)[used] == '\0')
			return conf_perr(p, *line, "a location needs a path "
			    "after \"%s\"", *path);
		*path += used;
	}
	if (*kind >= LOC_REGEX) {
		if ((*path)[0] == '\0')
			return conf_perr(p, *line, "an empty regular "
			    "expression");
		return 0;
	}
	if ((*path)[0] != '/')
		return conf_perr(p, *line, "a location path must start with "
		    "\"/\": \"%s\"", *path);
	return 0;
}

/* A new location at the end of the block's list; NULL after an error.
 * The same path twice is an error, as nginx's; regexes may repeat (the
 * first wins anyway). */
static struct conf_location *
loc_add(struct parser *p, struct conf_server *srv, enum loc_kind kind,
    const char *path, int line)
{
	struct conf_location *locs, *loc;
	size_t i;

	for (i = 0; kind < LOC_REGEX && i < srv->nlocations; i++)
		if (srv->locations[i].regex == NULL &&
		    srv->locations[i].exact == (kind == LOC_EXACT) &&
		    strcmp(srv->locations[i].path, path) == 0) {
			conf_perr(p, line, "duplicate location \"%s\"", path);
			return NULL;
		}
	locs = realloc(srv->locations, (srv->nlocations + 1) * sizeof(*locs));
	if (locs == NULL) {
		conf_perr(p, line, "out of memory");
		return NULL;
	}
	srv->locations = locs;
	loc = &locs[srv->nlocations];
	memset(loc, 0, sizeof(*loc));
	loc->exact = kind == LOC_EXACT;
	loc->no_regex = kind == LOC_NO_REGEX;
	loc->len = strlen(path);
	if ((loc->path = conf_pstrdup(p, line, path)) == NULL)
		return NULL;
	srv->nlocations++;
	return loc;
}

/* "location [=|^~|~|~*] PATH { ... }": read the body into a location of
 * its own; conf_locations_finish() makes its settings when the block
 * ends. */
int
conf_set_location(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field, *own;
	struct conf_location *loc;
	unsigned char seen[DIRECTIVES_MAX];
	const char *path = NULL;
	enum loc_kind kind;
	int line = st->lines[0], rc;

	if (p->in_location)
		return conf_perr(p, st->lines[0], "nested locations are not "
		    "supported");
	if (loc_args(p, st, &kind, &path, &line) == -1 ||
	    (loc = loc_add(p, srv, kind, path, line)) == NULL)
		return -1;
	loc->line = st->lines[0];
	if (kind >= LOC_REGEX) {
		/* Compiled once, here: a worker only matches. */
		loc->regex = conf_regex_compile(path, kind ==
		    LOC_REGEX_CASELESS, p->msg, sizeof(p->msg));
		if (loc->regex == NULL)
			return conf_perr(p, line, "%s", p->msg);
		srv->nregex_locations++;
	}
	if ((own = calloc(1, sizeof(*own))) == NULL)
		return conf_perr(p, line, "out of memory");
	own->kind = CONF_SERVER_HTTP;
	own->line = loc->line;
	loc->conf = own;
	memset(seen, 0, sizeof(seen));
	p->server = own;
	p->in_location = 1;
	p->regex = loc->regex;
	p->seen_out = seen;
	rc = conf_parse_body(p, CTX_LOCATION);
	p->seen_out = NULL;
	p->regex = NULL;
	p->in_location = 0;
	p->server = srv;
	/* What the location set, it owns, even after an error: freed. */
	loc->owns = loc_owns(seen);
	return rc;
}

/*
 * A regex location's alias is the file's whole path, as nginx's: with
 * the regex's groups in it ("alias /srv/img/$1;"), it is cut into the
 * folder before its first variable, which files are opened beneath as
 * under a root, and the rest, expanded for each request (static.c).
 */
static int
loc_regex_alias(struct parser *p, struct conf_location *loc,
    struct conf_server *eff)
{
	char *alias = eff->alias, *dollar, *slash;

	dollar = strchr(alias, '$');
	if (dollar == NULL)
		dollar = alias + strlen(alias);
	for (slash = dollar; slash > alias && *slash != '/'; slash--)
		;
	eff->alias_file = value_text(slash, loc->regex, p->msg,
	    sizeof(p->msg));
	if (eff->alias_file == NULL)
		return conf_perr(p, loc->line, "alias: %s", p->msg);
	/* The folder: "/" when the alias is "/$1". */
	slash[slash == alias] = '\0';
	return 0;
}

/* What nginx also refuses in a regex location. */
static int
loc_regex_check(struct parser *p, struct conf_location *loc,
    struct conf_server *eff)
{
	if ((loc->owns & LOC_BIT(LOC_PROXY_PASS)) && eff->proxy_uri != NULL)
		return conf_perr(p, eff->proxy_pass_line, "\"proxy_pass\" "
		    "cannot have a URI part in a location given by a regular "
		    "expression");
	if (loc->owns & LOC_BIT(LOC_ALIAS))
		return loc_regex_alias(p, loc, eff);
	return 0;
}

/*
 * The block is read: each location's settings are the block's, with
 * the location's own in place of the block's.
 */
int
conf_locations_finish(struct parser *p, struct conf_server *srv)
{
	size_t i;
	int g;

	for (i = 0; i < srv->nlocations; i++) {
		struct conf_location *loc = &srv->locations[i];
		struct conf_server *own = loc->conf, *eff;

		if ((loc->owns & LOC_BIT(LOC_ROOT)) &&
		    (loc->owns & LOC_BIT(LOC_ALIAS)))
			return conf_perr(p, loc->line, "a location has either "
			    "\"root\" or \"alias\", not both");
		if ((eff = malloc(sizeof(*eff))) == NULL)
			return conf_perr(p, loc->line, "out of memory");
		*eff = *srv;
		eff->locations = NULL;
		eff->nlocations = 0;
		for (g = 0; g < LOC_NGROUPS; g++)
			if (loc->owns & LOC_BIT(g))
				loc_take(eff, own, g);
		eff->location = loc;
		eff->alias_file = NULL;
		free(own);
		loc->conf = eff;
		if (loc->regex != NULL && loc_regex_check(p, loc, eff) == -1)
			return -1;
		if (conf_auth_check(p, eff) == -1)
			return -1;
	}
	return 0;
}

/* Access-log ids: blocks 0..n-1 by their index, then their locations. */
void
conf_locations_number(struct conf *conf)
{
	size_t i, j;
	int next = (int)conf->nservers;

	for (i = 0; i < conf->nservers; i++) {
		conf->servers[i].log_id = (int)i;
		for (j = 0; j < conf->servers[i].nlocations; j++)
			conf->servers[i].locations[j].conf->log_id = next++;
	}
	conf->nlog_ids = next;
}

/*
 * The location of a decoded, normalised path, before regexes: the exact
 * one, else the longest prefix (nginx's rule); NULL when none matches.
 * Regex locations are skipped: the caller tries them after a prefix
 * that has no "^~" (worker/http/request.c), as nginx.
 */
const struct conf_location *
conf_location_find(const struct conf_server *srv, const char *path,
    size_t len)
{
	const struct conf_location *best = NULL;
	size_t i;

	for (i = 0; i < srv->nlocations; i++) {
		const struct conf_location *loc = &srv->locations[i];

		if (loc->regex != NULL || loc->len > len ||
		    memcmp(loc->path, path, loc->len) != 0)
			continue;
		if (loc->exact) {
			if (loc->len == len)
				return loc;
			continue;
		}
		if (best == NULL || loc->len > best->len)
			best = loc;
	}
	return best;
}
