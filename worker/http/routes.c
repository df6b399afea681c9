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
#include "worker/http/handlers.h"
#include "worker/http/response.h"
#include "worker/http/conditional.h"
#include "worker/conns.h"

/* The longest delay asked of /delay/MS, so a client cannot park forever. */
#define HTTP_DELAY_MAX_MS 60000
/* The longest name /hello/NAME greets. */
#define HTTP_HELLO_NAME_MAX 1024

/* What follows the longest prefix of the request's route. */
static const char *
http_route_rest(const struct http_req *r, size_t *len)
{
	const struct conf_server *s = r->server;
	const struct conf_route *best = NULL;
	size_t i;

	for (i = 0; i < s->nroutes; i++)
		if (s->routes[i].handler == r->route &&
		    s->routes[i].prefix_len <= r->path_len &&
		    memcmp(s->routes[i].prefix, r->path,
		    s->routes[i].prefix_len) == 0 &&
		    (best == NULL || s->routes[i].prefix_len >
		    best->prefix_len))
			best = &s->routes[i];
	*len = r->path_len - best->prefix_len;
	return r->path + best->prefix_len;
}

static int
http_route_get_only(struct http_req *r)
{
	if (r->head.method == HTTP_METHOD_GET ||
	    r->head.method == HTTP_METHOD_HEAD)
		return 0;
	if (r->head.method == HTTP_METHOD_UNKNOWN)
		http_respond_error(r, 501);
	else
		http_respond_error_with(r, 405, "Allow", "GET, HEAD");
	return -1;
}

/*
 * If-Match and If-None-Match hold for routes too; they are evaluated
 * after the checks that could fail the request (RFC 9110, 13.2.1).
 */
static int
http_route_preconditions(struct http_req *r)
{
	switch (http_conditional_no_validator(&r->head)) {
	case HTTP_COND_FAILED:
		http_respond_error(r, 412);
		return -1;
	case HTTP_COND_NOT_MODIFIED:
		http_response_start(r, 304, NULL, -1);
		http_response_end_head(r);
		http_request_done(r);
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
http_route_hello(struct http_req *r)
{
	char body[HTTP_HELLO_NAME_MAX * 6 + 32];
	const char *name;
	size_t len, n;

	if (http_route_get_only(r) == -1)
		return;
	/* The path is decoded already (http_prepare_path). */
	name = http_route_rest(r, &len);
	if (len == 0) {
		http_respond_error(r, 404);
		return;
	}
	if (len > HTTP_HELLO_NAME_MAX) {
		http_respond_error(r, 414);
		return;
	}
	if (http_route_preconditions(r) == -1)
		return;
	memcpy(body, "<h1>hello, ", 11);
	n = 11 + http_html_escape(name, len, body + 11);
	memcpy(body + n, "!</h1>", 6);
	n += 6;
	http_respond_simple(r, 200, "text/html; charset=utf-8", body, n);
}

static void
http_route_on_delay(evutil_socket_t fd, short what, void *arg)
{
	struct http_req *r = arg;
	char body[64];
	int n;

	(void)fd;
	(void)what;
	n = snprintf(body, sizeof(body), "delayed %lld ms\n",
	    (long long)r->delay_ms);
	http_respond_simple(r, 200, "text/plain; charset=utf-8", body,
	    (size_t)n);
}

static void
http_route_delay(struct http_req *r)
{
	const char *rest;
	size_t len, i;
	int64_t ms = 0;
	struct timeval tv;

	if (http_route_get_only(r) == -1)
		return;
	rest = http_route_rest(r, &len);
	if (len == 0 || len > 6) {
		http_respond_error(r, len == 0 ? 404 : 400);
		return;
	}
	for (i = 0; i < len; i++) {
		if (rest[i] < '0' || rest[i] > '9') {
			http_respond_error(r, 400);
			return;
		}
		ms = ms * 10 + (rest[i] - '0');
	}
	if (ms > HTTP_DELAY_MAX_MS) {
		http_respond_error(r, 400);
		return;
	}
	if (http_route_preconditions(r) == -1)
		return;
	r->timer = evtimer_new(worker_self->base, http_route_on_delay, r);
	if (r->timer == NULL) {
		http_respond_error(r, 503);
		return;
	}
	r->delay_ms = ms;
	http_request_wait(r);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(r->timer, &tv);
}

static const char *
http_request_content_type(const struct http_req *r)
{
	static char type[256];
	size_t i;

	for (i = 0; i < r->head.nheaders; i++) {
		const struct http_header *h = &r->head.headers[i];

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
http_route_echo(struct http_req *r)
{
	struct evbuffer *kept = r->body;
	size_t len = kept != NULL ? evbuffer_get_length(kept) : 0;

	if (r->head.method != HTTP_METHOD_POST) {
		if (r->head.method == HTTP_METHOD_UNKNOWN)
			http_respond_error(r, 501);
		else
			http_respond_error_with(r, 405, "Allow", "POST");
		return;
	}
	if (http_route_preconditions(r) == -1)
		return;
	http_response_start(r, 200, http_request_content_type(r),
	    (int64_t)len);
	http_response_end_head(r);
	if (len > 0)
		http_response_buffer(r, kept);
	http_request_done(r);
}

void
http_route_serve(struct http_req *r)
{
	switch (r->route) {
	case CONF_ROUTE_HELLO:
		http_route_hello(r);
		break;
	case CONF_ROUTE_DELAY:
		http_route_delay(r);
		break;
	case CONF_ROUTE_ECHO:
		http_route_echo(r);
		break;
	case CONF_ROUTE_STATUS:
		if (http_route_get_only(r) == 0 &&
		    http_route_preconditions(r) == 0)
			http_status_serve(r);
		break;
	default:
		http_respond_error(r, 404);
		break;
	}
}
