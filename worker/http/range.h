/*
 * range.h: the Range field's byte ranges (range.c), RFC 9110 14.1.
 */
#ifndef FORKLOOP_HTTP_RANGE_H
#define FORKLOOP_HTTP_RANGE_H

#include <sys/types.h>
#include <stddef.h>

/*
 * At most this many ranges in one request; more get the whole file, as
 * do ranges that add up to more than the file: both guard against range
 * amplification (RFC 9110 17.15), a few request bytes asking for many
 * times the file.
 */
#define HTTP_RANGE_MAX 16

struct http_range {
	off_t start, len;
};

/* The satisfiable ranges of a request, coalesced, in request order. */
struct http_range_set {
	size_t n;
	struct http_range r[HTTP_RANGE_MAX];
};

enum http_range_result {
	HTTP_RANGE_OK,			/* set->n >= 1 ranges to send */
	HTTP_RANGE_IGNORE,		/* send it all: 200 */
	HTTP_RANGE_UNSATISFIABLE,	/* 416 */
};

/*
 * Parses a Range field value ("bytes=0-9,20-") for a file of size bytes
 * into set: the satisfiable ranges, with those that overlap or touch
 * merged into the first of them.  A value that is not a valid
 * ranges-specifier, that has more than HTTP_RANGE_MAX ranges or whose
 * satisfiable ranges add up to more than size, is ignored.
 */
enum http_range_result http_range_parse(const char *value, size_t len,
    off_t size, struct http_range_set *set);

#endif
