/*
 * fuzz.h: what the libFuzzer harnesses in fuzz/ share: a check that
 * survives NDEBUG and names the broken invariant, and copies of the input
 * in blocks of exactly the right size, with ASan calls to fence off bytes
 * a function must not read.
 */
#ifndef FORKLOOP_FUZZ_H
#define FORKLOOP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(FUZZ_ASAN)
#define FUZZ_ASAN 1
#endif

#ifdef FUZZ_ASAN
#include <sanitizer/asan_interface.h>
#define FUZZ_POISON(p, n)	__asan_poison_memory_region((p), (n))
#define FUZZ_UNPOISON(p, n)	__asan_unpoison_memory_region((p), (n))
#else
#define FUZZ_POISON(p, n)	((void)(p), (void)(n))
#define FUZZ_UNPOISON(p, n)	((void)(p), (void)(n))
#endif

/* Not assert(): an invariant must be checked in every build. */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * A copy of data in a block of exactly len bytes, so ASan sees a read
 * past the end; an empty input gets one poisoned byte rather than NULL.
 * Free it with fuzz_free().
 */
static inline char *
fuzz_copy(const void *data, size_t len)
{
	char *copy;

	copy = malloc(len > 0 ? len : 1);
	FUZZ_CHECK(copy != NULL);
	if (len > 0)
		memcpy(copy, data, len);
	else
		FUZZ_POISON(copy, 1);
	return copy;
}

static inline void
fuzz_free(char *copy, size_t len)
{
	FUZZ_UNPOISON(copy, len > 0 ? len : 1);
	free(copy);
}

#endif
