/*
 * auth.c: "auth_basic REALM|off" and "auth_basic_user_file FILE", as
 * nginx's auth_basic module, in an http block or a location (each of
 * the two, set in a location, replaces the block's: "auth_basic off"
 * opens one location of a protected site).
 *
 * The user file is read here, when the master reads the config: at
 * start, on HUP (a reload reads it again, so an edited file takes
 * effect with "forkloop -s reload"), and by "forkloop -t".  A worker
 * never opens it, so it may be readable by root alone.  Its lines are
 * "USER:HASH" (and an optional ":COMMENT"), "#" comments and blank
 * lines; every hash must be of a kind common/password.c verifies, and
 * any other line stops the load with "FILE:LINE: why": a password
 * written in plain text is refused rather than silently never
 * matching (or, worse, compared as plain text).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/password.h"
#include "conf/conf.h"
#include "conf/parser.h"
#include "conf/value.h"

#define AUTH_REALM_MAX	256

/*
 * The WWW-Authenticate value: the realm as a quoted-string (RFC 9110
 * 11.2, 5.6.4: '"' and '\' escaped), and charset="UTF-8" (RFC 7617
 * 2.1), which tells browsers to send UTF-8 user names and passwords.
 */
static char *
auth_challenge(const char *realm)
{
	size_t len = strlen(realm), i, o = 0;
	char *out;

	if ((out = malloc(2 * len + sizeof("Basic realm=\"\", "
	    "charset=\"UTF-8\""))) == NULL)
		return NULL;
	o += (size_t)sprintf(out, "Basic realm=\"");
	for (i = 0; i < len; i++) {
		if (realm[i] == '"' || realm[i] == '\\')
			out[o++] = '\\';
		out[o++] = realm[i];
	}
	strcpy(out + o, "\", charset=\"UTF-8\"");
	return out;
}

/* auth_basic REALM|off;  (field: the block or the location) */
int
conf_set_auth_basic(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	const char *realm = st->argv[1];
	size_t i;

	srv->auth_basic_line = st->lines[0];
	if (strcmp(realm, "off") == 0)
		return 0;
	if (strlen(realm) > AUTH_REALM_MAX)
		return conf_perr(p, st->lines[1], "the auth_basic realm is "
		    "longer than %d bytes", AUTH_REALM_MAX);
	/* A control byte would end or split the header line. */
	for (i = 0; realm[i] != '\0'; i++)
		if ((unsigned char)realm[i] < 0x20 || realm[i] == 0x7f)
			return conf_perr(p, st->lines[1], "the auth_basic "
			    "realm has a control character");
	if ((srv->auth_challenge = auth_challenge(realm)) == NULL)
		return conf_perr(p, st->lines[0], "out of memory");
	return 0;
}

/* Writes "FILE:LINE: why (auth_basic_user_file at CONF:LINE)". */
static int
auth_file_err(struct parser *p, const char *file, int line, int at,
    const char *why)
{
	const char *conf;
	int conf_line;

	conf = conf_where(p->conf, at, &conf_line);
	snprintf(p->err, p->errlen, "%s:%d: %s (auth_basic_user_file at "
	    "%s:%d)", file, line, why, conf, conf_line);
	return -1;
}

static int
auth_user_cmp(const void *a, const void *b)
{
	const struct conf_htpasswd_user *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* One "USER:HASH[:COMMENT]" line, NUL-ended, into users. */
static int
auth_add_line(struct parser *p, struct conf_htpasswd *users, char *text,
    int line, int at)
{
	struct conf_htpasswd_user *u, *grown;
	char *colon = strchr(text, ':'), *end, why[256];
	enum password_kind kind;

	if (colon == NULL || colon == text)
		return auth_file_err(p, users->file, line, at, "not "
		    "\"USER:HASH\"");
	*colon = '\0';
	if ((end = strchr(colon + 1, ':')) != NULL)
		*end = '\0';
	kind = password_kind(colon + 1);
	if (kind == PASSWORD_UNKNOWN) {
		snprintf(why, sizeof(why), "the password of \"%.64s\" is not "
		    "a bcrypt, SHA-512 or SHA-256 crypt, apr1 or {SHA} hash; "
		    "plain text is refused (make one with \"htpasswd -B\")",
		    text);
		return auth_file_err(p, users->file, line, at, why);
	}
	grown = realloc(users->users, (users->nusers + 1) * sizeof(*grown));
	if (grown == NULL)
		return conf_perr(p, at, "out of memory");
	users->users = grown;
	u = &grown[users->nusers];
	memset(u, 0, sizeof(*u));
	u->line = line;
	u->kind = (int)kind;
	if ((u->name = strdup(text)) == NULL ||
	    (u->hash = strdup(colon + 1)) == NULL) {
		free(u->name);
		return conf_perr(p, at, "out of memory");
	}
	users->nusers++;
	return 0;
}

/* Splits the file's text into lines; comments and blank lines skipped. */
static int
auth_parse(struct parser *p, struct conf_htpasswd *users, char *text,
    size_t len, int at)
{
	char *line = text, *nl, *end = text + len;
	int n;

	for (n = 1; line < end; n++, line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		if (memchr(line, '\0', (size_t)(nl - line)) != NULL)
			return auth_file_err(p, users->file, n, at, "a NUL "
			    "byte in the line");
		*nl = '\0';
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		if (line[0] == '#' || line[strspn(line, " \t")] == '\0')
			continue;
		if (auth_add_line(p, users, line, n, at) == -1)
			return -1;
	}
	return 0;
}

/* The same user twice is a mistake to show, not a rule to guess. */
static int
auth_check_duplicates(struct parser *p, struct conf_htpasswd *users, int at)
{
	char why[256];
	size_t i;

	qsort(users->users, users->nusers, sizeof(*users->users),
	    auth_user_cmp);
	for (i = 1; i < users->nusers; i++) {
		const struct conf_htpasswd_user *a = &users->users[i - 1];
		const struct conf_htpasswd_user *b = &users->users[i];

		if (strcmp(a->name, b->name) != 0)
			continue;
		snprintf(why, sizeof(why), "user \"%.64s\" is also on line %d",
		    b->name, a->line < b->line ? a->line : b->line);
		return auth_file_err(p, users->file,
		    a->line > b->line ? a->line : b->line, at, why);
	}
	return 0;
}

void
conf_htpasswd_free(struct conf_htpasswd *users)
{
	size_t i;

	if (users == NULL)
		return;
	for (i = 0; i < users->nusers; i++) {
		free(users->users[i].name);
		/* Hashes are no secret to the host, but need not linger. */
		explicit_bzero(users->users[i].hash,
		    strlen(users->users[i].hash));
		free(users->users[i].hash);
	}
	free(users->users);
	free(users->file);
	free(users);
}

/* auth_basic_user_file FILE;  read now, so -t and a reload see it. */
int
conf_set_auth_user_file(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	struct conf_htpasswd *users;
	char why[CONF_ERR_LEN];
	size_t len;
	char *text, *bigger;
	int rc;

	if ((users = calloc(1, sizeof(*users))) == NULL)
		return conf_perr(p, st->lines[0], "out of memory");
	srv->auth_users = users;
	srv->auth_users_line = st->lines[0];
	users->file = value_path(p->basedir, st->argv[1], p->msg,
	    sizeof(p->msg));
	if (users->file == NULL)
		return conf_perr(p, st->lines[1], "%s", p->msg);
	text = conf_read_file(users->file, 1, &len, why, sizeof(why));
	if (text == NULL)
		return conf_perr(p, st->lines[1], "auth_basic_user_file "
		    "\"%s\": %s", users->file, why);
	/* Room for the NUL that ends the last line. */
	if ((bigger = realloc(text, len + 1)) == NULL) {
		free(text);
		return conf_perr(p, st->lines[0], "out of memory");
	}
	text = bigger;
	rc = auth_parse(p, users, text, len, st->lines[0]);
	explicit_bzero(text, len);
	free(text);
	if (rc == 0)
		rc = auth_check_duplicates(p, users, st->lines[0]);
	return rc;
}

/*
 * A block's or location's settings are whole: an auth_basic that is on
 * needs a user file, or no one could ever get in.  (nginx then lets
 * everyone in, without a word; a config error is the safer surprise.)
 */
int
conf_auth_check(struct parser *p, const struct conf_server *s)
{
	if (s->auth_challenge == NULL || s->auth_users != NULL)
		return 0;
	return conf_perr(p, s->auth_basic_line, "\"auth_basic\" is on but no "
	    "\"auth_basic_user_file\" applies here");
}

/* The user of that name, or NULL. */
const struct conf_htpasswd_user *
conf_htpasswd_find(const struct conf_htpasswd *users, const char *name)
{
	struct conf_htpasswd_user key;

	key.name = (char *)name;
	return bsearch(&key, users->users, users->nusers,
	    sizeof(*users->users), auth_user_cmp);
}
