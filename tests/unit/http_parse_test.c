/*
 * http_parse_test.c: unit tests for the request-head parser
 * (worker/http/parse.c), the chunked decoder (worker/http/chunked.c),
 * the path normaliser (worker/http/path.c), and the preconditions, ranges
 * and dates of static files (worker/http/conditional.c).
 *
 * The expectations come from RFC 9112 and RFC 9110, not from what the
 * code happens to do: where the two disagree the test fails, so a broken
 * rule shows up as "not ok" instead of being written down as correct.
 * Framing is tested at every split point of the input, since a request
 * smuggled past a parser usually hides in how bytes arrive over reads.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "worker/http/file_cache.h"
#include "worker/http/conditional.h"
#include "worker/http/range.h"
#include "worker/http/parse.h"
#include "tests/unit/tap.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
/* A string literal and its length, so a head may hold a NUL byte. */
#define S(s)		s, sizeof(s) - 1

static struct http_request req;

/* Compares a span of the buffer with a string; NULL matches NULL only. */
static int
span_is(const char *what, const char *p, size_t len, const char *want)
{
	if (p == NULL && want == NULL)
		return 1;
	if (p != NULL && want != NULL && strlen(want) == len &&
	    memcmp(p, want, len) == 0)
		return 1;
	diag("  %s: got %s%.*s%s, expected %s%s%s", what, p ? "\"" : "",
	    p ? (int)len : 4, p ? p : "NULL", p ? "\"" : "",
	    want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
	return 0;
}

static int
num_is(const char *what, long long got, long long want)
{
	if (got == want)
		return 1;
	diag("  %s: got %lld, expected %lld", what, got, want);
	return 0;
}

/* Part 1: whole heads, each checked field by field or for its status. */

struct valid_case {
	const char *name;
	const char *head;
	size_t len;
	enum http_method method;
	const char *path;
	const char *query;
	int version;
	const char *host;
	int64_t content_length;
	int chunked;
	int keep_alive;
	int expect_continue;
	size_t nheaders;
};

static const struct valid_case valid_cases[] = {
	{ "GET origin-form (RFC 9112 3.2.1)",
	    S("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 11, "example.com", -1, 0, 1, 0, 1 },
	{ "path and query split at the first '?' (RFC 9112 3.2.1)",
	    S("GET /a/b?x=1&y=2?z HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP_METHOD_GET, "/a/b", "x=1&y=2?z", 11, "h", -1, 0, 1, 0, 1 },
	{ "empty query is not no query",
	    S("GET /a? HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP_METHOD_GET, "/a", "", 11, "h", -1, 0, 1, 0, 1 },
	{ "percent-encoding is left to the normaliser",
	    S("GET /%41b?%20 HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP_METHOD_GET, "/%41b", "%20", 11, "h", -1, 0, 1, 0, 1 },
	{ "HEAD (RFC 9110 9.3.2)",
	    S("HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP_METHOD_HEAD, "/x", NULL, 11, "h", -1, 0, 1, 0, 1 },
	{ "POST with Content-Length (RFC 9112 6.2)",
	    S("POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"),
	    HTTP_METHOD_POST, "/f", NULL, 11, "h", 5, 0, 1, 0, 2 },
	{ "PUT", S("PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"),
	    HTTP_METHOD_PUT, "/f", NULL, 11, "h", 0, 0, 1, 0, 2 },
	{ "DELETE", S("DELETE /f HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP_METHOD_DELETE, "/f", NULL, 11, "h", -1, 0, 1, 0, 1 },
	{ "TRACE", S("TRACE / HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP_METHOD_TRACE, "/", NULL, 11, "h", -1, 0, 1, 0, 1 },
	{ "PATCH", S("PATCH /p HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP_METHOD_PATCH, "/p", NULL, 11, "h", -1, 0, 1, 0, 1 },
	{ "OPTIONS origin-form", S("OPTIONS /o HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP_METHOD_OPTIONS, "/o", NULL, 11, "h", -1, 0, 1, 0, 1 },
	{ "OPTIONS * asterisk-form has no path (RFC 9112 3.2.4)",
	    S("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP_METHOD_OPTIONS, NULL, NULL, 11, "h", -1, 0, 1, 0, 1 },
	{ "CONNECT authority-form has no path (RFC 9112 3.2.3)",
	    S("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"),
	    HTTP_METHOD_CONNECT, NULL, NULL, 11, "h:443", -1, 0, 1, 0, 1 },
	{ "unknown method is a token: parses (RFC 9110 9.1)",
	    S("PURGE /x HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP_METHOD_UNKNOWN, "/x", NULL, 11, "h", -1, 0, 1, 0, 1 },
	{ "methods are case-sensitive: \"get\" is unknown (RFC 9110 9.1)",
	    S("get / HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP_METHOD_UNKNOWN, "/", NULL, 11, "h", -1, 0, 1, 0, 1 },
	{ "method with tchar punctuation",
	    S("M-SEARCH /m HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP_METHOD_UNKNOWN, "/m", NULL, 11, "h", -1, 0, 1, 0, 1 },
	{ "HTTP/1.0 needs no Host and does not persist (RFC 9112 9.3)",
	    S("GET / HTTP/1.0\r\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 10, NULL, -1, 0, 0, 0, 0 },
	{ "HTTP/1.0 with Connection: keep-alive persists (RFC 9112 C.2.2)",
	    S("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 10, NULL, -1, 0, 1, 0, 1 },
	{ "HTTP/1.0 connection options are case-insensitive",
	    S("GET / HTTP/1.0\r\nHost: h\r\nconnection: Keep-Alive\r\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 10, "h", -1, 0, 1, 0, 2 },
	{ "HTTP/1.0 with Connection: close",
	    S("GET / HTTP/1.0\r\nConnection: close\r\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 10, NULL, -1, 0, 0, 0, 1 },
	{ "HTTP/1.0 with keep-alive, close: close wins",
	    S("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 10, NULL, -1, 0, 0, 0, 1 },
	{ "HTTP/1.1 with Connection: close (RFC 9112 9.6)",
	    S("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 11, "h", -1, 0, 0, 0, 2 },
	{ "HTTP/1.1 with Connection: Upgrade,CLOSE in a list",
	    S("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade,CLOSE\r\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 11, "h", -1, 0, 0, 0, 2 },
	{ "HTTP/1.1 close in a second Connection field",
	    S("GET / HTTP/1.1\r\nHost: h\r\nConnection: te\r\n"
	    "Connection: close\r\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 11, "h", -1, 0, 0, 0, 3 },
	{ "HTTP/1.1 with Connection: keep-alive",
	    S("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 11, "h", -1, 0, 1, 0, 2 },
	{ "HTTP/1.1 \"closed\" is not \"close\"",
	    S("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 11, "h", -1, 0, 1, 0, 2 },
	{ "HTTP/1.2 is handled as 1.1 (RFC 9110 6.2)",
	    S("GET / HTTP/1.2\r\nHost: h\r\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 11, "h", -1, 0, 1, 0, 1 },
	{ "HTTP/1.9 is handled as 1.1 and so needs Host",
	    S("GET / HTTP/1.9\r\nHost: h\r\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 11, "h", -1, 0, 1, 0, 1 },
	{ "Expect: 100-continue (RFC 9110 10.1.1)",
	    S("PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "Expect: 100-continue\r\n\r\n"),
	    HTTP_METHOD_PUT, "/f", NULL, 11, "h", 3, 0, 1, 1, 3 },
	{ "Expect is case-insensitive (RFC 9110 10.1.1)",
	    S("PUT /f HTTP/1.1\r\nHost: h\r\nexpect: 100-Continue\r\n"
	    "Content-Length: 3\r\n\r\n"),
	    HTTP_METHOD_PUT, "/f", NULL, 11, "h", 3, 0, 1, 1, 3 },
	{ "Expect: 100-continue, with an empty element (RFC 9110 5.6.1.2)",
	    S("PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "Expect: 100-continue,\r\n\r\n"),
	    HTTP_METHOD_PUT, "/f", NULL, 11, "h", 3, 0, 1, 1, 3 },
	{ "Expect: , 100-continue ,, (RFC 9110 5.6.1.2)",
	    S("PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "Expect: , 100-continue ,,\r\n\r\n"),
	    HTTP_METHOD_PUT, "/f", NULL, 11, "h", 3, 0, 1, 1, 3 },
	{ "Expect: 100-continue, 100-continue (RFC 9110 10.1.1)",
	    S("PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "Expect: 100-continue, 100-CONTINUE\r\n\r\n"),
	    HTTP_METHOD_PUT, "/f", NULL, 11, "h", 3, 0, 1, 1, 3 },
	{ "Expect: 100-continue on two lines (RFC 9110 5.3)",
	    S("PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
	    "Content-Length: 3\r\nExpect: 100-continue\r\n\r\n"),
	    HTTP_METHOD_PUT, "/f", NULL, 11, "h", 3, 0, 1, 1, 4 },
	{ "an empty Expect is ignored (RFC 9110 5.6.1.2)",
	    S("PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "Expect:\r\n\r\n"),
	    HTTP_METHOD_PUT, "/f", NULL, 11, "h", 3, 0, 1, 0, 3 },
	{ "Expect: \", ,\" is ignored (RFC 9110 5.6.1.2)",
	    S("PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "Expect: , ,\r\n\r\n"),
	    HTTP_METHOD_PUT, "/f", NULL, 11, "h", 3, 0, 1, 0, 3 },
	{ "an empty Expect line beside 100-continue (RFC 9110 5.3)",
	    S("PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "Expect:\r\nExpect: 100-continue\r\n\r\n"),
	    HTTP_METHOD_PUT, "/f", NULL, 11, "h", 3, 0, 1, 1, 4 },
	{ "Transfer-Encoding: chunked (RFC 9112 6.1)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n"),
	    HTTP_METHOD_POST, "/", NULL, 11, "h", -1, 1, 1, 0, 2 },
	{ "coding names are case-insensitive (RFC 9112 7)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nTRANSFER-ENCODING: Chunked\r\n"
	    "\r\n"),
	    HTTP_METHOD_POST, "/", NULL, 11, "h", -1, 1, 1, 0, 2 },
	{ "chunked with OWS and an empty list element (RFC 9110 5.6.1)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , chunked \r\n"
	    "\r\n"),
	    HTTP_METHOD_POST, "/", NULL, 11, "h", -1, 1, 1, 0, 2 },
	{ "the same Content-Length twice (RFC 9110 8.6)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
	    "Content-Length: 5\r\n\r\n"),
	    HTTP_METHOD_POST, "/", NULL, 11, "h", 5, 0, 1, 0, 3 },
	{ "Content-Length: 5, 5 (RFC 9110 8.6)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n"),
	    HTTP_METHOD_POST, "/", NULL, 11, "h", 5, 0, 1, 0, 2 },
	{ "Content-Length: 3, 3 and 3 on two lines (RFC 9110 8.6)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n"
	    "Content-Length: 3\r\n\r\n"),
	    HTTP_METHOD_POST, "/", NULL, 11, "h", 3, 0, 1, 0, 3 },
	{ "chunked with a trailing empty list element (RFC 9110 5.6.1.2)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked,\r\n"
	    "\r\n"),
	    HTTP_METHOD_POST, "/", NULL, 11, "h", -1, 1, 1, 0, 2 },
	{ "Connection: close, with an empty element (RFC 9110 5.6.1.2)",
	    S("GET / HTTP/1.1\r\nHost: h\r\nConnection: close,\r\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 11, "h", -1, 0, 0, 0, 2 },
	{ "Content-Length with leading zeros is decimal",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n"),
	    HTTP_METHOD_POST, "/", NULL, 11, "h", 7, 0, 1, 0, 2 },
	{ "Content-Length of 2^62",
	    S("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 4611686018427387904\r\n\r\n"),
	    HTTP_METHOD_POST, "/", NULL, 11, "h", INT64_C(4611686018427387904),
	    0, 1, 0, 2 },
	{ "field names are case-insensitive (RFC 9110 5.1)",
	    S("POST / HTTP/1.1\r\nhOsT: h\r\ncontent-LENGTH: 3\r\n\r\n"),
	    HTTP_METHOD_POST, "/", NULL, 11, "h", 3, 0, 1, 0, 2 },
	{ "OWS around a value is not part of it (RFC 9112 5)",
	    S("GET / HTTP/1.1\r\nHost: \t h \t \r\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 11, "h", -1, 0, 1, 0, 1 },
	{ "no space after the colon",
	    S("GET / HTTP/1.1\r\nHost:h\r\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 11, "h", -1, 0, 1, 0, 1 },
	{ "an empty Host beside an absolute-form target (RFC 9110 7.2)",
	    S("GET http://h/p HTTP/1.1\r\nHost:\r\n\r\n"),
	    HTTP_METHOD_GET, "/p", NULL, 11, "h", -1, 0, 1, 0, 1 },
	{ "absolute-form sets host and path, Host ignored (RFC 9112 3.2.2)",
	    S("GET http://h/p?q HTTP/1.1\r\nHost: other\r\n\r\n"),
	    HTTP_METHOD_GET, "/p", "q", 11, "h", -1, 0, 1, 0, 1 },
	{ "absolute-form with an empty path is \"/\" (RFC 9110 4.2.3)",
	    S("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 11, "h", -1, 0, 1, 0, 1 },
	{ "absolute-form with a query and no path",
	    S("GET http://h?q=1 HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP_METHOD_GET, "/", "q=1", 11, "h", -1, 0, 1, 0, 1 },
	{ "absolute-form https, scheme case-insensitive, with a port",
	    S("GET HTTPS://H:8443/x HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP_METHOD_GET, "/x", NULL, 11, "H:8443", -1, 0, 1, 0, 1 },
	{ "absolute-form in HTTP/1.0 without Host",
	    S("GET http://h/p HTTP/1.0\r\n\r\n"),
	    HTTP_METHOD_GET, "/p", NULL, 10, "h", -1, 0, 0, 0, 0 },
	{ "obs-text in a value is accepted (RFC 9112 5.5)",
	    S("GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9 \xff\r\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 11, "h", -1, 0, 1, 0, 2 },
	{ "HTAB inside a value (RFC 9110 5.5)",
	    S("GET / HTTP/1.1\r\nHost: h\r\nX: a\tb\r\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 11, "h", -1, 0, 1, 0, 2 },
	{ "bare LF line endings (RFC 9112 2.2)",
	    S("GET /lf HTTP/1.1\nHost: h\nContent-Length: 1\n\n"),
	    HTTP_METHOD_GET, "/lf", NULL, 11, "h", 1, 0, 1, 0, 2 },
	{ "mixed CRLF and LF line endings",
	    S("GET / HTTP/1.1\nHost: h\r\nX: y\n\r\n"),
	    HTTP_METHOD_GET, "/", NULL, 11, "h", -1, 0, 1, 0, 2 },
	{ "':' and '@' are allowed in an origin-form path",
	    S("GET /a:b@c HTTP/1.1\r\nHost: h\r\n\r\n"),
	    HTTP_METHOD_GET, "/a:b@c", NULL, 11, "h", -1, 0, 1, 0, 1 },
};

struct invalid_case {
	const char *name;
	const char *head;
	size_t len;
	int status;
};

static const struct invalid_case invalid_cases[] = {
	/* Field syntax, RFC 9112 section 5. */
	{ "whitespace before the colon (RFC 9112 5.1)",
	    S("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), 400 },
	{ "tab before the colon (RFC 9112 5.1)",
	    S("GET / HTTP/1.1\r\nHost: h\r\nX\t: y\r\n\r\n"), 400 },
	{ "obs-fold (RFC 9112 5.2)",
	    S("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"), 400 },
	{ "obs-fold with a tab (RFC 9112 5.2)",
	    S("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n"), 400 },
	{ "whitespace after the request line (RFC 9112 2.2)",
	    S("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), 400 },
	{ "empty field name (RFC 9110 5.1)",
	    S("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n"), 400 },
	{ "non-tchar in a field name (RFC 9110 5.6.2)",
	    S("GET / HTTP/1.1\r\nHost: h\r\nX(y): v\r\n\r\n"), 400 },
	{ "field line without a colon",
	    S("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n"), 400 },
	{ "NUL in a field value (RFC 9110 5.5)",
	    S("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"), 400 },
	{ "control byte 0x01 in a field value (RFC 9110 5.5)",
	    S("GET / HTTP/1.1\r\nHost: h\r\nX: a\001b\r\n\r\n"), 400 },
	{ "DEL in a field value (RFC 9110 5.5)",
	    S("GET / HTTP/1.1\r\nHost: h\r\nX: a\177b\r\n\r\n"), 400 },
	{ "bare CR inside a field value (RFC 9112 2.2)",
	    S("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n"), 400 },
	{ "bare CR ending a field line (RFC 9112 2.2)",
	    S("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n"), 400 },
	{ "bare CR ending the request line (RFC 9112 2.2)",
	    S("GET / HTTP/1.1\rHost: h\r\n\r\n"), 400 },
	{ "NUL in a field name",
	    S("GET / HTTP/1.1\r\nHost: h\r\nX\0Y: v\r\n\r\n"), 400 },
	/* Host, RFC 9112 section 3.2. */
	{ "HTTP/1.1 without Host (RFC 9112 3.2)",
	    S("GET / HTTP/1.1\r\nX: y\r\n\r\n"), 400 },
	{ "absolute-form in HTTP/1.1 still needs Host (RFC 9112 3.2)",
	    S("GET http://h/ HTTP/1.1\r\n\r\n"), 400 },
	{ "two Host fields (RFC 9112 3.2)",
	    S("GET / HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n"), 400 },
	{ "two Host fields in HTTP/1.0 (RFC 9112 3.2)",
	    S("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n"), 400 },
	{ "Host with a space is an invalid value (RFC 9112 3.2)",
	    S("GET / HTTP/1.1\r\nHost: exa mple.com\r\n\r\n"), 400 },
	{ "Host with a path is an invalid value (RFC 9112 3.2)",
	    S("GET / HTTP/1.1\r\nHost: h/p\r\n\r\n"), 400 },
	/* The version, RFC 9112 section 2.3 and RFC 9110 section 6.2. */
	{ "HTTP/2.0 (RFC 9110 15.6.6)",
	    S("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505 },
	{ "HTTP/0.9 (RFC 9110 15.6.6)",
	    S("GET / HTTP/0.9\r\nHost: h\r\n\r\n"), 505 },
	{ "HTTP/3.1 (RFC 9110 15.6.6)",
	    S("GET / HTTP/3.1\r\nHost: h\r\n\r\n"), 505 },
	{ "HTTP/1 without a minor (RFC 9112 2.3)",
	    S("GET / HTTP/1\r\nHost: h\r\n\r\n"), 400 },
	{ "HTTP/11 (RFC 9112 2.3)",
	    S("GET / HTTP/11\r\nHost: h\r\n\r\n"), 400 },
	{ "HTTP/1.10, two minor digits (RFC 9112 2.3)",
	    S("GET / HTTP/1.10\r\nHost: h\r\n\r\n"), 400 },
	{ "HTTP/1.x (RFC 9112 2.3)",
	    S("GET / HTTP/1.x\r\nHost: h\r\n\r\n"), 400 },
	{ "lower-case http/1.1 (RFC 9112 2.3: case-sensitive)",
	    S("GET / http/1.1\r\nHost: h\r\n\r\n"), 400 },
	{ "no version, HTTP/0.9 style (RFC 9112 3)",
	    S("GET /\r\nHost: h\r\n\r\n"), 400 },
	{ "space after the version (RFC 9112 3)",
	    S("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), 400 },
	/* The request line, RFC 9112 section 3. */
	{ "non-tchar in the method (RFC 9110 9.1)",
	    S("GE(T / HTTP/1.1\r\nHost: h\r\n\r\n"), 400 },
	{ "obs-text in the method (RFC 9110 9.1)",
	    S("G\xc9T / HTTP/1.1\r\nHost: h\r\n\r\n"), 400 },
	{ "empty method (RFC 9112 3)",
	    S(" / HTTP/1.1\r\nHost: h\r\n\r\n"), 400 },
	{ "two spaces after the method (RFC 9112 3)",
	    S("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), 400 },
	{ "tab as the separator (RFC 9112 3)",
	    S("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n"), 400 },
	{ "space inside the target (RFC 9112 3.2)",
	    S("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n"), 400 },
	{ "obs-text inside the target (RFC 9112 3.2, RFC 3986)",
	    S("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n"), 400 },
	{ "relative target (RFC 9112 3.2)",
	    S("GET a/b HTTP/1.1\r\nHost: h\r\n\r\n"), 400 },
	{ "asterisk-form with GET (RFC 9112 3.2.4)",
	    S("GET * HTTP/1.1\r\nHost: h\r\n\r\n"), 400 },
	{ "asterisk-form with an unknown method (RFC 9112 3.2.4)",
	    S("M-SEARCH * HTTP/1.1\r\nHost: h\r\n\r\n"), 400 },
	{ "fragment in origin-form (RFC 9112 3.2.1)",
	    S("GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n"), 400 },
	{ "fragment in absolute-form path (RFC 9112 3.2.2)",
	    S("GET http://h/p#f HTTP/1.1\r\nHost: h\r\n\r\n"), 400 },
	{ "fragment right after an absolute-form authority (RFC 9112 3.2.2)",
	    S("GET http://h#f HTTP/1.1\r\nHost: h\r\n\r\n"), 400 },
	{ "fragment after an absolute-form query (RFC 9112 3.2.2)",
	    S("GET http://h?q#f HTTP/1.1\r\nHost: h\r\n\r\n"), 400 },
	{ "userinfo in absolute-form (RFC 9110 4.2.4)",
	    S("GET http://u:p@h/p HTTP/1.1\r\nHost: h\r\n\r\n"), 400 },
	{ "empty authority in absolute-form (RFC 9110 4.2.1)",
	    S("GET http:///p HTTP/1.1\r\nHost: h\r\n\r\n"), 400 },
	{ "an absolute-form authority of a port alone (RFC 9110 4.2.1)",
	    S("GET http://:80/p HTTP/1.1\r\nHost: h\r\n\r\n"), 400 },
	{ "an empty Host on origin-form (RFC 9110 4.2.1)",
	    S("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 400 },
	{ "a Host of whitespace on origin-form (RFC 9110 4.2.1)",
	    S("GET / HTTP/1.1\r\nHost: \t \r\n\r\n"), 400 },
	{ "a Host of a port alone (RFC 9110 4.2.1)",
	    S("GET / HTTP/1.1\r\nHost: :8080\r\n\r\n"), 400 },
	{ "an empty Host on asterisk-form (RFC 9112 3.3)",
	    S("OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n"), 400 },
	{ "an empty Host in HTTP/1.0 (RFC 9110 4.2.1)",
	    S("GET / HTTP/1.0\r\nHost:\r\n\r\n"), 400 },
	{ "a leading empty line is the connection's job (RFC 9112 2.2)",
	    S("\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), 400 },
	/* Framing, RFC 9112 section 6. */
	{ "Content-Length and Transfer-Encoding (RFC 9112 6.1)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 400 },
	{ "Transfer-Encoding and Content-Length (RFC 9112 6.1)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n"), 400 },
	{ "two different Content-Length fields (RFC 9112 6.3)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
	    "Content-Length: 6\r\n\r\n"), 400 },
	{ "Content-Length: 5, 6 (RFC 9112 6.3)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n"),
	    400 },
	{ "Content-Length not digits (RFC 9110 8.6)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n"),
	    400 },
	{ "Content-Length negative (RFC 9110 8.6)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"),
	    400 },
	{ "Content-Length with a plus sign (RFC 9110 8.6)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n"),
	    400 },
	{ "Content-Length in hex (RFC 9110 8.6)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n"),
	    400 },
	{ "Content-Length empty (RFC 9110 8.6)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n"), 400 },
	{ "Content-Length \"5 5\" (RFC 9110 8.6)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5 5\r\n\r\n"),
	    400 },
	{ "Content-Length: 3, with a trailing comma (RFC 9112 6.3)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3,\r\n\r\n"),
	    400 },
	{ "Content-Length: \"3, \" (RFC 9112 6.3)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, \r\n\r\n"),
	    400 },
	{ "Content-Length: , 3 with a leading comma (RFC 9112 6.3)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: , 3\r\n\r\n"),
	    400 },
	{ "Content-Length: 3,,3 with a doubled comma (RFC 9112 6.3)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3,,3\r\n\r\n"),
	    400 },
	{ "Content-Length: \",\" (RFC 9112 6.3)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ,\r\n\r\n"),
	    400 },
	{ "Content-Length: 3 then 3, on another line (RFC 9112 6.3)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "Content-Length: 3,\r\n\r\n"), 400 },
	{ "Content-Length: 3 then an empty line of it (RFC 9112 6.3)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "Content-Length:\r\n\r\n"), 400 },
	{ "Content-Length: 3, 4 (RFC 9112 6.3)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\n"),
	    400 },
	{ "Content-Length 2^63 overflows (RFC 9110 8.6)",
	    S("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 9223372036854775808\r\n\r\n"), 400 },
	{ "Content-Length of 30 digits overflows (RFC 9110 8.6)",
	    S("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 123456789012345678901234567890\r\n\r\n"), 400 },
	{ "Transfer-Encoding: gzip, chunked is 501 (RFC 9112 6.1)",
	    S("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: gzip, chunked\r\n\r\n"), 501 },
	{ "gzip and chunked in two fields are one list: 501 (RFC 9110 5.3)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 501 },
	{ "Transfer-Encoding: chunked, identity (RFC 9112 6.3)",
	    S("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: chunked, identity\r\n\r\n"), 400 },
	{ "Transfer-Encoding: identity (RFC 9112 6.3)",
	    S("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: identity\r\n\r\n"), 400 },
	{ "Transfer-Encoding: gzip alone (RFC 9112 6.3)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"),
	    400 },
	{ "Transfer-Encoding: chunked, chunked (RFC 9112 6.1)",
	    S("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: chunked, chunked\r\n\r\n"), 400 },
	{ "chunked in two Transfer-Encoding fields (RFC 9112 6.1)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 400 },
	{ "empty Transfer-Encoding (RFC 9112 6.3)",
	    S("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n"),
	    400 },
	{ "Transfer-Encoding in HTTP/1.0 (RFC 9112 6.1)",
	    S("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400 },
	/* Expectations, RFC 9110 section 10.1.1. */
	{ "Expect: something-else (RFC 9110 10.1.1)",
	    S("GET / HTTP/1.1\r\nHost: h\r\nExpect: something-else\r\n\r\n"),
	    417 },
	{ "Expect: 100-continue-ish (RFC 9110 10.1.1)",
	    S("GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continues\r\n\r\n"),
	    417 },
	{ "Expect: 100-continue, something-else (RFC 9110 10.1.1)",
	    S("GET / HTTP/1.1\r\nHost: h\r\n"
	    "Expect: 100-continue, something-else\r\n\r\n"), 417 },
	{ "Expect: something-else, (RFC 9110 10.1.1)",
	    S("GET / HTTP/1.1\r\nHost: h\r\nExpect: something-else,\r\n\r\n"),
	    417 },
	{ "Expect: 100-continue, then another on a second line (RFC 9110 5.3)",
	    S("GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
	    "Expect: x\r\n\r\n"), 417 },
	{ "Expect: 100-continue with a parameter (RFC 9110 10.1.1)",
	    S("GET / HTTP/1.1\r\nHost: h\r\n"
	    "Expect: 100-continue;a=1\r\n\r\n"), 417 },
};

static int
check_head_length(const char *head, size_t len)
{
	size_t scanned = 0, got;

	got = http_head_length(head, len, &scanned);
	if (got == len)
		return 1;
	diag("  http_head_length: got %zu, expected %zu", got, len);
	return 0;
}

static void
check_valid(const struct valid_case *vc)
{
	int pass = check_head_length(vc->head, vc->len);

	if (http_parse_request(vc->head, vc->len, &req) == -1) {
		diag("  failed with %d: %s", req.status, req.error);
		ok(0, "valid: %s", vc->name);
		return;
	}
	pass &= num_is("method", req.method, vc->method);
	pass &= span_is("path", req.path, req.path_len, vc->path);
	pass &= span_is("query", req.query, req.query_len, vc->query);
	pass &= num_is("version", req.version, vc->version);
	pass &= span_is("host", req.host, req.host_len, vc->host);
	pass &= num_is("content_length", req.content_length,
	    vc->content_length);
	pass &= num_is("chunked", req.chunked, vc->chunked);
	pass &= num_is("keep_alive", req.keep_alive, vc->keep_alive);
	pass &= num_is("expect_continue", req.expect_continue,
	    vc->expect_continue);
	pass &= num_is("nheaders", (long long)req.nheaders,
	    (long long)vc->nheaders);
	ok(pass, "valid: %s", vc->name);
}

static void
check_invalid(const struct invalid_case *ic)
{
	int pass = check_head_length(ic->head, ic->len);

	if (http_parse_request(ic->head, ic->len, &req) == 0) {
		diag("  parsed, expected status %d", ic->status);
		pass = 0;
	} else {
		pass &= num_is("status", req.status, ic->status);
		if (req.error == NULL) {
			diag("  no error message");
			pass = 0;
		}
	}
	ok(pass, "%d: %s", ic->status, ic->name);
}

/* The header array and the well-known fields it points to. */
static void
test_fields(void)
{
	static const char head[] = "GET /x?y HTTP/1.1\r\n"
	    "Host: h\r\nX-Custom-Name:  some value \t\r\nuser-AGENT: ua\r\n"
	    "REFERER: r\r\nRange: bytes=0-1\r\nif-range: \"e\"\r\n"
	    "If-Match: *\r\nIF-NONE-MATCH: \"e\"\r\n"
	    "If-Modified-Since: d1\r\nIf-Unmodified-Since: d2\r\n\r\n";
	const struct http_header *h = req.headers;
	int pass;

	if (!ok(http_parse_request(head, sizeof(head) - 1, &req) == 0,
	    "field list head parses")) {
		skip(5, "did not parse");
		return;
	}
	pass = span_is("request_line", req.request_line,
	    req.request_line_len, "GET /x?y HTTP/1.1") &
	    span_is("method_name", req.method_name, req.method_len, "GET") &
	    span_is("target", req.target, req.target_len, "/x?y");
	ok(pass, "request line, method name and target as received");
	pass = num_is("nheaders", (long long)req.nheaders, 10) &&
	    span_is("name 0", h[0].name, h[0].name_len, "Host") &
	    span_is("value 0", h[0].value, h[0].value_len, "h") &
	    span_is("name 1", h[1].name, h[1].name_len, "X-Custom-Name") &
	    span_is("value 1", h[1].value, h[1].value_len, "some value") &
	    span_is("name 2", h[2].name, h[2].name_len, "user-AGENT");
	ok(pass, "names kept as sent, values without OWS (RFC 9112 5)");
	pass = req.user_agent == &h[2] && req.referer == &h[3] &&
	    req.range == &h[4] && req.if_range == &h[5] &&
	    req.if_match == &h[6] && req.if_none_match == &h[7] &&
	    req.if_modified_since == &h[8] &&
	    req.if_unmodified_since == &h[9];
	ok(pass, "well-known fields found whatever their case");
	pass = http_parse_request(S("GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
	    &req) == 0 && req.user_agent == NULL && req.range == NULL &&
	    req.if_none_match == NULL && req.referer == NULL;
	ok(pass, "a reused request forgets the previous fields");
	pass = http_parse_request(S("GET / HTTP/1.1\r\nHost: h\r\n"
	    "If-Match: \"a\"\r\nX: y\r\nif-match: \"b\"\r\n"
	    "IF-MATCH: \"c\"\r\nIf-Matches: \"d\"\r\n\r\n"), &req) == 0 &&
	    req.if_match == &h[1] &&
	    http_header_next(&req, req.if_match) == &h[3] &&
	    http_header_next(&req, &h[3]) == &h[4] &&
	    http_header_next(&req, &h[4]) == NULL;
	ok(pass, "the first If-Match line is kept, http_header_next finds "
	    "the others whatever their case (RFC 9110 5.3)");
	pass = http_parse_request(S("GET / HTTP/1.1\r\nHost: h\r\n"
	    "Range: bytes=0-1\r\nIf-None-Match: \"a\"\r\n"
	    "If-Modified-Since: d1\r\nRange: bytes=2-3\r\n"
	    "If-None-Match: \"b\"\r\nIf-Modified-Since: d2\r\n\r\n"),
	    &req) == 0 && req.range == &h[1] && req.if_none_match == &h[2] &&
	    req.if_modified_since == &h[3] &&
	    http_header_next(&req, req.range) == &h[4] &&
	    http_header_next(&req, req.if_none_match) == &h[5] &&
	    http_header_next(&req, req.if_modified_since) == &h[6];
	ok(pass, "Range, If-None-Match, If-Modified-Since: the first line "
	    "and then the next");
	ok(http_token_equal("Chunked", 7, "chunked") &&
	    !http_token_equal("chunke", 6, "chunked") &&
	    !http_token_equal("chunkedx", 8, "chunked"),
	    "http_token_equal: case-insensitive, whole token only");
}

/* An 8000-byte target and the HTTP_MAX_HEADERS limit. */
static void
test_limits(void)
{
	size_t cap = 16384, len, i;
	char *buf = malloc(cap);
	int pass;

	if (buf == NULL) {
		skip(4, "out of memory");
		return;
	}
	memcpy(buf, "GET /", 5);
	memset(buf + 5, 'a', 8000);
	len = 5 + 8000;
	len += (size_t)snprintf(buf + len, cap - len,
	    "?q HTTP/1.1\r\nHost: h\r\n\r\n");
	pass = http_parse_request(buf, len, &req) == 0 &&
	    req.path_len == 8001 && span_is("query", req.query,
	    req.query_len, "q") && req.request_line_len == 8016;
	ok(pass, "a request line of 8016 bytes parses");

	len = (size_t)snprintf(buf, cap, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (i = 1; i < HTTP_MAX_HEADERS; i++)
		len += (size_t)snprintf(buf + len, cap - len, "X-%zu: v\r\n",
		    i);
	memcpy(buf + len, "\r\n", 2);
	pass = http_parse_request(buf, len + 2, &req) == 0 &&
	    req.nheaders == HTTP_MAX_HEADERS;
	ok(pass, "exactly HTTP_MAX_HEADERS (%d) fields parse",
	    HTTP_MAX_HEADERS);
	len += (size_t)snprintf(buf + len, cap - len, "X-last: v\r\n\r\n");
	pass = http_parse_request(buf, len, &req) == -1;
	ok(pass && req.status == 431,
	    "HTTP_MAX_HEADERS + 1 fields: 431 (RFC 6585 5)");
	if (!pass || req.status != 431)
		diag("  got status %d", req.status);
	ok(check_head_length(buf, len), "head_length finds a 101-field head");
	free(buf);
}

/* Part 2: finding the end of the head, RFC 9112 section 2.2. */

struct head_case {
	const char *name;
	const char *buf;
	size_t len;
	size_t head_len;	/* the rest is body or the next request */
};

static const struct head_case head_cases[] = {
	{ "CRLF", S("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), 27 },
	{ "bare LF", S("GET / HTTP/1.1\nHost: h\n\n"), 24 },
	{ "CRLF line, LF empty line", S("GET / HTTP/1.1\r\nHost: h\r\n\n"),
	    26 },
	{ "LF line, CRLF empty line", S("GET / HTTP/1.1\nHost: h\n\r\n"), 25 },
	{ "request line only", S("GET / HTTP/1.0\r\n\r\n"), 18 },
	{ "a CR after a line end is not an empty line",
	    S("GET / HTTP/1.1\r\nX: \r\n\rY\r\n\r\n"), 27 },
	{ "body of empty lines after the head",
	    S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n"
	    "\r\n\r\n"), 47 },
	{ "next request pipelined after the head",
	    S("GET /1 HTTP/1.1\nHost: h\n\nGET /2 HTTP/1.1\nHost: h\n\n"), 25 },
};

static void
check_head_case(const struct head_case *hc)
{
	size_t k, step, scanned, got;
	int pass;

	scanned = 0;
	is_int((long long)http_head_length(hc->buf, hc->len, &scanned),
	    (long long)hc->head_len, "head_length: %s", hc->name);

	/* Section 2.2: no strict prefix of a head is a head. */
	pass = 1;
	for (k = 0; k < hc->head_len && pass; k++) {
		scanned = 0;
		if ((got = http_head_length(hc->buf, k, &scanned)) != 0) {
			diag("  prefix of %zu bytes: got %zu", k, got);
			pass = 0;
		}
	}
	ok(pass, "head_length: %s: 0 on every strict prefix", hc->name);

	/* Bytes arriving in steps of 1 to 7, one scanned variable. */
	pass = 1;
	for (step = 1; step <= 7 && pass; step++) {
		scanned = 0;
		got = 0;
		for (k = step; got == 0; k += step) {
			if (k > hc->len)
				k = hc->len;
			got = http_head_length(hc->buf, k, &scanned);
			if (got == 0 && k == hc->len)
				break;
			if (got != 0 && (got != hc->head_len ||
			    k - step >= hc->head_len)) {
				diag("  step %zu: got %zu at %zu bytes", step,
				    got, k);
				pass = 0;
			}
		}
		if (got == 0) {
			diag("  step %zu: head end never found", step);
			pass = 0;
		}
	}
	ok(pass, "head_length: %s: same result when fed in steps", hc->name);
}

/* Part 3: two pipelined requests split at every byte. */

static int
same_request(const struct http_request *a, const struct http_request *b)
{
	size_t i;

	if (a->method != b->method || a->version != b->version ||
	    a->content_length != b->content_length ||
	    a->chunked != b->chunked || a->keep_alive != b->keep_alive ||
	    a->expect_continue != b->expect_continue ||
	    a->nheaders != b->nheaders || a->path_len != b->path_len ||
	    a->host_len != b->host_len || (a->query == NULL) !=
	    (b->query == NULL) || a->query_len != b->query_len)
		return 0;
	if (memcmp(a->path, b->path, a->path_len) != 0 ||
	    memcmp(a->host, b->host, a->host_len) != 0 ||
	    (a->query != NULL && memcmp(a->query, b->query, a->query_len)))
		return 0;
	for (i = 0; i < a->nheaders; i++)
		if (a->headers[i].name_len != b->headers[i].name_len ||
		    a->headers[i].value_len != b->headers[i].value_len ||
		    memcmp(a->headers[i].name, b->headers[i].name,
		    a->headers[i].name_len) != 0 ||
		    memcmp(a->headers[i].value, b->headers[i].value,
		    a->headers[i].value_len) != 0)
			return 0;
	return 1;
}

/*
 * Finds the head at buf[0..len) when only buf[0..split) has arrived
 * first, as the connection does: one scanned variable over both calls.
 */
static size_t
head_in_two_parts(const char *buf, size_t len, size_t split)
{
	size_t scanned = 0, got;

	if (split > len)
		split = len;
	if ((got = http_head_length(buf, split, &scanned)) != 0)
		return got;
	return http_head_length(buf, len, &scanned);
}

static void
check_pipelined(const char *name, const char *buf, size_t len,
    size_t body_len)
{
	static struct http_request want1, want2, got1, got2;
	size_t scanned = 0, len1, len2, split, h1, h2;
	int pass;

	len1 = http_head_length(buf, len, &scanned);
	scanned = 0;
	len2 = http_head_length(buf + len1, len - len1, &scanned);
	if (!ok(len1 > 0 && len2 > 0 && len1 + len2 + body_len == len &&
	    http_parse_request(buf, len1, &want1) == 0 &&
	    http_parse_request(buf + len1, len2, &want2) == 0 &&
	    want2.content_length == (int64_t)body_len,
	    "pipelined %s: both heads found and parsed whole", name)) {
		skip((int)len + 1, "the unsplit pair does not parse");
		return;
	}
	for (split = 0; split <= len; split++) {
		h1 = head_in_two_parts(buf, len, split);
		h2 = head_in_two_parts(buf + len1, len - len1,
		    split > len1 ? split - len1 : 0);
		pass = h1 == len1 && h2 == len2 &&
		    http_parse_request(buf, h1, &got1) == 0 &&
		    http_parse_request(buf + h1, h2, &got2) == 0 &&
		    same_request(&got1, &want1) && same_request(&got2, &want2);
		if (!pass)
			diag("  heads of %zu and %zu bytes, expected %zu and "
			    "%zu", h1, h2, len1, len2);
		ok(pass, "pipelined %s: split at %zu", name, split);
	}
}

/* Part 4: the chunked coding, RFC 9112 section 7.1. */

/*
 * Feeds in[0..len) as the connection would: first bytes [0, first), then
 * pieces of step bytes, calling again while a piece has bytes left.
 * Returns the last result, or -2 when the decoder makes no progress or
 * hands out data outside the piece.
 */
static int
chunked_feed(const char *in, size_t len, size_t first, size_t step,
    char *out, size_t *out_len, size_t *used)
{
	struct http_chunked c;
	const char *data;
	size_t off = 0, end = first, n, data_len;
	int rc = HTTP_CHUNKED_MORE;

	memset(&c, 0, sizeof(c));
	*out_len = 0;
	while (off < len && rc == HTTP_CHUNKED_MORE) {
		if (end > len)
			end = len;
		while (off < end) {
			rc = http_chunked_decode(&c, in + off, end - off, &n,
			    &data, &data_len);
			if (n > end - off)
				return -2;
			if (data_len > 0 && (data < in + off ||
			    data + data_len > in + off + n))
				return -2;
			if (data_len > 0)
				memcpy(out + *out_len, data, data_len);
			*out_len += data_len;
			off += n;
			if (rc != HTTP_CHUNKED_MORE)
				break;
			if (n == 0)
				return -2;
		}
		end += step;
	}
	*used = off;
	return rc;
}

struct chunked_case {
	const char *name;
	const char *in;
	size_t len;
	const char *body;	/* NULL: an error */
	size_t body_len;
	size_t used;		/* where the chunked body ends */
};

#define GOOD(name, in, body)	{ name, S(in), S(body), sizeof(in) - 1 }
#define BAD(name, in)		{ name, S(in), NULL, 0, 0 }

static const struct chunked_case chunked_cases[] = {
	GOOD("one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"),
	GOOD("three chunks", "3\r\nabc\r\n4\r\ndefg\r\n1\r\nh\r\n0\r\n\r\n",
	    "abcdefgh"),
	GOOD("no data", "0\r\n\r\n", ""),
	GOOD("upper-case hex", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789"),
	GOOD("lower-case hex", "a\r\n0123456789\r\n0\r\n\r\n", "0123456789"),
	GOOD("leading zeros", "00000000000000000005\r\nhello\r\n000\r\n\r\n",
	    "hello"),
	GOOD("CRLF inside the data", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n"),
	GOOD("extensions (RFC 9112 7.1.1)",
	    "5;name=value\r\nhello\r\n2 ; a ; b=\"q;s\"\r\n!!\r\n"
	    "0;last\r\n\r\n",
	    "hello!!"),
	GOOD("trailers (RFC 9112 7.1.2)",
	    "2\r\nok\r\n0\r\nX-Sum: 1\r\nY: \t2\r\n\r\n", "ok"),
	BAD("negative size", "-5\r\nhello\r\n0\r\n\r\n"),
	BAD("0x10 is not a chunk-size (RFC 9112 7.1)",
	    "0x10\r\n0123456789abcdef\r\n0\r\n\r\n"),
	BAD("junk right after the size (RFC 9112 7.1)",
	    "5g\r\nhello\r\n0\r\n\r\n"),
	BAD("17 hex digits overflow", "10000000000000000\r\nx\r\n0\r\n\r\n"),
	BAD("16 f's overflow", "ffffffffffffffff\r\nx\r\n0\r\n\r\n"),
	BAD("space before the size", " 5\r\nhello\r\n0\r\n\r\n"),
	BAD("empty size line", "\r\nhello\r\n0\r\n\r\n"),
	BAD("extension without a size", ";a\r\nhello\r\n0\r\n\r\n"),
	BAD("data longer than the size", "5\r\nhelloX\r\n0\r\n\r\n"),
	BAD("no CRLF after the data", "5\r\nhello0\r\n\r\n"),
	BAD("bare LF after the data", "5\r\nhello\n0\r\n\r\n"),
	BAD("bare LF after the size", "5\nhello\r\n0\r\n\r\n"),
	BAD("bare CR after the size", "5\rhello\r\n0\r\n\r\n"),
	BAD("bare LF ending the last chunk", "0\n\r\n"),
	BAD("bare LF ending a trailer", "0\r\nX: y\n\r\n"),
	BAD("bare LF ending the trailers", "0\r\n\n"),
	BAD("control byte in an extension", "5;a\001b\r\nhello\r\n0\r\n\r\n"),
	BAD("NUL in an extension", "5;a\0b\r\nhello\r\n0\r\n\r\n"),
	BAD("DEL in a trailer", "0\r\nX: \177\r\n\r\n"),
	/* RFC 9112 7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name
	 * [ BWS "=" BWS chunk-ext-val ] ), names tokens, values tokens or
	 * quoted-strings. */
	GOOD("BWS around ';' and '=' (RFC 9112 7.1.1)",
	    "5 ;\tn = v\r\nhello\r\n0\r\n\r\n", "hello"),
	GOOD("a quoted value with quoted-pairs and obs-text",
	    "5;n=\"a \\\" \\\\ ;=\x80\"\r\nhello\r\n0\r\n\r\n", "hello"),
	GOOD("an empty quoted value", "5;n=\"\"\r\nhello\r\n0\r\n\r\n",
	    "hello"),
	GOOD("several extensions, tchar names",
	    "5;a;b=c;!#$%&'*+-.^_`|~=1\r\nhello\r\n0\r\n\r\n", "hello"),
	BAD("a bare ';' (RFC 9112 7.1.1: a name must follow)",
	    "5;\r\nhello\r\n0\r\n\r\n"),
	BAD("a bare ';' on the last chunk", "0;\r\n\r\n"),
	BAD("';' then only whitespace", "5; \r\nhello\r\n0\r\n\r\n"),
	BAD("two ';' in a row", "5;;a\r\nhello\r\n0\r\n\r\n"),
	BAD("whitespace after the size, then CRLF",
	    "5 \r\nhello\r\n0\r\n\r\n"),
	BAD("whitespace after a name, then CRLF",
	    "5;a \r\nhello\r\n0\r\n\r\n"),
	BAD("whitespace after a value, then CRLF",
	    "5;a=b\t\r\nhello\r\n0\r\n\r\n"),
	BAD("a name with '@' (not a tchar)", "5;a@b\r\nhello\r\n0\r\n\r\n"),
	BAD("a name with '/' (not a tchar)", "5;a/b\r\nhello\r\n0\r\n\r\n"),
	BAD("a name that is a quoted-string",
	    "5;\"a\"=b\r\nhello\r\n0\r\n\r\n"),
	BAD("'=' without a value", "5;a=\r\nhello\r\n0\r\n\r\n"),
	BAD("'=' without a name", "5;=b\r\nhello\r\n0\r\n\r\n"),
	BAD("a token value with '\"'", "5;a=b\"c\r\nhello\r\n0\r\n\r\n"),
	BAD("a token value with '='", "5;a=b=c\r\nhello\r\n0\r\n\r\n"),
	BAD("two words as a value", "5;a=b c\r\nhello\r\n0\r\n\r\n"),
	BAD("a quoted-string not closed",
	    "5;a=\"b\r\nhello\r\n0\r\n\r\n"),
	BAD("bytes after a quoted-string",
	    "5;a=\"b\"c\r\nhello\r\n0\r\n\r\n"),
	BAD("a control byte in a quoted-string",
	    "5;a=\"\001\"\r\nhello\r\n0\r\n\r\n"),
	BAD("a quoted-pair of a control byte",
	    "5;a=\"\\\001\"\r\nhello\r\n0\r\n\r\n"),
	BAD("a bare CR inside a quoted-string",
	    "5;a=\"\r\"\r\nhello\r\n0\r\n\r\n"),
	BAD("a bare LF inside an extension", "5;a\nhello\r\n0\r\n\r\n"),
	/* RFC 9112 7.1.2, 5: trailer lines are field lines. */
	BAD("a trailer without a colon", "0\r\nX-Sum 1\r\n\r\n"),
	BAD("a trailer without a name", "0\r\n: 1\r\n\r\n"),
	BAD("a space before a trailer's colon (RFC 9112 5.1)",
	    "0\r\nX : 1\r\n\r\n"),
	BAD("a trailer line folded (obs-fold, RFC 9112 5.2)",
	    "0\r\nX: 1\r\n 2\r\n\r\n"),
	GOOD("a trailer with an empty value", "0\r\nX:\r\n\r\n", ""),
};

static int
chunked_is(const struct chunked_case *cc, int rc, const char *out,
    size_t out_len, size_t used, const char *how)
{
	if (cc->body == NULL) {
		if (rc == HTTP_CHUNKED_ERROR)
			return 1;
		diag("  %s: got %d, expected an error", how, rc);
		return 0;
	}
	if (rc == HTTP_CHUNKED_DONE && out_len == cc->body_len &&
	    memcmp(out, cc->body, out_len) == 0 && used == cc->used)
		return 1;
	diag("  %s: got %d, %zu bytes \"%.*s\", used %zu", how, rc, out_len,
	    (int)out_len, out, used);
	return 0;
}

static void
check_chunked(const struct chunked_case *cc)
{
	char *out, *in;
	size_t out_len, used, split;
	int rc, pass;

	/* Bytes after the body belong to the next request. */
	in = malloc(cc->len + 5);
	out = malloc(cc->len + 5);
	if (in == NULL || out == NULL) {
		skip(3, "out of memory");
		free(in);
		free(out);
		return;
	}
	memcpy(in, cc->in, cc->len);
	memcpy(in + cc->len, "GET /", 5);
	rc = chunked_feed(in, cc->len + 5, cc->len + 5, 1, out, &out_len,
	    &used);
	ok(chunked_is(cc, rc, out, out_len, used, "whole"),
	    "chunked: %s: whole", cc->name);
	rc = chunked_feed(cc->in, cc->len, 1, 1, out, &out_len, &used);
	ok(chunked_is(cc, rc, out, out_len, used, "bytewise"),
	    "chunked: %s: a byte at a time", cc->name);
	pass = 1;
	for (split = 0; split <= cc->len && pass; split++) {
		char how[32];

		snprintf(how, sizeof(how), "split at %zu", split);
		rc = chunked_feed(cc->in, cc->len, split, cc->len, out,
		    &out_len, &used);
		pass = chunked_is(cc, rc, out, out_len, used, how);
	}
	ok(pass, "chunked: %s: every split point", cc->name);
	free(in);
	free(out);
}

/* Bounds on size lines and trailers, and a body cut short. */
static void
test_chunked_limits(void)
{
	static const char tail[] = "\r\nhello\r\n0\r\n\r\n";
	size_t cap = 16384, len, out_len, used;
	char *in = malloc(cap), *out = malloc(cap);
	int rc;

	if (in == NULL || out == NULL) {
		skip(5, "out of memory");
		free(in);
		free(out);
		return;
	}
	memcpy(in, "5;", 2);
	memset(in + 2, 'x', 4000);
	memcpy(in + 4002, tail, sizeof(tail) - 1);
	len = 4002 + sizeof(tail) - 1;
	rc = chunked_feed(in, len, 1, 1, out, &out_len, &used);
	ok(rc == HTTP_CHUNKED_DONE && out_len == 5 &&
	    memcmp(out, "hello", 5) == 0, "chunked: a 4000-byte extension");
	memset(in + 2, 'x', 4100);
	memcpy(in + 4102, tail, sizeof(tail) - 1);
	len = 4102 + sizeof(tail) - 1;
	rc = chunked_feed(in, len, len, 1, out, &out_len, &used);
	ok(rc == HTTP_CHUNKED_ERROR, "chunked: a 4100-byte extension fails");

	memcpy(in, "0\r\nX: ", 6);
	memset(in + 6, 'v', 9000);
	memcpy(in + 9006, "\r\n\r\n", 4);
	rc = chunked_feed(in, 9010, 9010, 1, out, &out_len, &used);
	ok(rc == HTTP_CHUNKED_ERROR, "chunked: a 9000-byte trailer fails");

	rc = chunked_feed(S("5\r\nhello\r\n0\r\n"), 100, 1, out, &out_len,
	    &used);
	ok(rc == HTTP_CHUNKED_MORE && out_len == 5 && used == 13,
	    "chunked: no end before the last empty line");
	rc = chunked_feed(S("fffffffffffffff\r\nab"), 100, 1, out, &out_len,
	    &used);
	ok(rc == HTTP_CHUNKED_MORE && out_len == 2,
	    "chunked: a 15-digit size is still a size");
	free(in);
	free(out);
}

/* Part 5: the path normaliser, RFC 3986 section 5.2.4. */

struct path_case {
	const char *in;
	const char *out;	/* NULL: refused */
};

static const struct path_case path_cases[] = {
	{ "/a/./b/../c", "/a/c" },
	{ "/", "/" },
	{ "//a//b", "/a/b" },
	{ "/a/", "/a/" },
	{ "/a/.", "/a/" },
	{ "/a/..", "/" },
	{ "/a/b/..", "/a/" },
	{ "/a/b/../../c", "/c" },
	{ "/.", "/" },
	{ "/./", "/" },
	{ "/..", NULL },
	{ "/../a", NULL },
	{ "/a/../..", NULL },
	{ "/a/b/../../../c", NULL },
	{ "/%2e%2e/x", NULL },
	{ "/%2E%2e", NULL },
	{ "/a/%2e%2e/%2e%2e/x", NULL },
	{ "/a/%2e", "/a/" },
	{ "/a%2fb", "/a/b" },
	{ "/a%2F..%2F..", NULL },
	{ "/a%20b", "/a b" },
	{ "/%41%62", "/Ab" },
	{ "/...", "/..." },
	{ "/.a/a.", "/.a/a." },
	{ "/a\\..\\b", "/a\\..\\b" },
	{ "/a/..\\b", "/a/..\\b" },
	{ "/%00", NULL },
	{ "/a%00b", NULL },
	{ "/%zz", NULL },
	{ "/%4", NULL },
	{ "/%", NULL },
	{ "/%g1", NULL },
	{ "", NULL },
	{ "a/b", NULL },
	{ "%2fa", NULL },
};

static void
check_path(const struct path_case *pc)
{
	char out[64];
	size_t len = strlen(pc->in);
	ssize_t n;

	memset(out, 'Z', sizeof(out));
	out[sizeof(out) - 1] = '\0';
	n = http_path_normalize(pc->in, len, out);
	if (pc->out == NULL) {
		if (!ok(n == -1, "path \"%s\" is refused", pc->in))
			diag("  got %zd \"%.*s\"", n, n > 0 ? (int)n : 0, out);
		return;
	}
	if (n < 0 || (size_t)n != strlen(out)) {
		ok(0, "path \"%s\" -> \"%s\"", pc->in, pc->out);
		diag("  got %zd", n);
		return;
	}
	is_str(out, pc->out, "path \"%s\" -> \"%s\"", pc->in, pc->out);
}

static void
test_percent_decode(void)
{
	char out[16];
	ssize_t n;

	n = http_percent_decode(S("a%2Fb%7e%41"), out);
	ok(n == 5 && strcmp(out, "a/b~A") == 0, "percent_decode: escapes");
	ok(http_percent_decode(S("%2"), out) == -1 &&
	    http_percent_decode(S("a%"), out) == -1 &&
	    http_percent_decode(S("%x1"), out) == -1 &&
	    http_percent_decode(S("%1x"), out) == -1,
	    "percent_decode: truncated or bad escapes (RFC 3986 2.1)");
	ok(http_percent_decode(S("%00"), out) == -1 &&
	    http_percent_decode(S("a\0b"), out) == -1,
	    "percent_decode: NUL, escaped or not");
	n = http_percent_decode(S("%2541"), out);
	ok(n == 3 && strcmp(out, "%41") == 0, "percent_decode: only once");
}

static int
hex_digit(char c)
{
	const char *digits = "0123456789abcdef0123456789ABCDEF";
	const char *p = c != '\0' ? strchr(digits, c) : NULL;

	return p == NULL ? -1 : (int)(p - digits) % 16;
}

/*
 * The same rules written the slow, obvious way: decode, split into
 * segments, keep a stack.  The last segment being "", "." or ".." keeps
 * a trailing slash.
 */
static ssize_t
reference_normalize(const char *in, size_t len, char *out)
{
	char dec[64];
	size_t seg_start[64], seg_len[64], nseg = 0, d = 0, i, o, s;
	int dir;

	if (len == 0 || in[0] != '/' || len >= sizeof(dec))
		return -1;
	for (i = 0; i < len; i++) {
		int hi, lo;

		if (in[i] != '%') {
			dec[d++] = in[i];
			continue;
		}
		if (i + 2 >= len || (hi = hex_digit(in[i + 1])) == -1 ||
		    (lo = hex_digit(in[i + 2])) == -1 || hi + lo == 0)
			return -1;
		dec[d++] = (char)(hi * 16 + lo);
		i += 2;
	}
	dir = 0;
	for (i = 1, s = 1; i <= d; i++) {
		size_t n;

		if (i < d && dec[i] != '/')
			continue;
		n = i - s;
		dir = n == 0 || (n == 1 && dec[s] == '.') ||
		    (n == 2 && dec[s] == '.' && dec[s + 1] == '.');
		if (n == 2 && dec[s] == '.' && dec[s + 1] == '.') {
			if (nseg == 0)
				return -1;
			nseg--;
		} else if (!dir) {
			seg_start[nseg] = s;
			seg_len[nseg++] = n;
		}
		s = i + 1;
	}
	for (i = 0, o = 0; i < nseg; i++) {
		out[o++] = '/';
		memcpy(out + o, dec + seg_start[i], seg_len[i]);
		o += seg_len[i];
	}
	if (o == 0 || dir)
		out[o++] = '/';
	out[o] = '\0';
	return (ssize_t)o;
}

/* What every normalised path must look like; 0 with a reason if not. */
static int
path_is_clean(const char *p, size_t len, const char **why)
{
	size_t i, s;

	*why = "does not start with '/'";
	if (len == 0 || p[0] != '/')
		return 0;
	*why = "holds a NUL";
	if (strlen(p) != len)
		return 0;
	for (i = 1, s = 1; i <= len; i++) {
		if (i < len && p[i] != '/')
			continue;
		*why = "has an empty segment";
		if (i == s && i < len)
			return 0;
		*why = "has a dot segment";
		if ((i - s == 1 && p[s] == '.') ||
		    (i - s == 2 && p[s] == '.' && p[s + 1] == '.'))
			return 0;
		s = i + 1;
	}
	return 1;
}

/* Checks one input: clean, agrees with the reference, a fixed point. */
static int
path_property(const char *in, size_t len)
{
	char out[64], ref[64], again[64];
	const char *why;
	ssize_t n, r, m;

	n = http_path_normalize(in, len, out);
	r = reference_normalize(in, len, ref);
	if (n != r || (n >= 0 && strcmp(out, ref) != 0)) {
		diag("  \"%.*s\": got %zd \"%s\", reference %zd \"%s\"",
		    (int)len, in, n, n >= 0 ? out : "", r, r >= 0 ? ref : "");
		return 0;
	}
	if (n < 0)
		return 1;
	if (!path_is_clean(out, (size_t)n, &why)) {
		diag("  \"%.*s\" -> \"%s\" %s", (int)len, in, out, why);
		return 0;
	}
	/* No '%' can survive this alphabet, so a result is a fixed point. */
	m = http_path_normalize(out, (size_t)n, again);
	if (m != n || strcmp(out, again) != 0) {
		diag("  \"%s\" normalised again gives \"%s\"", out, again);
		return 0;
	}
	return 1;
}

static void
test_path_properties(void)
{
	static const char alphabet[] = "/.a%2e";
	const size_t nalpha = sizeof(alphabet) - 1;
	char in[16];
	size_t digits[16], len, i, count;
	uint32_t seed = 2463534242U;
	int pass;

	/* Every string of '/' and then up to 7 letters of the alphabet. */
	pass = 1;
	count = 0;
	in[0] = '/';
	for (len = 1; len <= 8 && pass; len++) {
		memset(digits, 0, sizeof(digits));
		for (;;) {
			for (i = 1; i < len; i++)
				in[i] = alphabet[digits[i]];
			count++;
			if (!(pass = path_property(in, len)))
				break;
			for (i = 1; i < len && ++digits[i] == nalpha; i++)
				digits[i] = 0;
			if (i == len)
				break;
		}
	}
	ok(pass, "path: %zu exhaustive paths of \"%s\" up to 8 bytes are "
	    "clean and right", count, alphabet);

	/* 20000 random strings of up to 12 bytes, xorshift32 for the seed. */
	pass = 1;
	for (count = 0; count < 20000 && pass; count++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		len = seed % 13;
		for (i = 0; i < len; i++) {
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			in[i] = alphabet[seed % nalpha];
		}
		/* Most should start with '/' to get past the first check. */
		if (len > 0 && count % 8 != 0)
			in[0] = '/';
		pass = path_property(in, len);
	}
	ok(pass, "path: 20000 random paths up to 12 bytes are clean and "
	    "right");
}

/*
 * Part 6: HTTP-dates, preconditions and ranges, RFC 9110 sections 5.6.7,
 * 13 and 14.  The time "now" is passed in, so no result depends on the
 * day the tests run.
 */

/* Seconds since the epoch of a UTC date, month 1 to 12. */
static time_t
utc(int year, int mon, int day, int hour, int min, int sec)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	return timegm(&tm);
}

struct date_case {
	const char *text;
	int now_year;		/* now is 1 July of it, noon */
	int year, mon, day;	/* year 0: not a date */
	int hour, min, sec;
};

static const struct date_case date_cases[] = {
	{ "Sun, 06 Nov 1994 08:49:37 GMT", 2026, 1994, 11, 6,
	    8, 49, 37 },
	{ "Sunday, 06-Nov-94 08:49:37 GMT", 2026, 1994, 11, 6,
	    8, 49, 37 },
	{ "Sun Nov  6 08:49:37 1994", 2026, 1994, 11, 6,
	    8, 49, 37 },
	/* 2070 is 44 years ahead: not more than 50, so 2070. */
	{ "Wednesday, 01-Jan-70 00:00:00 GMT", 2026, 2070, 1, 1,
	    0, 0, 0 },
	/* 2080 is 54 years ahead: the most recent past 80 is 1980. */
	{ "Tuesday, 01-Jan-80 12:34:56 GMT", 2026, 1980, 1, 1,
	    12, 34, 56 },
	{ "Friday, 01-Jan-99 00:00:00 GMT", 2026, 1999, 1, 1,
	    0, 0, 0 },
	{ "Saturday, 01-Jan-00 00:00:00 GMT", 2026, 2000, 1, 1,
	    0, 0, 0 },
	{ "Thursday, 01-Jan-26 00:00:00 GMT", 2026, 2026, 1, 1,
	    0, 0, 0 },
	/* 50 years from 1 July 2026: January of 2076 is within, not Dec. */
	{ "Wednesday, 01-Jan-76 00:00:00 GMT", 2026, 2076, 1, 1,
	    0, 0, 0 },
	{ "Friday, 31-Dec-76 00:00:00 GMT", 2026, 1976, 12, 31,
	    0, 0, 0 },
	/* The same digits read at another time. */
	{ "Thursday, 01-Jan-70 00:00:00 GMT", 1990, 1970, 1, 1,
	    0, 0, 0 },
	{ "Wednesday, 01-Jan-20 00:00:00 GMT", 1990, 2020, 1, 1,
	    0, 0, 0 },
	{ "Friday, 01-Jan-00 00:00:00 GMT", 2099, 2100, 1, 1,
	    0, 0, 0 },
	{ "Wednesday, 01-Jan-49 00:00:00 GMT", 2099, 2149, 1, 1,
	    0, 0, 0 },
	{ "Saturday, 01-Jan-50 00:00:00 GMT", 2099, 2050, 1, 1,
	    0, 0, 0 },
	{ "Sunday, 01-Jan-51 00:00:00 GMT", 2099, 2051, 1, 1,
	    0, 0, 0 },
	/* Dates that name no real moment are not dates. */
	{ "Sun, 31 Feb 2027 00:00:00 GMT", 2026, 0, 0, 0, 0, 0, 0 },
	{ "Sun, 29 Nov 2026 06:08:61 GMT", 2026, 0, 0, 0, 0, 0, 0 },
	{ "Sun, 31 Apr 2026 00:00:00 GMT", 2026, 0, 0, 0, 0, 0, 0 },
	{ "Thu, 29 Feb 2029 00:00:00 GMT", 2026, 0, 0, 0, 0, 0, 0 },
	{ "Tue, 29 Feb 2028 00:00:00 GMT", 2026, 2028, 2, 29,
	    0, 0, 0 },
	{ "Thu Feb 29 00:00:00 2000", 2026, 2000, 2, 29,
	    0, 0, 0 },
	{ "yesterday", 2026, 0, 0, 0, 0, 0, 0 },
	{ "Sun, 06 Nov 1994 08:49:37 GMT x", 2026, 0, 0, 0, 0, 0, 0 },
	{ "", 2026, 0, 0, 0, 0, 0, 0 },
};

static void
check_date(const struct date_case *dc)
{
	time_t now = utc(dc->now_year, 7, 1, 12, 0, 0), t = 0;
	int rc = http_date_parse(dc->text, strlen(dc->text), now, &t);

	if (dc->year == 0) {
		ok(rc == -1, "date: \"%s\" is not an HTTP-date", dc->text);
		return;
	}
	if (rc == -1) {
		ok(0, "date: \"%s\" in %d", dc->text, dc->now_year);
		diag("  not parsed");
		return;
	}
	is_int((long long)t, (long long)utc(dc->year, dc->mon, dc->day,
	    dc->hour, dc->min, dc->sec),
	    "date: \"%s\" in %d is %d-%02d-%02d (RFC 9110 5.6.7)", dc->text,
	    dc->now_year, dc->year, dc->mon, dc->day);
}

/* The test file: 6 bytes, modified 2020-01-02 03:04:05 UTC, a Thursday. */
#define COND_ETAG	"\"5e0d5da5-6\""
#define COND_MTIME	"Thu, 02 Jan 2020 03:04:05 GMT"

struct cond_case {
	const char *name;
	const char *fields;	/* request fields after Host */
	enum http_method method;
	off_t size;
	time_t now;		/* 0: 2026-07-01 12:00:00 */
	enum http_conditional want;
	off_t start, len;	/* for a 206 */
};

static const struct cond_case cond_cases[] = {
	/* If-Match and If-None-Match: every line counts (RFC 9110 5.3). */
	{ "If-Match: the tag, then another tag on a second line",
	    "If-Match: " COND_ETAG "\r\nIf-Match: \"x\"\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_FULL, 0, 0 },
	{ "If-Match: another tag, then the tag on a second line",
	    "If-Match: \"x\"\r\nIf-Match: " COND_ETAG "\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_FULL, 0, 0 },
	{ "If-Match: two lines, neither the tag (13.1.1)",
	    "If-Match: \"x\"\r\nIf-Match: \"y\"\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_FAILED, 0, 0 },
	{ "If-Match: * on a second line",
	    "If-Match: \"x\"\r\nif-match: *\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_FULL, 0, 0 },
	{ "If-None-Match: the tag, then another tag on a second line",
	    "If-None-Match: " COND_ETAG "\r\nIf-None-Match: \"x\"\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_NOT_MODIFIED, 0, 0 },
	{ "If-None-Match: another tag, then the weak tag on a second line",
	    "If-None-Match: \"x\"\r\nIf-None-Match: W/" COND_ETAG "\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_NOT_MODIFIED, 0, 0 },
	{ "If-None-Match: two lines, neither the tag",
	    "If-None-Match: \"x\"\r\nIf-None-Match: \"y\"\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_FULL, 0, 0 },
	{ "If-None-Match: a malformed line ends the list as on one line",
	    "If-None-Match: x\r\nIf-None-Match: " COND_ETAG "\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_FULL, 0, 0 },
	{ "If-None-Match: the same list on one line",
	    "If-None-Match: x, " COND_ETAG "\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_FULL, 0, 0 },
	{ "If-None-Match on a second line still beats If-Modified-Since",
	    "If-None-Match: \"x\"\r\nIf-Modified-Since: " COND_MTIME "\r\n"
	    "If-None-Match: \"y\"\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_FULL, 0, 0 },
	/* The date fields: one member only (13.1.3, 13.1.4). */
	{ "If-Modified-Since: the mtime",
	    "If-Modified-Since: " COND_MTIME "\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_NOT_MODIFIED, 0, 0 },
	{ "If-Modified-Since on two lines is ignored (13.1.3)",
	    "If-Modified-Since: " COND_MTIME "\r\n"
	    "If-Modified-Since: " COND_MTIME "\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_FULL, 0, 0 },
	{ "If-Unmodified-Since on two lines is ignored (13.1.4)",
	    "If-Unmodified-Since: Wed, 01 Jan 2020 00:00:00 GMT\r\n"
	    "If-Unmodified-Since: Wed, 01 Jan 2020 00:00:00 GMT\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_FULL, 0, 0 },
	{ "If-Modified-Since: 01-Jan-70 is 2070, after the mtime (5.6.7)",
	    "If-Modified-Since: Wednesday, 01-Jan-70 00:00:00 GMT\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_NOT_MODIFIED, 0, 0 },
	{ "If-Modified-Since: 01-Jan-99 is 1999, before the mtime (5.6.7)",
	    "If-Modified-Since: Friday, 01-Jan-99 00:00:00 GMT\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_FULL, 0, 0 },
	{ "If-Unmodified-Since: 01-Jan-70 is 2070, after the mtime (5.6.7)",
	    "If-Unmodified-Since: Wednesday, 01-Jan-70 00:00:00 GMT\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_FULL, 0, 0 },
	{ "If-Unmodified-Since: 01-Jan-99 is 1999, before the mtime (5.6.7)",
	    "If-Unmodified-Since: Friday, 01-Jan-99 00:00:00 GMT\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_FAILED, 0, 0 },
	/* Ranges. */
	{ "Range: bytes=-2", "Range: bytes=-2\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_PARTIAL, 4, 2 },
	{ "Range: bytes=-0 is unsatisfiable (14.1.1)", "Range: bytes=-0\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_UNSATISFIABLE, 0, 0 },
	{ "Range on HEAD is ignored (14.2)", "Range: bytes=0-1\r\n",
	    HTTP_METHOD_HEAD, 6, 0, HTTP_COND_FULL, 0, 0 },
	{ "Range on two lines: no single range, all of it (14.2)",
	    "Range: bytes=0-1\r\nRange: bytes=2-3\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_FULL, 0, 0 },
	{ "an empty file, Range: bytes=-5: 200, as nginx",
	    "Range: bytes=-5\r\n", HTTP_METHOD_GET, 0, 0,
	    HTTP_COND_FULL, 0, 0 },
	{ "an empty file, Range: bytes=-0: 200, as nginx",
	    "Range: bytes=-0\r\n", HTTP_METHOD_GET, 0, 0,
	    HTTP_COND_FULL, 0, 0 },
	{ "an empty file, Range: bytes=0-: 200, as nginx",
	    "Range: bytes=0-\r\n", HTTP_METHOD_GET, 0, 0,
	    HTTP_COND_FULL, 0, 0 },
	{ "an empty file, Range: bytes=0-0: 200, as nginx",
	    "Range: bytes=0-0\r\n", HTTP_METHOD_GET, 0, 0,
	    HTTP_COND_FULL, 0, 0 },
	{ "an empty file, Range: bytes=1-: unsatisfiable (14.1.1)",
	    "Range: bytes=1-\r\n", HTTP_METHOD_GET, 0, 0,
	    HTTP_COND_UNSATISFIABLE, 0, 0 },
	/* If-Range, 13.1.5. */
	{ "If-Range: the tag", "Range: bytes=1-2\r\nIf-Range: " COND_ETAG
	    "\r\n", HTTP_METHOD_GET, 6, 0, HTTP_COND_PARTIAL, 1, 2 },
	{ "If-Range: the weak tag (strong comparison)",
	    "Range: bytes=1-2\r\nIf-Range: W/" COND_ETAG "\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_FULL, 0, 0 },
	{ "If-Range: a list holding the tag is not one validator",
	    "Range: bytes=1-2\r\nIf-Range: \"x\", " COND_ETAG "\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_FULL, 0, 0 },
	{ "If-Range: the tag on two lines is not one validator",
	    "Range: bytes=1-2\r\nIf-Range: " COND_ETAG "\r\nIf-Range: "
	    COND_ETAG "\r\n", HTTP_METHOD_GET, 6, 0, HTTP_COND_FULL, 0, 0 },
	{ "If-Range: the Last-Modified, years before now",
	    "Range: bytes=1-2\r\nIf-Range: " COND_MTIME "\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_PARTIAL, 1, 2 },
	{ "If-Range: the Last-Modified, a second before now (8.8.2.2)",
	    "Range: bytes=1-2\r\nIf-Range: " COND_MTIME "\r\n",
	    HTTP_METHOD_GET, 6, 1577934246, HTTP_COND_PARTIAL, 1, 2 },
	{ "If-Range: the Last-Modified in the second of now is weak (8.8.2.2)",
	    "Range: bytes=1-2\r\nIf-Range: " COND_MTIME "\r\n",
	    HTTP_METHOD_GET, 6, 1577934245, HTTP_COND_FULL, 0, 0 },
	{ "If-Range: the Last-Modified after now is weak (8.8.2.2)",
	    "Range: bytes=1-2\r\nIf-Range: " COND_MTIME "\r\n",
	    HTTP_METHOD_GET, 6, 1577934000, HTTP_COND_FULL, 0, 0 },
	{ "If-Range: a second off the Last-Modified",
	    "Range: bytes=1-2\r\nIf-Range: Thu, 02 Jan 2020 03:04:06 GMT\r\n",
	    HTTP_METHOD_GET, 6, 0, HTTP_COND_FULL, 0, 0 },
	{ "If-Range: the Last-Modified as an RFC 850 date",
	    "Range: bytes=1-2\r\nIf-Range: Thursday, 02-Jan-20 03:04:05 GMT"
	    "\r\n", HTTP_METHOD_GET, 6, 0, HTTP_COND_PARTIAL, 1, 2 },
};

static const char *
cond_name(enum http_conditional c)
{
	static const char *const names[] = { "FULL", "PARTIAL",
	    "NOT_MODIFIED", "FAILED", "UNSATISFIABLE" };

	return (size_t)c < nitems(names) ? names[c] : "?";
}

/* Evaluates fields against a file of e's validators, at now. */
static int
cond_eval(const char *method, const char *fields, off_t size, time_t mtime,
    time_t now, off_t *start, off_t *len)
{
	static char head[1024];
	static char etag[48];
	struct http_validators v;
	struct http_range_set set;
	int n, rc;

	n = snprintf(head, sizeof(head), "%s /f HTTP/1.1\r\nHost: h\r\n%s\r\n",
	    method, fields);
	if (n < 0 || (size_t)n >= sizeof(head) ||
	    http_parse_request(head, (size_t)n, &req) == -1) {
		diag("  the head does not parse: %s", req.error);
		return -1;
	}
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"",
	    (unsigned long long)mtime, (unsigned long long)size);
	v.etag = etag;
	v.mtime = mtime;
	v.size = size;
	rc = (int)http_conditional_check(&req, &v, now, &set);
	*start = set.n > 0 ? set.r[0].start : -1;
	*len = set.n > 0 ? set.r[0].len : -1;
	return rc;
}

static void
check_cond(const struct cond_case *cc)
{
	time_t mtime = utc(2020, 1, 2, 3, 4, 5);
	time_t now = cc->now ? cc->now : utc(2026, 7, 1, 12, 0, 0);
	off_t start = -1, len = -1;
	int got, pass;

	got = cond_eval(cc->method == HTTP_METHOD_HEAD ? "HEAD" : "GET",
	    cc->fields, cc->size, mtime, now, &start, &len);
	pass = got == (int)cc->want;
	if (!pass)
		diag("  got %s, expected %s", got < 0 ? "no request" :
		    cond_name((enum http_conditional)got), cond_name(cc->want));
	if (pass && cc->want == HTTP_COND_PARTIAL)
		pass = num_is("start", start, cc->start) &
		    num_is("len", len, cc->len);
	if (pass && cc->want == HTTP_COND_FULL)
		pass = num_is("start", start, 0) &
		    num_is("len", len, cc->size);
	ok(pass, "conditional: %s: %s", cc->name, cond_name(cc->want));
}

/* The validators of Part 6's file agree with file_cache.c's format. */
static void
test_cond_etag(void)
{
	char etag[48];

	snprintf(etag, sizeof(etag), "\"%llx-%llx\"",
	    (unsigned long long)utc(2020, 1, 2, 3, 4, 5), 6ULL);
	is_str(etag, COND_ETAG, "conditional: the test file's ETag");
}

/* If-Range on a Wednesday: "Wed, ..." is a date, not a weak tag "W/". */
static void
test_if_range_wednesday(void)
{
	time_t wed = utc(2020, 1, 1, 0, 0, 0);
	off_t start, len;
	int got;

	got = cond_eval("GET", "Range: bytes=0-1\r\n"
	    "If-Range: Wed, 01 Jan 2020 00:00:00 GMT\r\n", 6, wed,
	    utc(2026, 7, 1, 12, 0, 0), &start, &len);
	ok(got == HTTP_COND_PARTIAL && start == 0 && len == 2,
	    "conditional: If-Range with a Wednesday's Last-Modified: PARTIAL");
}

/* Heads not all there yet: which can be refused already. */
/*
 * HTTP/2's authority (RFC 9113 8.3.1): :authority, else a host field,
 * may not name an empty host (RFC 9110 4.2.1); none at all is left to
 * the request's block.
 */
static void
test_h2_authority(void)
{
	struct http_request h2;

	http_request_reset(&h2);
	ok(http_request_set_line(&h2, "GET", 3, "/", 1, 20) == 0 &&
	    http_request_set_authority(&h2, "h:8443", 6) == 0 &&
	    http_request_check_host(&h2) == 0,
	    "h2: :authority h:8443 is a host");
	http_request_reset(&h2);
	ok(http_request_set_authority(&h2, "", 0) == -1 &&
	    h2.status == 400, "h2: an empty :authority is 400");
	http_request_reset(&h2);
	ok(http_request_set_authority(&h2, ":443", 4) == -1 &&
	    h2.status == 400, "h2: an :authority of a port alone is 400");
	http_request_reset(&h2);
	ok(http_request_set_line(&h2, "GET", 3, "/", 1, 20) == 0 &&
	    http_request_add_field(&h2, "host", 4, "", 0) == 0 &&
	    http_request_check_host(&h2) == -1 && h2.status == 400,
	    "h2: no :authority and an empty host field is 400");
	http_request_reset(&h2);
	ok(http_request_set_line(&h2, "GET", 3, "/", 1, 20) == 0 &&
	    http_request_check_host(&h2) == 0,
	    "h2: no :authority and no host: left to the block");
}

/*
 * The host's name without its port (RFC 9110 7.2: uri-host [":" port]),
 * which the block's lookup takes as the parser found it: from Host, from
 * an absolute-form target (over Host), from :authority or HTTP/2's host.
 */
static void
test_host_name_len(void)
{
	static const struct {
		const char *head, *host;
		size_t name_len;
	} cases[] = {
		{ "GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\n",
		    "a.example:8080", 9 },
		{ "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", "a.example", 9 },
		{ "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", "[::1]:80", 5 },
		{ "GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n", "[::1]", 5 },
		{ "GET / HTTP/1.1\r\nHost: a%3Ab:1\r\n\r\n", "a%3Ab:1", 5 },
		{ "GET / HTTP/1.1\r\nHost: a.example.:1\r\n\r\n",
		    "a.example.:1", 10 },
		{ "GET http://h.example:81/p HTTP/1.1\r\nHost: other:1\r\n\r\n",
		    "h.example:81", 9 },
		{ "GET http://h.example/p HTTP/1.1\r\nHost: other:1\r\n\r\n",
		    "h.example", 9 },
	};
	struct http_request h2;
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		size_t len = strlen(cases[i].head);

		http_request_reset(&req);
		if (http_parse_request(cases[i].head, len, &req) == -1)
			diag("  failed with %d: %s", req.status, req.error);
		else if (req.host_name_len != cases[i].name_len)
			diag("  got %zu", req.host_name_len);
		ok(req.status == 0 && req.host != NULL &&
		    span_is("host", req.host, req.host_len, cases[i].host) &&
		    req.host_name_len == cases[i].name_len,
		    "host name of \"%s\": %zu bytes", cases[i].host,
		    cases[i].name_len);
	}
	http_request_reset(&h2);
	ok(http_request_set_authority(&h2, "h:8443", 6) == 0 &&
	    h2.host_name_len == 1, "h2: :authority h:8443, host name h");
	http_request_reset(&h2);
	ok(http_request_set_line(&h2, "GET", 3, "/", 1, 20) == 0 &&
	    http_request_add_field(&h2, "host", 4, "xy.z:1", 6) == 0 &&
	    h2.host_name_len == 4, "h2: host field xy.z:1, host name xy.z");
}

static void
test_head_hopeless(void)
{
	static const struct {
		const char *text;
		int want;
	} cases[] = {
		{ "", 0 }, { "GE", 0 }, { "GET / HT", 0 },
		{ "GET / HTTP/1.1\r\nHost: a\r\n", 0 },
		{ "BREW /pot", 0 },
		{ "\x16\x03\x01", 1 }, { "G\x01T / HTTP/1.1", 1 },
		{ "GET(/ HTTP/1.1", 1 }, { "GET /a\r\n", 1 },
		{ "GET\n", 1 },
	};
	size_t i;

	for (i = 0; i < nitems(cases); i++)
		is_int(http_head_hopeless(cases[i].text,
		    strlen(cases[i].text)), cases[i].want,
		    "hopeless head %zu is %d", i, cases[i].want);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < nitems(valid_cases); i++)
		check_valid(&valid_cases[i]);
	for (i = 0; i < nitems(invalid_cases); i++)
		check_invalid(&invalid_cases[i]);
	test_fields();
	test_limits();
	test_head_hopeless();
	test_h2_authority();
	test_host_name_len();

	for (i = 0; i < nitems(head_cases); i++)
		check_head_case(&head_cases[i]);

	check_pipelined("GET then POST, CRLF",
	    S("GET /a?x HTTP/1.1\r\nHost: h\r\n\r\n"
	    "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"),
	    5);
	check_pipelined("GET then POST, bare LF",
	    S("GET /a HTTP/1.1\nHost: h\nX: \n\n"
	    "POST /b HTTP/1.1\nHost: h\nContent-Length: 2\n\n\n\n"), 2);

	for (i = 0; i < nitems(chunked_cases); i++)
		check_chunked(&chunked_cases[i]);
	test_chunked_limits();

	for (i = 0; i < nitems(path_cases); i++)
		check_path(&path_cases[i]);
	test_percent_decode();
	test_path_properties();

	for (i = 0; i < nitems(date_cases); i++)
		check_date(&date_cases[i]);
	test_cond_etag();
	for (i = 0; i < nitems(cond_cases); i++)
		check_cond(&cond_cases[i]);
	test_if_range_wednesday();
	return done_testing();
}
