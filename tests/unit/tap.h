/*
 * tap.h: a header-only TAP producer for the C unit tests.
 *
 * Call plan(n) first, or nothing and let done_testing() print the plan at
 * the end; main() ends with "return done_testing();", which is non-zero
 * when a test failed or the count does not match the plan.  ok() and the
 * is_*() helpers return whether the test passed so a caller can add
 * diagnostics.  Failure details go to stderr as "#" lines, as Test::More
 * does, so prove shows them next to the failure.
 */
#ifndef FORKLOOP_TAP_H
#define FORKLOOP_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_planned = -1;
static int tap_run;
static int tap_failed;

static inline void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void
diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline void
diag(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("# ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static inline int
tap_vok(int pass, const char *fmt, va_list ap)
{
	tap_run++;
	if (!pass)
		tap_failed++;
	printf("%sok %d - ", pass ? "" : "not ", tap_run);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	return pass;
}

static inline int
ok(int pass, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline int
ok(int pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vok(pass, fmt, ap);
	va_end(ap);
	return pass;
}

static inline int
is_int(long long got, long long want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline int
is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	int pass = got == want;

	va_start(ap, fmt);
	tap_vok(pass, fmt, ap);
	va_end(ap);
	if (!pass)
		diag("  got: %lld, expected: %lld", got, want);
	return pass;
}

/* Either may be NULL; two NULLs are equal. */
static inline int
is_str(const char *got, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline int
is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	int pass;

	if (got == NULL || want == NULL)
		pass = got == want;
	else
		pass = strcmp(got, want) == 0;
	va_start(ap, fmt);
	tap_vok(pass, fmt, ap);
	va_end(ap);
	if (!pass) {
		diag("       got: %s%s%s", got ? "\"" : "", got ? got : "NULL",
		    got ? "\"" : "");
		diag("  expected: %s%s%s", want ? "\"" : "",
		    want ? want : "NULL", want ? "\"" : "");
	}
	return pass;
}

static inline void
skip(int n, const char *why)
{
	while (n-- > 0)
		printf("ok %d # SKIP %s\n", ++tap_run, why);
	fflush(stdout);
}

static inline int
done_testing(void)
{
	if (tap_planned == -1)
		printf("1..%d\n", tap_run);
	else if (tap_planned != tap_run)
		diag("planned %d tests but ran %d", tap_planned, tap_run);
	fflush(stdout);
	if (tap_failed > 0)
		diag("failed %d of %d tests", tap_failed, tap_run);
	return tap_failed > 0 || (tap_planned != -1 && tap_planned != tap_run);
}

#endif
