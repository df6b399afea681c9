/*
 * handshake.c: the start of an HTTP connection on an ssl listener, before
 * its first request: the PROXY header, which a load balancer sends before
 * the TLS handshake (as HAProxy does), plain HTTP sent to the TLS port,
 * and the handshake itself.  Once it is done the connection reads
 * requests as any other, through its TLS net_ops.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/stats.h"
#include "worker/http/h1_conn.h"
#include "worker/net/proxy_protocol.h"
#include "worker/net/tls.h"

/* The first byte of a TLS record carrying a handshake (RFC 8446 5.1). */
#define HTTP_TLS_HANDSHAKE_RECORD 0x16
/* What the first read takes: a ClientHello is one record, usually well
 * under 2 KiB; a longer one is read on by OpenSSL itself. */
#define HTTP_TLS_HEAD 4096

/*
 * The PROXY header is read without reading past it: the bytes after it
 * are the ClientHello, which OpenSSL reads from the socket itself.  So
 * the socket is peeked; bytes known to belong to the header are then
 * consumed and kept in c->in until the header is whole.
 */
static int
http_tls_read_proxy(struct http_conn *c)
{
	char buf[PROXY_MAX_LEN];
	struct sockaddr_storage src;
	socklen_t srclen = 0;
	size_t have = c->in_len;
	ssize_t n;
	int len;

	if (have > 0)
		memcpy(buf, c->in, have);
	n = recv(c->net.fd, buf + have, sizeof(buf) - have, MSG_PEEK);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
		return -1;
	if (n == -1)
		return 0;
	len = proxy_parse(buf, have + (size_t)n, &src, &srclen);
	if (len < 0) {
		log_info("closing a connection without a valid PROXY header");
		return -1;
	}
	/* All that was peeked is header (len 0), or the header's rest. */
	if (len > 0)
		n = (ssize_t)((size_t)len - have);
	if (http_in_make_room(c) == -1 || c->in_cap - c->in_len <
	    (size_t)n || read(c->net.fd, c->in + c->in_len, (size_t)n) != n) {
		log_warnx("cannot read a PROXY header; closing");
		return -1;
	}
	c->in_len += (size_t)n;
	if (len == 0)
		return http_in_keep(c) == 0 ? 0 : -1;
	if (src.ss_family == AF_INET || src.ss_family == AF_INET6)
		memcpy(&c->peer, &src, srclen < sizeof(c->peer) ? srclen :
		    sizeof(c->peer));
	c->proxy_pending = 0;
	http_in_release(c);
	return 1;
}

/*
 * A TLS connection starts with a handshake record; anything else is most
 * likely plain HTTP sent to the HTTPS port: say so in plain HTTP, as
 * nginx does, and close.  The first bytes are read, not peeked at: the
 * handshake then reads them from memory (net_tls_start), one system call
 * fewer per connection than a peek followed by OpenSSL's own read.
 */
static int
http_tls_sniff(struct http_conn *c, unsigned char *head, size_t cap,
    size_t *len)
{
	static const char page[] = "<!DOCTYPE html>\n<html><head><title>"
	    "400 Bad Request</title></head>\n<body><h1>400 Bad Request</h1>"
	    "<p>The plain HTTP request was sent to HTTPS port</p>"
	    "<p>forkloop</p></body></html>\n";
	ssize_t n;

	n = read(c->net.fd, head, cap);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
		return -1;
	if (n == -1)
		return 0;
	*len = (size_t)n;
	if (head[0] == HTTP_TLS_HANDSHAKE_RECORD)
		return 1;
	log_info("plain HTTP sent to the TLS port %s", c->listen->text);
	worker_stats->tls_failed[STATS_TLS_PROTOCOL]++;
	c->tls_starting = 0;
	c->close_after = 1;
	if (http_h1_req_new(c) == NULL)
		return -1;
	http_respond_simple(c->req, 400, "text/html; charset=utf-8", page,
	    sizeof(page) - 1);
	return 2;
}

/*
 * Moves the connection's start on.  Returns 1 when it is ready for
 * requests, 0 when it waits for the socket (writable if c->net.want_write,
 * else readable), 2 when it was answered (plain HTTP: flush, then
 * close), -1 when it must close now.
 */
int
http_tls_handshake(struct http_conn *c)
{
	int rc;

	if (c->proxy_pending && (rc = http_tls_read_proxy(c)) <= 0)
		return rc;
	if (c->net.ssl == NULL) {
		unsigned char head[HTTP_TLS_HEAD];
		size_t len = 0;

		if ((rc = http_tls_sniff(c, head, sizeof(head), &len)) != 1)
			return rc;
		if (net_tls_start(&c->net, c->listen, head, len) == -1)
			return -1;
	}
	rc = net_tls_handshake(&c->net);
	if (rc == 0)
		return 0;
	if (rc < 0)
		return -1;
	c->tls_starting = 0;
	c->server = c->home = net_tls_server(&c->net);
	return 1;
}
