/*
 * return.c: the "return" directive: every request of the block gets
 * the same answer, a redirect (its Location built from variables, so
 * "return 301 https://$host$request_uri;" sends plain HTTP to HTTPS), a
 * text, an error page, or for 444 no answer at all, as in nginx.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "conf/vhosts.h"
#include "worker/http/handlers.h"
#include "worker/http/response.h"

/* Longer expansions are cut: a Location this long helps no one. */
#define HTTP_RETURN_MAX (16 * 1024)

/* Appends what var stands for in this request to out[*o..max). */
static void
http_return_var(struct http_req *r, const struct conf_text_part *p,
    char *out, size_t *o, size_t max)
{
	const char *v = "";
	size_t len = 0, i;
	int lower = 0;

	switch (p->var) {
	case CONF_VAR_LITERAL:
		v = p->literal;
		len = p->len;
		break;
	case CONF_VAR_SCHEME:
		v = http_req_is_tls(r) ? "https" : "http";
		len = strlen(v);
		break;
	case CONF_VAR_HOST:
		/* nginx's $host: the request's host without its port, in
		 * lower case, else the block's name. */
		if (r->head.host != NULL) {
			v = r->head.host;
			len = conf_host_len(v, r->head.host_len);
			lower = 1;
		} else if (r->server->nserver_names > 0) {
			v = r->server->server_names[0];
			len = strlen(v);
		}
		break;
	case CONF_VAR_REQUEST_URI:
		if (r->head.path != NULL) {
			v = r->head.path;
			len = r->head.path_len;
			if (r->head.query != NULL)
				len = (size_t)(r->head.query +
				    r->head.query_len - v);
		}
		break;
	case CONF_VAR_URI:
		v = r->path;
		len = r->path_len;
		break;
	case CONF_VAR_ARGS:
		if (r->head.query != NULL) {
			v = r->head.query;
			len = r->head.query_len;
		}
		break;
	case CONF_VAR_SERVER_NAME:
		if (r->server->nserver_names > 0) {
			v = r->server->server_names[0];
			len = strlen(v);
		}
		break;
	}
	if (len > max - *o)
		len = max - *o;
	for (i = 0; i < len; i++)
		out[*o + i] = lower && v[i] >= 'A' && v[i] <= 'Z' ?
		    (char)(v[i] - 'A' + 'a') : v[i];
	*o += len;
}

static size_t
http_return_expand(struct http_req *r, const struct conf_text *t, char *out,
    size_t max)
{
	size_t i, o = 0;

	for (i = 0; i < t->nparts; i++)
		http_return_var(r, &t->parts[i], out, &o, max - 1);
	out[o] = '\0';
	return o;
}

void
http_return_serve(struct http_req *r)
{
	static char text[HTTP_RETURN_MAX];
	const struct conf_server *s = r->server;
	size_t len = 0;

	if (s->return_code == 444) {
		/* nginx's "close without an answer", for unwanted clients. */
		r->status = 444;
		r->close = 1;
		http_request_done(r);
		return;
	}
	if (s->return_code == 204 || s->return_code == 304) {
		/* No body, and no Content-Length for 204 (RFC 9110 8.6). */
		http_response_start(r, s->return_code, NULL, -1);
		http_response_end_head(r);
		http_request_done(r);
		return;
	}
	if (s->return_text != NULL)
		len = http_return_expand(r, s->return_text, text, sizeof(text));
	if (conf_return_is_redirect(s->return_code)) {
		http_respond_error_with(r, s->return_code, "Location", text);
		return;
	}
	if (s->return_text != NULL) {
		http_respond_simple(r, s->return_code, s->default_type, text,
		    len);
		return;
	}
	if (s->return_code >= 400) {
		http_respond_error(r, s->return_code);
		return;
	}
	http_respond_simple(r, s->return_code, NULL, "", 0);
}
