/*
 * http_conditional.h: preconditions and byte ranges for static files.
 */
#ifndef FORKLOOP_HTTP_CONDITIONAL_H
#define FORKLOOP_HTTP_CONDITIONAL_H

#include <sys/types.h>

struct file_cache_entry;

enum http_conditional {
	HTTP_COND_FULL,			/* 200 with the whole file */
	HTTP_COND_PARTIAL,		/* 206 with [start, start + len) */
	HTTP_COND_NOT_MODIFIED,		/* 304 */
	HTTP_COND_FAILED,		/* 412 */
	HTTP_COND_UNSATISFIABLE,	/* 416 */
};

enum http_conditional http_conditional_eval(const struct file_cache_entry *e,
    off_t *start, off_t *len);

#endif
