/*
 * access_log.c: the access log, in nginx's "combined" format, which log
 * tools (goaccess, awstats, fail2ban) read as is:
 *
 *   ADDR - - [24/Nov/2026:05:40:00 +0000] "GET / HTTP/1.1" 200 612 "REF" "UA"
 *
 * Lines are gathered in a buffer per file and written when it fills,
 * once a second, and when the worker exits; USR1 reopens the files.
 * The byte count is the body bytes sent, so a response still queued
 * when its request is done is logged once it has gone (access_log_defer).
 * Quotes, backslashes and control bytes in the request line, Referer and
 * User-Agent are written as \xHH so a client cannot forge a line.
 */
#include "config.h"

#include <sys/uio.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/stats.h"
#include "worker/http/access_log.h"
#include "worker/http/decimal.h"
#include "worker/http/response.h"
#include "worker/net/conn.h"
#include "worker/net/tls.h"
#include "worker/conns.h"

#define ACCESS_LOG_BUFFER (64 * 1024)
/* The longest line: fields are cut to fit. */
#define ACCESS_LOG_LINE_MAX 8192

struct access_log_file {
	char *path;
	int fd;
	char *buf;
	size_t len;
	size_t cap;		/* buffer=, the largest that names the file */
};

static struct access_log_file *access_logs;
static size_t access_nlogs;
/* access_log_of[i]: the file of conf->servers[i], or NULL. */
static struct access_log_file **access_log_of;
static struct conf *access_conf;
static struct event *access_flush_timer;

static void
access_log_write(struct access_log_file *f)
{
	size_t off = 0;

	while (off < f->len) {
		ssize_t n = write(f->fd, f->buf + off, f->len - off);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_warn("writing access log %s", f->path);
			break;
		}
		off += (size_t)n;
	}
	f->len = 0;
}

void
access_log_flush_all(void)
{
	size_t i;

	for (i = 0; i < access_nlogs; i++)
		if (access_logs[i].len > 0)
			access_log_write(&access_logs[i]);
}

static int
access_log_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd == -1)
		log_warn("opening access log %s", path);
	return fd;
}

void
access_log_reopen_all(void)
{
	size_t i;

	access_log_flush_all();
	for (i = 0; i < access_nlogs; i++) {
		int fd = access_log_open(access_logs[i].path);

		if (fd == -1)
			continue;	/* keep writing to the old file */
		close(access_logs[i].fd);
		access_logs[i].fd = fd;
	}
}

static void
access_log_on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	access_log_flush_all();
}

static struct access_log_file *
access_log_find(const char *path)
{
	size_t i;

	for (i = 0; i < access_nlogs; i++)
		if (strcmp(access_logs[i].path, path) == 0)
			return &access_logs[i];
	return NULL;
}

/* The shortest flush= of any access_log; 1 s when none says. */
static int access_flush_ms = 1000;

/*
 * The file of a block's or a location's access_log, opened once; its
 * buffer the largest buffer= of those that name it.
 */
static int
access_log_attach(const struct conf_server *s)
{
	size_t cap = s->access_buffer > 0 ? s->access_buffer :
	    ACCESS_LOG_BUFFER;
	struct access_log_file *f;
	char *buf;

	if (s->access_log == NULL)
		return 0;
	if (s->access_flush_ms > 0 && s->access_flush_ms < access_flush_ms)
		access_flush_ms = s->access_flush_ms;
	f = access_log_find(s->access_log);
	if (f == NULL) {
		f = &access_logs[access_nlogs];
		f->fd = access_log_open(s->access_log);
		f->path = strdup(s->access_log);
		if (f->fd == -1 || f->path == NULL)
			return -1;
		access_nlogs++;
	}
	if (cap > f->cap) {
		if ((buf = realloc(f->buf, cap)) == NULL) {
			log_error("allocating an access log buffer");
			return -1;
		}
		f->buf = buf;
		f->cap = cap;
	}
	access_log_of[s->log_id] = f;
	return 0;
}

/* A line longer than its file's buffer, written alone. */
static void
access_log_write_line(struct access_log_file *f, const char *line,
    size_t len, size_t split, const char *count, size_t count_len)
{
	struct iovec iov[3] = {
		{ (void *)(uintptr_t)line, split },
		{ (void *)(uintptr_t)count, count_len },
		{ (void *)(uintptr_t)(line + split), len - split },
	};

	if (writev(f->fd, iov, 3) == -1)
		log_warn("writing access log %s", f->path);
}

int
access_log_init(struct worker *w)
{
	struct timeval second;
	size_t i;

	access_conf = w->conf;
	access_log_of = calloc((size_t)w->conf->nlog_ids + 1,
	    sizeof(*access_log_of));
	access_logs = calloc((size_t)w->conf->nlog_ids + 1,
	    sizeof(*access_logs));
	if (access_log_of == NULL || access_logs == NULL) {
		log_error("allocating access logs");
		return -1;
	}
	for (i = 0; i < w->conf->nservers; i++) {
		const struct conf_server *s = &w->conf->servers[i];
		size_t j;

		if (s->kind != CONF_SERVER_HTTP)
			continue;
		if (access_log_attach(s) == -1)
			return -1;
		for (j = 0; j < s->nlocations; j++)
			if (access_log_attach(s->locations[j].conf) == -1)
				return -1;
	}
	if (access_nlogs == 0)
		return 0;
	second.tv_sec = access_flush_ms / 1000;
	second.tv_usec = (access_flush_ms % 1000) * 1000;
	access_flush_timer = event_new(w->base, -1, EV_PERSIST,
	    access_log_on_timer, NULL);
	if (access_flush_timer == NULL ||
	    event_add(access_flush_timer, &second) == -1) {
		log_errorx("cannot arm the access log timer");
		return -1;
	}
	return 0;
}

static size_t
access_log_field(char *out, size_t o, size_t max, const struct http_header *h)
{
	if (h == NULL || h->value_len == 0) {
		out[o++] = '-';
		return o;
	}
	return http_log_escape(out, o, max, h->value, h->value_len);
}

/*
 * combined_ssl: nginx's $ssl_protocol, $ssl_cipher and $ssl_session_reused
 * ("r" or "."), each quoted, after the combined fields; "-" without TLS.
 */
static size_t
access_log_tls(const struct http_req *r, char *out, size_t max)
{
	int n;

	if (!http_req_is_tls(r))
		n = snprintf(out, max, " \"-\" \"-\" \"-\"");
	else
		n = snprintf(out, max, " \"%s\" \"%s\" \"%s\"",
		    net_tls_protocol(r->net), net_tls_cipher(r->net),
		    net_tls_reused(r->net) ? "r" : ".");
	if (n < 0 || (size_t)n >= max)
		return 0;
	return (size_t)n;
}

/* Appends the string s (short, known: the line has room). */
static size_t
access_log_put(char *line, size_t o, const char *s)
{
	size_t len = strlen(s);

	memcpy(line + o, s, len);
	return o + len;
}

/*
 * Formats c's line but for its byte count: line[0..*split) goes before
 * the count, line[*split..return) after it.  Returns the length.
 */
static size_t
access_log_format(const struct http_req *r, char *line, size_t max,
    size_t *split)
{
	const struct http_request *req = &r->head;
	char peer[INET6_ADDRSTRLEN];
	int have_request = req->request_line != NULL;
	size_t o;

	http_log_peer(r, peer, sizeof(peer));
	o = access_log_put(line, 0, peer);
	o = access_log_put(line, o, " - ");
	/* $remote_user: auth_basic's user, escaped as the request. */
	if (r->remote_user != NULL)
		o = http_log_escape(line, o, o + 4 * 64, r->remote_user,
		    strlen(r->remote_user));
	else
		line[o++] = '-';
	o = access_log_put(line, o, " [");
	o = access_log_put(line, o, http_log_time_local());
	o = access_log_put(line, o, "] \"");
	if (have_request)
		o = http_log_escape(line, o, max - 512,
		    req->request_line, req->request_line_len);
	o = access_log_put(line, o, "\" ");
	o += http_decimal(line + o, (uint64_t)(r->status > 0 ? r->status : 0));
	line[o++] = ' ';
	*split = o;
	line[o++] = ' ';
	line[o++] = '"';
	o = access_log_field(line, o, max - 256,
	    have_request ? req->referer : NULL);
	memcpy(line + o, "\" \"", 3);
	o += 3;
	o = access_log_field(line, o, max - 4 - 128,
	    have_request ? req->user_agent : NULL);
	line[o++] = '"';
	if (r->server->access_format == CONF_ACCESS_COMBINED_SSL)
		o += access_log_tls(r, line + o, max - 4 - o);
	line[o++] = '\n';
	return o;
}

/* The line in the block's format: combined, combined_ssl, or one of
 * the config's log_format lines (log_format.c). */
static size_t
access_log_line(const struct http_req *r, char *line, size_t max,
    size_t *split)
{
	if (r->server->access_custom >= 0)
		return http_log_format(r,
		    &access_conf->log_formats[r->server->access_custom], line,
		    max, split);
	return access_log_format(r, line, max, split);
}

static void
access_log_append(struct access_log_file *f, const char *line, size_t len,
    size_t split, uint64_t bytes)
{
	char count[24];
	int n = (int)http_decimal(count, bytes);

	/* A format without $body_bytes_sent has no gap for it. */
	if (split == SIZE_MAX) {
		split = len;
		n = 0;
	}
	if (f->len + len + (size_t)n > f->cap)
		access_log_write(f);
	if (len + (size_t)n > f->cap) {
		/* A line longer than the buffer: written alone. */
		access_log_write_line(f, line, len, split, count, (size_t)n);
		return;
	}
	memcpy(f->buf + f->len, line, split);
	memcpy(f->buf + f->len + split, count, (size_t)n);
	memcpy(f->buf + f->len + split + (size_t)n, line + split, len - split);
	f->len += len + (size_t)n;
}

void
access_log_request(const struct http_req *r)
{
	struct access_log_file *f;
	char line[ACCESS_LOG_LINE_MAX];
	size_t len, split;

	f = access_log_of[r->server->log_id];
	if (f == NULL)
		return;
	len = access_log_line(r, line, sizeof(line), &split);
	access_log_append(f, line, len, split, r->sent_body);
}

/*
 * A response that the socket may not take at once (a large file, a slow
 * client) is logged when it has gone, with the body bytes that did go,
 * as nginx's $body_bytes_sent: a download cut short is not logged whole.
 * The line is formatted now, while the request is at hand.  Returns
 * what access_log_commit() takes later, or NULL to log at once.
 */
struct access_log_pending {
	struct access_log_file *file;
	uint64_t body;		/* the body bytes the response holds */
	size_t split, len;
	char line[];
};

struct access_log_pending *
access_log_defer(const struct http_req *r)
{
	struct access_log_file *f;
	struct access_log_pending *p;
	char line[ACCESS_LOG_LINE_MAX];
	size_t len = 0, split = 0;

	/* Without a log the byte count still waits, for the statistics. */
	f = access_log_of[r->server->log_id];
	if (f != NULL)
		len = access_log_line(r, line, sizeof(line), &split);
	p = malloc(sizeof(*p) + len);
	if (p == NULL)
		return NULL;
	p->file = f;
	p->body = r->sent_body;
	p->split = split;
	p->len = len;
	memcpy(p->line, line, len);
	return p;
}

/* Writes a deferred line; unsent is what of the response never left. */
void
access_log_commit(struct access_log_pending **pending, uint64_t unsent)
{
	struct access_log_pending *p = *pending;
	uint64_t sent;

	if (p == NULL)
		return;
	sent = unsent < p->body ? p->body - unsent : 0;
	worker_stats->bytes_sent += (int64_t)sent;
	if (p->file != NULL)
		access_log_append(p->file, p->line, p->len, p->split, sent);
	free(p);
	*pending = NULL;
}
