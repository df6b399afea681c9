/*
 * h1_body.c: the body of a request, as its head announced it
 * (Content-Length, or chunked framing decoded by chunked.c).  It is
 * taken from the connection's input buffer as it arrives: kept in an
 * evbuffer for a handler that wants it (echo), dropped otherwise, and
 * counted against max_body_size either way.  Whatever follows the body
 * in the buffer is the next pipelined request and stays.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "worker/http/h1_conn.h"

/*
 * Framing for the body of c's request; -1 when out of memory.  A body
 * the handler wants is kept in the request's evbuffer, others dropped.
 */
int
http_body_start(struct http_conn *c)
{
	struct http_req *r = c->req;

	http_body_free(c);
	c->body = calloc(1, sizeof(*c->body));
	if (c->body == NULL)
		return -1;
	c->body->is_chunked = r->head.chunked;
	c->body->left = r->head.content_length;
	switch (http_req_wants_body(r)) {
	case HTTP_BODY_STREAM:
		r->body_streams = 1;
		c->body->streams = 1;
		/* FALLTHROUGH */
	case HTTP_BODY_KEEP:
		if ((r->body = evbuffer_new()) == NULL)
			return -1;
		c->body->kept = r->body;
		break;
	}
	return 0;
}

void
http_body_free(struct http_conn *c)
{
	if (c->body == NULL)
		return;
	free(c->body);
	c->body = NULL;
}

/*
 * Moves body bytes from the input buffer into c->body or drops them.
 * Returns 0, or the status to answer with: 400 for broken chunked
 * framing, 413 past max_body_size, 500 when out of memory.
 */
int
http_body_take(struct http_conn *c)
{
	size_t start = c->head_start + c->head_len, avail, used = 0;
	struct http_body *b = c->body;
	char *p = c->in + start;

	avail = c->in_len - start;
	/* A streamed body waits in the input while the handler has its
	 * fill: reading stops when the input is full (backpressure). */
	while (used < avail && c->state == HTTP_READ_BODY &&
	    !(b->streams && evbuffer_get_length(b->kept) >=
	    HTTP_BODY_STREAM_HIGH)) {
		const char *data = p + used;
		size_t n = avail - used, consumed;
		int rc;

		if (b->is_chunked) {
			rc = http_chunked_decode(&b->chunked, p + used, n,
			    &consumed, &data, &n);
			if (rc == HTTP_CHUNKED_ERROR)
				return 400;
		} else {
			if ((int64_t)n > b->left)
				n = (size_t)b->left;
			consumed = n;
			b->left -= (int64_t)n;
			rc = b->left == 0 ? HTTP_CHUNKED_DONE :
			    HTTP_CHUNKED_MORE;
		}
		used += consumed;
		b->size += n;
		if (b->size > c->server->max_body_size)
			return 413;
		/* A chunk announced too large is refused now, not once
		 * max_body_size of it has come. */
		if (b->is_chunked && b->chunked.remaining >
		    c->server->max_body_size - b->size)
			return 413;
		if (b->kept != NULL && n > 0 &&
		    evbuffer_add(b->kept, data, n) == -1)
			return 500;
		if (rc == HTTP_CHUNKED_DONE)
			c->state = HTTP_WAIT_HANDLER;
	}
	/* Keep what follows the body (a pipelined request) after the head. */
	memmove(p, p + used, avail - used);
	c->in_len -= used;
	return 0;
}
