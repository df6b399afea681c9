/*
 * range_test.c: unit tests for the Range field's parser
 * (worker/http/range.c): single and several ranges, suffix ranges,
 * unsatisfiable ones dropped, overlapping and touching ones coalesced in
 * the request's order, invalid fields ignored, and the amplification
 * caps (more than HTTP_RANGE_MAX ranges, or more bytes than the file).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "worker/http/range.h"
#include "tests/unit/tap.h"

struct range_case {
	const char *value;
	long long size;
	enum http_range_result want;
	const char *ranges;	/* "start+len ..." when OK */
};

static const struct range_case range_cases[] = {
	{ "bytes=0-9", 100, HTTP_RANGE_OK, "0+10" },
	{ "BYTES=0-9", 100, HTTP_RANGE_OK, "0+10" },
	{ "bytes=90-", 100, HTTP_RANGE_OK, "90+10" },
	{ "bytes=90-1000", 100, HTTP_RANGE_OK, "90+10" },
	{ "bytes=-10", 100, HTTP_RANGE_OK, "90+10" },
	{ "bytes=-1000", 100, HTTP_RANGE_OK, "0+100" },
	{ "bytes=0-0,-1", 100, HTTP_RANGE_OK, "0+1 99+1" },
	{ "bytes=10-19, 50-59", 100, HTTP_RANGE_OK, "10+10 50+10" },
	{ "bytes=50-59,10-19", 100, HTTP_RANGE_OK, "50+10 10+10" },
	{ "bytes= 0-1 ,, 5-6 ,", 100, HTTP_RANGE_OK, "0+2 5+2" },
	/* Coalesced: overlapping, touching, and a merge that then reaches
	 * an earlier range. */
	{ "bytes=0-9,5-14", 100, HTTP_RANGE_OK, "0+15" },
	{ "bytes=0-9,10-19", 100, HTTP_RANGE_OK, "0+20" },
	{ "bytes=30-39,0-9,10-29", 100, HTTP_RANGE_OK, "0+40" },
	{ "bytes=50-59,0-9,20-29,5-24", 100, HTTP_RANGE_OK, "50+10 0+30" },
	/* Unsatisfiable ranges dropped; none left is 416 (14.1.1). */
	{ "bytes=200-300", 100, HTTP_RANGE_UNSATISFIABLE, NULL },
	{ "bytes=200-300,100-", 100, HTTP_RANGE_UNSATISFIABLE, NULL },
	{ "bytes=-0", 100, HTTP_RANGE_UNSATISFIABLE, NULL },
	{ "bytes=200-300,0-4", 100, HTTP_RANGE_OK, "0+5" },
	/* Invalid: the field is ignored (14.2). */
	{ "bytes=5-1", 100, HTTP_RANGE_IGNORE, NULL },
	{ "bytes=0-1,5-1", 100, HTTP_RANGE_IGNORE, NULL },
	{ "bytes=", 100, HTTP_RANGE_IGNORE, NULL },
	{ "bytes=,", 100, HTTP_RANGE_IGNORE, NULL },
	{ "bytes=-", 100, HTTP_RANGE_IGNORE, NULL },
	{ "bytes=0 -1", 100, HTTP_RANGE_IGNORE, NULL },
	{ "bytes=a-b", 100, HTTP_RANGE_IGNORE, NULL },
	{ "items=0-1", 100, HTTP_RANGE_IGNORE, NULL },
	{ "bytes=99999999999999999999-", 100, HTTP_RANGE_IGNORE, NULL },
	/* Amplification: more bytes than the file, more than 16 ranges. */
	{ "bytes=0-,0-", 100, HTTP_RANGE_IGNORE, NULL },
	{ "bytes=0-59,40-99", 100, HTTP_RANGE_IGNORE, NULL },
	{ "bytes=0-49,40-89", 100, HTTP_RANGE_OK, "0+90" },
	{ "bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,16-16,18-18,20-20,"
	    "22-22,24-24,26-26,28-28,30-30", 100, HTTP_RANGE_OK,
	    "0+1 2+1 4+1 6+1 8+1 10+1 12+1 14+1 16+1 18+1 20+1 22+1 24+1 "
	    "26+1 28+1 30+1" },
	{ "bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,16-16,18-18,20-20,"
	    "22-22,24-24,26-26,28-28,30-30,32-32", 100, HTTP_RANGE_IGNORE,
	    NULL },
	/* Seventeen, of which one unsatisfiable: still too many. */
	{ "bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,16-16,18-18,20-20,"
	    "22-22,24-24,26-26,28-28,30-30,500-", 100, HTTP_RANGE_IGNORE,
	    NULL },
	/* An empty file: from its start, all of it; past it, 416. */
	{ "bytes=0-", 0, HTTP_RANGE_IGNORE, NULL },
	{ "bytes=-5", 0, HTTP_RANGE_IGNORE, NULL },
	{ "bytes=1-", 0, HTTP_RANGE_UNSATISFIABLE, NULL },
};

static const char *
result_name(enum http_range_result r)
{
	switch (r) {
	case HTTP_RANGE_OK:
		return "OK";
	case HTTP_RANGE_IGNORE:
		return "IGNORE";
	default:
		return "UNSATISFIABLE";
	}
}

static void
check_range(const struct range_case *rc)
{
	struct http_range_set set;
	enum http_range_result got;
	char ranges[512];
	size_t i, o = 0;

	got = http_range_parse(rc->value, strlen(rc->value), rc->size, &set);
	if (got != rc->want) {
		ok(0, "range: \"%s\" of %lld: %s", rc->value, rc->size,
		    result_name(rc->want));
		diag("  got %s", result_name(got));
		return;
	}
	if (got != HTTP_RANGE_OK) {
		ok(1, "range: \"%s\" of %lld: %s", rc->value, rc->size,
		    result_name(rc->want));
		return;
	}
	ranges[0] = '\0';
	for (i = 0; i < set.n && o < sizeof(ranges) - 48; i++)
		o += (size_t)snprintf(ranges + o, sizeof(ranges) - o,
		    "%s%lld+%lld", i > 0 ? " " : "", (long long)set.r[i].start,
		    (long long)set.r[i].len);
	is_str(ranges, rc->ranges, "range: \"%s\" of %lld: %s", rc->value,
	    rc->size, rc->ranges);
}

/* A thousand ranges stop at the cap. */
static void
test_many(void)
{
	static char value[16 * 1024];
	struct http_range_set set;
	size_t o, i;

	o = (size_t)snprintf(value, sizeof(value), "bytes=0-0");
	for (i = 1; i < 1000; i++)
		o += (size_t)snprintf(value + o, sizeof(value) - o, ",%zu-%zu",
		    i * 2, i * 2);
	is_int(http_range_parse(value, o, 1000000, &set), HTTP_RANGE_IGNORE,
	    "range: 1,000 ranges are ignored");
}

int
main(void)
{
	size_t i;

	plan((int)(sizeof(range_cases) / sizeof(range_cases[0])) + 1);
	for (i = 0; i < sizeof(range_cases) / sizeof(range_cases[0]); i++)
		check_range(&range_cases[i]);
	test_many();
	return done_testing();
}
