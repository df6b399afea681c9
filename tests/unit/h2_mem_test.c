/*
 * h2_mem_test.c: the allocator forkloop gives libnghttp2 (h2_mem.c):
 * small blocks from malloc, large ones mapped; calloc zeroes, realloc
 * keeps the bytes across the two kinds, free takes NULL.  Large blocks
 * are checked to be mapped on their own (their address is page-aligned
 * but for the size header in front).  Small blocks freed are kept for
 * reuse by size class, a bounded number of each.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "worker/http/h2_conn.h"

static int
all_bytes(const unsigned char *p, size_t n, unsigned char want)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != want)
			return 0;
	return 1;
}

static int
mapped_alone(const void *p)
{
	long page = sysconf(_SC_PAGESIZE);

	return ((uintptr_t)p - 16) % (uintptr_t)page == 0;
}

int
main(void)
{
	void *u = h2_mem.mem_user_data;
	unsigned char *p, *q;

	p = h2_mem.malloc(100, u);
	ok(p != NULL, "malloc 100");
	memset(p, 0xab, 100);
	p = h2_mem.realloc(p, 200, u);
	ok(p != NULL && all_bytes(p, 100, 0xab), "realloc small to small keeps the bytes");
	p = h2_mem.realloc(p, 20000, u);
	ok(p != NULL && all_bytes(p, 100, 0xab), "realloc small to large keeps the bytes");
	ok(p != NULL && mapped_alone(p), "a large block is mapped on its own");
	memset(p, 0xcd, 20000);
	p = h2_mem.realloc(p, 50, u);
	ok(p != NULL && all_bytes(p, 50, 0xcd), "realloc large to small keeps the bytes");
	h2_mem.free(p, u);

	q = h2_mem.malloc(16 * 1024 + 9, u);
	ok(q != NULL && mapped_alone(q), "the 16 KiB frame buffer size is mapped");
	memset(q, 0x11, 16 * 1024 + 9);
	q = h2_mem.realloc(q, 40000, u);
	ok(q != NULL && all_bytes(q, 16 * 1024 + 9, 0x11), "realloc large to larger keeps the bytes");
	h2_mem.free(q, u);

	p = h2_mem.calloc(10, 10, u);
	ok(p != NULL && all_bytes(p, 100, 0), "calloc small is zero");
	h2_mem.free(p, u);
	/* malloc's memory is often dirty: make some, free it, calloc again. */
	p = h2_mem.malloc(3000, u);
	memset(p, 0x77, 3000);
	h2_mem.free(p, u);
	p = h2_mem.calloc(1, 3000, u);
	ok(p != NULL && all_bytes(p, 3000, 0), "calloc on reused memory is zero");
	h2_mem.free(p, u);
	p = h2_mem.calloc(2, 10000, u);
	ok(p != NULL && all_bytes(p, 20000, 0), "calloc large is zero");
	h2_mem.free(p, u);
	ok(h2_mem.calloc(SIZE_MAX / 2, 4, u) == NULL, "calloc that overflows fails");
	h2_mem.free(NULL, u);
	ok(1, "free(NULL) returns");

	/* The reuse of small blocks. */
	p = h2_mem.malloc(200, u);
	memset(p, 0x55, 200);
	h2_mem.free(p, u);
	q = h2_mem.malloc(210, u);
	ok(q == p, "a small block freed is given again for a size of its class");
	h2_mem.free(q, u);
	q = h2_mem.calloc(1, 195, u);
	ok(q == p && all_bytes(q, 195, 0), "calloc of a kept block is zero");
	memset(q, 0x66, 195);
	q = h2_mem.realloc(q, 220, u);
	ok(q == p && all_bytes(q, 195, 0x66), "realloc within the class's room stays put");
	q = h2_mem.realloc(q, 900, u);
	ok(q != NULL && all_bytes(q, 195, 0x66), "realloc past the class moves, keeping the bytes");
	memset(q, 0x67, 900);
	h2_mem.free(q, u);
	{
		void *many[100];
		int distinct = 1;

		for (int i = 0; i < 100; i++) {
			many[i] = h2_mem.malloc(500, u);
			memset(many[i], i, 500);
		}
		for (int i = 0; i < 100; i++)
			for (int j = 0; j < i; j++)
				if (many[i] == many[j])
					distinct = 0;
		ok(distinct, "100 small blocks live at once are 100 blocks");
		for (int i = 0; i < 100; i++)
			if (!all_bytes(many[i], 500, (unsigned char)i))
				distinct = 0;
		ok(distinct, "and each keeps its own bytes");
		for (int i = 0; i < 100; i++)
			h2_mem.free(many[i], u);
	}
	return done_testing();
}
