/*
 * request.c: an HTTP request, from its parsed head to its handler
 * and on to the next: the decoded path, the route, the body that comes
 * first, CONNECT and OPTIONS *, and what is counted and logged when the
 * response is queued.  The connection (h1.c) calls it once a head is
 * whole, and again as a body arrives.
 */
#include "config.h"

#include <string.h>

#include <event2/buffer.h>

#include "common/log.h"
#include "common/stats.h"
#include "conf/vhosts.h"
#include "worker/http/http.h"
#include "worker/net/tls.h"

struct http_request http_req;
char http_path[HTTP_PATH_MAX + 1];
size_t http_path_len;

int
http_reparse(struct http_conn *c)
{
	return http_parse_request(c->in + c->head_start, c->head_len,
	    &http_req);
}

/*
 * Decodes and normalises the request path into http_path once, so routes
 * and static files see the same path: "/a/../hello/x" is /hello/x for
 * both.  Answers 400 or 414 and returns -1 when it cannot be done.
 */
static int
http_prepare_path(struct http_conn *c)
{
	ssize_t n;

	http_path_len = 0;
	if (http_req.path == NULL)
		return 0;
	if (http_req.path_len > HTTP_PATH_MAX) {
		http_respond_error(c, 414);
		return -1;
	}
	n = http_path_normalize(http_req.path, http_req.path_len, http_path);
	if (n < 0) {
		http_respond_error(c, 400);
		return -1;
	}
	http_path_len = (size_t)n;
	return 0;
}

/* Finds the longest route prefix matching the path. */
static void
http_find_route(struct http_conn *c)
{
	const struct conf_server *s = c->server;
	size_t i, best = 0;

	c->route_matched = 0;
	if (http_req.path == NULL)
		return;
	for (i = 0; i < s->nroutes; i++) {
		const struct conf_route *r = &s->routes[i];

		if (r->prefix_len > http_path_len ||
		    r->prefix_len <= best ||
		    memcmp(r->prefix, http_path, r->prefix_len) != 0)
			continue;
		best = r->prefix_len;
		c->route = r->handler;
		c->route_matched = 1;
	}
}

static void
http_dispatch(struct http_conn *c)
{
	/*
	 * forkloop is no proxy: CONNECT is supported for no resource, which
	 * is what 501 says (RFC 9110, 15.6.2); a 405 would need an Allow for
	 * a target that is not ours.
	 */
	if (http_req.method == HTTP_METHOD_CONNECT) {
		c->close_after = 1;
		http_respond_error(c, 501);
		return;
	}
	if (http_req.path == NULL) {
		/* OPTIONS * asks about the server itself (RFC 9110 9.3.7). */
		http_response_start(c, 200, NULL, 0);
		http_response_header(c, "Allow", "GET, HEAD, POST, OPTIONS");
		http_response_end_head(c);
		http_request_done(c);
		return;
	}
	if (c->server->return_code != 0)
		http_return_serve(c);
	else if (c->route_matched)
		http_route_serve(c);
	else
		http_static_serve(c);
}

void
http_body_progress(struct http_conn *c)
{
	int status = http_body_take(c);

	if (status != 0) {
		c->close_after = 1;
		c->state = HTTP_READ_HEAD;
		http_reparse(c);
		http_respond_error(c, status);
		return;
	}
	if (c->state != HTTP_WAIT_HANDLER)
		return;
	if (http_reparse(c) == -1) {
		c->close_after = 1;
		http_respond_error(c, 400);
		return;
	}
	c->state = HTTP_READ_HEAD;
	if (http_prepare_path(c) == -1)
		return;
	http_dispatch(c);
}

/*
 * Several blocks on the connection's address: the request's Host, or
 * the authority of an absolute-form target, chooses (RFC 9110 7.2); a
 * name no block has stays with the connection's block, the address's
 * default or the one SNI chose.  Over TLS, a Host that names another
 * block than the SNI did gets 421 (RFC 9110 15.5.20): that block's
 * certificate was not the one presented.
 */
static int
http_choose_server(struct http_conn *c)
{
	const struct conf_vhosts *v = c->listen->vhosts;
	struct conf_server *s;

	if (v == NULL || v->nservers < 2 || http_req.host == NULL)
		return 0;
	s = conf_vhosts_find(v, http_req.host, http_req.host_len);
	if (s == NULL || s == c->server)
		return 0;
	if (c->net.ssl != NULL && net_tls_sni_matched(&c->net)) {
		http_respond_error(c, 421);
		return -1;
	}
	c->server = s;
	return 0;
}

/* The head is parsed into http_req; decide what to do with it. */
void
http_handle_head(struct http_conn *c)
{
	int has_body = http_req.chunked || http_req.content_length > 0;

	c->status = 0;
	c->sent_body = 0;
	if (http_choose_server(c) == -1)
		return;
	if (!http_req.keep_alive)
		c->close_after = c->client_closes = 1;
	/* keepalive_timeout 0 turns keep-alive off: say so in the head. */
	if (c->draining || c->server->keepalive_timeout_ms == 0)
		c->close_after = 1;
	if (http_prepare_path(c) == -1)
		return;
	http_find_route(c);
	if (!has_body) {
		http_dispatch(c);
		return;
	}
	if (http_req.content_length > (int64_t)c->server->max_body_size) {
		c->close_after = 1;
		http_respond_error(c, 413);
		return;
	}
	if (http_body_start(c) == -1) {
		c->close_after = 1;
		http_respond_error(c, 500);
		return;
	}
	c->state = HTTP_READ_BODY;
	/* Section 10.1.1 of RFC 9110: ask for the body only when it waits. */
	if (http_req.expect_continue && http_req.version == 11 &&
	    c->head_start + c->head_len == c->in_len)
		http_out_add(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	http_body_progress(c);
}

/* The current request's response is queued: move on to the next. */
void
http_request_done(struct http_conn *c)
{
	/* A response the socket may not take at once (one in c->out: a
	 * file, a body) is logged and counted once it has gone. */
	if (c->out == NULL || evbuffer_get_length(c->out) == 0 ||
	    !access_log_defer(c)) {
		access_log_request(c);
		worker_stats->bytes_sent += (int64_t)c->sent_body;
	}
	if (c->status >= 100 && c->status < 600)
		worker_stats->requests[c->status / 100]++;
	c->head_start += c->head_len;
	c->head_len = 0;
	c->head_scanned = 0;
	c->state = HTTP_READ_HEAD;
	http_body_free(c);
	/* The next request starts in the connection's own block. */
	c->server = c->home;
	if (c->close_after) {
		/* Nothing more is read; drop what was pipelined. */
		c->head_start = c->in_len = 0;
	}
}
