/*
 * regex.c: forkloop.conf's regular expressions through PCRE2 (8-bit).
 *
 * Each is compiled once, when the file is read, and JIT-compiled when
 * PCRE2 can (it falls back to its interpreter, which matches the same).
 * No UTF mode, as nginx: a decoded path may hold any byte, and PCRE2
 * refuses invalid UTF-8 in UTF mode.  A worker matches with one match
 * data and one match context made the first time it matches, so a
 * request allocates nothing; the context's match limit stops a pattern
 * that would backtrack without end, and its JIT stack is larger than
 * PCRE2's 32 KiB default so that ordinary patterns on long paths do not
 * fail for lack of stack.
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/regex.h"

/* Depth (the interpreter's backtracking memory), and the JIT's stack. */
#define REGEX_DEPTH_LIMIT	10000
#define REGEX_JIT_STACK_MIN	(32 * 1024)
#define REGEX_JIT_STACK_MAX	(512 * 1024)

struct conf_regex {
	pcre2_code *code;
	char *source;
	unsigned groups;
};

/* The process's, made by the first match (after the fork). */
static pcre2_match_data *regex_data;
static pcre2_match_context *regex_context;

static void
regex_message(int code, char *buf, size_t len)
{
	if (pcre2_get_error_message(code, (PCRE2_UCHAR *)buf, len) < 0)
		snprintf(buf, len, "PCRE2 error %d", code);
}

struct conf_regex *
conf_regex_compile(const char *pattern, int caseless, char *err,
    size_t errlen)
{
	struct conf_regex *re;
	PCRE2_SIZE offset;
	uint32_t groups;
	char msg[256];
	int code;

	if ((re = calloc(1, sizeof(*re))) == NULL ||
	    (re->source = strdup(pattern)) == NULL) {
		free(re);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	re->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    caseless ? PCRE2_CASELESS : 0, &code, &offset, NULL);
	if (re->code == NULL) {
		regex_message(code, msg, sizeof(msg));
		snprintf(err, errlen, "invalid regular expression \"%s\": %s "
		    "at offset %zu", pattern, msg, (size_t)offset);
		conf_regex_free(re);
		return NULL;
	}
	/* Without JIT (a build of PCRE2 without it, no executable memory)
	 * the interpreter matches: slower, not wrong. */
	(void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
	if (pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT,
	    &groups) != 0)
		groups = 0;
	re->groups = groups;
	return re;
}

void
conf_regex_free(struct conf_regex *re)
{
	if (re == NULL)
		return;
	pcre2_code_free(re->code);
	free(re->source);
	free(re);
}

const char *
conf_regex_source(const struct conf_regex *re)
{
	return re->source;
}

unsigned
conf_regex_groups(const struct conf_regex *re)
{
	return re->groups;
}

int
conf_regex_named(const struct conf_regex *re, const char *name, size_t len)
{
	char buf[128];
	int n;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, name, len);
	buf[len] = '\0';
	n = pcre2_substring_number_from_name(re->code, (PCRE2_SPTR)buf);
	return n > 0 ? n : -1;
}

/* The match data and context, once; -1 when out of memory. */
static int
regex_prepare(void)
{
	pcre2_jit_stack *stack;

	if (regex_data != NULL)
		return 0;
	if (regex_context == NULL) {
		if ((regex_context = pcre2_match_context_create(NULL)) ==
		    NULL)
			return -1;
		pcre2_set_match_limit(regex_context, CONF_REGEX_MATCH_LIMIT);
		pcre2_set_depth_limit(regex_context, REGEX_DEPTH_LIMIT);
		/* Kept for the process's life, as the context that points
		 * to it; made once, with the context. */
		stack = pcre2_jit_stack_create(REGEX_JIT_STACK_MIN,
		    REGEX_JIT_STACK_MAX, NULL);
		/* Without it PCRE2 runs on its 32 KiB default stack: a deep
		 * match then fails as the match limit does (500, logged). */
		if (stack != NULL)
			pcre2_jit_stack_assign(regex_context, NULL, stack);
	}
	regex_data = pcre2_match_data_create(CONF_REGEX_GROUPS, NULL);
	return regex_data != NULL ? 0 : -1;
}

int
conf_regex_match(const struct conf_regex *re, const char *subject,
    size_t len, uint32_t *caps, unsigned ngroups, char *err, size_t errlen)
{
	PCRE2_SIZE *ov;
	unsigned i;
	int rc;

	if (regex_prepare() == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0,
	    regex_data, regex_context);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0) {
		regex_message(rc, err, errlen);
		return -1;
	}
	/* rc is the groups set, 0 when there were more than the data
	 * holds (it then holds the first CONF_REGEX_GROUPS). */
	if (rc == 0)
		rc = CONF_REGEX_GROUPS;
	ov = pcre2_get_ovector_pointer(regex_data);
	if (ngroups > CONF_REGEX_GROUPS)
		ngroups = CONF_REGEX_GROUPS;
	for (i = 0; i < ngroups; i++) {
		int set = (int)i < rc && ov[2 * i] != PCRE2_UNSET;

		caps[2 * i] = set ? (uint32_t)ov[2 * i] : CONF_REGEX_UNSET;
		caps[2 * i + 1] = set ? (uint32_t)ov[2 * i + 1] :
		    CONF_REGEX_UNSET;
	}
	return 1;
}
