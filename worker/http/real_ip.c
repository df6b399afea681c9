/*
 * real_ip.c: the client's real address behind trusted proxies, as
 * nginx's realip module: when the connection comes from an address in
 * set_real_ip_from, the address in real_ip_header (X-Real-IP by default,
 * or X-Forwarded-For) becomes the request's client address, which
 * allow/deny, limit_req/limit_conn, $remote_addr in the access log and
 * the reverse proxy's X-Forwarded-For and X-Real-IP then see.
 *
 * The field is read from its right end, where the nearest proxy wrote:
 * without real_ip_recursive the rightmost address is taken; with it,
 * trusted addresses are passed over and the rightmost untrusted one wins
 * (the leftmost when all are trusted).  An address that does not parse
 * ends the walk, keeping the last good one.  A client that is not a
 * trusted proxy cannot move its address, whatever it sends.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string.h>

#include "worker/http/real_ip.h"
#include "worker/http/response.h"

/* The entries of a list field, right to left across its lines. */
struct real_ip_walk {
	const struct http_request *head;
	const char *name;
	size_t line;		/* the field line being read, +1 */
	const char *start;	/* of that line's value */
	const char *end;	/* what is left of it: [start, end) */
};

static int
real_ip_is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* The next entry leftwards (not empty), or 0 when there is none. */
static int
real_ip_next(struct real_ip_walk *w, const char **entry, size_t *len)
{
	const char *p, *e;

	for (;;) {
		while (w->end > w->start && (w->end[-1] == ',' ||
		    real_ip_is_space(w->end[-1])))
			w->end--;
		if (w->end > w->start)
			break;
		/* This line is read: the previous one of the same name. */
		for (;;) {
			const struct http_header *h;

			if (w->line == 0)
				return 0;
			h = &w->head->headers[--w->line];
			if (http_token_equal(h->name, h->name_len, w->name)) {
				w->start = h->value;
				w->end = h->value + h->value_len;
				break;
			}
		}
	}
	e = w->end;
	for (p = e; p > w->start && p[-1] != ',' && !real_ip_is_space(p[-1]);
	    p--)
		;
	*entry = p;
	*len = (size_t)(e - p);
	w->end = p;
	return 1;
}

/*
 * An address as proxies write it: 192.0.2.1, 192.0.2.1:80, 2001:db8::1,
 * [2001:db8::1] or [2001:db8::1]:80.  -1 when it is none of those.
 */
static int
real_ip_parse(const char *s, size_t len, union real_ip_addr *out)
{
	char text[INET6_ADDRSTRLEN + 8];
	const char *colon;

	if (len == 0 || len >= sizeof(text))
		return -1;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (close == NULL || (close + 1 != s + len && close[1] != ':'))
			return -1;
		len = (size_t)(close - s - 1);
		s++;
	} else if ((colon = memchr(s, ':', len)) != NULL &&
	    memchr(colon + 1, ':', len - (size_t)(colon + 1 - s)) == NULL) {
		/* One colon: an IPv4 address with its port. */
		len = (size_t)(colon - s);
	}
	memcpy(text, s, len);
	text[len] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, &out->sin.sin_addr) == 1) {
		out->sin.sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &out->sin6.sin6_addr) == 1) {
		out->sin6.sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

void
http_real_ip(struct http_req *r)
{
	const struct conf_server *s = r->server;
	const char *name = s->real_ip_header != NULL ? s->real_ip_header :
	    "x-real-ip";
	union real_ip_addr cand;
	struct real_ip_walk w;
	const char *entry;
	size_t len;
	int found = 0;

	/*
	 * proxy_protocol: the PROXY header's source is the client already
	 * (worker/http/h1.c), on a listener that requires one.
	 */
	if (s->nreal_ip_from == 0 || strcmp(name, "proxy_protocol") == 0 ||
	    !conf_cidr_match(s->real_ip_from, s->nreal_ip_from, r->peer))
		return;
	memset(&w, 0, sizeof(w));
	w.head = &r->head;
	w.name = name;
	w.line = r->head.nheaders;
	while (real_ip_next(&w, &entry, &len)) {
		if (real_ip_parse(entry, len, &cand) == -1)
			break;
		r->real_peer = cand;
		found = 1;
		if (!s->real_ip_recursive || !conf_cidr_match(s->real_ip_from,
		    s->nreal_ip_from, &cand.sa))
			break;
	}
	if (found)
		r->peer = &r->real_peer.sa;
}
