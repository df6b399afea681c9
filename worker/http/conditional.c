/*
 * conditional.c: preconditions and byte ranges for static files,
 * RFC 9110 sections 13 (conditional requests) and 14 (range requests).
 *
 * Preconditions are evaluated in the order of section 13.2.2:
 * If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since, then
 * If-Range decides whether Range applies; range.c reads the ranges.
 * What is checked is a representation's validators (struct
 * http_validators): a file's, or its precompressed variant's.
 *
 * The parser keeps the first line of each field.  If-Match and
 * If-None-Match are lists, and their lines are one list (section 5.3);
 * the other fields hold one value, so a second line makes them invalid.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "worker/http/response.h"
#include "worker/http/conditional.h"
#include "worker/http/range.h"

/*
 * A two-digit year more than 50 years in the future is the most recent
 * past year with the same last two digits (RFC 9110 section 5.6.7): the
 * year is the latest one with those digits whose date is not more than
 * 50 years after now.
 */
static time_t
http_date_century(struct tm *tm, time_t now)
{
	struct tm limit;
	time_t t, limit_t;
	int yy = tm->tm_year % 100, year;

	if (gmtime_r(&now, &limit) == NULL)
		return timegm(tm);
	limit.tm_year += 50;
	limit_t = timegm(&limit);
	/* tm_year counts from 1900, which ends in 00. */
	year = limit.tm_year - (limit.tm_year % 100) + yy;
	if (year > limit.tm_year)
		year -= 100;
	tm->tm_year = year;
	t = timegm(tm);
	if (t > limit_t) {
		tm->tm_year -= 100;
		t = timegm(tm);
	}
	return t;
}

/*
 * strptime takes the 31st of February and second 61; an HTTP-date that
 * names no real moment is invalid, and so ignored, as nginx does.
 */
static int
http_tm_valid(const struct tm *tm)
{
	static const int days[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int year = tm->tm_year + 1900;
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (tm->tm_mon < 0 || tm->tm_mon > 11 || tm->tm_mday < 1 ||
	    tm->tm_mday > days[tm->tm_mon] || tm->tm_sec > 60)
		return 0;
	return !(tm->tm_mon == 1 && tm->tm_mday == 29 && !leap);
}

int
http_date_parse(const char *s, size_t len, time_t now, time_t *out)
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
		if (end == NULL || *end != '\0')
			continue;
		if (!http_tm_valid(&tm))
			return -1;
		/* strptime puts %y in 1969-2068 whatever the date now. */
		*out = i == 1 ? http_date_century(&tm, now) : timegm(&tm);
		return 0;
	}
	return -1;
}

/*
 * A field that holds one HTTP-date, as t.  A second line is a second
 * member, which makes the value invalid like any list of dates (13.1.3,
 * 13.1.4): then, or when it is not a date, the field is ignored.
 */
static int
http_single_date(const struct http_request *req, const struct http_header *h,
    time_t now, time_t *t)
{
	if (h == NULL || http_header_next(req, h) != NULL)
		return -1;
	return http_date_parse(h->value, h->value_len, now, t);
}

/*
 * Matches one line's list of entity tags against etag: 1 on a match, 0
 * on none, -1 at a malformed member.  Weak comparison ignores W/ on
 * either side; strong comparison fails on a weak tag (13.1.1).
 */
static int
http_etag_line_match(const struct http_header *h, const char *etag, int weak)
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
			return -1;
		tag = p;
		q = memchr(p + 1, '"', (size_t)(end - p - 1));
		if (q == NULL)
			return -1;
		p = q + 1;
		if ((size_t)(p - tag) == etag_len &&
		    memcmp(tag, etag, etag_len) == 0 && (weak || !is_weak))
			return 1;
	}
	return 0;
}

/*
 * Does the If-Match or If-None-Match list starting at h match etag?  Its
 * lines are read in order as one list, and a malformed member ends it as
 * it would on one line: no tag after it counts.
 */
static int
http_etag_match(const struct http_request *req, const struct http_header *h,
    const char *etag, int weak)
{
	int rc;

	for (; h != NULL; h = http_header_next(req, h))
		if ((rc = http_etag_line_match(h, etag, weak)) != 0)
			return rc == 1;
	return 0;
}

/*
 * If-Range holds one validator (section 13.1.5): the entity-tag must be
 * the current one under strong comparison, the date exactly the
 * Last-Modified, which must also be strong: at least a second before the
 * response's Date, now (8.8.2.2), or the file may have changed again
 * within its second.  Anything else, a second line too, sends it all.
 */
static int
http_if_range_holds(const struct http_request *req,
    const struct http_validators *v, time_t now)
{
	const struct http_header *h = req->if_range;
	time_t t;

	if (h == NULL)
		return 1;
	if (http_header_next(req, h) != NULL)
		return 0;
	if (h->value_len > 0 && h->value[0] == '"')
		return h->value_len == strlen(v->etag) &&
		    memcmp(h->value, v->etag, h->value_len) == 0;
	/* A weak tag never matches strongly; "Wed, ..." is a date. */
	if (h->value_len > 1 && h->value[0] == 'W' && h->value[1] == '/')
		return 0;
	return http_date_parse(h->value, h->value_len, now, &t) == 0 &&
	    t == v->mtime && v->mtime < now;
}

/* Range and If-Range, once the preconditions let the request through. */
static enum http_conditional
http_range_eval(const struct http_request *req,
    const struct http_validators *v, time_t now, struct http_range_set *set)
{
	const struct http_header *h = req->range;

	/* Range is one value: several lines are no ranges (14.2). */
	if (h == NULL || req->method != HTTP_METHOD_GET ||
	    http_header_next(req, h) != NULL ||
	    !http_if_range_holds(req, v, now))
		return HTTP_COND_FULL;
	switch (http_range_parse(h->value, h->value_len, v->size, set)) {
	case HTTP_RANGE_OK:
		return HTTP_COND_PARTIAL;
	case HTTP_RANGE_UNSATISFIABLE:
		return HTTP_COND_UNSATISFIABLE;
	default:
		set->n = 1;
		set->r[0].start = 0;
		set->r[0].len = v->size;
		return HTTP_COND_FULL;
	}
}

enum http_conditional
http_conditional_check(const struct http_request *req,
    const struct http_validators *v, time_t now, struct http_range_set *set)
{
	time_t t;

	set->n = 1;
	set->r[0].start = 0;
	set->r[0].len = v->size;
	if (req->if_match != NULL) {
		if (!http_etag_match(req, req->if_match, v->etag, 0))
			return HTTP_COND_FAILED;
	} else if (http_single_date(req, req->if_unmodified_since, now,
	    &t) == 0 && v->mtime > t)
		return HTTP_COND_FAILED;
	if (req->if_none_match != NULL) {
		if (http_etag_match(req, req->if_none_match, v->etag, 1))
			return HTTP_COND_NOT_MODIFIED;
	} else if (http_single_date(req, req->if_modified_since, now,
	    &t) == 0 && v->mtime <= t)
		return HTTP_COND_NOT_MODIFIED;
	return http_range_eval(req, v, now, set);
}

enum http_conditional
http_conditional_eval(const struct http_request *req,
    const struct http_validators *v, struct http_range_set *set)
{
	/* The clock the Date field is formatted from (http_date_now). */
	return http_conditional_check(req, v, http_time_now(), set);
}

/*
 * Preconditions on a resource without validators (a built-in route): no
 * entity-tag can match, "*" matches since the resource exists (RFC 9110,
 * 13.1.1 and 13.1.2), and the date conditions are ignored for want of a
 * Last-Modified (13.1.3, 13.1.4).
 */
enum http_conditional
http_conditional_no_validator(const struct http_request *req)
{
	if (req->if_match != NULL &&
	    !http_etag_match(req, req->if_match, "", 0))
		return HTTP_COND_FAILED;
	if (req->if_none_match != NULL &&
	    http_etag_match(req, req->if_none_match, "", 1))
		return req->method == HTTP_METHOD_GET ||
		    req->method == HTTP_METHOD_HEAD ?
		    HTTP_COND_NOT_MODIFIED : HTTP_COND_FAILED;
	return HTTP_COND_FULL;
}
