/*
 * tls.c: TLS on a worker's connections.
 *
 * OpenSSL runs on the non-blocking socket itself (SSL_set_fd) under the
 * connection's plain libevent events, as nginx and lighttpd drive it: a
 * call that cannot go on says whether it waits for the socket to be
 * readable or writable (SSL_ERROR_WANT_READ/WRITE), and the protocol
 * waits for that event.  Not bufferevent_openssl for HTTP: it copies what
 * it sends, and static files leave from the open-file cache's mapping.
 * Writes are at most one record (16 KiB) each, straight from the output
 * evbuffer's memory, or gathered into one record when its pieces are
 * small.  echo and chat, whose bytes are not files, use
 * bufferevent_openssl over the same contexts.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/log.h"
#include "common/stats.h"
#include "conf/conf.h"
#include "tls/tls.h"
#include "worker/net/tls.h"
#include "worker/conns.h"

/* One TLS record's worth of plaintext (RFC 8446 5.1). */
#define NET_TLS_RECORD (16 * 1024)
/*
 * A long body's records are gathered, four at a time, and written with
 * one system call: the reader then wakes once per 64 KiB, not per 16.
 * The gathering buffer exists only while such a body goes out, so an
 * idle connection holds none.
 */
#define NET_TLS_BATCH (4 * (NET_TLS_RECORD + 64))

static int net_tls_ktls_logged;
/* 1 when this kernel has no "tls" upper layer: not asked for again. */
static int net_tls_ktls_missing = -1;

/*
 * Whether the kernel can do kTLS at all, looked up once per worker: where
 * it cannot, OpenSSL would try two setsockopt calls on every connection
 * only to be refused.
 */
static int
net_tls_kernel_lacks_ktls(void)
{
	char ulps[256];
	size_t got;
	FILE *f;

	if (net_tls_ktls_missing != -1)
		return net_tls_ktls_missing;
	net_tls_ktls_missing = 0;
	f = fopen("/proc/sys/net/ipv4/tcp_available_ulp", "re");
	if (f == NULL) {
		log_debug("cannot read /proc/sys/net/ipv4/tcp_available_ulp: "
		    "%s; kTLS is tried on each connection", strerror(errno));
		return 0;
	}
	got = fread(ulps, 1, sizeof(ulps) - 1, f);
	ulps[got] = '\0';
	(void)fclose(f);
	for (char *w = strtok(ulps, " \n"); w != NULL; w = strtok(NULL, " \n"))
		if (strcmp(w, "tls") == 0)
			return 0;
	net_tls_ktls_missing = 1;
	return 1;
}

/* Where the last failed call leaves the connection: -1 with errno. */
static ssize_t
net_tls_error(struct net_conn *n, int rc, const char *doing)
{
	int err = SSL_get_error(n->ssl, rc);

	n->want_write = 0;
	switch (err) {
	case SSL_ERROR_WANT_READ:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		n->want_write = 1;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;		/* close_notify: the peer is done */
	case SSL_ERROR_SYSCALL:
		n->failed = 1;
		if (errno == 0 || ERR_peek_error() == 0) {
			/* A TCP close without close_notify: an end too.
			 * Truncation attacks matter to the reader of a
			 * response, not to a server reading requests,
			 * whose framing says where each one ends. */
			ERR_clear_error();
			if (errno == 0)
				return 0;
		}
		ERR_clear_error();
		return -1;
	default:
		n->failed = 1;
		log_debug("TLS %s: %s", doing,
		    ERR_reason_error_string(ERR_peek_error()));
		ERR_clear_error();
		errno = ECONNRESET;
		return -1;
	}
}

static ssize_t
net_tls_recv(struct net_conn *n, void *buf, size_t len)
{
	size_t got = 0;
	int rc;

	ERR_clear_error();
	rc = SSL_read_ex(n->ssl, buf, len, &got);
	if (rc == 1) {
		n->want_write = 0;
		n->starved = 0;
		return (ssize_t)got;
	}
	n->starved = SSL_get_error(n->ssl, rc) == SSL_ERROR_WANT_READ;
	return net_tls_error(n, rc, "read");
}

static void net_tls_batch_start(struct net_conn *n, int size);
static void net_tls_shutdown(struct net_conn *n);

/*
 * last: these are the connection's last bytes, the close follows at once
 * (see net_ops.send).  When all of them fit in this record, the record
 * and the close_notify (RFC 8446 6.1) are gathered and leave in one
 * write instead of two: one system call and one segment fewer for every
 * response that ends its connection.  The flush that sends them is
 * net_tls_flush(), which net_send_all() calls next and which waits for
 * the socket like any other.
 */
static ssize_t
net_tls_send(struct net_conn *n, const void *buf, size_t len, int last)
{
	size_t sent = 0;
	int rc;

	if (len > NET_TLS_RECORD) {
		len = NET_TLS_RECORD;
		last = 0;	/* more of the answer follows this record */
	}
	/* Room for both records: each adds at most 256 bytes and a 5-byte
	 * header to its plaintext (RFC 8446 5.2). */
	if (last)
		net_tls_batch_start(n, (int)len + 2 * (256 + 5));
	ERR_clear_error();
	rc = SSL_write_ex(n->ssl, buf, len, &sent);
	if (rc == 1) {
		n->want_write = 0;
		if (last && n->batch != NULL && sent == len)
			net_tls_shutdown(n);
		return (ssize_t)sent;
	}
	if (net_tls_error(n, rc, "write") == 0) {
		errno = EPIPE;		/* the peer closed */
		n->failed = 1;
	}
	return -1;
}

/* Puts a buffering BIO of size bytes in front of the socket for
 * writing. */
static void
net_tls_batch_start(struct net_conn *n, int size)
{
	BIO *sock = SSL_get_wbio(n->ssl), *buf;

	if (n->batch != NULL || n->ktls_send || sock == NULL)
		return;
	buf = BIO_new(BIO_f_buffer());
	if (buf == NULL)
		return;
	if (BIO_set_write_buffer_size(buf, size) <= 0 ||
	    !BIO_up_ref(sock)) {
		BIO_free(buf);
		return;
	}
	BIO_push(buf, sock);
	SSL_set0_wbio(n->ssl, buf);	/* gives up the ref we took */
	n->batch = buf;
}

/* Back to the bare socket, once everything gathered has gone. */
static void
net_tls_batch_end(struct net_conn *n)
{
	BIO *sock;

	/* None started: a connection taken over before it wrote. */
	if (n->batch == NULL)
		return;
	sock = BIO_next(n->batch);
	if (!BIO_up_ref(sock))
		return;
	SSL_set0_wbio(n->ssl, sock);	/* frees the buffer BIO */
	n->batch = NULL;
}

size_t
net_tls_batch_pending(const struct net_conn *n)
{
	return n->batch != NULL ? (size_t)BIO_wpending(n->batch) : 0;
}

static int
net_tls_flush(struct net_conn *n)
{
	if (n->batch == NULL)
		return 0;
	if (BIO_wpending(n->batch) > 0 && BIO_flush(n->batch) <= 0) {
		if (BIO_should_retry(n->batch)) {
			errno = EAGAIN;
			return -1;
		}
		n->failed = 1;
		errno = EPIPE;
		return -1;
	}
	net_tls_batch_end(n);
	return 0;
}

/*
 * One record from the front of buf.  A retried SSL_write must be given
 * the same bytes again (and at least as many): the front of buf does not
 * change until it is drained, and it only grows, so it is.
 */
static int
net_tls_send_evbuffer(struct net_conn *n, struct evbuffer *buf)
{
	static char gather[NET_TLS_RECORD];
	size_t len = evbuffer_get_length(buf), want;
	struct evbuffer_iovec vec;
	const void *from;
	ssize_t sent;

	if (len == 0)
		return 0;
	if (len > NET_TLS_BATCH)
		net_tls_batch_start(n, NET_TLS_BATCH);
	want = len < NET_TLS_RECORD ? len : NET_TLS_RECORD;
	if (evbuffer_peek(buf, (ev_ssize_t)want, NULL, &vec, 1) < 1)
		return -1;
	if (vec.iov_len >= want) {
		from = vec.iov_base;
	} else {
		if (evbuffer_copyout(buf, gather, want) != (ev_ssize_t)want)
			return -1;
		from = gather;
	}
	sent = net_tls_send(n, from, want, 0);
	if (sent <= 0)
		return -1;
	evbuffer_drain(buf, (size_t)sent);
	return (int)sent;
}

static const struct net_ops net_tls_ops = {
	net_tls_recv,
	net_tls_send,
	net_tls_send_evbuffer,
	net_tls_flush,
};

/*
 * With kTLS the kernel encrypts what is written to the socket, so
 * sending is the plain system calls again (writev, and sendfile for a
 * file: zero copy, what SSL_sendfile() does); reading stays OpenSSL's.
 */
static const struct net_ops net_ktls_ops = {
	net_tls_recv,
	net_plain_send,
	net_plain_send_evbuffer,
	NULL,
};

/*
 * head: bytes already read from the socket (the start of the ClientHello,
 * read to see that it is TLS at all).  OpenSSL reads them from memory
 * first; net_tls_handshake() then gives it the socket.  Reading them
 * instead of peeking saves a system call on every connection.
 */
static int
net_tls_give_head(struct net_conn *n, const void *head, size_t len)
{
	BIO *mem = BIO_new(BIO_s_mem());

	if (mem == NULL || BIO_write(mem, head, (int)len) != (int)len) {
		BIO_free(mem);
		return -1;
	}
	/* Empty is "wait", as EAGAIN on the socket would be. */
	BIO_set_mem_eof_return(mem, -1);
	SSL_set0_rbio(n->ssl, mem);	/* drops the socket's read ref */
	n->head = 1;
	return 0;
}

int
net_tls_start(struct net_conn *n, const struct conf_listen *listen,
    const void *head, size_t len)
{
	n->ssl = listen->vhosts != NULL ? tls_new(listen->vhosts) : NULL;
	if (n->ssl == NULL || SSL_set_fd(n->ssl, n->fd) != 1 ||
	    (len > 0 && net_tls_give_head(n, head, len) == -1)) {
		log_warnx("cannot start TLS: %s",
		    ERR_reason_error_string(ERR_peek_error()));
		ERR_clear_error();
		return -1;
	}
	/*
	 * Read ahead: one read takes what the socket holds (a client's
	 * Finished, its request and more) instead of a record header and
	 * then its body, two reads a record.  What is left in OpenSSL's
	 * buffer is looked for by net_tls_pending().
	 */
	SSL_set_read_ahead(n->ssl, 1);
#ifdef SSL_OP_ENABLE_KTLS
	if ((SSL_get_options(n->ssl) & SSL_OP_ENABLE_KTLS) != 0 &&
	    net_tls_kernel_lacks_ktls())
		SSL_clear_options(n->ssl, SSL_OP_ENABLE_KTLS);
#endif
	n->ops = &net_tls_ops;
	n->tls = NET_TLS_HANDSHAKE;
	n->starved = 0;
	return 0;
}

/* Why a handshake failed, for the stats, from OpenSSL's reason. */
static enum stats_tls_failure
net_tls_failure(unsigned long e)
{
	switch (ERR_GET_REASON(e)) {
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_VERSION_TOO_LOW:
	case SSL_R_HTTP_REQUEST:
	case SSL_R_HTTPS_PROXY_REQUEST:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_UNKNOWN_PROTOCOL:
		return STATS_TLS_PROTOCOL;
	case SSL_R_NO_SHARED_CIPHER:
	case SSL_R_NO_SHARED_GROUPS:
	case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
	case SSL_R_NO_APPLICATION_PROTOCOL:
	case SSL_R_CALLBACK_FAILED:
		return STATS_TLS_CIPHER;
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
		return STATS_TLS_CERTIFICATE;
	default:
		return STATS_TLS_OTHER;
	}
}

static void
net_tls_count_failure(struct net_conn *n)
{
	unsigned long e = ERR_peek_error();
	enum stats_tls_failure why = e != 0 ? net_tls_failure(e) :
	    STATS_TLS_OTHER;

	worker_stats->tls_failed[why]++;
	if (e != 0)
		log_info("TLS handshake failed: %s",
		    ERR_reason_error_string(e));
	ERR_clear_error();
	n->failed = 1;
}

static int net_tls_read_socket(struct net_conn *n);

static void
net_tls_opened(struct net_conn *n)
{
	/* Done without waiting for the socket (it always waits for the
	 * client's Finished, but if not): it reads the socket now. */
	if (n->head && net_tls_read_socket(n) == -1)
		n->failed = 1;
	n->tls = NET_TLS_OPEN;
	n->want_write = 0;
	worker_stats->tls_handshakes++;
	if (SSL_session_reused(n->ssl))
		worker_stats->tls_resumed++;
#ifdef SSL_OP_ENABLE_KTLS
	if (BIO_get_ktls_send(SSL_get_wbio(n->ssl))) {
		n->ktls_send = 1;
		n->ops = &net_ktls_ops;
		worker_stats->tls_ktls++;
	}
#endif
	if (!net_tls_ktls_logged) {
		net_tls_ktls_logged = 1;
		log_info("TLS: responses are encrypted %s", n->ktls_send ?
		    "by the kernel (kTLS; files go out with sendfile)" :
		    "by OpenSSL (SSL_write in 16k records; no kTLS on this "
		    "connection)");
	}
}

/* The bytes read before TLS started are all OpenSSL's: it reads the
 * socket from now on (the write side has been the socket throughout). */
static int
net_tls_read_socket(struct net_conn *n)
{
	BIO *sock = SSL_get_wbio(n->ssl);

	n->head = 0;
	if (sock == NULL || !BIO_up_ref(sock))
		return -1;
	SSL_set0_rbio(n->ssl, sock);	/* frees the memory BIO */
	return 0;
}

int
net_tls_handshake(struct net_conn *n)
{
	int rc, err;

	ERR_clear_error();
	rc = SSL_do_handshake(n->ssl);
	if (rc != 1 && n->head && SSL_get_error(n->ssl, rc) ==
	    SSL_ERROR_WANT_READ && net_tls_read_socket(n) == 0)
		rc = SSL_do_handshake(n->ssl);
	if (rc == 1) {
		net_tls_opened(n);
		return 1;
	}
	err = SSL_get_error(n->ssl, rc);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		n->want_write = err == SSL_ERROR_WANT_WRITE;
		return 0;
	}
	net_tls_count_failure(n);
	return -1;
}

void
net_tls_count_timeout(void)
{
	worker_stats->tls_failed[STATS_TLS_TIMEOUT]++;
}

struct conf_server *
net_tls_server(struct net_conn *n)
{
	return tls_chosen_server(n->ssl);
}

/* Whether ALPN chose HTTP/2 (RFC 7301; tls_alpn_select()). */
int
net_tls_alpn_h2(const struct net_conn *n)
{
	const unsigned char *p;
	unsigned int len;

	if (n->ssl == NULL)
		return 0;
	SSL_get0_alpn_selected(n->ssl, &p, &len);
	return len == 2 && p[0] == 'h' && p[1] == '2';
}

int
net_tls_sni_matched(const struct net_conn *n)
{
	return n->ssl != NULL && tls_sni_matched(n->ssl);
}

/*
 * Whether a read would find bytes without the socket: decrypted ones, or
 * (read ahead) records in OpenSSL's buffer.  A buffered part of a record
 * counts only until a read has found it short, or a connection waiting
 * for the rest would spin.
 */
int
net_tls_pending(struct net_conn *n)
{
	if (n->ssl == NULL || n->tls != NET_TLS_OPEN)
		return 0;
	return SSL_pending(n->ssl) > 0 ||
	    (!n->starved && SSL_has_pending(n->ssl));
}

/* Writes close_notify (into the batch, when there is one): not twice. */
static void
net_tls_shutdown(struct net_conn *n)
{
	ERR_clear_error();
	if (SSL_shutdown(n->ssl) < 0)
		ERR_clear_error();
	n->failed = 1;		/* sent, or cannot be: not twice */
}

/* One try, without waiting: a clean end for a client that reads it. */
void
net_tls_close_notify(struct net_conn *n)
{
	if (n->tls != NET_TLS_OPEN || n->failed)
		return;
	net_tls_shutdown(n);
	if (n->batch != NULL)
		(void)BIO_flush(n->batch);	/* best effort */
}

void
net_tls_free(struct net_conn *n)
{
	net_tls_close_notify(n);
	SSL_free(n->ssl);		/* and the batch BIO with it */
	n->ssl = NULL;
	n->batch = NULL;
	ERR_clear_error();
}

const char *
net_tls_protocol(const struct net_conn *n)
{
	return n->ssl != NULL ? SSL_get_version(n->ssl) : "-";
}

const char *
net_tls_cipher(const struct net_conn *n)
{
	return n->ssl != NULL ? SSL_get_cipher_name(n->ssl) : "-";
}

int
net_tls_reused(const struct net_conn *n)
{
	return n->ssl != NULL && SSL_session_reused(n->ssl);
}

/* echo and chat: the SSL's app data is NULL until the handshake is
 * done, then the bufferevent's own. */
int
net_tls_bufferevent_open(struct bufferevent *bev)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);

	return ssl != NULL && SSL_get_app_data(ssl) != NULL;
}

void
net_tls_bufferevent_opened(struct bufferevent *bev)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);

	if (ssl == NULL || SSL_get_app_data(ssl) != NULL)
		return;
	SSL_set_app_data(ssl, bev);
	worker_stats->tls_handshakes++;
	if (SSL_session_reused(ssl))
		worker_stats->tls_resumed++;
}

void
net_tls_bufferevent_failed(struct bufferevent *bev, short what)
{
	unsigned long e = bufferevent_get_openssl_error(bev);
	enum stats_tls_failure why = STATS_TLS_OTHER;

	if (what & BEV_EVENT_TIMEOUT)
		why = STATS_TLS_TIMEOUT;
	else if (e != 0)
		why = net_tls_failure(e);
	else if (what & BEV_EVENT_EOF)
		return;		/* gone before a handshake: not a failure */
	worker_stats->tls_failed[why]++;
	log_info("TLS handshake failed: %s", why == STATS_TLS_TIMEOUT ?
	    "timed out" : e != 0 ? ERR_reason_error_string(e) : "error");
}

struct bufferevent *
net_tls_bufferevent_new(int fd, const struct conf_listen *listen)
{
	struct bufferevent *bev;
	SSL *ssl = listen->vhosts != NULL ? tls_new(listen->vhosts) : NULL;

	if (ssl == NULL) {
		ERR_clear_error();
		return NULL;
	}
	SSL_set_app_data(ssl, NULL);	/* the handshake is not done */
	bev = bufferevent_openssl_socket_new(worker_self->base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* A client that closes without close_notify has still ended. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* An open TLS connection carried on by a bufferevent (a tunnel). */
struct bufferevent *
net_tls_bufferevent_from(struct net_conn *n)
{
	struct bufferevent *bev;

	net_tls_batch_end(n);
	bev = bufferevent_openssl_socket_new(worker_self->base, n->fd, n->ssl,
	    BUFFEREVENT_SSL_OPEN, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return NULL;
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

int
net_tls_is_bufferevent(struct bufferevent *bev)
{
	return bufferevent_openssl_get_ssl(bev) != NULL;
}

void
net_tls_worker_init(struct conf *conf)
{
	(void)conf;
	net_tls_ktls_logged = 0;
}
