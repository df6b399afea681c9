/*
 * request.c: a request from its parsed head to its handler, whatever the
 * protocol: the block that answers it (Host, SNI), its decoded path, its
 * location (exact, prefix or regex), its access checks (allow/deny,
 * auth_basic), its route, and the handler.  Request objects are kept on
 * a short free list, so a busy connection does not allocate one per
 * request.
 */
#include "config.h"

#include <sys/time.h>

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/log.h"
#include "conf/regex.h"
#include "conf/vhosts.h"
#include "worker/conns.h"
#include "worker/http/auth.h"
#include "worker/http/date.h"
#include "worker/http/handlers.h"
#include "worker/http/limit.h"
#include "worker/http/real_ip.h"
#include "worker/http/request.h"
#include "worker/net/conn.h"
#include "worker/net/tls.h"

#define HTTP_REQ_SPARE_MAX 32
/* A proxied request body up to this is read whole before it is sent. */
#define HTTP_PROXY_KEEP_MAX (64 * 1024)

static struct http_req *http_req_spare[HTTP_REQ_SPARE_MAX];
static size_t http_req_nspare;

struct http_req *
http_req_new(const struct http_proto *proto, void *owner,
    struct conf_server *server, const struct net_conn *net,
    const struct sockaddr *peer)
{
	struct http_req *r;

	if (http_req_nspare > 0)
		r = http_req_spare[--http_req_nspare];
	else if ((r = malloc(sizeof(*r))) == NULL)
		return NULL;
	/* The parsed head is the protocol's to fill: only reset it. */
	http_request_reset(&r->head);
	memset((char *)r + sizeof(r->head), 0,
	    offsetof(struct http_req, path_inline) - sizeof(r->head));
	r->proto = proto;
	r->owner = owner;
	r->server = server;
	r->net = net;
	r->peer = peer;
	r->tls = net != NULL && net->ssl != NULL;
	r->path = r->path_inline;
	r->path[0] = '\0';
	r->started = http_clock();
	return r;
}

void
http_req_free(struct http_req *r)
{
	if (r == NULL)
		return;
	/* The handler still held it: the client went first. */
	if (r->cleanup != NULL)
		r->cleanup(r);
	if (r->limit_conn_held > 0)
		http_limit_release(r);
	if (r->timer != NULL)
		event_free(r->timer);
	if (r->body != NULL)
		evbuffer_free(r->body);
	if (r->path != r->path_inline)
		free(r->path);
	if (http_req_nspare < HTTP_REQ_SPARE_MAX)
		http_req_spare[http_req_nspare++] = r;
	else
		free(r);
}

/*
 * Decodes and normalises the request path once, so routes and static
 * files see the same path: "/a/../hello/x" is /hello/x for both.
 * Answers 400 or 414 and returns -1 when it cannot be done.
 */
static int
http_req_prepare_path(struct http_req *r)
{
	ssize_t n;

	r->path_len = 0;
	if (r->head.path == NULL)
		return 0;
	if (r->head.path_len > HTTP_PATH_MAX) {
		http_respond_error(r, 414);
		return -1;
	}
	if (r->head.path_len >= HTTP_PATH_INLINE &&
	    (r->path = malloc(r->head.path_len + 1)) == NULL) {
		r->path = r->path_inline;
		http_respond_error(r, 503);
		return -1;
	}
	n = http_path_normalize(r->head.path, r->head.path_len, r->path);
	if (n < 0) {
		http_respond_error(r, 400);
		return -1;
	}
	r->path_len = (size_t)n;
	r->has_path = 1;
	return 0;
}

/* Finds the longest route prefix matching the path. */
static void
http_req_find_route(struct http_req *r)
{
	const struct conf_server *s = r->server;
	size_t i, best = 0;

	r->route_matched = 0;
	if (!r->has_path)
		return;
	for (i = 0; i < s->nroutes; i++) {
		const struct conf_route *route = &s->routes[i];

		if (route->prefix_len > r->path_len ||
		    route->prefix_len <= best ||
		    memcmp(route->prefix, r->path, route->prefix_len) != 0)
			continue;
		best = route->prefix_len;
		r->route = route->handler;
		r->route_matched = 1;
	}
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
http_req_choose_server(struct http_req *r, const struct conf_vhosts *v)
{
	struct conf_server *s;

	if (v == NULL || v->nservers < 2 || r->head.host == NULL)
		return 0;
	s = conf_vhosts_find_name(v, r->head.host, r->head.host_name_len);
	if (s == NULL || s == r->server)
		return 0;
	if (http_req_is_tls(r) && net_tls_sni_matched(r->net)) {
		http_respond_error(r, 421);
		return -1;
	}
	r->server = s;
	return 0;
}

/*
 * A regex gave up: 500, and a line in the error log, at most one a
 * second per worker (the rest counted in it), so a client sending such
 * paths cannot fill the log.
 */
static void
http_req_regex_failed(struct http_req *r, const struct conf_location *l,
    const char *err)
{
	static time_t last;
	static unsigned quiet;
	time_t now = http_time_now();

	if (now != last) {
		log_errorx("location ~ \"%s\" on a path of %zu bytes: %s"
		    " (%u more such since the last line)",
		    conf_regex_source(l->regex), r->path_len, err, quiet);
		last = now;
		quiet = 0;
	} else {
		quiet++;
	}
	http_respond_error(r, 500);
}

/*
 * The regex locations of the block, in the order written: the first
 * that matches the path is the request's, its groups kept for $1 and
 * the named ones.  0 when one matched (*loc set) or none did, -1 when
 * PCRE2 gave up (its match limit: a pattern that backtracks without
 * end): r is then answered 500 and the line logged, as a server fault.
 */
static int
http_req_regex_location(struct http_req *r, const struct conf_location **loc)
{
	const struct conf_server *s = r->server;
	char err[128];
	unsigned groups;
	size_t i;
	int rc;

	for (i = 0; i < s->nlocations; i++) {
		const struct conf_location *l = &s->locations[i];

		if (l->regex == NULL)
			continue;
		groups = conf_regex_groups(l->regex) + 1;
		if (groups > CONF_REGEX_GROUPS)
			groups = CONF_REGEX_GROUPS;
		rc = conf_regex_match(l->regex, r->path, r->path_len, r->caps,
		    groups, err, sizeof(err));
		if (rc == 1) {
			r->ncaps = groups;
			*loc = l;
			return 0;
		}
		if (rc == -1) {
			http_req_regex_failed(r, l, err);
			return -1;
		}
	}
	return 0;
}

/*
 * The location, as nginx chooses it: an exact one; else the longest
 * prefix, unless it has no "^~" and a regex location matches.  A block
 * without regex locations never reaches PCRE2.
 */
static int
http_req_find_location(struct http_req *r)
{
	const struct conf_location *loc;

	loc = conf_location_find(r->server, r->path, r->path_len);
	if (r->server->nregex_locations > 0 &&
	    (loc == NULL || (!loc->exact && !loc->no_regex)) &&
	    http_req_regex_location(r, &loc) == -1)
		return -1;
	if (loc != NULL)
		r->server = loc->conf;
	return 0;
}

/*
 * The head is parsed: choose the block, decode the path, choose the
 * block's location (whose settings then answer the request), find the
 * route.  Returns 0, or -1 when r is answered already (400, 414, 421).
 */
int
http_req_begin(struct http_req *r, const struct conf_vhosts *vhosts)
{
	if (http_req_choose_server(r, vhosts) == -1)
		return -1;
	/* The address behind trusted proxies, for all that follows. */
	http_real_ip(r);
	if (http_req_prepare_path(r) == -1)
		return -1;
	if (r->has_path && r->server->nlocations > 0 &&
	    http_req_find_location(r) == -1)
		return -1;
	if (http_limit_check(r) == -1)
		return -1;
	/* allow and deny: the client's address, the PROXY one if sent. */
	if (r->server->naccess > 0 && !conf_access_allows(r->server,
	    r->peer)) {
		http_respond_error(r, 403);
		return -1;
	}
	if (r->server->auth_challenge != NULL && http_auth_check(r) == -1)
		return -1;
	http_req_find_route(r);
	return 0;
}

/* Whether the handler is the reverse proxy. */
static int
http_req_proxied(const struct http_req *r)
{
	return r->has_path && r->server->return_code == 0 &&
	    !r->route_matched && r->server->proxy_upstream != NULL &&
	    r->head.method != HTTP_METHOD_CONNECT &&
	    http_websocket_find(r) == NULL;
}

/*
 * What the handler does with the body: echo keeps it; the proxy keeps
 * a small one whole (so a request can be sent again to another server)
 * and takes a large or chunked one as it arrives (HTTP/1.1; HTTP/2
 * keeps it whole); others drop it.
 */
int
http_req_wants_body(const struct http_req *r)
{
	if (r->route_matched && r->route == CONF_ROUTE_ECHO &&
	    r->head.method == HTTP_METHOD_POST)
		return HTTP_BODY_KEEP;
	if (!http_req_proxied(r))
		return HTTP_BODY_DROP;
	if (r->head.chunked || r->head.content_length > HTTP_PROXY_KEEP_MAX ||
	    r->body_unsized)
		return HTTP_BODY_STREAM;
	return HTTP_BODY_KEEP;
}

void
http_req_dispatch(struct http_req *r)
{
	const struct conf_websocket *ws;

	/* limit_req holds it back a while: dispatched again then. */
	if (r->limit_delay_ms > 0 && http_limit_delay(r, http_req_dispatch))
		return;
	/*
	 * forkloop is no proxy: CONNECT is supported for no resource, which
	 * is what 501 says (RFC 9110, 15.6.2); a 405 would need an Allow for
	 * a target that is not ours.
	 */
	if (r->head.method == HTTP_METHOD_CONNECT) {
		r->close = 1;
		http_respond_error(r, 501);
		return;
	}
	if (!r->has_path) {
		/* OPTIONS * asks about the server itself (RFC 9110 9.3.7). */
		http_response_start(r, 200, NULL, 0);
		http_response_header(r, "Allow", "GET, HEAD, POST, OPTIONS");
		http_response_end_head(r);
		http_request_done(r);
		return;
	}
	/* A WebSocket's path is the chat's, before return and routes. */
	if ((ws = http_websocket_find(r)) != NULL)
		http_websocket_serve(r, ws);
	else if (r->server->return_code != 0)
		http_return_serve(r);
	else if (r->route_matched)
		http_route_serve(r);
	else if (http_req_proxied(r))
		http_proxy_serve(r);
	else
		http_static_serve(r);
}
