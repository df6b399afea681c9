/*
 * response.c: the directives that shape an http block's answers:
 * add_header, error_page, expires and return.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf/parser.h"
#include "conf/value.h"

/* A header the client must read as the operator wrote it: the name a
 * token, the value without control bytes (RFC 9110 5.1, 5.5). */
int
conf_set_add_header(struct parser *p, struct stmt *st, void *field)
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
	h = conf_grow(p, st->lines[0], srv->add_headers, srv->nadd_headers,
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
int
conf_set_error_page(struct parser *p, struct stmt *st, void *field)
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
		e = conf_grow(p, st->lines[i], srv->error_pages, srv->nerror_pages,
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
int
conf_set_expires(struct parser *p, struct stmt *st, void *field)
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
int
conf_set_return(struct parser *p, struct stmt *st, void *field)
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
