/*
 * conn.c: plain TCP connections: the net_ops of a connection without
 * TLS, which are the system calls themselves, and what every connection
 * does the same way (closing, half-closing, TCP_NODELAY).
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "common/log.h"
#include "conf/conf.h"
#include "worker/net/conn.h"
#include "worker/net/tls.h"
#include "worker/conns.h"

static ssize_t
net_plain_recv(struct net_conn *n, void *buf, size_t len)
{
	return read(n->fd, buf, len);
}

ssize_t
net_plain_send(struct net_conn *n, const void *buf, size_t len, int last)
{
	return send(n->fd, buf, len, (last ? MSG_MORE : 0) | MSG_NOSIGNAL);
}

int
net_plain_send_evbuffer(struct net_conn *n, struct evbuffer *buf)
{
	return evbuffer_write(buf, n->fd);
}

static const struct net_ops net_plain_ops = {
	net_plain_recv,
	net_plain_send,
	net_plain_send_evbuffer,
	NULL,
};

size_t
net_pending_out(const struct net_conn *n)
{
	return n->batch != NULL ? net_tls_batch_pending(n) : 0;
}

void
net_conn_init_plain(struct net_conn *n, int fd)
{
	memset(n, 0, sizeof(*n));
	n->fd = fd;
	n->ops = &net_plain_ops;
	n->tls = NET_PLAIN;
}

void
net_conn_close(struct net_conn *n)
{
	if (n->ssl != NULL)
		net_tls_free(n);
	/* -1: another protocol took the connection over (HTTP/2). */
	if (n->fd != -1 && close(n->fd) == -1)
		log_warn("closing a connection");
	n->fd = -1;
}

/*
 * Writes all of buf, then what the transport itself holds (TLS records
 * gathered for one write).  0: all gone; 1: the socket is full, the rest
 * waits in buf; -1: an error, in errno.
 */
int
net_send_all(struct net_conn *n, struct evbuffer *buf)
{
	while (buf != NULL && evbuffer_get_length(buf) > 0) {
		if (net_send_evbuffer(n, buf) == -1)
			return errno == EAGAIN || errno == EINTR ? 1 : -1;
	}
	if (net_flush(n) == -1)
		return errno == EAGAIN || errno == EINTR ? 1 : -1;
	return 0;
}

/* No more output: close_notify for TLS, then the TCP FIN. */
int
net_conn_shutdown_write(struct net_conn *n)
{
	if (n->ssl != NULL)
		net_tls_close_notify(n);
	return shutdown(n->fd, SHUT_WR);
}

int
net_conn_nodelay(struct net_conn *n)
{
	int on = 1;

	if (setsockopt(n->fd, IPPROTO_TCP, TCP_NODELAY, &on,
	    sizeof(on)) == -1) {
		log_debug("TCP_NODELAY: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The connection's transport carried on by a bufferevent (a tunnel
 * after an HTTP upgrade): plain or TLS as it was.  n gives its socket
 * and TLS session up to it.  NULL when out of memory (n keeps them).
 */
struct bufferevent *
net_conn_to_bufferevent(struct net_conn *n)
{
	struct bufferevent *bev;

	if (n->ssl != NULL)
		bev = net_tls_bufferevent_from(n);
	else
		bev = bufferevent_socket_new(worker_self->base, n->fd,
		    BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return NULL;
	n->ssl = NULL;
	net_conn_init_plain(n, -1);
	return bev;
}

struct bufferevent *
net_bufferevent_new(int fd, const struct conf_listen *listen,
    struct conf_server *server)
{
	struct bufferevent *bev;
	struct timeval tv;

	if (listen == NULL || !listen->ssl)
		return bufferevent_socket_new(worker_self->base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
	bev = net_tls_bufferevent_new(fd, listen);
	if (bev == NULL)
		return NULL;
	/* Until the handshake is done; net_bufferevent_event() then sets
	 * the protocol's own idle time. */
	tv.tv_sec = server->ssl_handshake_timeout_ms / 1000;
	tv.tv_usec = (server->ssl_handshake_timeout_ms % 1000) * 1000;
	bufferevent_set_timeouts(bev, &tv, NULL);
	return bev;
}

/* Sets the idle time, unless a TLS handshake is still under way. */
void
net_bufferevent_set_idle(struct bufferevent *bev, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (net_tls_is_bufferevent(bev) && !net_tls_bufferevent_open(bev))
		return;
	bufferevent_set_timeouts(bev, &tv, NULL);
}

/*
 * What echo and chat do first with an event of their bufferevent.
 * Returns 1 when it was the transport's alone (the TLS handshake done):
 * the protocol ignores it.
 */
int
net_bufferevent_event(struct bufferevent *bev, short what, int idle_ms)
{
	if (what & BEV_EVENT_CONNECTED) {
		net_tls_bufferevent_opened(bev);
		net_bufferevent_set_idle(bev, idle_ms);
		return 1;
	}
	if (net_tls_is_bufferevent(bev) && !net_tls_bufferevent_open(bev))
		net_tls_bufferevent_failed(bev, what);
	return 0;
}

int
net_bufferevent_write_now(struct bufferevent *bev)
{
	if (net_tls_is_bufferevent(bev))
		return 0;
	return evbuffer_write(bufferevent_get_output(bev),
	    bufferevent_getfd(bev));
}
