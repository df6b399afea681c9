/*
 * proxy_answer.c: the answer of a proxied request (proxy.c), read from
 * the upstream and passed to the client: its head parsed and rewritten
 * (proxy_head.c), its body moved in its own framing (Content-Length,
 * chunked, or up to the close) as it comes, reading paused while the
 * client has more than PROXY_OUT_HIGH queued, and the 101 that turns the
 * connection into a tunnel (tunnel.c).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/stats.h"
#include "worker/conns.h"
#include "worker/http/date.h"
#include "worker/http/handlers.h"
#include "worker/http/proxy.h"
#include "worker/http/proxy_conn.h"
#include "worker/http/request.h"
#include "worker/http/tunnel.h"
#include "worker/http/upstream.h"

static void proxy_switch(struct proxy *p, const struct proxy_response *resp,
    size_t len);

/* Framing of the answer's body (RFC 9112 6.3). */
static void
proxy_body_framing(struct proxy *p, const struct proxy_response *resp)
{
	struct http_req *r = p->r;

	p->keepalive = !resp->close;
	if (http_req_is_head(r) || resp->status == 204 ||
	    resp->status == 304 || resp->status < 200) {
		p->body = PROXY_BODY_NONE;
	} else if (resp->chunked) {
		p->body = PROXY_BODY_CHUNKED;
		memset(&p->chunked, 0, sizeof(p->chunked));
	} else if (resp->content_length >= 0) {
		p->body = PROXY_BODY_LENGTH;
		p->left = resp->content_length;
	} else {
		p->body = PROXY_BODY_CLOSE;
		p->keepalive = 0;
	}
}

/*
 * The answer's head, when it is whole in the input: 1 when it was
 * taken (and sent on), 0 when more must come, -1 when p is gone.
 */
static int
proxy_read_head(struct proxy *p, struct evbuffer *in)
{
	struct proxy_response resp;
	struct http_req *r = p->r;
	size_t have = evbuffer_get_length(in), len;
	const char *buf;
	int64_t length;

	for (;;) {
		size_t view = have < PROXY_HEAD_MAX ? have : PROXY_HEAD_MAX;

		buf = (const char *)evbuffer_pullup(in, (ssize_t)view);
		len = proxy_head_length(buf, view);
		if (len == 0) {
			if (have < PROXY_HEAD_MAX)
				return 0;
			proxy_failed(p, 502, "sent too big a header");
			return -1;
		}
		if (proxy_response_parse(buf, len, &resp) == -1) {
			proxy_failed(p, 502, resp.error);
			return -1;
		}
		/* Interim answers are not passed on (nginx's way); 101
		 * without an Upgrade asked for is an error. */
		if (resp.status >= 200 || resp.status == 101)
			break;
		evbuffer_drain(in, len);
		have = evbuffer_get_length(in);
	}
	if (resp.status == 101 && !p->upgrade) {
		proxy_failed(p, 502, "switched protocols unasked");
		return -1;
	}
	if (resp.status == 101) {
		proxy_switch(p, &resp, len);
		return -1;
	}
	p->status = resp.status;
	proxy_body_framing(p, &resp);
	length = p->body == PROXY_BODY_LENGTH ? p->left : -1;
	if (http_req_is_head(r))
		length = resp.content_length;
	proxy_response_head(r, &resp, length, p->body != PROXY_BODY_NONE);
	p->head_out = 1;
	evbuffer_drain(in, len);
	if (p->chunk == NULL && (p->chunk = evbuffer_new()) == NULL) {
		proxy_failed(p, 502, "out of memory");
		return -1;
	}
	return 1;
}

/*
 * The upstream took the client's Upgrade (101): the client's connection
 * and this one become a tunnel (tunnel.c); the request ends here.
 */
static void
proxy_switch(struct proxy *p, const struct proxy_response *resp, size_t len)
{
	struct evbuffer *head = evbuffer_new(), *unread = evbuffer_new();
	struct bufferevent *client = NULL, *up = p->up->bev;
	struct http_req *r = p->r;
	const char *name = proxy_addr(p);
	int idle_ms = r->server->proxy_read_timeout_ms;

	p->status = 101;
	/* The fields point into the input: the head is written first. */
	if (head != NULL && unread != NULL &&
	    proxy_switch_head(resp, head) == 0) {
		evbuffer_drain(bufferevent_get_input(up), len);
		r = proxy_detach(p);
		r->status = 101;
		client = r->proto->takeover != NULL ?
		    r->proto->takeover(r, unread) : NULL;
	}
	if (client == NULL) {
		proxy_failed(p, 502, "cannot make a tunnel");
	} else {
		/* The tunnel reads with the bufferevent: a few reads. */
		up = upstream_conn_detach(p->up);
		p->up = NULL;
		proxy_release(p, 0);
		proxy_free(p);
		tunnel_start(client, up, head, unread,
		    idle_ms, name);
	}
	if (head != NULL)
		evbuffer_free(head);
	if (unread != NULL)
		evbuffer_free(unread);
}

/* Chunked: the data of the chunks in the input, to the client. */
static int
proxy_body_chunked(struct proxy *p, struct evbuffer *in)
{
	while (evbuffer_get_length(in) > 0) {
		size_t view = evbuffer_get_length(in), used = 0;
		const char *buf;

		if (view > PROXY_CHUNK_VIEW)
			view = PROXY_CHUNK_VIEW;
		buf = (const char *)evbuffer_pullup(in, (ssize_t)view);
		while (used < view) {
			const char *data;
			size_t consumed, n;
			int rc = http_chunked_decode(&p->chunked, buf + used,
			    view - used, &consumed, &data, &n);

			if (rc == HTTP_CHUNKED_ERROR)
				return -1;
			if (n > 0)
				evbuffer_add(p->chunk, data, n);
			used += consumed;
			if (rc == HTTP_CHUNKED_DONE) {
				evbuffer_drain(in, used);
				return 1;
			}
		}
		evbuffer_drain(in, used);
	}
	return 0;
}

/*
 * Moves what the input has of the answer's body to the client.  1 when
 * the body is whole, 0 when more is to come, -1 when it is broken.
 */
static int
proxy_move_answer(struct proxy *p, struct evbuffer *in)
{
	size_t have = evbuffer_get_length(in);
	int whole = 0;

	switch (p->body) {
	case PROXY_BODY_NONE:
		return 1;
	case PROXY_BODY_LENGTH:
		if ((int64_t)have > p->left)
			have = (size_t)p->left;
		evbuffer_remove_buffer(in, p->chunk, have);
		p->left -= (int64_t)have;
		whole = p->left == 0;
		break;
	case PROXY_BODY_CHUNKED:
		if ((whole = proxy_body_chunked(p, in)) == -1)
			return -1;
		break;
	case PROXY_BODY_CLOSE:
		evbuffer_remove_buffer(in, p->chunk, have);
		break;
	}
	if (evbuffer_get_length(p->chunk) > 0)
		http_response_buffer(p->r, p->chunk);
	return whole;
}

/* How much of the answer the client may have queued before the
 * upstream is read no further. */
static size_t
proxy_out_high(const struct proxy *p)
{
	return p->r->server->proxy_buffering ? PROXY_OUT_HIGH :
	    PROXY_OUT_HIGH_UNBUFFERED;
}

/* Holds the upstream back while the client is behind. */
static void
proxy_pace(struct proxy *p)
{
	size_t high = proxy_out_high(p);

	http_response_flush(p->r);
	if (http_response_pending(p->r) < high)
		return;
	p->paused = 1;
	if (upstream_conn_read_off(p->up) == -1)
		log_warnx("upstream %s: cannot stop reading", proxy_addr(p));
}

/*
 * Reads more of the answer's body: up to what the client may still
 * queue, and never past a known length.  1 when the connection ended
 * (closed or broke), else 0.
 */
static int
proxy_read_more(struct proxy *p, struct evbuffer *in)
{
	size_t high = proxy_out_high(p);
	size_t queued = http_response_pending(p->r) + evbuffer_get_length(in);
	size_t room = queued < high ? high - queued : 0;

	if (p->body == PROXY_BODY_NONE)
		return 0;
	if (p->body == PROXY_BODY_LENGTH) {
		size_t have = evbuffer_get_length(in);

		if ((int64_t)have >= p->left)
			return 0;
		if ((int64_t)room > p->left - (int64_t)have)
			room = (size_t)(p->left - (int64_t)have);
	}
	if (room > PROXY_READ_MORE)
		room = PROXY_READ_MORE;
	return upstream_conn_read(p->up, room);
}

/* The upstream closed its side, or the connection broke. */
static void
proxy_read_ended(struct proxy *p)
{
	char why[128];

	if (p->up->eof && p->head_out && p->body == PROXY_BODY_CLOSE) {
		/* The close ends an answer without a length. */
		proxy_move_answer(p, bufferevent_get_input(p->up->bev));
		proxy_finish(p);
		return;
	}
	if (p->up->eof)
		snprintf(why, sizeof(why), "closed the connection %s",
		    p->head_out ? "before the answer's end" : p->got_bytes ?
		    "inside the answer's head" : "before answering");
	else
		snprintf(why, sizeof(why), "%s %s", !p->connected ?
		    "cannot connect:" : "connection broke:",
		    strerror(p->up->error));
	proxy_failed(p, 502, why);
}

/*
 * The upstream is readable (or the client drained, on_drain): read what
 * it has, the head first, and pass on what the client may take.
 */
void
proxy_on_read(struct upstream_conn *c, short what, void *arg)
{
	struct proxy *p = arg;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	int rc, ended = 0;

	if (what & EV_TIMEOUT) {
		proxy_failed(p, 504, "timed out reading the answer");
		return;
	}
	if (p->paused)
		return;
	if (!p->head_out) {
		ended = upstream_conn_read(c, PROXY_HEAD_READ);
		if (evbuffer_get_length(in) > 0)
			p->got_bytes = 1;
		if ((rc = proxy_read_head(p, in)) == -1)
			return;
		if (rc == 0) {
			if (ended)
				proxy_read_ended(p);
			return;
		}
	}
	if (!ended)
		ended = proxy_read_more(p, in);
	rc = proxy_move_answer(p, in);
	if (rc == -1) {
		proxy_failed(p, 502, "sent a bad chunked body");
		return;
	}
	if (rc == 1) {
		proxy_finish(p);
		return;
	}
	if (ended) {
		proxy_read_ended(p);
		return;
	}
	proxy_pace(p);
}
