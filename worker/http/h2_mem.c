/*
 * h2_mem.c: the allocator libnghttp2 is given (nghttp2_mem), so an idle
 * HTTP/2 connection costs less resident memory.
 *
 * A server session allocates, once, a 16 KiB buffer for the frames it
 * writes, of which an idle connection has touched only the first page
 * or so (a SETTINGS frame, a HEADERS block, DATA frame heads: the bodies
 * go from the stream, not through it).  From malloc's heap that buffer
 * often lands on pages that a TLS handshake has used and freed, and then
 * all of it is resident for as long as the connection lives.  Blocks of
 * H2_MEM_MAP_MIN and more are therefore mapped on their own, where the
 * untouched pages cost nothing: two system calls per connection, against
 * the tens a handshake makes.  Smaller blocks go to malloc.  Each block
 * carries its size in front, so free and realloc know which it was.
 *
 * Small blocks are also kept for reuse, a few dozen of each size class
 * per worker.  A busy connection makes and frees about five of them per
 * stream (the stream, its outbound items, a copy of the answer's
 * fields), ten streams at a time; glibc keeps only seven of a size in
 * its per-thread cache, so most went through its slower free path and
 * back.
 */
#include "config.h"

#include <sys/mman.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "worker/http/h2_conn.h"

#define H2_MEM_MAP_MIN (12 * 1024)
/* Blocks up to this size are kept for reuse, by classes of 32 bytes. */
#define H2_MEM_CLASS 32
#define H2_MEM_CACHE_MAX_SIZE 1024
#define H2_MEM_CLASSES (H2_MEM_CACHE_MAX_SIZE / H2_MEM_CLASS + 1)
/* Of each class at most this many: under 600 KiB a worker if every
 * class filled up, a few KiB in practice (a handful of sizes). */
#define H2_MEM_CACHE_DEPTH 32

/* In front of every block; 16 bytes keep the block aligned for any use. */
struct h2_mem_head {
	size_t size;			/* what was asked for */
	size_t mapped;			/* bytes mapped, 0 when malloc's */
};

/* A kept block: the link lives where the caller's bytes were. */
struct h2_mem_kept {
	struct h2_mem_kept *next;
};

static struct h2_mem_kept *h2_mem_cache[H2_MEM_CLASSES];
static unsigned h2_mem_ncached[H2_MEM_CLASSES];

/* The class of a small block: its room is class * H2_MEM_CLASS, at
 * least a link's worth. */
static size_t
h2_mem_class(size_t size)
{
	return size <= H2_MEM_CLASS ? 1 : (size + H2_MEM_CLASS - 1) /
	    H2_MEM_CLASS;
}

static void *
h2_mem_map(size_t size)
{
	size_t len = sizeof(struct h2_mem_head) + size;
	struct h2_mem_head *h;

	h = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (h == MAP_FAILED) {
		log_warnx("mmap of %zu bytes for HTTP/2: %s", len,
		    strerror(errno));
		errno = ENOMEM;
		return NULL;
	}
	h->size = size;
	h->mapped = len;
	return h + 1;
}

static void *
h2_mem_malloc(size_t size, void *user)
{
	struct h2_mem_head *h;

	(void)user;
	if (size >= H2_MEM_MAP_MIN)
		return h2_mem_map(size);
	if (size <= H2_MEM_CACHE_MAX_SIZE) {
		size_t k = h2_mem_class(size);
		struct h2_mem_kept *kept = h2_mem_cache[k];

		if (kept != NULL) {
			h2_mem_cache[k] = kept->next;
			h2_mem_ncached[k]--;
			h = (struct h2_mem_head *)kept - 1;
		} else if ((h = malloc(sizeof(*h) + k * H2_MEM_CLASS)) ==
		    NULL) {
			return NULL;
		}
	} else if ((h = malloc(sizeof(*h) + size)) == NULL) {
		return NULL;
	}
	h->size = size;
	h->mapped = 0;
	return h + 1;
}

static void
h2_mem_free(void *p, void *user)
{
	struct h2_mem_head *h;

	(void)user;
	if (p == NULL)
		return;
	h = (struct h2_mem_head *)p - 1;
	if (h->mapped == 0 && h->size <= H2_MEM_CACHE_MAX_SIZE) {
		size_t k = h2_mem_class(h->size);
		struct h2_mem_kept *kept = p;

		if (h2_mem_ncached[k] < H2_MEM_CACHE_DEPTH) {
			kept->next = h2_mem_cache[k];
			h2_mem_cache[k] = kept;
			h2_mem_ncached[k]++;
			return;
		}
	}
	if (h->mapped == 0) {
		free(h);
		return;
	}
	if (munmap(h, h->mapped) == -1)
		log_warnx("munmap of an HTTP/2 buffer: %s", strerror(errno));
}

static void *
h2_mem_calloc(size_t n, size_t size, void *user)
{
	void *p;

	if (size != 0 && n > ((size_t)-1 - sizeof(struct h2_mem_head)) / size) {
		errno = ENOMEM;
		return NULL;
	}
	if ((p = h2_mem_malloc(n * size, user)) == NULL)
		return NULL;
	/* A fresh mapping is zero already. */
	if (((struct h2_mem_head *)p - 1)->mapped == 0)
		memset(p, 0, n * size);
	return p;
}

static void *
h2_mem_realloc(void *p, size_t size, void *user)
{
	struct h2_mem_head *h;
	void *q;

	if (p == NULL)
		return h2_mem_malloc(size, user);
	h = (struct h2_mem_head *)p - 1;
	/* A small block stays in its class's room, or moves. */
	if (h->mapped == 0 && h->size <= H2_MEM_CACHE_MAX_SIZE &&
	    size <= H2_MEM_CACHE_MAX_SIZE &&
	    h2_mem_class(size) <= h2_mem_class(h->size)) {
		h->size = size;
		return p;
	}
	if (h->mapped == 0 && h->size > H2_MEM_CACHE_MAX_SIZE &&
	    size > H2_MEM_CACHE_MAX_SIZE && size < H2_MEM_MAP_MIN) {
		if ((h = realloc(h, sizeof(*h) + size)) == NULL)
			return NULL;
		h->size = size;
		return h + 1;
	}
	if ((q = h2_mem_malloc(size, user)) == NULL)
		return NULL;
	memcpy(q, p, h->size < size ? h->size : size);
	h2_mem_free(p, user);
	return q;
}

nghttp2_mem h2_mem = {
	.mem_user_data = NULL,
	.malloc = h2_mem_malloc,
	.free = h2_mem_free,
	.calloc = h2_mem_calloc,
	.realloc = h2_mem_realloc,
};
