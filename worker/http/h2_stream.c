/*
 * h2_stream.c: the streams of an HTTP/2 connection.  A request stream
 * becomes a struct http_req as soon as its HEADERS begin: its fields go
 * into the request as libnghttp2 decodes them (held, not copied), and
 * when the header block ends the request is begun (block, path, route)
 * like an HTTP/1.1 one; when the stream's END_STREAM comes, the handler
 * is called.  Its answer comes back through h2_proto (h2_answer.c).
 * A request body's flow control is here too: the window is given back
 * as the handler takes the bytes.
 */
#include "config.h"

#include <sys/time.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/stats.h"
#include "worker/http/access_log.h"
#include "worker/http/file_cache.h"
#include "worker/http/h2_conn.h"
#include "worker/http/request.h"

/* Empty DATA frames without END_STREAM a connection may send: they
 * carry nothing and cost a callback each (a flood, CVE-2019-9518). */
#define H2_EMPTY_DATA_MAX 100
/* Rapid Reset (CVE-2023-44487): streams a client may reset at once,
 * then per second, before it gets GOAWAY ENHANCE_YOUR_CALM. */
#define H2_RESET_BURST 1000
#define H2_RESET_RATE 33
#define H2_WINDOW_MAX 0x7fffffff
/* Streams kept for reuse, per worker. */
#define H2_STREAM_SPARE_MAX 64


static struct h2_stream *h2_stream_spare[H2_STREAM_SPARE_MAX];
static size_t h2_stream_nspare;

static struct h2_stream *
h2_stream_of(nghttp2_session *session, int32_t id)
{
	return nghttp2_session_get_stream_user_data(session, id);
}

static void
h2_stream_log(struct h2_stream *st)
{
	struct http_req *r = st->req;

	if (st->logged || !st->answered)
		return;
	st->logged = 1;
	r->sent_body = st->sent;
	access_log_request(r);
	worker_stats->bytes_sent += (int64_t)st->sent;
	if (r->status >= 100 && r->status < 600)
		worker_stats->requests[r->status / 100]++;
}

void
h2_stream_free(struct h2_stream *st)
{
	struct h2_conn *c = st->conn;
	size_t i;

	h2_stream_log(st);
	/* What a streamed body left unread still counts in the
	 * connection's window: give it back. */
	if (st->body_unconsumed > 0)
		nghttp2_session_consume_connection(c->session,
		    st->body_unconsumed);
	st->body_unconsumed = 0;
	http_req_free(st->req);
	for (i = 0; i < st->nrefs; i++)
		nghttp2_rcbuf_decref(st->refs[i]);
	if (st->refs != st->refs_inline)
		free(st->refs);
	if (st->request_line != st->line_inline)
		free(st->request_line);
	if (st->head != st->head_inline)
		free(st->head);
	if (st->nva != st->nva_inline)
		free(st->nva);
	if (st->body != NULL)
		evbuffer_free(st->body);
	if (st->file != NULL)
		file_cache_unref(st->file);
	TAILQ_REMOVE(&c->streams, st, link);
	c->nstreams--;
	if (c->heading == st)
		c->heading = NULL;
	nghttp2_session_set_stream_user_data(c->session, st->id, NULL);
	if (h2_stream_nspare < H2_STREAM_SPARE_MAX)
		h2_stream_spare[h2_stream_nspare++] = st;
	else
		free(st);
}

static int
h2_on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame,
    void *arg)
{
	struct h2_conn *c = arg;
	struct h2_stream *st;

	if (frame->hd.type != NGHTTP2_HEADERS ||
	    frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if (h2_stream_nspare > 0)
		st = h2_stream_spare[--h2_stream_nspare];
	else if ((st = malloc(sizeof(*st))) == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	/* The fields; the inline room after them need not be cleared. */
	memset(st, 0, offsetof(struct h2_stream, refs_inline));
	st->refs = st->refs_inline;
	st->refs_cap = H2_STREAM_REFS;
	st->req = http_req_new(&h2_proto, st, c->home, &c->net, &c->peer.sa);
	if (st->req == NULL) {
		free(st);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	st->req->auth_cache = &c->auth;
	st->conn = c;
	st->id = frame->hd.stream_id;
	if (st->id > c->last_stream)
		c->last_stream = st->id;
	TAILQ_INSERT_TAIL(&c->streams, st, link);
	c->nstreams++;
	worker_stats->h2_streams++;
	nghttp2_session_set_stream_user_data(session, st->id, st);
	c->heading = st;
	return 0;
}

/* Holds a decoded name or value for as long as the request lives. */
static const char *
h2_stream_hold(struct h2_stream *st, nghttp2_rcbuf *buf, size_t *len)
{
	nghttp2_vec v = nghttp2_rcbuf_get_buf(buf);

	if (st->nrefs == st->refs_cap) {
		size_t cap = st->refs_cap * 2;
		nghttp2_rcbuf **refs;

		if (st->refs == st->refs_inline) {
			if ((refs = malloc(cap * sizeof(*refs))) != NULL)
				memcpy(refs, st->refs, st->nrefs *
				    sizeof(*refs));
		} else {
			refs = realloc(st->refs, cap * sizeof(*refs));
		}
		if (refs == NULL)
			return NULL;
		st->refs = refs;
		st->refs_cap = cap;
	}
	nghttp2_rcbuf_incref(buf);
	st->refs[st->nrefs++] = buf;
	*len = v.len;
	return (const char *)v.base;
}

static size_t
h2_stream_max_header(const struct h2_stream *st)
{
	const struct conf_server *s = st->conn->home;

	return s->http2_max_header_size != 0 ? s->http2_max_header_size :
	    s->max_header_size;
}

static int
h2_on_header(nghttp2_session *session, const nghttp2_frame *frame,
    nghttp2_rcbuf *name, nghttp2_rcbuf *value, uint8_t flags, void *arg)
{
	struct h2_conn *c = arg;
	struct h2_stream *st = c->heading != NULL &&
	    c->heading->id == frame->hd.stream_id ? c->heading :
	    h2_stream_of(session, frame->hd.stream_id);
	nghttp2_vec n = nghttp2_rcbuf_get_buf(name);
	nghttp2_vec v = nghttp2_rcbuf_get_buf(value);
	const char *ns, *vs;
	size_t nlen, vlen;

	(void)flags;
	/* Trailers (RFC 9113 8.1) are read and dropped. */
	if (st == NULL || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	/* The decoded list, as SETTINGS_MAX_HEADER_LIST_SIZE counts it
	 * (6.5.2): an HPACK bomb is refused without keeping it. */
	st->header_bytes += n.len + v.len + 32;
	if (st->too_large || st->header_bytes > h2_stream_max_header(st)) {
		st->too_large = 1;
		return 0;
	}
	if (st->error != 0)
		return 0;
	ns = (const char *)n.base;
	if (n.len > 0 && ns[0] == ':') {
		/* libnghttp2 checked the pseudo-header fields (8.3.1).  Only
		 * the values kept are held; the names are libnghttp2's. */
		if (n.len == 7 && memcmp(ns, ":method", 7) == 0) {
			st->method = h2_stream_hold(st, value, &st->method_len);
			if (st->method == NULL)
				return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		} else if (n.len == 5 && memcmp(ns, ":path", 5) == 0) {
			st->path = h2_stream_hold(st, value, &st->path_len);
			if (st->path == NULL)
				return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		} else if (n.len == 10 && memcmp(ns, ":authority", 10) == 0) {
			st->authority = h2_stream_hold(st, value,
			    &st->authority_len);
			if (st->authority == NULL)
				return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		}
		return 0;
	}
	if ((ns = h2_stream_hold(st, name, &nlen)) == NULL ||
	    (vs = h2_stream_hold(st, value, &vlen)) == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (http_request_add_field(&st->req->head, ns, nlen, vs, vlen) == -1)
		st->error = st->req->head.status;
	return 0;
}

/* "GET /x HTTP/2.0": the access log's request line. */
static int
h2_stream_request_line(struct h2_stream *st)
{
	size_t len = st->method_len + 1 + st->path_len + 9;

	st->request_line = len < sizeof(st->line_inline) ? st->line_inline :
	    malloc(len + 1);
	if (st->request_line == NULL)
		return -1;
	memcpy(st->request_line, st->method, st->method_len);
	st->request_line[st->method_len] = ' ';
	memcpy(st->request_line + st->method_len + 1, st->path, st->path_len);
	memcpy(st->request_line + len - 9, " HTTP/2.0", 9);
	st->request_line[len] = '\0';
	st->req->head.request_line = st->request_line;
	st->req->head.request_line_len = len;
	return 0;
}

static void
h2_stream_dispatch(struct h2_stream *st)
{
	if (st->dispatched)
		return;
	st->dispatched = 1;
	http_req_dispatch(st->req);
}

static void
h2_stream_answer_now(struct h2_stream *st, int status)
{
	st->dispatched = 1;
	http_respond_error(st->req, status);
}

/*
 * The header block is whole: the request line from the pseudo-header
 * fields, :authority over Host (8.3.1), then the block, path and route,
 * as for HTTP/1.1.  Errors are answered at once.
 */
static void
h2_stream_head_done(struct h2_stream *st, int end_stream)
{
	struct http_req *r = st->req;
	struct http_request *h = &r->head;

	if (st->method == NULL)
		st->method = "", st->method_len = 0;
	if (st->path == NULL)
		st->path = "", st->path_len = 0;
	if (h2_stream_request_line(st) == -1) {
		h2_stream_answer_now(st, 503);
		return;
	}
	if (st->too_large)
		st->error = 431;
	if (st->error == 0 && http_request_set_line(h, st->method,
	    st->method_len, st->path, st->path_len, 20) == -1)
		st->error = h->status;
	if (st->error == 0 && st->authority != NULL &&
	    http_request_set_authority(h, st->authority,
	    st->authority_len) == -1)
		st->error = h->status;
	/* Without :authority, an empty host field is as empty a host. */
	if (st->error == 0 && http_request_check_host(h) == -1)
		st->error = h->status;
	h->request_line = st->request_line;
	if (st->error != 0) {
		h2_stream_answer_now(st, st->error);
		return;
	}
	if (http_req_begin(r, st->conn->listen->vhosts) == -1) {
		st->dispatched = 1;
		return;
	}
	if (h->content_length > (int64_t)r->server->max_body_size) {
		h2_stream_answer_now(st, 413);
		return;
	}
	r->body_unsized = !end_stream && h->content_length < 0;
	switch (http_req_wants_body(r)) {
	case HTTP_BODY_STREAM:
		if (end_stream)
			break;
		/* The proxy takes the body as it comes: dispatch now. */
		r->body_streams = 1;
		if ((r->body = evbuffer_new()) == NULL) {
			h2_stream_answer_now(st, 503);
			return;
		}
		h2_stream_dispatch(st);
		return;
	case HTTP_BODY_KEEP:
		if ((r->body = evbuffer_new()) == NULL)
			h2_stream_answer_now(st, 503);
		return;
	}
	if (end_stream && http_req_wants_body(r) != HTTP_BODY_DROP &&
	    (r->body = evbuffer_new()) == NULL)
		h2_stream_answer_now(st, 503);
}

/*
 * Window updates are ours (nghttp2_option_set_no_auto_window_update):
 * DATA is given back to the client's window as soon as it is read,
 * except a body streamed to a handler, whose bytes are given back as
 * the handler takes them (h2_body_resume), so a client cannot push more
 * than a window ahead of a slow upstream.  libnghttp2 gives back
 * padding, and DATA it drops itself, on its own.
 */
static void
h2_consume(nghttp2_session *session, int32_t id, size_t len)
{
	if (len > 0 && nghttp2_session_consume(session, id, len) != 0)
		nghttp2_session_consume_connection(session, len);
}

/* A streamed body: more of it, or all of it, for the handler. */
static void
h2_stream_body_more(struct h2_stream *st, const uint8_t *data, size_t len,
    int end)
{
	struct http_req *r = st->req;

	if (r->on_body == NULL && r->handler == NULL && st->answered) {
		/* The handler is done with it: nobody reads the rest. */
		h2_consume(st->conn->session, st->id, len);
		return;
	}
	if (len > 0 && evbuffer_add(r->body, data, len) == -1) {
		h2_consume(st->conn->session, st->id, len);
		r->broken = 1;
		end = 1;
	} else {
		st->body_unconsumed += len;
	}
	if (end)
		r->body_done = 1;
	if (r->on_body != NULL)
		r->on_body(r);
}

static int
h2_on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t id,
    const uint8_t *data, size_t len, void *arg)
{
	struct h2_stream *st = h2_stream_of(session, id);
	struct http_req *r;

	(void)flags;
	h2_conn_progress(arg);
	if (st == NULL || (st->dispatched && !st->req->body_streams)) {
		h2_consume(session, id, len);
		return 0;
	}
	r = st->req;
	st->body_size += (int64_t)len;
	if (st->body_size > (int64_t)r->server->max_body_size) {
		h2_consume(session, id, len);
		if (!st->dispatched) {
			h2_stream_answer_now(st, 413);
			return 0;
		}
		/* Streamed and over the limit: the handler sees it broken. */
		r->broken = 1;
		r->body_done = 1;
		if (r->on_body != NULL)
			r->on_body(r);
		return nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE,
		    id, NGHTTP2_CANCEL) == 0 ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	if (r->body_streams) {
		h2_stream_body_more(st, data, len, 0);
		return 0;
	}
	h2_consume(session, id, len);
	if (r->body != NULL && evbuffer_add(r->body, data, len) == -1)
		h2_stream_answer_now(st, 503);
	return 0;
}

/*
 * Before a frame's payload: HEADERS on a stream id below one the client
 * has used and that is not open is on a closed stream (RFC 9113 5.1.1:
 * a new id closes every idle one below it): PROTOCOL_ERROR for the
 * connection, which libnghttp2 would ignore.  Before SETTINGS: each
 * stream's send window, to tell whether a new initial window size
 * overflows one (6.9.2).
 */
static int
h2_on_begin_frame(nghttp2_session *session, const nghttp2_frame_hd *hd,
    void *arg)
{
	struct h2_conn *c = arg;
	struct h2_stream *st;

	if (hd->type == NGHTTP2_HEADERS && hd->stream_id < c->last_stream &&
	    nghttp2_session_find_stream(session, hd->stream_id) == NULL)
		return nghttp2_session_terminate_session(session,
		    NGHTTP2_PROTOCOL_ERROR);
	if (hd->type == NGHTTP2_SETTINGS && !(hd->flags & NGHTTP2_FLAG_ACK))
		TAILQ_FOREACH(st, &c->streams, link)
			st->window_before =
			    nghttp2_session_get_stream_remote_window_size(
			    session, st->id);
	return 0;
}

/* 6.9.2: a new SETTINGS_INITIAL_WINDOW_SIZE that takes a stream's window
 * above 2^31-1 is a connection error, FLOW_CONTROL_ERROR. */
static int
h2_on_settings(struct h2_conn *c, const nghttp2_settings *set)
{
	struct h2_stream *st;
	int64_t delta;
	size_t i;

	for (i = 0; i < set->niv; i++) {
		if (set->iv[i].settings_id != NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE)
			continue;
		delta = (int64_t)set->iv[i].value - (int64_t)c->peer_window;
		c->peer_window = set->iv[i].value;
		TAILQ_FOREACH(st, &c->streams, link)
			if ((int64_t)st->window_before + delta > H2_WINDOW_MAX)
				return nghttp2_session_terminate_session(
				    c->session, NGHTTP2_FLOW_CONTROL_ERROR);
	}
	return 0;
}

/* Rapid Reset: a token bucket of resets, refilled with time. */
static int
h2_on_reset(struct h2_conn *c)
{
	struct timeval tv;
	double now;

	worker_stats->h2_resets_received++;
	if (event_base_gettimeofday_cached(worker_self->base, &tv) == -1)
		gettimeofday(&tv, NULL);
	now = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
	if (c->resets_at == 0)
		c->resets = H2_RESET_BURST;
	else
		c->resets += (now - c->resets_at) * H2_RESET_RATE;
	if (c->resets > H2_RESET_BURST)
		c->resets = H2_RESET_BURST;
	c->resets_at = now;
	if (--c->resets >= 0)
		return 0;
	log_info("HTTP/2: streams reset too fast; closing");
	return nghttp2_session_terminate_session(c->session,
	    NGHTTP2_ENHANCE_YOUR_CALM);
}

static int
h2_on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame,
    void *arg)
{
	struct h2_conn *c = arg;
	struct h2_stream *st = h2_stream_of(session, frame->hd.stream_id);

	switch (frame->hd.type) {
	case NGHTTP2_HEADERS:
		if (st == NULL)
			return 0;
		if (frame->headers.cat == NGHTTP2_HCAT_REQUEST)
			h2_stream_head_done(st,
			    frame->hd.flags & NGHTTP2_FLAG_END_STREAM);
		if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
			return 0;
		/* Trailers end a streamed body. */
		if (frame->headers.cat != NGHTTP2_HCAT_REQUEST &&
		    st->req->body_streams && st->dispatched)
			h2_stream_body_more(st, NULL, 0, 1);
		else
			h2_stream_dispatch(st);
		return 0;
	case NGHTTP2_DATA:
		if (frame->hd.length == 0 &&
		    !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM) &&
		    ++c->empty_data > H2_EMPTY_DATA_MAX) {
			log_info("HTTP/2: empty DATA frames flood; closing");
			return nghttp2_session_terminate_session(session,
			    NGHTTP2_ENHANCE_YOUR_CALM);
		}
		if (st == NULL || !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
			return 0;
		if (st->req->body_streams && st->dispatched)
			h2_stream_body_more(st, NULL, 0, 1);
		else
			h2_stream_dispatch(st);
		return 0;
	case NGHTTP2_RST_STREAM:
		return h2_on_reset(c);
	case NGHTTP2_SETTINGS:
		if (frame->hd.flags & NGHTTP2_FLAG_ACK)
			return 0;
		return h2_on_settings(c, &frame->settings);
	default:
		return 0;
	}
}

static int
h2_on_frame_send(nghttp2_session *session, const nghttp2_frame *frame,
    void *arg)
{
	switch (frame->hd.type) {
	case NGHTTP2_RST_STREAM:
		worker_stats->h2_resets_sent++;
		break;
	case NGHTTP2_GOAWAY:
		worker_stats->h2_goaways_sent++;
		break;
	case NGHTTP2_DATA:
		h2_conn_progress(arg);
		/* More to send, and the client's window is shut (6.9). */
		if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM) &&
		    (nghttp2_session_get_stream_remote_window_size(session,
		    frame->hd.stream_id) <= 0 ||
		    nghttp2_session_get_remote_window_size(session) <= 0))
			worker_stats->h2_flow_stalls++;
		break;
	}
	return 0;
}

static int
h2_on_stream_close(nghttp2_session *session, int32_t id, uint32_t code,
    void *arg)
{
	struct h2_stream *st = h2_stream_of(session, id);

	(void)code;
	(void)arg;
	if (st != NULL)
		h2_stream_free(st);
	return 0;
}

int
h2_stream_callbacks(nghttp2_session_callbacks *cb)
{
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb,
	    h2_on_begin_headers);
	nghttp2_session_callbacks_set_on_begin_frame_callback(cb,
	    h2_on_begin_frame);
	nghttp2_session_callbacks_set_on_header_callback2(cb, h2_on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb,
	    h2_on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb,
	    h2_on_data_chunk);
	nghttp2_session_callbacks_set_on_frame_send_callback(cb,
	    h2_on_frame_send);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb,
	    h2_on_stream_close);
	return 0;
}

/* The handler took some of a streamed body: the client may send that
 * much more (a WINDOW_UPDATE for the stream and the connection). */
void
h2_stream_body_resume(struct http_req *r)
{
	struct h2_stream *st = r->owner;
	size_t left = r->body != NULL ? evbuffer_get_length(r->body) : 0;

	if (!r->body_streams || st->body_unconsumed <= left)
		return;
	h2_consume(st->conn->session, st->id, st->body_unconsumed - left);
	st->body_unconsumed = left;
	h2_conn_wake(st->conn);
}
