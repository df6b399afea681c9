/*
 * regex.h: the regular expressions of forkloop.conf ("location ~",
 * "location ~*", "server_name ~"), compiled once with PCRE2 when the
 * file is read, and matched in the workers.
 */
#ifndef FORKLOOP_CONF_REGEX_H
#define FORKLOOP_CONF_REGEX_H

#include <stddef.h>
#include <stdint.h>

/*
 * The groups a match keeps, the whole match (group 0) included: $1 to
 * $9, and named groups numbered below this.
 */
#define CONF_REGEX_GROUPS	32
/* An unset group's offsets (a group that took no part in the match). */
#define CONF_REGEX_UNSET	UINT32_MAX

/*
 * PCRE2's match limit: a pattern that backtracks without end (such as
 * "(a+)+b" on a long run of "a") stops with an error after this many
 * steps instead of holding the worker.
 */
#define CONF_REGEX_MATCH_LIMIT	200000

struct conf_regex;

/*
 * Compiles pattern (caseless: as "~*" asks); NULL with PCRE2's message
 * and the offset it stopped at in err.  JIT-compiled where PCRE2 can.
 */
struct conf_regex *conf_regex_compile(const char *pattern, int caseless,
    char *err, size_t errlen);
void conf_regex_free(struct conf_regex *re);

/* As written, for messages. */
const char *conf_regex_source(const struct conf_regex *re);

/* Its capture groups, group 0 not counted. */
unsigned conf_regex_groups(const struct conf_regex *re);

/* The number of the group named name[0..len), or -1. */
int conf_regex_named(const struct conf_regex *re, const char *name,
    size_t len);

/*
 * Matches subject[0..len) against re: 1 on a match, with the offsets of
 * groups 0 to ngroups - 1 in caps (start, end; CONF_REGEX_UNSET for a
 * group not set), 0 when it does not match, -1 when PCRE2 gave up (the
 * match limit, out of memory), with its message in err.  caps may be
 * NULL when ngroups is 0.  The match data is made once per process.
 */
int conf_regex_match(const struct conf_regex *re, const char *subject,
    size_t len, uint32_t *caps, unsigned ngroups, char *err,
    size_t errlen);

#endif
