/*
 * conditional.h: preconditions and byte ranges for static files.
 */
#ifndef FORKLOOP_HTTP_CONDITIONAL_H
#define FORKLOOP_HTTP_CONDITIONAL_H

#include <sys/types.h>

struct file_cache_entry;
struct http_request;

enum http_conditional {
	HTTP_COND_FULL,			/* 200 with the whole file */
	HTTP_COND_PARTIAL,		/* 206 with [start, start + len) */
	HTTP_COND_NOT_MODIFIED,		/* 304 */
	HTTP_COND_FAILED,		/* 412 */
	HTTP_COND_UNSATISFIABLE,	/* 416 */
};

/*
 * Evaluates req against file e at the time of its response's Date.  For
 * a full or partial answer, sets [*start, *start + *len) to the bytes to
 * send.
 */
enum http_conditional http_conditional_eval(const struct http_request *req,
    const struct file_cache_entry *e, off_t *start, off_t *len);

/* The same for any request, at time now; what the unit tests call. */
enum http_conditional http_conditional_check(const struct http_request *req,
    const struct file_cache_entry *e, time_t now, off_t *start, off_t *len);

/* Evaluates req for a resource that has no validator (a route). */
enum http_conditional http_conditional_no_validator(
    const struct http_request *req);

/*
 * Parses an HTTP-date in any of its three forms (RFC 9110 section 5.6.7)
 * into *out; now places a two-digit year.  Returns 0, or -1.
 */
int http_date_parse(const char *s, size_t len, time_t now, time_t *out);

#endif
