/*
 * proxy_head.c: the heads of a proxied exchange.  The request head sent
 * upstream is built from the client's (hop-by-hop fields dropped, RFC
 * 9110 7.6.1; the client's address added in X-Forwarded-For, X-Real-IP
 * and Forwarded, RFC 7239); the answer's head is parsed strictly (RFC
 * 9112: a head that could frame its body two ways is refused, since
 * that is how response smuggling starts) and passed to the client with
 * its own hop-by-hop fields dropped.
 *
 * The answer's parser is written here rather than taken from a library:
 * picohttpparser, the usual choice, is not packaged by Debian, and the
 * request parser (parse.c) shares the same token and value rules.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "worker/http/access_log.h"
#include "worker/http/parse.h"
#include "worker/http/proxy.h"
#include "worker/http/response.h"
#include "worker/http/vars.h"

/* Room for a proxy_set_header value or a rewritten target. */
#define PROXY_VALUE_MAX (16 * 1024)
#define PROXY_ADDR_MAX 64

/* Hop-by-hop and framing fields, never passed on either way. */
static const char *const proxy_hop_fields[] = {
	"connection", "keep-alive", "proxy-connection", "te", "trailer",
	"transfer-encoding", "upgrade", "content-length",
};

static int
proxy_name_is(const char *name, size_t len, const char *lower)
{
	return strlen(lower) == len && http_token_equal(name, len, lower);
}

static int
proxy_is_hop(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(proxy_hop_fields) / sizeof(*proxy_hop_fields);
	    i++)
		if (proxy_name_is(name, len, proxy_hop_fields[i]))
			return 1;
	return 0;
}

size_t
proxy_head_length(const char *buf, size_t len)
{
	size_t i;

	for (i = 1; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i - 1] == '\n')
			return i + 1;
		if (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n')
			return i + 1;
	}
	return 0;
}

/* "HTTP/1.x SP 3DIGIT [SP reason]" (RFC 9112 4). */
static int
proxy_status_line(const char *p, size_t len, struct proxy_response *resp)
{
	size_t i;

	if (len < 12 || memcmp(p, "HTTP/1.", 7) != 0 ||
	    (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
	    p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' ||
	    p[11] < '0' || p[11] > '9' || (len > 12 && p[12] != ' ')) {
		resp->error = "a bad status line";
		return -1;
	}
	for (i = 12; i < len; i++)
		if ((unsigned char)p[i] < 0x20 && p[i] != '\t') {
			resp->error = "a bad status line";
			return -1;
		}
	resp->version = p[7] == '1' ? 11 : 10;
	resp->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	resp->close = resp->version == 10;
	return 0;
}

static int
proxy_content_length(const struct proxy_field *f, struct proxy_response *resp)
{
	int64_t v = 0;
	size_t i;

	/* One Content-Length, digits only: a second one, equal or not, is
	 * refused (RFC 9110 8.6 lets a recipient refuse it). */
	if (resp->content_length != -1 || f->value_len == 0 ||
	    f->value_len > 18) {
		resp->error = "a bad or repeated Content-Length";
		return -1;
	}
	for (i = 0; i < f->value_len; i++) {
		if (f->value[i] < '0' || f->value[i] > '9') {
			resp->error = "a bad Content-Length";
			return -1;
		}
		v = v * 10 + (f->value[i] - '0');
	}
	resp->content_length = v;
	return 0;
}

/* The tokens of a Connection field: "close", and names to drop. */
static void
proxy_connection_field(const struct proxy_field *f,
    struct proxy_response *resp)
{
	const char *p = f->value, *end = f->value + f->value_len;

	while (p < end) {
		const char *t;

		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		for (t = p; p < end && *p != ',' && *p != ' ' && *p != '\t';
		    p++)
			;
		if (p == t)
			continue;
		if (proxy_name_is(t, (size_t)(p - t), "close"))
			resp->close = 1;
		else if (resp->nconnection < PROXY_CONNECTION_TOKENS) {
			struct proxy_field *c =
			    &resp->connection[resp->nconnection++];

			c->name = t;
			c->name_len = (size_t)(p - t);
		}
	}
}

/* What a field means for framing; -1 when it makes the head unsafe. */
static int
proxy_field_meaning(const struct proxy_field *f, struct proxy_response *resp)
{
	if (proxy_name_is(f->name, f->name_len, "content-length"))
		return proxy_content_length(f, resp);
	if (proxy_name_is(f->name, f->name_len, "transfer-encoding")) {
		/* Only "chunked" is understood; any other coding would
		 * be passed on undecoded, and two fields may hide one. */
		if (resp->chunked || !proxy_name_is(f->value, f->value_len,
		    "chunked")) {
			resp->error = "a Transfer-Encoding other than chunked";
			return -1;
		}
		resp->chunked = 1;
		return 0;
	}
	if (proxy_name_is(f->name, f->name_len, "connection"))
		proxy_connection_field(f, resp);
	return 0;
}

/* One "name: value" line (without its end) into resp. */
static int
proxy_field_line(const char *p, size_t len, struct proxy_response *resp)
{
	struct proxy_field *f;
	const char *colon = memchr(p, ':', len), *v, *end = p + len;
	size_t i;

	/* RFC 9112 5.1: no whitespace before the colon; 5.2: obs-fold is
	 * refused rather than unfolded. */
	if (colon == NULL || colon == p) {
		resp->error = "a bad header line";
		return -1;
	}
	for (i = 0; p + i < colon; i++)
		if (!http_is_tchar((unsigned char)p[i])) {
			resp->error = "a bad header name";
			return -1;
		}
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (i = 0; v + i < end; i++)
		if (((unsigned char)v[i] < 0x20 && v[i] != '\t') ||
		    v[i] == 0x7f) {
			resp->error = "a control character in a header";
			return -1;
		}
	if (resp->nfields == HTTP_MAX_HEADERS) {
		resp->error = "too many header lines";
		return -1;
	}
	f = &resp->fields[resp->nfields++];
	f->name = p;
	f->name_len = (size_t)(colon - p);
	f->value = v;
	f->value_len = (size_t)(end - v);
	return proxy_field_meaning(f, resp);
}

int
proxy_response_parse(const char *buf, size_t len, struct proxy_response *resp)
{
	const char *p = buf, *end = buf + len, *eol;
	int first = 1;

	memset(resp, 0, sizeof(*resp));
	resp->content_length = -1;
	while (p < end) {
		size_t n;

		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		n = (size_t)(eol - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break;
		if (memchr(p, '\r', n) != NULL) {
			resp->error = "a bare CR in the head";
			return -1;
		}
		if (first ? proxy_status_line(p, n, resp) == -1 :
		    (p[0] == ' ' || p[0] == '\t') ?
		    (resp->error = "an obsolete line folding", -1) :
		    proxy_field_line(p, n, resp)) {
			return -1;
		}
		first = 0;
		p = eol + 1;
	}
	if (first) {
		resp->error = "an empty head";
		return -1;
	}
	if (resp->chunked && resp->content_length != -1) {
		resp->error = "both Content-Length and Transfer-Encoding";
		return -1;
	}
	return 0;
}

/* Whether the client asked to upgrade: Upgrade, and Connection: upgrade. */
int
proxy_wants_upgrade(const struct http_req *r)
{
	const struct http_header *h;

	if (r->head.version != 11 ||
	    http_vars_field(r, "upgrade", 7) == NULL)
		return 0;
	for (h = http_vars_field(r, "connection", 10); h != NULL;
	    h = http_header_next(&r->head, h)) {
		const char *p = h->value, *end = h->value + h->value_len;

		while (p < end) {
			const char *t;

			while (p < end && (*p == ' ' || *p == ','))
				p++;
			for (t = p; p < end && *p != ',' && *p != ' '; p++)
				;
			if (proxy_name_is(t, (size_t)(p - t), "upgrade"))
				return 1;
		}
	}
	return 0;
}

/* Whether the client's Connection field lists name. */
static int
proxy_client_connection_lists(const struct http_req *r, const char *name,
    size_t len)
{
	const struct http_header *h;

	for (h = http_vars_field(r, "connection", 10); h != NULL;
	    h = http_header_next(&r->head, h)) {
		const char *p = h->value, *end = h->value + h->value_len;

		while (p < end) {
			const char *t;

			while (p < end && (*p == ' ' || *p == ','))
				p++;
			for (t = p; p < end && *p != ',' && *p != ' '; p++)
				;
			if (p > t && (size_t)(p - t) == len &&
			    strncasecmp(t, name, len) == 0)
				return 1;
		}
	}
	return 0;
}

/* Whether proxy_set_header sets name: the client's is not sent then. */
static int
proxy_set_by_conf(const struct http_req *r, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < r->server->nproxy_headers; i++)
		if (strlen(r->server->proxy_headers[i].name) == len &&
		    strncasecmp(r->server->proxy_headers[i].name, name,
		    len) == 0)
			return 1;
	return 0;
}

/* The client's fields that go on as they are. */
static int
proxy_client_field_goes(const struct http_req *r, const struct http_header *h)
{
	static const char *const replaced[] = {
		"host", "expect", "x-forwarded-for", "x-real-ip",
		"x-forwarded-proto", "forwarded", "cookie",
	};
	size_t i;

	if (proxy_is_hop(h->name, h->name_len))
		return 0;
	for (i = 0; i < sizeof(replaced) / sizeof(*replaced); i++)
		if (proxy_name_is(h->name, h->name_len, replaced[i]))
			return 0;
	return !proxy_client_connection_lists(r, h->name, h->name_len) &&
	    !proxy_set_by_conf(r, h->name, h->name_len);
}

/* Bytes of a decoded path that may stand in a target as they are. */
static int
proxy_path_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("-._~!$&'()*+,;=:@/", c) != NULL;
}

/* The target: the client's as sent, or with the URI part of proxy_pass
 * in place of the location's prefix (the decoded path, escaped). */
static int
proxy_target(struct http_req *r, struct evbuffer *out)
{
	const struct conf_server *s = r->server;
	size_t prefix, i, len;
	int rc = 0;

	if (s->proxy_uri == NULL) {
		len = r->head.path_len;
		if (r->head.query != NULL)
			len = (size_t)(r->head.query + r->head.query_len -
			    r->head.path);
		return evbuffer_add(out, r->head.path, len);
	}
	/* A regex location has no prefix: one that inherits the block's
	 * proxy_pass URI (its own may have none) maps "/" as the block. */
	prefix = s->location != NULL && s->location->regex == NULL ?
	    s->location->len : 1;
	if (prefix > r->path_len)
		prefix = r->path_len;
	rc |= evbuffer_add(out, s->proxy_uri, strlen(s->proxy_uri));
	for (i = prefix; i < r->path_len; i++) {
		unsigned char c = (unsigned char)r->path[i];

		rc |= proxy_path_char(c) ? evbuffer_add(out, &r->path[i], 1) :
		    evbuffer_add_printf(out, "%%%02X", c) < 0 ? -1 : 0;
	}
	if (r->head.query != NULL)
		rc |= evbuffer_add_printf(out, "?%.*s", (int)r->head.query_len,
		    r->head.query) < 0 ? -1 : 0;
	return rc;
}

/*
 * "NAME: VALUE\r\n", gathered in one add when it is short: a request
 * head goes up with a dozen fields, and printf for each showed in the
 * proxy's profile.
 */
static int
proxy_add_field(struct evbuffer *out, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	char line[512];

	if (nlen + vlen + 4 > sizeof(line))
		return evbuffer_add(out, name, nlen) |
		    evbuffer_add(out, ": ", 2) | evbuffer_add(out, value, vlen) |
		    evbuffer_add(out, "\r\n", 2);
	memcpy(line, name, nlen);
	memcpy(line + nlen, ": ", 2);
	memcpy(line + nlen + 2, value, vlen);
	memcpy(line + nlen + 2 + vlen, "\r\n", 2);
	return evbuffer_add(out, line, nlen + vlen + 4);
}

static int
proxy_add_field_str(struct evbuffer *out, const char *name,
    const char *value)
{
	return proxy_add_field(out, name, strlen(name), value, strlen(value));
}

/* X-Forwarded-For, X-Real-IP, X-Forwarded-Proto and Forwarded, each
 * unless proxy_set_header sets it. */
static int
proxy_forwarded_fields(struct http_req *r, struct evbuffer *out)
{
	static char value[PROXY_VALUE_MAX];
	const char *scheme = http_req_is_tls(r) ? "https" : "http";
	char addr[PROXY_ADDR_MAX];
	const struct http_header *h;
	int rc = 0, v6;

	http_log_peer(r, addr, sizeof(addr));
	v6 = strchr(addr, ':') != NULL;
	if (!proxy_set_by_conf(r, "X-Forwarded-For", 15)) {
		struct conf_text_part part = { CONF_VAR_PROXY_ADD_XFF, NULL, 0 };
		struct conf_text t = { &part, 1 };

		http_vars_expand(r, &t, value, sizeof(value));
		rc |= proxy_add_field_str(out, "X-Forwarded-For", value);
	}
	if (!proxy_set_by_conf(r, "X-Real-IP", 9))
		rc |= proxy_add_field_str(out, "X-Real-IP", addr);
	if (!proxy_set_by_conf(r, "X-Forwarded-Proto", 17))
		rc |= proxy_add_field_str(out, "X-Forwarded-Proto", scheme);
	if (proxy_set_by_conf(r, "Forwarded", 9))
		return rc ? -1 : 0;
	/* RFC 7239 4: the client's elements, then ours. */
	rc |= evbuffer_add(out, "Forwarded: ", 11);
	for (h = http_vars_field(r, "forwarded", 9); h != NULL;
	    h = http_header_next(&r->head, h))
		rc |= evbuffer_add_printf(out, "%.*s, ", (int)h->value_len,
		    h->value) < 0;
	rc |= evbuffer_add(out, v6 ? "for=\"[" : "for=", v6 ? 6 : 4);
	rc |= evbuffer_add(out, addr, strlen(addr));
	if (v6)
		rc |= evbuffer_add(out, "]\"", 2);
	rc |= evbuffer_add(out, ";proto=", 7);
	rc |= evbuffer_add(out, scheme, strlen(scheme));
	if (r->head.host != NULL) {
		rc |= evbuffer_add(out, ";host=\"", 7);
		rc |= evbuffer_add(out, r->head.host, r->head.host_len);
		rc |= evbuffer_add(out, "\"", 1);
	}
	rc |= evbuffer_add(out, "\r\n", 2);
	return rc ? -1 : 0;
}

/* Cookie lines joined into one (RFC 9113 8.2.3 splits them in h2). */
static int
proxy_cookie(struct http_req *r, struct evbuffer *out)
{
	const struct http_header *h = http_vars_field(r, "cookie", 6);
	int rc = 0;

	if (h == NULL || proxy_set_by_conf(r, "Cookie", 6))
		return 0;
	rc |= evbuffer_add_printf(out, "Cookie: %.*s", (int)h->value_len,
	    h->value) < 0;
	while ((h = http_header_next(&r->head, h)) != NULL)
		rc |= evbuffer_add_printf(out, "; %.*s", (int)h->value_len,
		    h->value) < 0;
	rc |= evbuffer_add(out, "\r\n", 2);
	return rc ? -1 : 0;
}

int
proxy_request_head(struct http_req *r, struct evbuffer *out, int64_t body_len,
    int upgrade)
{
	static char value[PROXY_VALUE_MAX];
	const struct conf_server *s = r->server;
	const struct http_header *up;
	size_t i;
	int rc = 0;

	rc |= evbuffer_add(out, r->head.method_name, r->head.method_len);
	rc |= evbuffer_add(out, " ", 1);
	rc |= proxy_target(r, out);
	rc |= evbuffer_add(out, " HTTP/1.1\r\n", 11);
	if (!proxy_set_by_conf(r, "Host", 4))
		rc |= proxy_add_field_str(out, "Host", s->proxy_host);
	for (i = 0; i < r->head.nheaders; i++) {
		const struct http_header *h = &r->head.headers[i];

		if (!proxy_client_field_goes(r, h))
			continue;
		rc |= proxy_add_field(out, h->name, h->name_len, h->value,
		    h->value_len);
	}
	rc |= proxy_cookie(r, out);
	rc |= proxy_forwarded_fields(r, out);
	for (i = 0; i < s->nproxy_headers; i++) {
		size_t n = http_vars_expand_field(r,
		    s->proxy_headers[i].value, value, sizeof(value));

		if (n > 0)	/* an empty value: the field is not sent */
			rc |= proxy_add_field(out, s->proxy_headers[i].name,
			    strlen(s->proxy_headers[i].name), value, n);
	}
	if (upgrade && (up = http_vars_field(r, "upgrade", 7)) != NULL)
		rc |= evbuffer_add_printf(out, "Upgrade: %.*s\r\n"
		    "Connection: upgrade\r\n", (int)up->value_len,
		    up->value) < 0;
	if (body_len < 0)
		rc |= evbuffer_add(out, "Transfer-Encoding: chunked\r\n", 28);
	else if (body_len > 0 || r->head.content_length == 0 ||
	    r->head.method == HTTP_METHOD_POST ||
	    r->head.method == HTTP_METHOD_PUT ||
	    r->head.method == HTTP_METHOD_PATCH)
		rc |= evbuffer_add_printf(out, "Content-Length: %lld\r\n",
		    (long long)body_len) < 0;
	rc |= evbuffer_add(out, "\r\n", 2);
	return rc ? -1 : 0;
}

/* Whether the answer's field name is one the client does not get. */
static int
proxy_answer_field_hidden(const struct http_req *r,
    const struct proxy_response *resp, const struct proxy_field *f)
{
	size_t i;

	/* Ours take their place: Server and Date (as nginx). */
	if ((proxy_is_hop(f->name, f->name_len) &&
	    !(resp->status == 101 &&
	    (proxy_name_is(f->name, f->name_len, "upgrade") ||
	    proxy_name_is(f->name, f->name_len, "connection")))) ||
	    proxy_name_is(f->name, f->name_len, "server") ||
	    proxy_name_is(f->name, f->name_len, "date"))
		return 1;
	for (i = 0; i < resp->nconnection; i++)
		if (resp->connection[i].name_len == f->name_len &&
		    strncasecmp(resp->connection[i].name, f->name,
		    f->name_len) == 0)
			return resp->status != 101;
	for (i = 0; i < r->server->nproxy_hide_headers; i++)
		if (proxy_name_is(f->name, f->name_len,
		    r->server->proxy_hide_headers[i]))
			return 1;
	return 0;
}

/*
 * proxy_redirect default: a Location naming the upstream as proxy_pass
 * wrote it ("http://" $proxy_host, then proxy_pass's URI part or "/")
 * gets the location's prefix (or "/") in its place, as nginx does.
 */
static void
proxy_location(struct http_req *r, const struct proxy_field *f)
{
	static char line[PROXY_VALUE_MAX];
	const struct conf_server *s = r->server;
	const char *uri = s->proxy_uri != NULL ? s->proxy_uri : "/";
	const char *to = s->proxy_uri != NULL && s->location != NULL &&
	    s->location->regex == NULL ? s->location->path : "/";
	size_t hlen = strlen(s->proxy_host), ulen = strlen(uri);
	int n;

	if (!s->proxy_redirect || f->value_len < 7 + hlen + ulen ||
	    strncasecmp(f->value, "http://", 7) != 0 ||
	    strncasecmp(f->value + 7, s->proxy_host, hlen) != 0 ||
	    memcmp(f->value + 7 + hlen, uri, ulen) != 0) {
		n = snprintf(line, sizeof(line), "Location: %.*s\r\n",
		    (int)f->value_len, f->value);
	} else {
		n = snprintf(line, sizeof(line), "Location: %s%.*s\r\n", to,
		    (int)(f->value_len - 7 - hlen - ulen),
		    f->value + 7 + hlen + ulen);
	}
	if (n > 0 && (size_t)n < sizeof(line))
		http_response_raw(r, line, (size_t)n);
}

void
proxy_response_head(struct http_req *r, const struct proxy_response *resp,
    int64_t length, int stream)
{
	static char line[HTTP_PATH_MAX];
	size_t i;

	http_response_start(r, resp->status, NULL, length);
	for (i = 0; i < resp->nfields; i++) {
		const struct proxy_field *f = &resp->fields[i];
		int n;

		if (proxy_answer_field_hidden(r, resp, f))
			continue;
		if (proxy_name_is(f->name, f->name_len, "location")) {
			proxy_location(r, f);
			continue;
		}
		n = snprintf(line, sizeof(line), "%.*s: %.*s\r\n",
		    (int)f->name_len, f->name, (int)f->value_len, f->value);
		if (n > 0 && (size_t)n < sizeof(line))
			http_response_raw(r, line, (size_t)n);
	}
	if (stream)
		http_response_stream(r, length >= 0);
	http_response_end_head(r);
}

/*
 * The 101 to the client as the upstream wrote it (Upgrade, Connection,
 * Sec-WebSocket-Accept...), less the fields that frame an HTTP body.
 */
int
proxy_switch_head(const struct proxy_response *resp, struct evbuffer *out)
{
	size_t i;
	int rc = 0;

	rc |= evbuffer_add_printf(out, "HTTP/1.1 101 Switching Protocols\r\n") <
	    0;
	for (i = 0; i < resp->nfields; i++) {
		const struct proxy_field *f = &resp->fields[i];

		if (proxy_is_hop(f->name, f->name_len) &&
		    !proxy_name_is(f->name, f->name_len, "upgrade") &&
		    !proxy_name_is(f->name, f->name_len, "connection"))
			continue;
		rc |= evbuffer_add_printf(out, "%.*s: %.*s\r\n",
		    (int)f->name_len, f->name, (int)f->value_len,
		    f->value) < 0;
	}
	rc |= evbuffer_add(out, "\r\n", 2);
	return rc ? -1 : 0;
}
