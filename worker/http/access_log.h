/*
 * access_log.h: the access log (access_log.c), written per request by
 * the protocol once the request's answer is queued or has gone.
 */
#ifndef FORKLOOP_HTTP_ACCESS_LOG_H
#define FORKLOOP_HTTP_ACCESS_LOG_H

#include <stdint.h>

struct http_req;
struct worker;
struct access_log_pending;

int access_log_init(struct worker *w);
void access_log_request(const struct http_req *r);
struct access_log_pending *access_log_defer(const struct http_req *r);
void access_log_commit(struct access_log_pending **pending, uint64_t unsent);
void access_log_flush_all(void);
void access_log_reopen_all(void);

/* log_format.c */
struct conf_log_format;
size_t http_log_escape(char *out, size_t o, size_t max, const char *s,
    size_t len);
const char *http_log_time_local(void);
void http_log_peer(const struct http_req *r, char *out, size_t len);
size_t http_log_format(const struct http_req *r,
    const struct conf_log_format *f, char *line, size_t max, size_t *split);

#endif
