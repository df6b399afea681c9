/*
 * vars.c: nginx's variables in one request.  "return" builds its
 * Location or text from them, the reverse proxy its proxy_set_header
 * values, a regex location its alias; each variable means what it
 * means in nginx.
 */
#include "config.h"

#include <string.h>

#include "conf/vhosts.h"
#include "worker/http/access_log.h"
#include "worker/http/req.h"
#include "worker/http/vars.h"

/* Room for an address in text, IPv6 included. */
#define HTTP_VARS_ADDR 64

struct vars_out {
	char *buf;
	size_t len;
	size_t max;
	int field;		/* a field value: no control bytes */
};

/*
 * A decoded path ($uri, a regex's groups) may hold any byte but NUL:
 * "%0d%0a" is CR LF.  In a field value those would end the line and let
 * the client write fields of its own (RFC 9110 5.5 allows none there),
 * so there each control byte is written percent-encoded.
 */
static void
vars_put_field_safe(struct vars_out *o, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len && o->len < o->max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != 0x7f) {
			o->buf[o->len++] = (char)c;
			continue;
		}
		if (o->max - o->len < 3)
			break;
		o->buf[o->len++] = '%';
		o->buf[o->len++] = hex[c >> 4];
		o->buf[o->len++] = hex[c & 15];
	}
}

static void
vars_put(struct vars_out *o, const char *s, size_t len, int lower)
{
	size_t i;

	if (o->field && !lower) {
		vars_put_field_safe(o, s, len);
		return;
	}
	if (len > o->max - o->len)
		len = o->max - o->len;
	for (i = 0; i < len; i++)
		o->buf[o->len + i] = lower && s[i] >= 'A' && s[i] <= 'Z' ?
		    (char)(s[i] - 'A' + 'a') : s[i];
	o->len += len;
}

static void
vars_puts(struct vars_out *o, const char *s)
{
	vars_put(o, s, strlen(s), 0);
}

const struct http_header *
http_vars_field(const struct http_req *r, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < r->head.nheaders; i++) {
		const struct http_header *h = &r->head.headers[i];

		if (h->name_len == len &&
		    http_token_equal(h->name, h->name_len, name))
			return h;
	}
	return NULL;
}

/* Every line of a field, joined with ", " as one list (RFC 9110 5.3). */
static int
vars_put_field(struct vars_out *o, const struct http_req *r,
    const char *name, size_t len)
{
	char lower[128];
	const struct http_header *h;
	size_t i;
	int n = 0;

	if (len >= sizeof(lower))
		return 0;
	for (i = 0; i < len; i++)
		lower[i] = name[i] >= 'A' && name[i] <= 'Z' ?
		    (char)(name[i] - 'A' + 'a') : name[i];
	lower[len] = '\0';
	for (h = http_vars_field(r, lower, len); h != NULL;
	    h = http_header_next(&r->head, h)) {
		if (n++ > 0)
			vars_put(o, ", ", 2, 0);
		vars_put(o, h->value, h->value_len, 0);
	}
	return n;
}

static void
vars_put_host(struct vars_out *o, const struct http_req *r)
{
	/* nginx's $host: the request's host without its port, in lower
	 * case, else the block's name. */
	if (r->head.host != NULL)
		vars_put(o, r->head.host, conf_host_len(r->head.host,
		    r->head.host_len), 1);
	else if (r->server->nserver_names > 0)
		vars_puts(o, r->server->server_names[0]);
}

static void
vars_put_request_uri(struct vars_out *o, const struct http_req *r)
{
	size_t len;

	if (r->head.path == NULL)
		return;
	len = r->head.path_len;
	if (r->head.query != NULL)
		len = (size_t)(r->head.query + r->head.query_len -
		    r->head.path);
	vars_put(o, r->head.path, len, 0);
}

static void
vars_put_part(struct vars_out *o, struct http_req *r,
    const struct conf_text_part *p)
{
	char addr[HTTP_VARS_ADDR];

	switch (p->var) {
	case CONF_VAR_LITERAL:
		vars_put(o, p->literal, p->len, 0);
		break;
	case CONF_VAR_SCHEME:
		vars_puts(o, http_req_is_tls(r) ? "https" : "http");
		break;
	case CONF_VAR_HOST:
		vars_put_host(o, r);
		break;
	case CONF_VAR_REQUEST_URI:
		vars_put_request_uri(o, r);
		break;
	case CONF_VAR_URI:
		vars_put(o, r->path, r->path_len, 0);
		break;
	case CONF_VAR_ARGS:
		if (r->head.query != NULL)
			vars_put(o, r->head.query, r->head.query_len, 0);
		break;
	case CONF_VAR_SERVER_NAME:
		if (r->server->nserver_names > 0)
			vars_puts(o, r->server->server_names[0]);
		break;
	case CONF_VAR_REMOTE_ADDR:
		http_log_peer(r, addr, sizeof(addr));
		vars_puts(o, addr);
		break;
	case CONF_VAR_PROXY_HOST:
		if (r->server->proxy_host != NULL)
			vars_puts(o, r->server->proxy_host);
		break;
	case CONF_VAR_PROXY_ADD_XFF:
		/* The client's X-Forwarded-For with its address added. */
		if (vars_put_field(o, r, "x-forwarded-for", 15) > 0)
			vars_put(o, ", ", 2, 0);
		http_log_peer(r, addr, sizeof(addr));
		vars_puts(o, addr);
		break;
	case CONF_VAR_HTTP_FIELD:
		vars_put_field(o, r, p->literal, p->len);
		break;
	case CONF_VAR_CAPTURE:
		if (p->len < r->ncaps && r->caps[2 * p->len] !=
		    CONF_REGEX_UNSET)
			vars_put(o, r->path + r->caps[2 * p->len],
			    r->caps[2 * p->len + 1] - r->caps[2 * p->len], 0);
		break;
	}
}

/*
 * Group n of the regex location's match, at out[*len] (out holding max
 * bytes); nothing when no regex matched or the group took no part, as
 * nginx's empty $1.
 */
void
http_vars_put_group(const struct http_req *r, size_t n, char *out,
    size_t *len, size_t max)
{
	size_t from, glen;

	if (n >= r->ncaps || r->caps[2 * n] == CONF_REGEX_UNSET)
		return;
	from = r->caps[2 * n];
	glen = r->caps[2 * n + 1] - from;
	if (glen > max - *len)
		glen = max - *len;
	memcpy(out + *len, r->path + from, glen);
	*len += glen;
}

static size_t
vars_expand(struct http_req *r, const struct conf_text *t, char *out,
    size_t max, int field)
{
	struct vars_out o = { out, 0, max - 1, field };
	size_t i;

	for (i = 0; i < t->nparts; i++)
		vars_put_part(&o, r, &t->parts[i]);
	out[o.len] = '\0';
	return o.len;
}

size_t
http_vars_expand(struct http_req *r, const struct conf_text *t, char *out,
    size_t max)
{
	return vars_expand(r, t, out, max, 0);
}

size_t
http_vars_expand_field(struct http_req *r, const struct conf_text *t,
    char *out, size_t max)
{
	return vars_expand(r, t, out, max, 1);
}
