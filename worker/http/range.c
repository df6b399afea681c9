/*
 * range.c: the byte ranges a Range field asks for (RFC 9110 14.1.2):
 * "bytes=" and a list of int-ranges ("0-9", "20-") and suffix-ranges
 * ("-5"), checked against the file's size.
 *
 * Ranges that start past the end are unsatisfiable and dropped (14.1.1);
 * when none is left the answer is 416.  Ranges that overlap or touch are
 * coalesced into the first of them (14.3 allows it; 15.3.7.2 asks that
 * the rest keep the request's order), so "0-99,50-149" is one part.
 * Many ranges, or ranges adding up to more than the file, are how a
 * small request asks for a huge answer (17.15): past HTTP_RANGE_MAX
 * ranges, or the file's size in total, the Range is ignored and the
 * whole file sent once.  Parsing stops at the cap, so a field of a
 * thousand ranges costs no more than one of seventeen.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "worker/http/parse.h"
#include "worker/http/range.h"

/* One spec's outcome. */
enum { RANGE_SPEC_OK, RANGE_SPEC_SKIP, RANGE_SPEC_BAD };

/* Digits at *p, as a number; -1 when there are none or too many. */
static off_t
http_range_number(const char **p, const char *end)
{
	off_t n = -1;

	while (*p < end && **p >= '0' && **p <= '9') {
		if (n > (off_t)(INT64_MAX / 10 - 10))
			return -2;
		n = (n < 0 ? 0 : n * 10) + (*(*p)++ - '0');
	}
	return n;
}

/*
 * One range-spec, [p, end) without spaces around it: into *r when it is
 * satisfiable (SKIP when not, BAD when it is not a range-spec, or one
 * that makes the whole field be ignored).
 */
static int
http_range_spec(const char *p, const char *end, off_t size,
    struct http_range *r)
{
	off_t first, last;

	first = http_range_number(&p, end);
	if (first == -2 || p == end || *p++ != '-')
		return RANGE_SPEC_BAD;
	last = http_range_number(&p, end);
	if (last == -2 || p != end || (first < 0 && last < 0))
		return RANGE_SPEC_BAD;
	if (first >= 0 && last >= 0 && last < first)
		return RANGE_SPEC_BAD;	/* the field is ignored */
	/*
	 * An empty file has no byte for a 206 to carry: a range from its
	 * start gets it whole, as nginx does, while one that starts after
	 * it stays unsatisfiable (14.1.1).
	 */
	if (size == 0 && first <= 0)
		return RANGE_SPEC_BAD;
	if (first < 0) {
		/* suffix-range: the last `last` bytes; "-0" is none. */
		if (last == 0)
			return RANGE_SPEC_SKIP;
		r->start = last >= size ? 0 : size - last;
		r->len = size - r->start;
		return RANGE_SPEC_OK;
	}
	if (first >= size)
		return RANGE_SPEC_SKIP;
	if (last < 0 || last >= size)
		last = size - 1;
	r->start = first;
	r->len = last - first + 1;
	return RANGE_SPEC_OK;
}

/* Whether a and b overlap or touch: then they are one range. */
static int
http_range_joins(const struct http_range *a, const struct http_range *b)
{
	return a->start <= b->start + b->len && b->start <= a->start + a->len;
}

/*
 * Adds r to set, merged into the first range it overlaps or touches; a
 * merge can make that range reach later ones, which are merged in turn.
 */
static void
http_range_add(struct http_range_set *set, const struct http_range *r)
{
	struct http_range *into = NULL;
	off_t end;
	size_t i, j;

	for (i = 0; i < set->n && into == NULL; i++)
		if (http_range_joins(&set->r[i], r))
			into = &set->r[i];
	if (into == NULL) {
		set->r[set->n++] = *r;
		return;
	}
	end = into->start + into->len;
	if (r->start + r->len > end)
		end = r->start + r->len;
	if (r->start < into->start)
		into->start = r->start;
	into->len = end - into->start;
	for (j = 0; j < set->n; ) {
		struct http_range *o = &set->r[j];

		if (o == into || !http_range_joins(into, o)) {
			j++;
			continue;
		}
		end = into->start + into->len;
		if (o->start + o->len > end)
			end = o->start + o->len;
		if (o->start < into->start)
			into->start = o->start;
		into->len = end - into->start;
		if (o < into)
			into--;
		memmove(o, o + 1, (set->n - j - 1) * sizeof(*o));
		set->n--;
		j = 0;	/* grown, it may reach an earlier one now */
	}
}

enum http_range_result
http_range_parse(const char *value, size_t len, off_t size,
    struct http_range_set *set)
{
	const char *p = value, *end = value + len;
	size_t specs = 0;
	off_t total = 0;

	set->n = 0;
	if (len < 6 || !http_token_equal(p, 6, "bytes="))
		return HTTP_RANGE_IGNORE;
	p += 6;
	while (p < end) {
		const char *spec, *spec_end;
		struct http_range r;
		int rc;

		/* Empty list elements and spaces around commas (5.6.1). */
		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		if (p == end)
			break;
		spec = p;
		while (p < end && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		spec_end = p;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && *p != ',')
			return HTTP_RANGE_IGNORE;	/* a space inside */
		if (++specs > HTTP_RANGE_MAX)
			return HTTP_RANGE_IGNORE;
		rc = http_range_spec(spec, spec_end, size, &r);
		if (rc == RANGE_SPEC_BAD)
			return HTTP_RANGE_IGNORE;
		if (rc == RANGE_SPEC_SKIP)
			continue;
		total += r.len;
		if (total > size)
			return HTTP_RANGE_IGNORE;
		http_range_add(set, &r);
	}
	if (specs == 0)
		return HTTP_RANGE_IGNORE;
	return set->n == 0 ? HTTP_RANGE_UNSATISFIABLE : HTTP_RANGE_OK;
}
