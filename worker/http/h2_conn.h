/*
 * h2_conn.h: an HTTP/2 connection (RFC 9113) and its streams.
 *
 * The framing, HPACK, stream states and flow control are libnghttp2's;
 * forkloop writes the glue: bytes in and out through the connection's
 * transport (plain or TLS), each request stream made a struct http_req
 * for the same handlers HTTP/1.1 uses, and their answers framed back.
 * h2.c is the connection, h2_stream.c the streams.
 */
#ifndef FORKLOOP_HTTP_H2_CONN_H
#define FORKLOOP_HTTP_H2_CONN_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/types.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <nghttp2/nghttp2.h>

#include "worker/conns.h"
#include "worker/http/response.h"
#include "worker/net/conn.h"

struct evbuffer;
struct file_cache_entry;

/* The client connection preface (RFC 9113 3.4), for h2c by prior
 * knowledge on a plain listener. */
#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24
/* Stop framing while this much waits for the socket. */
#define H2_OUT_HIGH (128 * 1024)
/* A streamed answer's handler is told to go on below this. */
#define H2_STREAM_LOW (64 * 1024)

struct h2_stream {
	struct h2_conn *conn;
	TAILQ_ENTRY(h2_stream) link;	/* the connection's open streams */
	int32_t id;
	struct http_req *req;

	/* The request's fields point into libnghttp2's buffers, held. */
	nghttp2_rcbuf **refs;
	size_t nrefs, refs_cap;
	const char *method, *path, *authority;
	size_t method_len, path_len, authority_len;
	char *request_line;		/* "GET / HTTP/2.0", for the log */
	size_t header_bytes;		/* as RFC 9113 6.5.2 counts them */
	int64_t body_size;
	size_t body_unconsumed;		/* in req->body, window not given back */
	int error;			/* a status to answer, from the head */

	/* The answer: its fields, then its body as queued. */
	char *head;			/* the fields, names in lower case */
	nghttp2_nv *nva;
	size_t nnv;
	struct evbuffer *body;
	struct file_cache_entry *file;	/* then this, by reference */
	off_t file_off, file_left;
	uint64_t sent;			/* body bytes framed */
	int32_t window_before;		/* its send window before a SETTINGS */

	unsigned dispatched:1;		/* given to a handler */
	unsigned answered:1;		/* its response is submitted */
	unsigned too_large:1;		/* over http2_max_header_size */
	unsigned logged:1;
	unsigned streaming:1;		/* answer submitted before its end */
	unsigned deferred:1;		/* its DATA waits for more body */
	unsigned body_end:1;		/* a streamed answer has all its body */

	/* Room for the usual sizes, so most streams allocate nothing
	 * more (h2_stream.c); larger ones are allocated.  Not cleared
	 * when a stream is reused. */
#define H2_STREAM_REFS 32
#define H2_STREAM_HEAD 512
#define H2_STREAM_NV 20
#define H2_STREAM_LINE 256
	nghttp2_rcbuf *refs_inline[H2_STREAM_REFS];
	char head_inline[H2_STREAM_HEAD];
	nghttp2_nv nva_inline[H2_STREAM_NV];
	char line_inline[H2_STREAM_LINE];
};

struct h2_conn {
	struct worker_conn base;	/* first: the worker's list */
	struct net_conn net;
	nghttp2_session *session;
	const struct conf_listen *listen;
	struct conf_server *home;	/* the address's default, or SNI's */
	struct event ev_read;
	struct event *ev_write;
	struct event timer;
	struct event *drain_timer;	/* between the two GOAWAYs */
	struct evbuffer *out;		/* frames waiting for the socket */
	/* Its open streams: a list head, not a sentinel stream, which
	 * would cost every connection a stream's inline buffers. */
	TAILQ_HEAD(, h2_stream) streams;
	size_t nstreams;
	/* The stream whose header block is coming: its fields find it
	 * without a lookup in libnghttp2's map each (h2_stream.c). */
	struct h2_stream *heading;
	unsigned empty_data;		/* empty DATA frames, for the flood */
	int32_t last_stream;		/* the highest stream id begun */
	uint32_t peer_window;		/* its SETTINGS_INITIAL_WINDOW_SIZE */
	double resets;			/* the rapid-reset bucket: tokens */
	double resets_at;		/* when it was last filled, seconds */
	size_t lingered;		/* bytes dropped while closing */
	struct http_auth_cache *auth;	/* auth_basic's last proved (auth.c) */
	unsigned progress_armed:1;	/* body_timeout runs for no progress */
	unsigned read_armed:1;
	unsigned want_write:1;
	unsigned draining:1;
	unsigned wake:1;		/* an answer came from outside a callback */
	unsigned lingering:1;		/* closing: input is read and dropped */
	unsigned in_recv:1;		/* inside nghttp2_session_mem_recv */
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} peer;
};

/* Bytes moved, in or out: body_timeout starts again (h2.c's timer). */
static inline void
h2_conn_progress(struct h2_conn *c)
{
	c->progress_armed = 0;
}

/*
 * An answer came from outside the connection's callbacks (a handler's
 * own event): h2.c's read callback frames it from the loop, soon.  Here,
 * not in h2.c, so the streams below never call up into the connection.
 */
static inline void
h2_conn_wake(struct h2_conn *c)
{
	if (c->in_recv || c->wake)
		return;
	c->wake = 1;
	event_active(&c->ev_read, EV_READ, 0);
}

/* h2.c */
void h2_conn_new(const struct net_conn *net, const struct conf_listen *l,
    struct conf_server *home, const struct sockaddr *peer,
    socklen_t peerlen, const char *in, size_t in_len);

/* h2_mem.c: libnghttp2's allocator */
extern nghttp2_mem h2_mem;

/* h2_stream.c: the streams, as their frames come */
int h2_stream_callbacks(nghttp2_session_callbacks *cb);
void h2_stream_free(struct h2_stream *st);
void h2_stream_body_resume(struct http_req *r);

/* h2_answer.c: a stream's answer, as the handler gives it */
int h2_on_send_data(nghttp2_session *session, nghttp2_frame *frame,
    const uint8_t *framehd, size_t length, nghttp2_data_source *source,
    void *arg);
extern const struct http_proto h2_proto;

#endif
