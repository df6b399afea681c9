/*
 * parse.c: the request-head parser, RFC 9112 sections 2 to 6.
 *
 * The connection first finds the end of the head (http_head_length), so
 * the parser itself always sees a whole head: no state survives between
 * calls and any split of the bytes over reads gives the same result.
 * Header values are not copied; the request points into the buffer.
 * The rules that matter for request smuggling are strict on purpose:
 * whitespace before a colon, obs-fold, a bare CR, conflicting lengths and
 * Transfer-Encoding beside Content-Length are all refused.
 */
#include "config.h"

#include <string.h>

#include "worker/http/parse.h"

/* tchar, RFC 9110 section 5.6.2. */
static const unsigned char http_tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

static const struct {
	const char *name;
	size_t len;
	enum http_method method;
} http_methods[] = {
	{ "GET", 3, HTTP_METHOD_GET },
	{ "HEAD", 4, HTTP_METHOD_HEAD },
	{ "POST", 4, HTTP_METHOD_POST },
	{ "PUT", 3, HTTP_METHOD_PUT },
	{ "DELETE", 6, HTTP_METHOD_DELETE },
	{ "CONNECT", 7, HTTP_METHOD_CONNECT },
	{ "OPTIONS", 7, HTTP_METHOD_OPTIONS },
	{ "TRACE", 5, HTTP_METHOD_TRACE },
	{ "PATCH", 5, HTTP_METHOD_PATCH },
};

#define HTTP_TE_PRESENT 1
#define HTTP_TE_UNKNOWN 2

int
http_is_tchar(unsigned char c)
{
	return http_tchar[c];
}

static int
http_fail(struct http_request *req, int status, const char *why)
{
	req->status = status;
	req->error = why;
	return -1;
}

/* Case-insensitive compare of s[0..len) with a lower-case literal. */
int
http_token_equal(const char *s, size_t len, const char *lower)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (lower[i] == '\0')
			return 0;
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != (unsigned char)lower[i])
			return 0;
	}
	return lower[len] == '\0';
}

/* Case-insensitive compare of two field names of len bytes. */
static int
http_name_equal(const char *a, const char *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ca = (unsigned char)a[i];
		unsigned char cb = (unsigned char)b[i];

		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return 0;
	}
	return 1;
}

const struct http_header *
http_header_next(const struct http_request *req, const struct http_header *h)
{
	const struct http_header *n, *end = req->headers + req->nheaders;

	for (n = h + 1; n < end; n++)
		if (n->name_len == h->name_len &&
		    http_name_equal(n->name, h->name, h->name_len))
			return n;
	return NULL;
}

int
http_head_hopeless(const char *buf, size_t len)
{
	const char *eol;
	size_t i, spaces = 0;

	for (i = 0; i < len && buf[i] != ' '; i++)
		if (!http_tchar[(unsigned char)buf[i]])
			return 1;
	eol = memchr(buf, '\n', len);
	if (eol == NULL)
		return 0;
	for (; buf < eol; buf++)
		spaces += *buf == ' ';
	return spaces < 2;
}

size_t
http_head_length(const char *buf, size_t len, size_t *scanned)
{
	size_t i = *scanned > 2 ? *scanned - 2 : 0;

	/* An empty line ends the head: LF CR LF, or LF LF (section 2.2). */
	for (; i < len; i++) {
		const char *nl = memchr(buf + i, '\n', len - i);

		if (nl == NULL)
			break;
		i = (size_t)(nl - buf);
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
		if (i + 2 >= len)
			break;
	}
	*scanned = len;
	return 0;
}

/* The end of the line starting at p: the LF, with *next after it. */
static const char *
http_line_end(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	if (nl == NULL)
		return NULL;
	*next = nl + 1;
	return nl > p && nl[-1] == '\r' ? nl - 1 : nl;
}

static int
http_parse_version(const char *v, size_t len, struct http_request *req)
{
	if (len != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' ||
	    v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
		return http_fail(req, 400, "malformed HTTP version");
	/* Section 2.3: only major version 1 is ours; minors above 1 are 1.1. */
	if (v[5] != '1')
		return http_fail(req, 505, "unsupported HTTP version");
	req->version = v[7] == '0' ? 10 : 11;
	return 0;
}

/* Splits an origin-form or absolute-form target into path and query. */
static int
http_parse_target(struct http_request *req)
{
	const char *t = req->target, *end = t + req->target_len, *p, *q;

	if (req->target_len == 1 && t[0] == '*') {
		/* Asterisk-form is for OPTIONS only, section 3.2.4. */
		if (req->method != HTTP_METHOD_OPTIONS)
			return http_fail(req, 400, "asterisk-form target");
		return 0;
	}
	if (req->method == HTTP_METHOD_CONNECT)
		return 0;	/* authority-form, section 3.2.3; refused later */
	/* No form of request-target carries a fragment (RFC 3986 4.3). */
	if (memchr(t, '#', req->target_len) != NULL)
		return http_fail(req, 400, "fragment in request target");
	if (t[0] == '/') {
		p = t;
	} else if (req->target_len > 7 &&
	    (http_token_equal(t, 7, "http://") ||
	    (req->target_len > 8 && http_token_equal(t, 8, "https://")))) {
		/* Absolute-form, section 3.2.2: its authority is the host. */
		const char *auth = memchr(t, ':', req->target_len) + 3;

		p = auth;
		while (p < end && *p != '/' && *p != '?')
			p++;
		if (p == auth || memchr(auth, '@', (size_t)(p - auth)) != NULL)
			return http_fail(req, 400, "bad authority in target");
		req->host = auth;
		req->host_len = (size_t)(p - auth);
		if (p == end || *p != '/') {
			/* An empty path is "/" (RFC 9110 section 4.2.3). */
			req->path = "/";
			req->path_len = 1;
			if (p < end && *p == '?') {
				req->query = p + 1;
				req->query_len = (size_t)(end - p - 1);
			}
			return 0;
		}
	} else {
		return http_fail(req, 400, "malformed request target");
	}
	q = memchr(p, '?', (size_t)(end - p));
	req->path = p;
	req->path_len = (size_t)((q != NULL ? q : end) - p);
	if (q != NULL) {
		req->query = q + 1;
		req->query_len = (size_t)(end - q - 1);
	}
	return 0;
}

static int
http_parse_request_line(const char *p, const char *eol,
    struct http_request *req)
{
	const char *sp1, *sp2, *c;
	size_t i;

	req->request_line = p;
	req->request_line_len = (size_t)(eol - p);
	for (c = p; c < eol && http_tchar[(unsigned char)*c]; c++)
		;
	if (c == p || c == eol || *c != ' ')
		return http_fail(req, 400, "malformed method");
	sp1 = c;
	req->method_name = p;
	req->method_len = (size_t)(sp1 - p);
	req->method = HTTP_METHOD_UNKNOWN;
	for (i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++)
		if (http_methods[i].len == req->method_len &&
		    memcmp(http_methods[i].name, p, req->method_len) == 0)
			req->method = http_methods[i].method;
	/* The target: visible ASCII only, no spaces (section 3.2). */
	for (c = sp1 + 1; c < eol && *c > ' ' && *c < 0x7f; c++)
		;
	if (c == sp1 + 1 || c == eol || *c != ' ')
		return http_fail(req, 400, "malformed request target");
	sp2 = c;
	req->target = sp1 + 1;
	req->target_len = (size_t)(sp2 - sp1 - 1);
	if (http_parse_version(sp2 + 1, (size_t)(eol - sp2 - 1), req) == -1)
		return -1;
	return http_parse_target(req);
}

static int
http_parse_uint(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * Steps through a comma-separated field value (RFC 9110 section 5.6.1):
 * sets *elem and *len to the next element without its surrounding
 * whitespace (possibly empty) and returns 1, or 0 at the end.  Every
 * element is seen, so an empty value is one empty element and "a," ends
 * with one: most fields skip them (5.6.1.2), Content-Length must not.
 */
static int
http_list_next(const char **v, const char *end, const char **elem,
    size_t *len)
{
	const char *p = *v, *comma, *e;

	if (p == NULL)
		return 0;
	comma = memchr(p, ',', (size_t)(end - p));
	e = comma != NULL ? comma : end;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*elem = p;
	*len = (size_t)(e - p);
	*v = comma != NULL ? comma + 1 : NULL;
	return 1;
}

/*
 * Content-Length is 1*DIGIT; a list of equal values is one value (RFC
 * 9110 section 8.6), but an empty element ("5,", ", 5", "5,,5") is not a
 * length and gets a 400 like any invalid one (RFC 9112 section 6.3).
 */
static int
http_on_content_length(const char *v, size_t len, struct http_request *req)
{
	const char *end = v + len, *elem;
	size_t elen;

	while (http_list_next(&v, end, &elem, &elen)) {
		int64_t n;

		if (http_parse_uint(elem, elen, &n) == -1)
			return http_fail(req, 400, "invalid Content-Length");
		if (req->content_length != -1 && req->content_length != n)
			return http_fail(req, 400, "conflicting Content-Length");
		req->content_length = n;
	}
	return 0;
}

/*
 * Transfer-Encoding: chunked must come last and once (RFC 9112 6.1, 6.3);
 * a body whose length cannot be known is a 400, a coding we do not
 * implement a 501.  Several fields form one list.
 */
static int
http_on_transfer_encoding(const char *v, size_t len, struct http_request *req,
    int *te)
{
	const char *end = v + len, *elem;
	size_t elen;

	while (http_list_next(&v, end, &elem, &elen)) {
		if (elen == 0)
			continue;
		if (req->chunked)
			return http_fail(req, 400, "a coding after chunked");
		if (http_token_equal(elem, elen, "chunked"))
			req->chunked = 1;
		else
			*te |= HTTP_TE_UNKNOWN;
	}
	*te |= HTTP_TE_PRESENT;
	return 0;
}

/*
 * Once all fields are read: chunked must be the final coding, else the
 * length is unknown (400, section 6.3); any other coding is one we do
 * not implement (501, section 6.1).
 */
static int
http_check_transfer_encoding(struct http_request *req, int te)
{
	if (!req->chunked)
		return http_fail(req, 400, "chunked is not the final coding");
	if (te & HTTP_TE_UNKNOWN)
		return http_fail(req, 501, "unsupported transfer coding");
	return 0;
}

/*
 * Expect is a list (RFC 9110 section 10.1.1) and its lines are one list
 * (5.3): empty elements are ignored (5.6.1.2), 100-continue is the one
 * expectation we know, and any other member gets a 417.
 */
static int
http_on_expect(const char *v, size_t len, struct http_request *req)
{
	const char *end = v + len, *elem;
	size_t elen;

	while (http_list_next(&v, end, &elem, &elen)) {
		if (elen == 0)
			continue;
		if (!http_token_equal(elem, elen, "100-continue"))
			return http_fail(req, 417, "unknown expectation");
		req->expect_continue = 1;
	}
	return 0;
}

static void
http_on_connection(const char *v, size_t len, int *close, int *keep)
{
	const char *end = v + len, *elem;
	size_t elen;

	while (http_list_next(&v, end, &elem, &elen)) {
		if (http_token_equal(elem, elen, "close"))
			*close = 1;
		else if (http_token_equal(elem, elen, "keep-alive"))
			*keep = 1;
	}
}

/* Parses "name: value" from p to eol into h; section 5. */
static int
http_parse_field(const char *p, const char *eol, struct http_header *h,
    struct http_request *req)
{
	const char *c = p, *v;

	if (*p == ' ' || *p == '\t')
		return http_fail(req, 400, "obsolete line folding");
	while (c < eol && http_tchar[(unsigned char)*c])
		c++;
	if (c == p || c == eol || *c != ':')
		return http_fail(req, 400, c < eol && (*c == ' ' || *c == '\t') ?
		    "whitespace before colon" : "malformed header field");
	h->name = p;
	h->name_len = (size_t)(c - p);
	for (v = c + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
		;
	h->value = v;
	for (c = v; c < eol; c++) {
		unsigned char ch = (unsigned char)*c;

		/* field-vchar, SP, HTAB; no other control byte, no bare CR. */
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return http_fail(req, 400, "control byte in field");
	}
	while (c > v && (c[-1] == ' ' || c[-1] == '\t'))
		c--;
	h->value_len = (size_t)(c - v);
	return 0;
}

static int
http_is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/*
 * uri-host [":" port] (RFC 9110 section 7.2, RFC 3986 section 3.2.2):
 * an IP-literal in brackets, or a reg-name/IPv4 of unreserved,
 * pct-encoded and sub-delims characters; then an optional ":" and digits.
 * Returns the length of the uri-host (the brackets included), which the
 * block's lookup takes without looking for the port again, or -1 when
 * h is not one.
 */
static long
http_host_name_len(const char *h, size_t len)
{
	/* reg-name characters: unreserved and sub-delims (RFC 3986 3.2.2). */
	static unsigned char regname[256];
	size_t i = 0, name;

	if (!regname['a']) {
		const char *extra = "-._~!$&'()*+,;=";
		int c;

		for (c = 0; c < 256; c++)
			regname[c] = (c >= 'a' && c <= 'z') ||
			    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    (c != 0 && strchr(extra, c) != NULL);
	}
	if (len > 0 && h[0] == '[') {
		for (i = 1; i < len && h[i] != ']'; i++)
			if (!http_is_hex((unsigned char)h[i]) && h[i] != ':' &&
			    h[i] != '.')
				return -1;
		if (i == len || i == 1)
			return -1;
		i++;
	} else {
		for (; i < len && h[i] != ':'; i++) {
			unsigned char c = (unsigned char)h[i];

			if (regname[c])
				continue;
			if (c == '%' && i + 2 < len &&
			    http_is_hex((unsigned char)h[i + 1]) &&
			    http_is_hex((unsigned char)h[i + 2])) {
				i += 2;
				continue;
			}
			return -1;
		}
	}
	name = i;
	if (i == len)
		return (long)name;
	if (h[i++] != ':')
		return -1;
	for (; i < len; i++)
		if (h[i] < '0' || h[i] > '9')
			return -1;
	return (long)name;
}

/*
 * The target URI's host: from an absolute-form target, else from Host
 * (RFC 9112 3.3), or :authority, else host, in HTTP/2 (RFC 9113
 * 8.3.1).  An "http" or "https" URI with an empty host is invalid, and
 * a recipient MUST reject it (RFC 9110 4.2.1): "Host:", "Host: :80" and
 * "http://:80/" are 400.  An absolute-form target's authority wins
 * over Host, which may then be empty (RFC 9110 7.2); without any Host
 * (HTTP/1.0) there is no target host to reject.
 */
int
http_request_check_host(struct http_request *req)
{
	if (req->host == NULL)
		return 0;
	if (req->host_len == 0 || req->host[0] == ':')
		return http_fail(req, 400, "empty host");
	return 0;
}

/* The other lines are found from the first (http_header_next). */
static void
http_keep_first(const struct http_header **field, const struct http_header *h)
{
	if (*field == NULL)
		*field = h;
}

static int
http_on_field(struct http_header *h, struct http_request *req,
    int *host_count, int *has_te, int *close, int *keep)
{
	const char *n = h->name;
	size_t len = h->name_len;
	long name;

	switch (len) {
	case 4:
		if (http_token_equal(n, len, "host")) {
			if (++*host_count > 1)
				return http_fail(req, 400, "repeated Host");
			/* Invalid even when an absolute-form target wins. */
			name = http_host_name_len(h->value, h->value_len);
			if (name == -1)
				return http_fail(req, 400, "invalid Host");
			if (req->host == NULL) {
				req->host = h->value;
				req->host_len = h->value_len;
				req->host_name_len = (size_t)name;
			}
		}
		break;
	case 5:
		if (http_token_equal(n, len, "range"))
			http_keep_first(&req->range, h);
		break;
	case 6:
		if (http_token_equal(n, len, "expect"))
			return http_on_expect(h->value, h->value_len, req);
		break;
	case 7:
		if (http_token_equal(n, len, "referer"))
			req->referer = h;
		break;
	case 8:
		if (http_token_equal(n, len, "if-range"))
			http_keep_first(&req->if_range, h);
		else if (http_token_equal(n, len, "if-match"))
			http_keep_first(&req->if_match, h);
		break;
	case 10:
		if (http_token_equal(n, len, "connection"))
			http_on_connection(h->value, h->value_len, close, keep);
		else if (http_token_equal(n, len, "user-agent"))
			req->user_agent = h;
		break;
	case 13:
		if (http_token_equal(n, len, "if-none-match"))
			http_keep_first(&req->if_none_match, h);
		break;
	case 14:
		if (http_token_equal(n, len, "content-length"))
			return http_on_content_length(h->value, h->value_len,
			    req);
		break;
	case 17:
		if (http_token_equal(n, len, "transfer-encoding"))
			return http_on_transfer_encoding(h->value, h->value_len,
			    req, has_te);
		if (http_token_equal(n, len, "if-modified-since"))
			http_keep_first(&req->if_modified_since, h);
		break;
	case 19:
		if (http_token_equal(n, len, "if-unmodified-since"))
			http_keep_first(&req->if_unmodified_since, h);
		break;
	}
	return 0;
}

void
http_request_reset(struct http_request *req)
{
	/* Unknown until the request line says: an error answered before it
	 * must not take the method of the worker's previous request. */
	req->method = HTTP_METHOD_UNKNOWN;
	req->path = NULL;
	req->path_len = 0;
	req->query = NULL;
	req->query_len = 0;
	req->nheaders = 0;
	req->host = NULL;
	req->host_len = 0;
	req->host_name_len = 0;
	req->content_length = -1;
	req->chunked = 0;
	req->keep_alive = 0;
	req->expect_continue = 0;
	req->if_none_match = NULL;
	req->if_modified_since = NULL;
	req->range = NULL;
	req->if_range = NULL;
	req->if_match = NULL;
	req->if_unmodified_since = NULL;
	req->user_agent = NULL;
	req->referer = NULL;
	req->status = 0;
	req->error = NULL;
	req->request_line = NULL;
	req->request_line_len = 0;
	req->version = 11;
}

int
http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	const char *p = buf, *end = buf + len, *eol, *next;
	int host_count = 0, has_te = 0, close = 0, keep = 0;

	http_request_reset(req);
	eol = http_line_end(p, end, &next);
	if (eol == NULL)
		return http_fail(req, 400, "no request line");
	if (http_parse_request_line(p, eol, req) == -1)
		return -1;
	for (p = next; p < end; p = next) {
		struct http_header *h;

		eol = http_line_end(p, end, &next);
		if (eol == NULL)
			return http_fail(req, 400, "unterminated field line");
		if (eol == p)
			break;	/* the empty line */
		if (req->nheaders == HTTP_MAX_HEADERS)
			return http_fail(req, 431, "too many header fields");
		h = &req->headers[req->nheaders++];
		if (http_parse_field(p, eol, h, req) == -1 ||
		    http_on_field(h, req, &host_count, &has_te, &close,
		    &keep) == -1)
			return -1;
	}
	/* Section 3.2: an HTTP/1.1 request carries exactly one Host. */
	if (req->version == 11 && host_count == 0)
		return http_fail(req, 400, "missing Host");
	/* A Host field was checked as it was read; a target's host here. */
	if (req->host != NULL && req->target[0] != '/') {
		long name = http_host_name_len(req->host, req->host_len);

		if (name == -1)
			return http_fail(req, 400, "invalid host in target");
		req->host_name_len = (size_t)name;
	}
	if (http_request_check_host(req) == -1)
		return -1;
	if (has_te) {
		/* Section 6.1: TE in 1.0 means faulty framing; TE with CL is
		 * a smuggling attempt.  Both are refused and closed. */
		if (http_check_transfer_encoding(req, has_te) == -1)
			return -1;
		if (req->version == 10)
			return http_fail(req, 400, "Transfer-Encoding in "
			    "HTTP/1.0");
		if (req->content_length != -1)
			return http_fail(req, 400, "both Transfer-Encoding "
			    "and Content-Length");
	}
	/* Section 9.3: 1.1 persists unless closed; 1.0 only when asked. */
	req->keep_alive = !close && (req->version == 11 || keep);
	return 0;
}

/*
 * HTTP/2 (RFC 9113 8.3.1) carries the request line as pseudo-header
 * fields, validated already by the framing library: this sets what
 * http_parse_request_line() would from :method and :path, for the same
 * checks of the target.  version is 20.  Returns 0, or -1 with status.
 */
int
http_request_set_line(struct http_request *req, const char *method,
    size_t method_len, const char *target, size_t target_len, int version)
{
	size_t i;

	req->method_name = method;
	req->method_len = method_len;
	req->method = HTTP_METHOD_UNKNOWN;
	for (i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++)
		if (http_methods[i].len == method_len &&
		    memcmp(http_methods[i].name, method, method_len) == 0)
			req->method = http_methods[i].method;
	req->version = version;
	req->target = target;
	req->target_len = target_len;
	if (req->method == HTTP_METHOD_CONNECT)
		return 0;
	if (target_len == 0)
		return http_fail(req, 400, "empty :path");
	return http_parse_target(req);
}

/*
 * A field line of an HTTP/2 request (lower-case name, value checked by
 * the framing library), kept as an HTTP/1.1 one would be, with the same
 * meaning given to Host, Content-Length, the preconditions and the rest.
 * The strings must live as long as req.  Returns 0, or -1 with status.
 */
int
http_request_add_field(struct http_request *req, const char *name,
    size_t name_len, const char *value, size_t value_len)
{
	struct http_header *h;
	int host_count = 0, has_te = 0, close = 0, keep = 0;
	size_t i;

	if (req->nheaders == HTTP_MAX_HEADERS)
		return http_fail(req, 431, "too many header fields");
	if (name_len == 4 && memcmp(name, "host", 4) == 0)
		for (i = 0; i < req->nheaders; i++)
			if (http_token_equal(req->headers[i].name,
			    req->headers[i].name_len, "host"))
				host_count++;
	h = &req->headers[req->nheaders++];
	h->name = name;
	h->name_len = name_len;
	h->value = value;
	h->value_len = value_len;
	return http_on_field(h, req, &host_count, &has_te, &close, &keep);
}

/* :authority, which HTTP/2 has in place of Host (RFC 9113 8.3.1). */
int
http_request_set_authority(struct http_request *req, const char *host,
    size_t len)
{
	long name = http_host_name_len(host, len);

	if (name == -1)
		return http_fail(req, 400, "invalid :authority");
	if (len == 0 || host[0] == ':')
		return http_fail(req, 400, "empty :authority");
	req->host = host;
	req->host_len = len;
	req->host_name_len = (size_t)name;
	return 0;
}
