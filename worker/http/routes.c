/*
 * routes.c: the built-in routes named by "route PREFIX HANDLER".
 *
 *   hello  GET /hello/NAME: an HTML greeting, NAME decoded and escaped.
 *   delay  GET /delay/MS: answers after MS milliseconds from a libevent
 *          timer, so the worker goes on serving everyone else meanwhile.
 *   echo   POST /echo: answers with the request body.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/log.h"
#include "worker/http/http.h"
#include "worker/http/conditional.h"

/* The longest delay asked of /delay/MS, so a client cannot park forever. */
#define HTTP_DELAY_MAX_MS 60000
/* The longest name /hello/NAME greets. */
#define HTTP_HELLO_NAME_MAX 1024

static const char *
http_route_rest(const struct http_conn *c, size_t *len)
{
	const struct conf_route *r = NULL;
	size_t i;

	for (i = 0; i < c->server->nroutes; i++)
		if (c->server->routes[i].handler == c->route &&
		    c->server->routes[i].prefix_len <= http_path_len &&
		    memcmp(c->server->routes[i].prefix, http_path,
		    c->server->routes[i].prefix_len) == 0 &&
		    (r == NULL || c->server->routes[i].prefix_len >
		    r->prefix_len))
			r = &c->server->routes[i];
	*len = http_path_len - r->prefix_len;
	return http_path + r->prefix_len;
}

static int
http_route_get_only(struct http_conn *c)
{
	if (http_req.method == HTTP_METHOD_GET ||
	    http_req.method == HTTP_METHOD_HEAD)
		return 0;
	if (http_req.method == HTTP_METHOD_UNKNOWN)
		http_respond_error(c, 501);
	else
		http_respond_error_with(c, 405, "Allow", "GET, HEAD");
	return -1;
}

/*
 * If-Match and If-None-Match hold for routes too; they are evaluated
 * after the checks that could fail the request (RFC 9110, 13.2.1).
 */
static int
http_route_preconditions(struct http_conn *c)
{
	switch (http_conditional_no_validator(&http_req)) {
	case HTTP_COND_FAILED:
		http_respond_error(c, 412);
		return -1;
	case HTTP_COND_NOT_MODIFIED:
		http_response_start(c, 304, NULL, -1);
		http_response_end_head(c);
		http_request_done(c);
		return -1;
	default:
		return 0;
	}
}

static size_t
http_html_escape(const char *in, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		const char *rep = NULL;

		switch (in[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default:
			/* Control bytes have no place in text: U+FFFD. */
			if ((unsigned char)in[i] < 0x20 || in[i] == 0x7f)
				rep = "\xef\xbf\xbd";
			break;
		}
		if (rep == NULL) {
			out[o++] = in[i];
			continue;
		}
		memcpy(out + o, rep, strlen(rep));
		o += strlen(rep);
	}
	return o;
}

static void
http_route_hello(struct http_conn *c)
{
	char body[HTTP_HELLO_NAME_MAX * 6 + 32];
	const char *name;
	size_t len, n;

	if (http_route_get_only(c) == -1)
		return;
	/* The path is decoded already (http_prepare_path). */
	name = http_route_rest(c, &len);
	if (len == 0) {
		http_respond_error(c, 404);
		return;
	}
	if (len > HTTP_HELLO_NAME_MAX) {
		http_respond_error(c, 414);
		return;
	}
	if (http_route_preconditions(c) == -1)
		return;
	memcpy(body, "<h1>hello, ", 11);
	n = 11 + http_html_escape(name, len, body + 11);
	memcpy(body + n, "!</h1>", 6);
	n += 6;
	http_respond_simple(c, 200, "text/html; charset=utf-8", body, n);
}

static void
http_route_on_delay(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;
	char body[64];
	int n;

	(void)fd;
	(void)what;
	event_free(c->delay_timer);
	c->delay_timer = NULL;
	if (http_reparse(c) == -1) {
		http_conn_close(c);
		return;
	}
	c->state = HTTP_READ_HEAD;
	n = snprintf(body, sizeof(body), "delayed %lld ms\n",
	    (long long)c->delay_ms);
	http_respond_simple(c, 200, "text/plain; charset=utf-8", body,
	    (size_t)n);
	http_conn_resume(c);
}

static void
http_route_delay(struct http_conn *c)
{
	const char *rest;
	size_t len, i;
	int64_t ms = 0;
	struct timeval tv;

	if (http_route_get_only(c) == -1)
		return;
	rest = http_route_rest(c, &len);
	if (len == 0 || len > 6) {
		http_respond_error(c, len == 0 ? 404 : 400);
		return;
	}
	for (i = 0; i < len; i++) {
		if (rest[i] < '0' || rest[i] > '9') {
			http_respond_error(c, 400);
			return;
		}
		ms = ms * 10 + (rest[i] - '0');
	}
	if (ms > HTTP_DELAY_MAX_MS) {
		http_respond_error(c, 400);
		return;
	}
	if (http_route_preconditions(c) == -1)
		return;
	c->delay_timer = evtimer_new(worker_self->base, http_route_on_delay, c);
	if (c->delay_timer == NULL) {
		http_respond_error(c, 503);
		return;
	}
	c->delay_ms = ms;
	c->state = HTTP_WAIT_HANDLER;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(c->delay_timer, &tv);
}

static const char *
http_request_content_type(void)
{
	static char type[256];
	size_t i;

	for (i = 0; i < http_req.nheaders; i++) {
		const struct http_header *h = &http_req.headers[i];

		/* An empty value is no media type: the default instead. */
		if (http_token_equal(h->name, h->name_len, "content-type") &&
		    h->value_len > 0 && h->value_len < sizeof(type)) {
			memcpy(type, h->value, h->value_len);
			type[h->value_len] = '\0';
			return type;
		}
	}
	return "application/octet-stream";
}

static void
http_route_echo(struct http_conn *c)
{
	struct evbuffer *kept = c->body != NULL ? c->body->kept : NULL;
	size_t len = kept != NULL ? evbuffer_get_length(kept) : 0;

	if (http_req.method != HTTP_METHOD_POST) {
		if (http_req.method == HTTP_METHOD_UNKNOWN)
			http_respond_error(c, 501);
		else
			http_respond_error_with(c, 405, "Allow", "POST");
		return;
	}
	if (http_route_preconditions(c) == -1)
		return;
	http_response_start(c, 200, http_request_content_type(),
	    (int64_t)len);
	http_response_end_head(c);
	if (len > 0) {
		struct evbuffer *out = http_out_evbuffer(c);

		if (out == NULL || evbuffer_add_buffer(out, kept) == -1)
			c->close_after = 1;
		c->sent_body += len;
	}
	http_request_done(c);
}

int
http_route_wants_body(struct http_conn *c)
{
	return c->route_matched && c->route == CONF_ROUTE_ECHO &&
	    http_req.method == HTTP_METHOD_POST;
}

void
http_route_serve(struct http_conn *c)
{
	switch (c->route) {
	case CONF_ROUTE_HELLO:
		http_route_hello(c);
		break;
	case CONF_ROUTE_DELAY:
		http_route_delay(c);
		break;
	case CONF_ROUTE_ECHO:
		http_route_echo(c);
		break;
	case CONF_ROUTE_STATUS:
		if (http_route_get_only(c) == 0 &&
		    http_route_preconditions(c) == 0)
			http_status_serve(c);
		break;
	default:
		http_respond_error(c, 404);
		break;
	}
}

/* The connection closes while a delayed answer is pending. */
void
http_route_cancel(struct http_conn *c)
{
	if (c->delay_timer != NULL) {
		event_free(c->delay_timer);
		c->delay_timer = NULL;
	}
}
