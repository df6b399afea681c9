/*
 * h1_out.c: where responses wait to be written.
 *
 * Most responses are small and go out at once, so they are gathered in
 * one flat per-worker buffer and written with a single write(2): no
 * evbuffer chain is allocated and freed per request.  Only what the
 * socket does not take at once, file segments (mapped) and bodies that
 * are already evbuffers go to the connection's own evbuffer, which is
 * itself created on first need and freed when empty, so an idle
 * keep-alive connection holds none.  Order is kept: the flat bytes of a
 * connection always move into its evbuffer before anything is added
 * there.  The flat buffer belongs to one connection at a time; another
 * connection that needs it first moves the owner's bytes out.
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

#define HTTP_FLAT_MAX (64 * 1024)

static char http_flat[HTTP_FLAT_MAX];
static size_t http_flat_len;
static struct http_conn *http_flat_owner;

static struct evbuffer *
http_out_new(struct http_conn *c)
{
	c->out = evbuffer_new();
	/* File segments stay files, for sendfile on a kTLS socket. */
	if (c->out != NULL && c->net.ktls_send)
		evbuffer_set_flags(c->out, EVBUFFER_FLAG_DRAINS_TO_FD);
	return c->out;
}

/* Moves c's flat bytes, if any, to the end of its evbuffer. */
static int
http_out_spill(struct http_conn *c)
{
	if (http_flat_owner != c || http_flat_len == 0) {
		if (http_flat_owner == c)
			http_flat_owner = NULL;
		return 0;
	}
	if (c->out == NULL && http_out_new(c) == NULL)
		return -1;
	http_flat_owner = NULL;
	if (evbuffer_add(c->out, http_flat, http_flat_len) == -1) {
		http_flat_len = 0;
		return -1;
	}
	http_flat_len = 0;
	return 0;
}

/* c's evbuffer, created if need be, with its flat bytes moved in. */
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

int
http_out_add(struct http_conn *c, const void *data, size_t len)
{
	struct evbuffer *out;

	if (http_flat_owner != NULL && http_flat_owner != c) {
		/* Cannot happen when every callback ends in a flush; if it
		 * does, the owner's bytes wait in its evbuffer for a write. */
		struct http_conn *owner = http_flat_owner;

		if (http_out_spill(owner) == 0)
			http_conn_wake(owner);
	}
	if ((c->out == NULL || evbuffer_get_length(c->out) == 0) &&
	    http_flat_owner != NULL && http_flat_owner != c)
		return -1;
	if ((c->out == NULL || evbuffer_get_length(c->out) == 0) &&
	    http_flat_len + len <= sizeof(http_flat)) {
		memcpy(http_flat + http_flat_len, data, len);
		http_flat_len += len;
		http_flat_owner = c;
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

	if (http_flat_owner == c)
		n += http_flat_len;
	return n + net_pending_out(&c->net);
}

/*
 * Writes what it can.  Returns 0 when everything is out, 1 when the
 * socket is full (the rest waits in c's evbuffer), -1 on an error.
 */
int
http_out_write(struct http_conn *c)
{
	if (http_flat_owner == c && http_flat_len > 0 &&
	    (c->out == NULL || evbuffer_get_length(c->out) == 0)) {
		/*
		 * The last response before a close: MSG_MORE holds it until
		 * the close or shutdown that follows at once, which puts the
		 * FIN in the same segment; the client then sees one packet
		 * instead of two and acknowledges both with its own FIN.
		 */
		int more = c->close_after && c->state == HTTP_READ_HEAD;
		ssize_t n = net_send(&c->net, http_flat, http_flat_len, more);

		if (n == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n > 0 && (size_t)n < http_flat_len)
			memmove(http_flat, http_flat + n, http_flat_len - n);
		if (n > 0)
			http_flat_len -= (size_t)n;
		if (http_flat_len == 0)
			http_flat_owner = NULL;
	}
	if (http_out_spill(c) == -1)
		return -1;
	return net_send_all(&c->net, c->out);
}

/* The connection goes: forget its bytes and its evbuffer. */
void
http_out_free(struct http_conn *c)
{
	if (http_flat_owner == c) {
		http_flat_owner = NULL;
		http_flat_len = 0;
	}
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
