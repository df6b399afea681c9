/*
 * real_ip.c: nginx's realip directives, which say whose word to take
 * for the client's address when forkloop stands behind a proxy:
 *
 *   set_real_ip_from ADDRESS[/PREFIX] | all;	the trusted proxies
 *   real_ip_header X-Real-IP | X-Forwarded-For | proxy_protocol | NAME;
 *   real_ip_recursive on | off;
 *
 * at the top level (every http block that sets none of its own) or in
 * an http block.  The worker applies them (worker/http/real_ip.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/parser.h"
#include "conf/value.h"

/* Which of a block's fields are the top level's (real_ip_shared). */
#define REAL_IP_SHARED_FROM	0x1
#define REAL_IP_SHARED_HEADER	0x2

/* The fields of the top level or of a block, as one. */
struct real_ip_fields {
	struct conf_access **from;
	size_t *nfrom;
	char **header;
	int *recursive;
};

static void
real_ip_fields(struct parser *p, struct real_ip_fields *f)
{
	if (p->ctx == CTX_MAIN) {
		f->from = &p->conf->real_ip_from;
		f->nfrom = &p->conf->nreal_ip_from;
		f->header = &p->conf->real_ip_header;
		f->recursive = &p->conf->real_ip_recursive;
	} else {
		f->from = &p->server->real_ip_from;
		f->nfrom = &p->server->nreal_ip_from;
		f->header = &p->server->real_ip_header;
		f->recursive = &p->server->real_ip_recursive;
	}
}

/* set_real_ip_from ADDRESS[/PREFIX] | all */
int
conf_set_real_ip_from(struct parser *p, struct stmt *st, void *field)
{
	struct real_ip_fields f;
	struct conf_access rule, *rules;

	(void)field;
	real_ip_fields(p, &f);
	memset(&rule, 0, sizeof(rule));
	if (strncmp(st->argv[1], "unix:", 5) == 0)
		return conf_perr(p, st->lines[1], "\"set_real_ip_from unix:\" "
		    "is not supported: forkloop listens on TCP only");
	if (conf_cidr_parse(st->argv[1], &rule) == -1)
		return conf_perr(p, st->lines[1], "invalid address \"%s\" for "
		    "\"set_real_ip_from\" (ADDRESS, ADDRESS/PREFIX or all)",
		    st->argv[1]);
	rule.allow = 1;
	rules = realloc(*f.from, (*f.nfrom + 1) * sizeof(*rules));
	if (rules == NULL)
		return conf_perr(p, st->lines[0], "out of memory");
	*f.from = rules;
	rules[(*f.nfrom)++] = rule;
	return 0;
}

/* real_ip_header NAME: a field name (a token), kept in lower case. */
int
conf_set_real_ip_header(struct parser *p, struct stmt *st, void *field)
{
	struct real_ip_fields f;
	char *name;
	size_t i;

	(void)field;
	real_ip_fields(p, &f);
	if (st->argv[1][0] == '\0')
		return conf_perr(p, st->lines[1], "empty \"real_ip_header\"");
	for (i = 0; st->argv[1][i] != '\0'; i++) {
		unsigned char c = (unsigned char)st->argv[1][i];

		if (c <= ' ' || c >= 127 || strchr("\"(),/:;<=>?@[\\]{}",
		    c) != NULL)
			return conf_perr(p, st->lines[1], "invalid header name "
			    "\"%s\" for \"real_ip_header\"", st->argv[1]);
	}
	if ((name = conf_pstrdup(p, st->lines[1], st->argv[1])) == NULL)
		return -1;
	for (i = 0; name[i] != '\0'; i++)
		if (name[i] >= 'A' && name[i] <= 'Z')
			name[i] = (char)(name[i] - 'A' + 'a');
	*f.header = name;
	return 0;
}

int
conf_set_real_ip_recursive(struct parser *p, struct stmt *st, void *field)
{
	struct real_ip_fields f;

	(void)field;
	real_ip_fields(p, &f);
	if (value_switch(st->argv[0], st->argv[1], "on", f.recursive, p->msg,
	    sizeof(p->msg)) == -1)
		return conf_perr(p, st->lines[1], "%s", p->msg);
	return 0;
}

static void
real_ip_copy(struct conf_server *to, const struct conf_server *from)
{
	to->real_ip_from = from->real_ip_from;
	to->nreal_ip_from = from->nreal_ip_from;
	to->real_ip_header = from->real_ip_header;
	to->real_ip_recursive = from->real_ip_recursive;
	to->real_ip_shared = from->real_ip_shared;
}

/*
 * The file is read: a block without its own settings takes the top
 * level's, each directive apart, as nginx inherits them; its locations
 * (copies made when the block ended) take the block's.  nginx's default:
 * X-Real-IP, not recursive.
 */
void
conf_real_ip_resolve(struct conf *conf)
{
	size_t i, j;

	if (conf->real_ip_recursive == -1)
		conf->real_ip_recursive = 0;
	for (i = 0; i < conf->nservers; i++) {
		struct conf_server *s = &conf->servers[i];

		if (s->kind != CONF_SERVER_HTTP)
			continue;
		if (s->nreal_ip_from == 0 && conf->nreal_ip_from > 0) {
			s->real_ip_from = conf->real_ip_from;
			s->nreal_ip_from = conf->nreal_ip_from;
			s->real_ip_shared |= REAL_IP_SHARED_FROM;
		}
		if (s->real_ip_header == NULL && conf->real_ip_header != NULL) {
			s->real_ip_header = conf->real_ip_header;
			s->real_ip_shared |= REAL_IP_SHARED_HEADER;
		}
		if (s->real_ip_recursive == -1)
			s->real_ip_recursive = conf->real_ip_recursive;
		for (j = 0; j < s->nlocations; j++)
			real_ip_copy(s->locations[j].conf, s);
	}
}

/* A block's own settings (not the top level's). */
void
conf_real_ip_free(struct conf_server *s)
{
	if (!(s->real_ip_shared & REAL_IP_SHARED_FROM))
		free(s->real_ip_from);
	if (!(s->real_ip_shared & REAL_IP_SHARED_HEADER))
		free(s->real_ip_header);
}
