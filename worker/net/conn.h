/*
 * conn.h: the transport under every protocol: a connection's bytes in and
 * out, over plain TCP or TLS.
 *
 * As nginx's ngx_connection_t, a connection carries the functions that
 * move its bytes, and plain and TLS differ only in those: HTTP calls
 * net_recv() and net_send() and never learns which it has.  echo and chat,
 * which are built on bufferevents, get theirs from net_bufferevent_new(),
 * which picks the plain or the TLS kind in the same one place.
 */
#ifndef FORKLOOP_NET_CONN_H
#define FORKLOOP_NET_CONN_H

#include <sys/types.h>
#include <stddef.h>

struct bufferevent;
struct conf_listen;
struct conf_server;
struct evbuffer;
struct net_conn;
struct ssl_st;
struct bio_st;

struct net_ops {
	/* > 0 bytes read, 0 the peer sends no more, -1 with errno (EAGAIN:
	 * wait for the event net_conn.want_write names). */
	ssize_t (*recv)(struct net_conn *n, void *buf, size_t len);
	/* Bytes taken (> 0), or -1 with errno.  last: these are the
	 * connection's last bytes, its close follows at once; a hint
	 * (plain: MSG_MORE, so the FIN shares their segment; TLS: the
	 * close_notify leaves in the same write). */
	ssize_t (*send)(struct net_conn *n, const void *buf, size_t len,
	    int last);
	/* Sends from the front of buf and drains what went; as
	 * evbuffer_write(): bytes sent, or -1 with errno. */
	int (*send_evbuffer)(struct net_conn *n, struct evbuffer *buf);
	/* Sends what the transport itself still holds: 0 when nothing is
	 * left, -1 with errno (EAGAIN: wait for the socket).  NULL: the
	 * transport holds nothing (plain). */
	int (*flush)(struct net_conn *n);
};

enum net_tls_state {
	NET_PLAIN,		/* no TLS on this connection */
	NET_TLS_HANDSHAKE,	/* the handshake is under way */
	NET_TLS_OPEN,		/* application data flows */
};

struct net_conn {
	int fd;
	const struct net_ops *ops;
	struct ssl_st *ssl;		/* NULL on a plain connection */
	struct bio_st *batch;		/* TLS: records gathered for one write */
	enum net_tls_state tls;
	unsigned want_write:1;		/* TLS waits for the socket to drain */
	unsigned failed:1;		/* a TLS error: no close_notify */
	unsigned ktls_send:1;		/* the kernel encrypts what we send */
	unsigned starved:1;		/* TLS: the last read wanted the socket */
	unsigned head:1;		/* TLS: reads bytes read before it began */
};

void net_conn_init_plain(struct net_conn *n, int fd);
/* The plain sends, which a kTLS connection uses too (tls.c). */
ssize_t net_plain_send(struct net_conn *n, const void *buf, size_t len,
    int last);
int net_plain_send_evbuffer(struct net_conn *n, struct evbuffer *buf);
void net_conn_close(struct net_conn *n);
int net_send_all(struct net_conn *n, struct evbuffer *buf);
int net_conn_shutdown_write(struct net_conn *n);
int net_conn_nodelay(struct net_conn *n);

static inline ssize_t
net_recv(struct net_conn *n, void *buf, size_t len)
{
	return n->ops->recv(n, buf, len);
}

static inline ssize_t
net_send(struct net_conn *n, const void *buf, size_t len, int last)
{
	return n->ops->send(n, buf, len, last);
}

static inline int
net_send_evbuffer(struct net_conn *n, struct evbuffer *buf)
{
	return n->ops->send_evbuffer(n, buf);
}

static inline int
net_flush(struct net_conn *n)
{
	return n->ops->flush != NULL ? n->ops->flush(n) : 0;
}

/* Bytes the transport holds that the socket has not taken. */
size_t net_pending_out(const struct net_conn *n);

struct bufferevent *net_conn_to_bufferevent(struct net_conn *n);

/* A bufferevent over fd, plain or TLS as the listener says (echo, chat). */
struct bufferevent *net_bufferevent_new(int fd,
    const struct conf_listen *listen, struct conf_server *server);
/* Hands the kernel what bev's output holds now, where that is possible
 * without the bufferevent (plain only); 0, or -1 with errno. */
int net_bufferevent_write_now(struct bufferevent *bev);
void net_bufferevent_set_idle(struct bufferevent *bev, int ms);
int net_bufferevent_event(struct bufferevent *bev, short what, int idle_ms);

#endif
