/*
 * h1_out.c: where responses wait to be written.
 *
 * Most responses are small and go out at once, so they are gathered in
 * one flat per-worker arena and written with a single write(2): no
 * evbuffer chain is allocated and freed per request.  Each connection
 * with bytes there holds one region of the arena, its bytes in order;
 * several connections hold regions at once while their writes wait for
 * the end of the loop pass (h1_events.c).  The arena starts over when
 * the last region is gone, which is at the end of every pass.  Only what
 * the socket does not take at once, file segments (mapped), bodies that
 * are already evbuffers, and bytes that do not fit go to the
 * connection's own evbuffer, which is itself created on first need and
 * freed when empty, so an idle keep-alive connection holds none.  Order
 * is kept: a connection's region always moves into its evbuffer before
 * anything is added there.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "common/log.h"
#include "worker/http/h1_conn.h"

/* Room for a pass's answers: 50 small files of 1 KiB need 50 KiB. */
#define HTTP_FLAT_MAX (256 * 1024)

static char http_flat[HTTP_FLAT_MAX];
static size_t http_flat_used;		/* the arena's end */
static size_t http_flat_regions;	/* connections holding bytes there */

static struct evbuffer *
http_out_new(struct http_conn *c)
{
	c->out = evbuffer_new();
	/* File segments stay files, for sendfile on a kTLS socket. */
	if (c->out != NULL && c->net.ktls_send)
		evbuffer_set_flags(c->out, EVBUFFER_FLAG_DRAINS_TO_FD);
	return c->out;
}

static void
http_out_release(struct http_conn *c)
{
	if (c->flat_len == 0)
		return;
	c->flat_len = 0;
	if (--http_flat_regions == 0)
		http_flat_used = 0;
}

/* Moves c's region, if any, to the end of its evbuffer. */
static int
http_out_spill(struct http_conn *c)
{
	int rc;

	if (c->flat_len == 0)
		return 0;
	if (c->out == NULL && http_out_new(c) == NULL) {
		http_out_release(c);
		return -1;
	}
	rc = evbuffer_add(c->out, http_flat + c->flat_off, c->flat_len);
	http_out_release(c);
	return rc;
}

/* c's evbuffer, created if need be, with its region moved in. */
struct evbuffer *
http_out_evbuffer(struct http_conn *c)
{
	/*
	 * A response in pieces (head and file by writev) must not
	 * wait for an ACK of the last small piece: no Nagle from here on.
	 * Set lazily: most responses leave in one write and never need it.
	 */
	if (!c->nodelay) {
		c->nodelay = 1;
		net_conn_nodelay(&c->net);
	}
	if (http_out_spill(c) == -1)
		return NULL;
	if (c->out == NULL)
		http_out_new(c);
	return c->out;
}

/* Whether len more bytes of c can go to the arena, at its end. */
static int
http_out_flat_room(struct http_conn *c, size_t len)
{
	if (c->out != NULL && evbuffer_get_length(c->out) > 0)
		return 0;
	/* A region grows only at the arena's end, to stay in one piece. */
	if (c->flat_len > 0 && c->flat_off + c->flat_len != http_flat_used)
		return 0;
	if (http_flat_used + len <= sizeof(http_flat))
		return 1;
	/*
	 * Full of answers waiting for the end of the pass: write them now
	 * (c's own among them), so the arena starts over.
	 */
	http_conn_write_waiting();
	return http_flat_used + len <= sizeof(http_flat) &&
	    (c->out == NULL || evbuffer_get_length(c->out) == 0);
}

int
http_out_add(struct http_conn *c, const void *data, size_t len)
{
	struct evbuffer *out;

	if (http_out_flat_room(c, len)) {
		if (c->flat_len == 0) {
			c->flat_off = (uint32_t)http_flat_used;
			http_flat_regions++;
		}
		memcpy(http_flat + http_flat_used, data, len);
		http_flat_used += len;
		c->flat_len += (uint32_t)len;
		return 0;
	}
	out = http_out_evbuffer(c);
	if (out == NULL)
		return -1;
	return evbuffer_add(out, data, len);
}

size_t
http_out_pending(const struct http_conn *c)
{
	size_t n = c->out != NULL ? evbuffer_get_length(c->out) : 0;

	return n + c->flat_len + net_pending_out(&c->net);
}

/*
 * Writes what it can.  Returns 0 when everything is out, 1 when the
 * socket is full (the rest waits in c's evbuffer), -1 on an error.
 */
int
http_out_write(struct http_conn *c)
{
	/* A write that failed while its connection waited for the end of
	 * the pass (http_conn_write_waiting): it fails again here. */
	if (c->write_failed) {
		http_out_release(c);
		errno = EPIPE;
		return -1;
	}
	if (c->flat_len > 0 &&
	    (c->out == NULL || evbuffer_get_length(c->out) == 0)) {
		/*
		 * The last response before a close: MSG_MORE holds it until
		 * the close or shutdown that follows at once, which puts the
		 * FIN in the same segment; the client then sees one packet
		 * instead of two and acknowledges both with its own FIN.
		 */
		int more = c->close_after && c->state == HTTP_READ_HEAD;
		ssize_t n = net_send(&c->net, http_flat + c->flat_off,
		    c->flat_len, more);

		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			http_out_release(c);
			return -1;
		}
		if (n > 0 && (size_t)n == c->flat_len) {
			http_out_release(c);
		} else if (n > 0) {
			c->flat_off += (uint32_t)n;
			c->flat_len -= (uint32_t)n;
		}
	}
	/* What the socket did not take waits in c's evbuffer: the arena
	 * is the pass's. */
	if (http_out_spill(c) == -1)
		return -1;
	return net_send_all(&c->net, c->out);
}

/* The connection goes: forget its bytes and its evbuffer. */
void
http_out_free(struct http_conn *c)
{
	http_out_release(c);
	if (c->out != NULL)
		evbuffer_free(c->out);
	c->out = NULL;
}

/* An idle connection keeps no evbuffer. */
void
http_out_release_idle(struct http_conn *c)
{
	if (c->out != NULL && evbuffer_get_length(c->out) == 0) {
		evbuffer_free(c->out);
		c->out = NULL;
	}
}
