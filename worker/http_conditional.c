/*
 * http_conditional.c: preconditions and byte ranges for static files,
 * RFC 9110 sections 13 (conditional requests) and 14 (range requests).
 *
 * Preconditions are evaluated in the order of section 13.2.2:
 * If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since, then
 * If-Range decides whether Range applies.  Only a single range is
 * served; a request for several gets the whole file (section 14.2 lets a
 * server ignore Range), which every client handles.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "worker/file_cache.h"
#include "worker/http.h"
#include "worker/http_conditional.h"

/* HTTP-date in any of its three forms (RFC 9110 section 5.6.7). */
static int
http_parse_date(const char *s, size_t len, time_t *out)
{
	static const char *const formats[] = {
		"%a, %d %b %Y %H:%M:%S GMT",	/* IMF-fixdate */
		"%A, %d-%b-%y %H:%M:%S GMT",	/* obsolete RFC 850 */
		"%a %b %e %H:%M:%S %Y",		/* asctime() */
	};
	char text[64];
	size_t i;

	if (len >= sizeof(text))
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct tm tm;
		const char *end;

		memset(&tm, 0, sizeof(tm));
		end = strptime(text, formats[i], &tm);
		if (end != NULL && *end == '\0') {
			*out = timegm(&tm);
			return 0;
		}
	}
	return -1;
}

/*
 * Does the list of entity tags in h match etag?  Weak comparison ignores
 * W/ on either side; strong comparison fails on a weak tag (13.1.1).
 */
static int
http_etag_match(const struct http_header *h, const char *etag, int weak)
{
	const char *p = h->value, *end = h->value + h->value_len;
	size_t etag_len = strlen(etag);

	while (p < end) {
		const char *tag, *q;
		int is_weak = 0;

		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		if (p == end)
			break;
		if (*p == '*')
			return 1;
		if (end - p > 2 && p[0] == 'W' && p[1] == '/') {
			is_weak = 1;
			p += 2;
		}
		if (*p != '"')
			return 0;	/* malformed: no match */
		tag = p;
		q = memchr(p + 1, '"', (size_t)(end - p - 1));
		if (q == NULL)
			return 0;
		p = q + 1;
		if ((size_t)(p - tag) == etag_len &&
		    memcmp(tag, etag, etag_len) == 0 && (weak || !is_weak))
			return 1;
	}
	return 0;
}

/* Parses a single "bytes=" range; 0 ok, 1 unsatisfiable, -1 ignore. */
static int
http_parse_range(const struct http_header *h, off_t size, off_t *start,
    off_t *len)
{
	const char *p = h->value, *end = h->value + h->value_len;
	off_t first = -1, last = -1;

	if (h->value_len < 7 || !http_token_equal(p, 6, "bytes="))
		return -1;
	p += 6;
	if (memchr(p, ',', (size_t)(end - p)) != NULL)
		return -1;	/* several ranges: send it all */
	while (p < end && *p >= '0' && *p <= '9') {
		if (first > (off_t)(INT64_MAX / 10 - 10))
			return -1;
		first = (first < 0 ? 0 : first * 10) + (*p++ - '0');
	}
	if (p == end || *p++ != '-')
		return -1;
	while (p < end && *p >= '0' && *p <= '9') {
		if (last > (off_t)(INT64_MAX / 10 - 10))
			return -1;
		last = (last < 0 ? 0 : last * 10) + (*p++ - '0');
	}
	if (p != end || (first < 0 && last < 0))
		return -1;
	if (first < 0) {
		/* suffix-range: the last `last` bytes */
		if (last == 0 || size == 0)
			return 1;
		*start = last >= size ? 0 : size - last;
		*len = size - *start;
		return 0;
	}
	if (last >= 0 && last < first)
		return -1;
	if (first >= size)
		return 1;
	if (last < 0 || last >= size)
		last = size - 1;
	*start = first;
	*len = last - first + 1;
	return 0;
}

static int
http_if_range_holds(const struct file_cache_entry *e)
{
	const struct http_header *h = http_req.if_range;
	time_t t;

	if (h == NULL)
		return 1;
	if (h->value_len > 0 && (h->value[0] == '"' || h->value[0] == 'W'))
		return http_etag_match(h, e->etag, 0);
	return http_parse_date(h->value, h->value_len, &t) == 0 &&
	    t == e->st.st_mtime;
}

enum http_conditional
http_conditional_eval(const struct file_cache_entry *e, off_t *start,
    off_t *len)
{
	time_t t;
	int rc;

	*start = 0;
	*len = e->st.st_size;
	if (http_req.if_match != NULL) {
		if (!http_etag_match(http_req.if_match, e->etag, 0))
			return HTTP_COND_FAILED;
	} else if (http_req.if_unmodified_since != NULL &&
	    http_parse_date(http_req.if_unmodified_since->value,
	    http_req.if_unmodified_since->value_len, &t) == 0 &&
	    e->st.st_mtime > t)
		return HTTP_COND_FAILED;
	if (http_req.if_none_match != NULL) {
		if (http_etag_match(http_req.if_none_match, e->etag, 1))
			return HTTP_COND_NOT_MODIFIED;
	} else if (http_req.if_modified_since != NULL &&
	    http_parse_date(http_req.if_modified_since->value,
	    http_req.if_modified_since->value_len, &t) == 0 &&
	    e->st.st_mtime <= t)
		return HTTP_COND_NOT_MODIFIED;
	if (http_req.range == NULL || http_req.method != HTTP_METHOD_GET ||
	    !http_if_range_holds(e))
		return HTTP_COND_FULL;
	rc = http_parse_range(http_req.range, e->st.st_size, start, len);
	if (rc == -1) {
		*start = 0;
		*len = e->st.st_size;
		return HTTP_COND_FULL;
	}
	return rc == 1 ? HTTP_COND_UNSATISFIABLE : HTTP_COND_PARTIAL;
}
