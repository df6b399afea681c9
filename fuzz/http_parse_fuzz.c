/*
 * http_parse_fuzz.c: libFuzzer harness for the request-head parser,
 * http_head_length() and http_parse_request() in worker/http/parse.c.
 *
 * The input is what a client sends.  The end of the head must be found
 * at the same place whether the bytes come all at once or one at a time
 * (with *scanned kept between calls, as the connection does), and at the
 * place a naive search for the empty line finds.  The head is then
 * parsed from a block of exactly its size, and the result checked:
 * everything the request points to lies inside the head, the path starts
 * with "/", the version is 1.0 or 1.1, no header value holds a control
 * byte, chunked never comes with a Content-Length; a failure carries one
 * of the documented statuses and a reason.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "worker/http/parse.h"
#include "fuzz/fuzz.h"

/* p[0..len) lies inside buf[0..buflen). */
static int
within(const char *buf, size_t buflen, const void *p, size_t len)
{
	uintptr_t b = (uintptr_t)buf, q = (uintptr_t)p;

	return p != NULL && q >= b && q - b <= buflen &&
	    len <= buflen - (q - b);
}

/* The end of the first empty line (LF LF or LF CR LF), or 0. */
static size_t
naive_head_length(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* A field pointer of the request: none, or one of its headers. */
static int
is_header(const struct http_request *req, const struct http_header *h)
{
	uintptr_t first = (uintptr_t)&req->headers[0];
	uintptr_t q = (uintptr_t)h;

	if (h == NULL)
		return 1;
	return q >= first && (q - first) % sizeof(*h) == 0 &&
	    (q - first) / sizeof(*h) < req->nheaders;
}

static void
check_success(const char *head, size_t len, const struct http_request *req)
{
	size_t i, j;

	FUZZ_CHECK(req->status == 0 && req->error == NULL);
	FUZZ_CHECK(req->version == 10 || req->version == 11);
	FUZZ_CHECK(within(head, len, req->request_line, req->request_line_len));
	FUZZ_CHECK(req->method_len > 0 &&
	    within(head, len, req->method_name, req->method_len));
	FUZZ_CHECK(req->target_len > 0 &&
	    within(head, len, req->target, req->target_len));
	if (req->path != NULL) {
		FUZZ_CHECK(req->path_len > 0 && req->path[0] == '/');
		/*
		 * Absolute-form with an empty path ("http://h" or
		 * "http://h?q") gets a static "/" (RFC 9110 section 4.2.3);
		 * any other path points into the head.
		 */
		if (!within(head, len, req->path, req->path_len))
			FUZZ_CHECK(req->path_len == 1 &&
			    req->target[0] != '/');
	} else {
		/* Only asterisk-form and CONNECT have no path. */
		FUZZ_CHECK((req->target_len == 1 && req->target[0] == '*') ||
		    req->method == HTTP_METHOD_CONNECT);
	}
	if (req->query != NULL)
		FUZZ_CHECK(within(head, len, req->query, req->query_len));
	if (req->host != NULL)
		FUZZ_CHECK(within(head, len, req->host, req->host_len) &&
		    req->host_name_len <= req->host_len);
	FUZZ_CHECK(req->nheaders <= HTTP_MAX_HEADERS);
	for (i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];

		FUZZ_CHECK(h->name_len > 0 &&
		    within(head, len, h->name, h->name_len));
		FUZZ_CHECK(within(head, len, h->value, h->value_len));
		for (j = 0; j < h->value_len; j++) {
			unsigned char c = (unsigned char)h->value[j];

			/* No CR, LF or NUL can hide in a value. */
			FUZZ_CHECK((c >= 0x20 || c == '\t') && c != 0x7f);
		}
	}
	FUZZ_CHECK(is_header(req, req->if_none_match));
	FUZZ_CHECK(is_header(req, req->if_modified_since));
	FUZZ_CHECK(is_header(req, req->range));
	FUZZ_CHECK(is_header(req, req->if_range));
	FUZZ_CHECK(is_header(req, req->if_match));
	FUZZ_CHECK(is_header(req, req->if_unmodified_since));
	FUZZ_CHECK(is_header(req, req->user_agent));
	FUZZ_CHECK(is_header(req, req->referer));
	FUZZ_CHECK(req->content_length >= -1);
	/* Smuggling: chunked alone, and only in HTTP/1.1. */
	if (req->chunked)
		FUZZ_CHECK(req->content_length == -1 && req->version == 11);
	/* HTTP/1.1 needs exactly one Host. */
	if (req->version == 11)
		FUZZ_CHECK(req->host != NULL);
}

static void
check_failure(const struct http_request *req)
{
	FUZZ_CHECK(req->status == 400 || req->status == 417 ||
	    req->status == 431 || req->status == 501 || req->status == 505);
	FUZZ_CHECK(req->error != NULL && req->error[0] != '\0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	char *buf, *head;
	size_t whole, bytewise = 0, scanned = 0, k;

	/* All at once. */
	buf = fuzz_copy(data, size);
	whole = http_head_length(buf, size, &scanned);
	FUZZ_CHECK(whole <= size);
	FUZZ_CHECK(whole == naive_head_length(buf, size));

	/*
	 * A byte at a time into the same buffer, the bytes not yet
	 * "received" poisoned so that reading them is an error.
	 */
	scanned = 0;
	FUZZ_POISON(buf, size);
	for (k = 1; k <= size; k++) {
		FUZZ_UNPOISON(buf, k);
		bytewise = http_head_length(buf, k, &scanned);
		if (bytewise != 0)
			break;
		FUZZ_CHECK(scanned <= k);
	}
	FUZZ_UNPOISON(buf, size);
	FUZZ_CHECK(bytewise == whole);
	/* The head is complete exactly when its last byte arrives. */
	if (whole != 0)
		FUZZ_CHECK(k == whole);
	fuzz_free(buf, size);
	if (whole == 0)
		return 0;

	/* The head alone, in a block of its size; req starts as garbage. */
	head = fuzz_copy(data, whole);
	memset(&req, 0xa5, sizeof(req));
	if (http_parse_request(head, whole, &req) == 0)
		check_success(head, whole, &req);
	else
		check_failure(&req);
	fuzz_free(head, whole);
	return 0;
}
