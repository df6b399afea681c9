/*
 * h1_request.c: the requests of an HTTP/1.1 connection, one at a time:
 * a head becomes a request (request.c), its body is read or dropped, and
 * its answer goes into the connection's output (h1_out.c) through
 * http_h1_proto; when the answer is queued, the connection moves on to
 * the next head.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "common/log.h"
#include "common/stats.h"
#include "worker/http/access_log.h"
#include "worker/http/file_cache.h"
#include "worker/http/h1_conn.h"

/* Small file bodies are copied with the head (one write); see h1_out.c. */
#define HTTP_H1_COPY_MAX (16 * 1024)

static int
http_h1_head(struct http_req *r, const char *head, size_t len)
{
	struct http_conn *c = r->owner;
	int rc;

	/* keepalive_timeout 0 turns keep-alive off: say so in the head. */
	if (r->close || c->draining || r->server->keepalive_timeout_ms == 0)
		c->close_after = 1;
	rc = http_out_add(c, head, len);
	/* An answer of unknown length: chunked to an HTTP/1.1 client
	 * (RFC 9112 7.1), up to the close for HTTP/1.0. */
	if (r->stream_out && r->head.version == 11)
		rc |= http_out_add(c, "Transfer-Encoding: chunked\r\n", 28);
	else if (r->stream_out)
		c->close_after = 1;
	if (c->close_after)
		rc |= http_out_add(c, "Connection: close\r\n\r\n", 21);
	else if (r->head.version == 10)
		rc |= http_out_add(c, "Connection: keep-alive\r\n\r\n", 26);
	else
		rc |= http_out_add(c, "\r\n", 2);
	return rc == 0 ? 0 : -1;
}

/* A chunk's size line, before len bytes of a chunked answer. */
static int
http_h1_chunk(struct http_req *r, size_t len)
{
	char line[24];
	int n;

	if (!r->stream_out || r->head.version != 11)
		return 0;
	n = snprintf(line, sizeof(line), "%zx\r\n", len);
	return http_out_add(r->owner, line, (size_t)n);
}

static int
http_h1_data(struct http_req *r, const void *data, size_t len)
{
	int chunked = r->stream_out && r->head.version == 11;

	if (http_h1_chunk(r, len) == -1 ||
	    http_out_add(r->owner, data, len) == -1)
		return -1;
	return chunked ? http_out_add(r->owner, "\r\n", 2) : 0;
}

static int
http_h1_buffer(struct http_req *r, struct evbuffer *buf)
{
	int chunked = r->stream_out && r->head.version == 11;
	struct evbuffer *out;

	/* The size line first: it may go to the flat buffer, which
	 * http_out_evbuffer() then moves in ahead of the data. */
	if (http_h1_chunk(r, evbuffer_get_length(buf)) == -1 ||
	    (out = http_out_evbuffer(r->owner)) == NULL ||
	    evbuffer_add_buffer(out, buf) == -1)
		return -1;
	return chunked ? http_out_add(r->owner, "\r\n", 2) : 0;
}

static int
http_h1_file(struct http_req *r, struct file_cache_entry *e, off_t start,
    off_t len)
{
	struct evbuffer *out;

	if (e->data != NULL && len <= HTTP_H1_COPY_MAX)
		return http_out_add(r->owner, e->data + start, (size_t)len);
	out = http_out_evbuffer(r->owner);
	if (out == NULL)
		return -1;
	return file_cache_add_body(e, out, start, len);
}

/* The current request's answer is queued: move on to the next. */
static void
http_h1_done(struct http_req *r)
{
	struct http_conn *c = r->owner;
	int waited = r->waiting;

	if (r->close || r->broken)
		c->close_after = 1;
	/* The end of a chunked answer; a broken one has none, so the
	 * client sees it was cut short. */
	if (r->stream_out && r->head.version == 11 && !r->broken &&
	    !http_req_is_head(r) && http_out_add(c, "0\r\n\r\n", 5) == -1)
		c->close_after = 1;
	/* Answered before its body came whole (a streamed one): what is
	 * left of it cannot be told from a next request. */
	if (c->state == HTTP_READ_BODY)
		c->close_after = 1;
	/* An answer the socket may not take at once (one in c->out: a
	 * file, a body) is logged and counted once it has gone. */
	if (c->out == NULL || evbuffer_get_length(c->out) == 0 ||
	    (c->log_pending = access_log_defer(r)) == NULL) {
		access_log_request(r);
		worker_stats->bytes_sent += (int64_t)r->sent_body;
	}
	if (r->status >= 100 && r->status < 600)
		worker_stats->requests[r->status / 100]++;
	c->head_start += c->head_len;
	c->head_len = 0;
	c->head_scanned = 0;
	c->state = HTTP_READ_HEAD;
	http_body_free(c);
	c->req = NULL;
	http_req_free(r);
	/* The next request starts in the connection's own block. */
	c->server = c->home;
	if (c->close_after) {
		/* Nothing more is read; drop what was pipelined. */
		c->head_start = c->in_len = 0;
	}
	/* Answered from a handler's own event (delay): go on reading. */
	if (waited)
		http_conn_wake(c);
}

static size_t
http_h1_pending(struct http_req *r)
{
	return http_out_pending(r->owner);
}

static void
http_h1_flush(struct http_req *r)
{
	http_conn_wake(r->owner);
}

static struct bufferevent *
http_h1_takeover(struct http_req *r, struct evbuffer *unread)
{
	struct http_conn *c = r->owner;
	size_t start = c->head_start + c->head_len;
	struct evbuffer *queued = http_out_evbuffer(c);
	struct bufferevent *bev;

	if (queued == NULL || (bev = net_conn_to_bufferevent(&c->net)) == NULL)
		return NULL;
	if (bufferevent_write_buffer(bev, queued) == -1 ||
	    (start < c->in_len &&
	    evbuffer_add(unread, c->in + start, c->in_len - start) == -1)) {
		bufferevent_free(bev);
		return NULL;
	}
	access_log_request(r);
	if (r->status >= 100 && r->status < 600)
		worker_stats->requests[r->status / 100]++;
	c->req = NULL;
	http_req_free(r);
	c->base.destroy(&c->base);	/* h1.c's close: the fd is the bev's */
	return bev;
}

const struct http_proto http_h1_proto = {
	.head = http_h1_head,
	.data = http_h1_data,
	.buffer = http_h1_buffer,
	.file = http_h1_file,
	.done = http_h1_done,
	.pending = http_h1_pending,
	.flush = http_h1_flush,
	.body_resume = http_h1_flush,
	.takeover = http_h1_takeover,
};

/* A request for c, with an empty head; NULL when out of memory. */
struct http_req *
http_h1_req_new(struct http_conn *c)
{
	c->req = http_req_new(&http_h1_proto, c, c->server, &c->net,
	    &c->peer.sa);
	if (c->req != NULL)
		c->req->auth_cache = &c->auth;
	return c->req;
}

/*
 * An answer without a request head: one refused before it was parsed,
 * or one that never came whole (408).  The connection closes after it.
 * Returns -1 when out of memory: close it now.
 */
int
http_h1_refuse(struct http_conn *c, int status)
{
	struct http_req *r = c->req != NULL ? c->req : http_h1_req_new(c);

	c->close_after = 1;
	if (r == NULL)
		return -1;
	http_respond_error(r, status);
	return 0;
}

/* After a dispatch: an answer not yet queued comes from a handler's
 * event, and the connection waits for it. */
static void
http_h1_dispatch(struct http_conn *c, struct http_req *r)
{
	http_req_dispatch(r);
	if (c->req == r)
		c->state = HTTP_WAIT_HANDLER;
}

void
http_body_progress(struct http_conn *c)
{
	struct http_req *r = c->req;
	size_t before = r->body != NULL ? evbuffer_get_length(r->body) : 0;
	int status = http_body_take(c);

	if (status != 0 && r->body_streams) {
		/* The handler has begun: it ends the answer broken. */
		log_info("request body: %d; closing", status);
		c->close_after = 1;
		r->broken = 1;
		r->body_done = 1;
		if (r->on_body != NULL)
			r->on_body(r);
		return;
	}
	if (status != 0) {
		c->close_after = 1;
		c->state = HTTP_READ_HEAD;
		http_respond_error(r, status);
		return;
	}
	if (r->body_streams) {
		if (c->state == HTTP_WAIT_HANDLER)
			r->body_done = 1;
		if ((r->body_done || evbuffer_get_length(r->body) > before) &&
		    r->on_body != NULL)
			r->on_body(r);
		return;
	}
	if (c->state != HTTP_WAIT_HANDLER)
		return;
	c->state = HTTP_READ_HEAD;
	http_h1_dispatch(c, r);
}

/*
 * A head of len bytes is at c->in + c->head_start: answer it.  Returns
 * -1 when out of memory: close the connection now.
 */
int
http_handle_head(struct http_conn *c, size_t len)
{
	struct http_req *r;
	int has_body;

	c->head_len = len;
	if ((r = http_h1_req_new(c)) == NULL) {
		log_warnx("out of memory for a request; closing");
		return -1;
	}
	if (http_parse_request(c->in + c->head_start, len, &r->head) == -1) {
		log_debug("bad request: %s", r->head.error);
		c->close_after = 1;
		http_respond_error(r, r->head.status);
		return 0;
	}
	has_body = r->head.chunked || r->head.content_length > 0;
	if (!r->head.keep_alive)
		c->close_after = c->client_closes = 1;
	if (http_req_begin(r, c->listen->vhosts) == -1)
		return 0;
	c->server = r->server;
	if (!has_body) {
		http_h1_dispatch(c, r);
		return 0;
	}
	if (r->head.content_length > (int64_t)c->server->max_body_size) {
		c->close_after = 1;
		http_respond_error(r, 413);
		return 0;
	}
	if (http_body_start(c) == -1) {
		c->close_after = 1;
		http_respond_error(r, 500);
		return 0;
	}
	c->state = HTTP_READ_BODY;
	/* Section 10.1.1 of RFC 9110: ask for the body only when it waits. */
	if (r->head.expect_continue && r->head.version == 11 &&
	    c->head_start + c->head_len == c->in_len)
		http_out_add(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	/* A streamed body goes to a handler begun now (the proxy). */
	if (r->body_streams) {
		http_req_dispatch(r);
		if (c->req != r)
			return 0;
	}
	http_body_progress(c);
	return 0;
}
