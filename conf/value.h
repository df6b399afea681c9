/*
 * value.h: turns one word of forkloop.conf into the value it stands for.
 *
 * The parser (conf/parse.c) hands each argument of a directive to one of
 * these.  They know nothing of files and lines: each returns 0, or -1
 * with a message in err such as "invalid size \"12q\"", and the parser
 * puts "FILE:LINE: " in front of it.  The output is written only on
 * success.
 */
#ifndef FORKLOOP_VALUE_H
#define FORKLOOP_VALUE_H

#include <stddef.h>

#include "conf/conf.h"

/* "512", "12k", "1m", "2G": bytes, in powers of 1024. */
int value_size(const char *text, size_t *size, char *err, size_t errlen);

/* "30s", "500ms", "5m", "1h", "1d"; a bare number is seconds. */
int value_time(const char *text, int *ms, char *err, size_t errlen);
int value_time_sec(const char *text, long long *sec, char *err,
    size_t errlen);

/* A count: decimal digits, 1 to INT_MAX. */
int value_number(const char *text, int *num, char *err, size_t errlen);

/*
 * The word on (for example "on" or "auto") is 1 and "off" is 0; name is
 * the directive's, for the message.
 */
int value_switch(const char *name, const char *text, const char *on,
    int *flag, char *err, size_t errlen);

/* "auto" (the online CPU count) or 1 to 1024. */
int value_workers(const char *text, int *workers, char *err, size_t errlen);

/* The online CPUs, at least 1 and at most what "workers" allows. */
int value_cpu_count(void);

/* "debug", "info", "warn" or "error". */
int value_log_level(const char *text, enum conf_log_level *level,
    char *err, size_t errlen);

/*
 * text with "$name" and "${name}" variables (enum conf_var) into a new
 * struct conf_text; NULL on error ("$" alone is an error too).  $1 to $9
 * are a regex's groups; re, when not NULL, is the regex of the location
 * the text is in, whose named groups are variables too.
 */
struct conf_text *value_text(const char *text, const struct conf_regex *re,
    char *err, size_t errlen);
void conf_text_free(struct conf_text *t);

/* "hello", "delay", "echo" or "status". */
int value_route_handler(const char *text, enum conf_route_handler *handler,
    char *err, size_t errlen);

/*
 * "[v6]:port", "v4:port", "*:port", ":port" or "port" into l's addr,
 * addrlen and text; its other fields are the caller's.
 */
int value_listen(const char *text, struct conf_listen *l, char *err,
    size_t errlen);

/*
 * A new absolute, tidied copy of path: a relative one is taken from
 * basedir, or refused when basedir is NULL.  NULL on error.
 */
char *value_path(const char *basedir, const char *path, char *err,
    size_t errlen);

/*
 * The absolute directory that holds the file at path, as a new string;
 * NULL with errno set on error.
 */
char *value_dir_of(const char *path);

#endif
