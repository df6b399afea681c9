/*
 * crc32_test.c: unit tests for gzip's CRC-32 (worker/http/crc32.c): the
 * same value as zlib's crc32() for every length from 0 to 600 bytes and
 * some long ones (the folding path starts at 64), at every alignment of
 * the first byte, from a starting value of 0 and continuing from
 * another, and the known check value of "123456789" (0xCBF43926).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <zlib.h>

#include "worker/http/crc32.h"
#include "tests/unit/tap.h"

static unsigned char crc32_bytes[70000 + 16];

/* A fixed pseudo-random fill (a 32-bit LCG): the same bytes each run. */
static void
crc32_fill(void)
{
	uint32_t x = 12345;
	size_t i;

	for (i = 0; i < sizeof(crc32_bytes); i++) {
		x = x * 1103515245u + 12345u;
		crc32_bytes[i] = (unsigned char)(x >> 16);
	}
}

/* How many (length, offset) pairs disagree with zlib, from start. */
static int
crc32_mismatches(size_t from, size_t to, size_t step, uint32_t start)
{
	size_t len, off;
	int bad = 0;

	for (len = from; len <= to; len += step)
		for (off = 0; off < 16; off++) {
			uint32_t want = (uint32_t)crc32(start,
			    crc32_bytes + off, (uInt)len);
			uint32_t got = http_crc32(start, crc32_bytes + off,
			    len);

			if (got == want)
				continue;
			if (bad++ < 3)
				diag("length %zu at offset %zu from %08x: "
				    "%08x, zlib %08x", len, off, start, got,
				    want);
		}
	return bad;
}

int
main(void)
{
	crc32_fill();
	ok(http_crc32(0, "123456789", 9) == 0xcbf43926u,
	    "the check value of \"123456789\"");
	ok(http_crc32(0, "", 0) == 0, "no bytes: 0");
	ok(crc32_mismatches(0, 600, 1, 0) == 0,
	    "as zlib's for 0 to 600 bytes at 16 alignments");
	ok(crc32_mismatches(1000, 70000, 997, 0) == 0,
	    "as zlib's for long runs up to 70000 bytes");
	ok(crc32_mismatches(0, 300, 1, 0xdeadbeefu) == 0,
	    "continuing from another value");
	ok(http_crc32(http_crc32(0, crc32_bytes, 20000), crc32_bytes + 20000,
	    480) == (uint32_t)crc32(0, crc32_bytes, 20480),
	    "in two calls as in one");
	return done_testing();
}
