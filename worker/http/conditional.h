/*
 * conditional.h: preconditions and byte ranges for static files.
 */
#ifndef FORKLOOP_HTTP_CONDITIONAL_H
#define FORKLOOP_HTTP_CONDITIONAL_H

#include <sys/types.h>
#include <time.h>

struct http_range_set;
struct http_request;

enum http_conditional {
	HTTP_COND_FULL,			/* 200 with the whole file */
	HTTP_COND_PARTIAL,		/* 206 with the ranges of the set */
	HTTP_COND_NOT_MODIFIED,		/* 304 */
	HTTP_COND_FAILED,		/* 412 */
	HTTP_COND_UNSATISFIABLE,	/* 416 */
};

/* What preconditions and If-Range compare: a representation's strong
 * ETag and modification time, and its length, which ranges are of. */
struct http_validators {
	const char *etag;
	time_t mtime;
	off_t size;
};

/*
 * Evaluates req against the representation v at the time of its
 * response's Date.  For a full answer the set holds one range, the
 * whole; for a partial one, the ranges to send (range.c).
 */
enum http_conditional http_conditional_eval(const struct http_request *req,
    const struct http_validators *v, struct http_range_set *set);

/* The same for any request, at time now; what the unit tests call. */
enum http_conditional http_conditional_check(const struct http_request *req,
    const struct http_validators *v, time_t now, struct http_range_set *set);

/* Evaluates req for a resource that has no validator (a route). */
enum http_conditional http_conditional_no_validator(
    const struct http_request *req);

/*
 * Parses an HTTP-date in any of its three forms (RFC 9110 section 5.6.7)
 * into *out; now places a two-digit year.  Returns 0, or -1.
 */
int http_date_parse(const char *s, size_t len, time_t now, time_t *out);

#endif
