/*
 * h2_answer.c: a stream's answer.  The head a handler builds (as for
 * HTTP/1.1) becomes a field list, names in lower case and the fields
 * HTTP/2 does not carry left out; the body waits in the stream and goes
 * out as DATA frames that refer to it (NGHTTP2_DATA_FLAG_NO_COPY): an
 * evbuffer's bytes are moved, a file's come straight from the open-file
 * cache, frame by frame.  An answer of unknown length (the proxy's) is
 * submitted at its head and its DATA follow as the handler adds body.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "common/log.h"
#include "worker/http/file_cache.h"
#include "worker/http/h2_conn.h"
#include "worker/http/request.h"

static int h2_stream_submit(struct h2_stream *st);

/* How much of the body may go in the next DATA frame; the bytes are
 * moved by h2_on_send_data(), not copied here. */
static ssize_t
h2_read_body(nghttp2_session *session, int32_t id, uint8_t *buf,
    size_t length, uint32_t *flags, nghttp2_data_source *source, void *arg)
{
	struct h2_stream *st = source->ptr;
	size_t have = (size_t)st->file_left;

	(void)session;
	(void)id;
	(void)buf;
	(void)arg;
	if (st->body != NULL)
		have += evbuffer_get_length(st->body);
	/* A streamed answer waits for more, or for its end. */
	if (st->streaming && !st->body_end && have == 0) {
		st->deferred = 1;
		return NGHTTP2_ERR_DEFERRED;
	}
	*flags |= NGHTTP2_DATA_FLAG_NO_COPY;
	if (st->streaming && !st->body_end && have <= length)
		return (ssize_t)have;
	if (have <= length) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		return (ssize_t)have;
	}
	return (ssize_t)length;
}

int
h2_on_send_data(nghttp2_session *session, nghttp2_frame *frame,
    const uint8_t *framehd, size_t length, nghttp2_data_source *source,
    void *arg)
{
	struct h2_conn *c = arg;
	struct h2_stream *st = source->ptr;
	size_t from_body = 0;

	(void)session;
	if (evbuffer_get_length(c->out) >= H2_OUT_HIGH)
		return NGHTTP2_ERR_WOULDBLOCK;
	/* No padding is ever asked for: the frame is header and data. */
	if (frame->data.padlen > 0 || evbuffer_add(c->out, framehd, 9) == -1)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	if (st->body != NULL) {
		from_body = evbuffer_get_length(st->body);
		if (from_body > length)
			from_body = length;
		if (from_body > 0 && evbuffer_remove_buffer(st->body, c->out,
		    from_body) != (int)from_body)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	if (length > from_body) {
		off_t n = (off_t)(length - from_body);
		struct file_cache_entry *e = st->file;

		/* A small file in memory is copied: cheaper than a chain
		 * that refers to it, for a frame of a few hundred bytes. */
		if (e->data != NULL && n <= 4096 ?
		    evbuffer_add(c->out, e->data + st->file_off,
		    (size_t)n) == -1 :
		    file_cache_add_body(e, c->out, st->file_off, n) == -1)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		st->file_off += n;
		st->file_left -= n;
	}
	st->sent += length;
	if (st->streaming && st->req->on_drain != NULL &&
	    evbuffer_get_length(st->body) < H2_STREAM_LOW)
		st->req->on_drain(st->req);
	return 0;
}

/* Fields HTTP/2 does not carry (RFC 9113 8.2.2). */
static int
h2_connection_specific(const char *name, size_t len)
{
	return (len == 10 && memcmp(name, "connection", 10) == 0) ||
	    (len == 10 && memcmp(name, "keep-alive", 10) == 0) ||
	    (len == 16 && memcmp(name, "proxy-connection", 16) == 0) ||
	    (len == 17 && memcmp(name, "transfer-encoding", 17) == 0) ||
	    (len == 7 && memcmp(name, "upgrade", 7) == 0);
}

static void
h2_nv_set(nghttp2_nv *nv, char *name, size_t nlen, char *value, size_t vlen)
{
	nv->name = (uint8_t *)name;
	nv->namelen = nlen;
	nv->value = (uint8_t *)value;
	nv->valuelen = vlen;
	nv->flags = NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE;
}

/*
 * Room for one more field.  The inline list is used first; past it, one
 * list large enough for any head of len bytes: a field line is at least
 * three bytes ("a:\n"), so there are at most len / 3 of them.
 */
static int
h2_head_room(struct h2_stream *st, size_t len)
{
	nghttp2_nv *nva;

	if (st->nnv < H2_STREAM_NV || st->nva != st->nva_inline)
		return 0;
	if ((nva = calloc(len / 3 + 2, sizeof(*nva))) == NULL)
		return -1;
	memcpy(nva, st->nva, st->nnv * sizeof(*nva));
	st->nva = nva;
	return 0;
}

/*
 * The head as response.c built it, "HTTP/1.1 200 OK" and field lines,
 * made a field list: :status, then each field with its name in lower
 * case (8.2), held by the stream until the HEADERS frame is sent.  One
 * pass over each line: this runs for every answer.
 */
static int
h2_head(struct http_req *r, const char *text, size_t len)
{
	struct h2_stream *st = r->owner;
	char *p, *end, *eol, *q, *v;

	if (st->head != NULL || len < 12)
		return -1;
	st->head = len < sizeof(st->head_inline) ? st->head_inline :
	    malloc(len + 1);
	if (st->head == NULL)
		return -1;
	memcpy(st->head, text, len);
	st->head[len] = '\0';
	st->nva = st->nva_inline;
	h2_nv_set(&st->nva[st->nnv++], ":status", 7, st->head + 9, 3);
	end = st->head + len;
	p = memchr(st->head, '\n', len);
	for (p = p != NULL ? p + 1 : end; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		/* The name, lowered on the way to its colon. */
		for (q = p; q < eol && *q != ':'; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q - 'A' + 'a');
		if (q == eol || h2_connection_specific(p, (size_t)(q - p)))
			continue;
		for (v = q + 1; v < eol && *v == ' '; v++)
			;
		if (h2_head_room(st, len) == -1)
			return -1;
		h2_nv_set(&st->nva[st->nnv++], p, (size_t)(q - p), v,
		    (size_t)(eol - v - (eol > v && eol[-1] == '\r')));
	}
	if (r->live_out)
		return h2_stream_submit(st);
	return 0;
}

static struct evbuffer *
h2_body(struct h2_stream *st)
{
	if (st->body == NULL)
		st->body = evbuffer_new();
	return st->body;
}

/* A streamed answer's DATA waited for body: there is some now. */
static void
h2_stream_resume(struct h2_stream *st)
{
	if (!st->deferred)
		return;
	st->deferred = 0;
	nghttp2_session_resume_data(st->conn->session, st->id);
}

static int
h2_data(struct http_req *r, const void *data, size_t len)
{
	struct h2_stream *st = r->owner;

	if (st->file != NULL || h2_body(st) == NULL ||
	    evbuffer_add(st->body, data, len) == -1)
		return -1;
	h2_stream_resume(st);
	return 0;
}

static int
h2_buffer(struct http_req *r, struct evbuffer *buf)
{
	struct h2_stream *st = r->owner;

	if (st->file != NULL || h2_body(st) == NULL ||
	    evbuffer_add_buffer(st->body, buf) == -1)
		return -1;
	h2_stream_resume(st);
	return 0;
}

/* The file is sent frame by frame from the cache (h2_on_send_data). */
static int
h2_file(struct http_req *r, struct file_cache_entry *e, off_t start,
    off_t len)
{
	struct h2_stream *st = r->owner;

	if (st->file != NULL)
		return -1;
	file_cache_ref(e);
	st->file = e;
	st->file_off = start;
	st->file_left = len;
	return 0;
}

/*
 * An answer of unknown length (the proxy's) goes out as it comes: its
 * HEADERS now, its DATA as the handler adds body, END_STREAM at done.
 */
static int
h2_stream_submit(struct h2_stream *st)
{
	nghttp2_data_provider body;
	int rc;

	body.source.ptr = st;
	body.read_callback = h2_read_body;
	if (h2_body(st) == NULL)
		return -1;
	rc = nghttp2_submit_response(st->conn->session, st->id, st->nva,
	    st->nnv, &body);
	if (rc != 0) {
		log_warnx("HTTP/2: cannot answer stream %d: %s", st->id,
		    nghttp2_strerror(rc));
		return -1;
	}
	st->streaming = 1;
	st->answered = 1;
	h2_conn_wake(st->conn);
	return 0;
}

/* A streamed answer is whole, or broke off (a reset, not an end). */
static void
h2_stream_end(struct h2_stream *st)
{
	struct http_req *r = st->req;

	r->waiting = 0;
	st->body_end = 1;
	if (r->broken)
		nghttp2_submit_rst_stream(st->conn->session,
		    NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
	else
		h2_stream_resume(st);
	h2_conn_wake(st->conn);
}

static void
h2_done(struct http_req *r)
{
	struct h2_stream *st = r->owner;
	struct h2_conn *c = st->conn;
	nghttp2_data_provider body;
	int rc;

	if (st->streaming) {
		h2_stream_end(st);
		return;
	}
	st->answered = 1;
	r->waiting = 0;
	if (st->nva == NULL) {
		/* No answer at all ("return 444"): the stream is reset. */
		rc = nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE,
		    st->id, NGHTTP2_NO_ERROR);
	} else {
		body.source.ptr = st;
		body.read_callback = h2_read_body;
		rc = nghttp2_submit_response(c->session, st->id, st->nva,
		    st->nnv, st->file_left > 0 || (st->body != NULL &&
		    evbuffer_get_length(st->body) > 0) ? &body : NULL);
	}
	if (rc != 0)
		log_warnx("HTTP/2: cannot answer stream %d: %s", st->id,
		    nghttp2_strerror(rc));
	h2_conn_wake(c);
}

static size_t
h2_pending(struct http_req *r)
{
	struct h2_stream *st = r->owner;

	return st->body != NULL ? evbuffer_get_length(st->body) : 0;
}

static void
h2_flush(struct http_req *r)
{
	struct h2_stream *st = r->owner;

	h2_conn_wake(st->conn);
}

const struct http_proto h2_proto = {
	.head = h2_head,
	.data = h2_data,
	.buffer = h2_buffer,
	.file = h2_file,
	.done = h2_done,
	.pending = h2_pending,
	.flush = h2_flush,
	.body_resume = h2_stream_body_resume,
};
