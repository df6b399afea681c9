/*
 * http_path_fuzz.c: libFuzzer harness for the request path normaliser,
 * http_path_normalize() in worker/http/path.c.
 *
 * The input is a request path, still percent-encoded.  Both it and the
 * output (len + 1 bytes, as documented) are blocks of exactly their size.
 * A path that is accepted must come out absolute, with no "." or ".."
 * segment and no empty one, no NUL, and no longer than it went in; and
 * normalising it again (with its "%" encoded back as "%25") must give
 * the same path.  A path of plain bytes (no "%", no "." and no NUL) must
 * be accepted as itself with runs of "/" merged.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "worker/http/parse.h"
#include "fuzz/fuzz.h"

static void
check_normal(const char *out, size_t len)
{
	size_t i, seg;

	FUZZ_CHECK(len >= 1 && out[0] == '/');
	FUZZ_CHECK(out[len] == '\0');
	FUZZ_CHECK(memchr(out, '\0', len) == NULL);
	/* Each segment after a "/": not "." or "..", empty only at the end. */
	for (i = 1, seg = 1; i <= len; i++) {
		if (i < len && out[i] != '/')
			continue;
		FUZZ_CHECK(i - seg > 0 || i == len);
		FUZZ_CHECK(!(i - seg == 1 && out[seg] == '.'));
		FUZZ_CHECK(!(i - seg == 2 && out[seg] == '.' &&
		    out[seg + 1] == '.'));
		seg = i + 1;
	}
}

/* Normalising again, after percent-encoding '%', changes nothing. */
static void
check_idempotent(const char *out, size_t len)
{
	char *enc, *again;
	size_t i, n = 0;
	ssize_t rc;

	enc = malloc(3 * len);
	FUZZ_CHECK(enc != NULL);
	for (i = 0; i < len; i++) {
		if (out[i] == '%') {
			memcpy(enc + n, "%25", 3);
			n += 3;
		} else
			enc[n++] = out[i];
	}
	again = malloc(n + 1);
	FUZZ_CHECK(again != NULL);
	rc = http_path_normalize(enc, n, again);
	FUZZ_CHECK(rc == (ssize_t)len);
	FUZZ_CHECK(memcmp(again, out, len) == 0);
	free(again);
	free(enc);
}

/* No '%', '.' or NUL, and absolute: only slashes to merge. */
static void
check_plain(const uint8_t *data, size_t size, const char *out, ssize_t rc)
{
	size_t i, n = 0;

	if (size == 0 || data[0] != '/' || memchr(data, '%', size) != NULL ||
	    memchr(data, '.', size) != NULL || memchr(data, '\0', size) != NULL)
		return;
	FUZZ_CHECK(rc >= 1);
	for (i = 0; i < size; i++) {
		if (data[i] == '/' && i > 0 && data[i - 1] == '/')
			continue;
		FUZZ_CHECK((size_t)rc > n && out[n] == (char)data[i]);
		n++;
	}
	FUZZ_CHECK((size_t)rc == n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, *out;
	ssize_t rc;

	in = fuzz_copy(data, size);
	out = malloc(size + 1);
	FUZZ_CHECK(out != NULL);
	rc = http_path_normalize(in, size, out);
	FUZZ_CHECK(rc >= -1);
	if (rc >= 0) {
		FUZZ_CHECK((size_t)rc <= size);
		check_normal(out, (size_t)rc);
		check_idempotent(out, (size_t)rc);
	}
	check_plain(data, size, out, rc);
	free(out);
	fuzz_free(in, size);
	return 0;
}
