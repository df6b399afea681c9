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
#include "worker/net/conn.h"
#include "worker/worker.h"

static ssize_t
net_plain_recv(struct net_conn *n, void *buf, size_t len)
{
	return read(n->fd, buf, len);
}

static ssize_t
net_plain_send(struct net_conn *n, const void *buf, size_t len, int more)
{
	return send(n->fd, buf, len, (more ? MSG_MORE : 0) | MSG_NOSIGNAL);
}

static int
net_plain_send_evbuffer(struct net_conn *n, struct evbuffer *buf)
{
	return evbuffer_write(buf, n->fd);
}

static const struct net_ops net_plain_ops = {
	net_plain_recv,
	net_plain_send,
	net_plain_send_evbuffer,
};

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
	if (close(n->fd) == -1)
		log_warn("closing a connection");
	n->fd = -1;
}

/* No more output: close_notify for TLS, then the TCP FIN. */
int
net_conn_shutdown_write(struct net_conn *n)
{
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

struct bufferevent *
net_bufferevent_new(int fd, const struct conf_listen *listen,
    struct conf_server *server)
{
	(void)listen;
	(void)server;
	return bufferevent_socket_new(worker_self->base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
}

int
net_bufferevent_write_now(struct bufferevent *bev)
{
	return evbuffer_write(bufferevent_get_output(bev),
	    bufferevent_getfd(bev));
}
