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
#include "worker/http/handlers.h"
#include "worker/http/response.h"
#include "worker/http/vars.h"

/* Longer expansions are cut: a Location this long helps no one. */
#define HTTP_RETURN_MAX (16 * 1024)

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
	if (s->return_text != NULL && conf_return_is_redirect(s->return_code))
		len = http_vars_expand_field(r, s->return_text, text,
		    sizeof(text));
	else if (s->return_text != NULL)
		len = http_vars_expand(r, s->return_text, text, sizeof(text));
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
