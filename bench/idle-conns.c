/*
 * idle-conns: open many idle HTTP/1.1 keep-alive (or HTTP/2) connections
 * to a server and hold them, so that the server's memory per idle
 * connection can be measured.  Part of forkloop's benchmark (bench/run
 * compiles it with cc).
 *
 *	idle-conns [-s] [-2|-w] HOST PORT COUNT PATH [MAX_SECONDS]
 *
 * Each connection sends one "GET PATH HTTP/1.1" and reads the whole answer
 * (the head and Content-Length bytes of body), then stays open and idle.
 * With -s the connections are TLS (OpenSSL's defaults, no certificate
 * verification, SNI "localhost"): each completes a full handshake before
 * its request, and keeps its SSL object while idle, so that whatever the
 * server sends later (a session ticket, close_notify) is read as TLS.
 *
 * With -2 the connections speak HTTP/2: over TLS (-s -2) the client offers
 * only "h2" by ALPN and fails a connection whose server chose anything
 * else; without -s it is cleartext HTTP/2 with prior knowledge (h2c, RFC
 * 9113 3.3).  Each connection sends the connection preface, a SETTINGS
 * frame (ENABLE_PUSH 0) and, in the same write, a HEADERS frame for
 * "GET PATH" on stream 1; it acknowledges the server's SETTINGS (and
 * PINGs), reads until stream 1 ends (END_STREAM) and then stays open and
 * idle, as an HTTP/2 client between two page loads.  The status must be
 * 200 (":status" as HPACK static index 8, as every server sends it).
 * A GOAWAY or RST_STREAM counts as the server closing the connection.
 *
 * With -w (HTTP/1.1 only) each connection asks for a WebSocket upgrade
 * of PATH (RFC 6455 4.1, with a fixed key) and wants "101" back; it then
 * stays open as an idle WebSocket, as a browser tab with a chat open.
 * Through a reverse proxy this measures what an idle tunnel costs.
 * Frames are parsed as they come with a few bytes of state per connection
 * (no HPACK decoder: only the first byte of the answer's header block is
 * looked at).
 *
 * At most 256 connections are being set up at any time, so the server's
 * listen backlog is never the limit.  When every connection is either
 * idle or failed, one line goes to standard output:
 *
 *	ready OPEN FAILED
 *
 * Then the program waits, watching the idle connections, until standard
 * input reaches end of file (or MAX_SECONDS, default 300, have passed
 * since start), prints
 *
 *	done OPEN CLOSED_BY_SERVER
 *
 * where OPEN is how many connections were still open, and exits, which
 * closes them all.  Failures are described on standard error.  Exit status:
 * 0 when every connection was answered with 200 and was still open at the
 * end, 1 otherwise, 2 on a usage or system error.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define INFLIGHT	256
#define BUFSZ		4096

enum state { S_FREE, S_CONNECTING, S_HANDSHAKE, S_READING, S_IDLE, S_FAILED,
    S_CLOSED };

struct conn {
	int		 fd;
	enum state	 st;
	size_t		 got;		/* bytes of the answer read so far */
	size_t		 want;		/* head + body length, 0 while unknown */
	char		*buf;
	SSL		*ssl;		/* with -s */
	/* With -2: the frame being read. */
	unsigned char	 fh[9];		/* its header */
	unsigned char	 fp[16];	/* the first bytes of its payload */
	unsigned char	 fhgot;		/* header bytes read so far */
	unsigned char	 gotheaders;	/* stream 1's HEADERS seen */
	uint32_t	 flen, fgot;	/* payload length, bytes read */
};

static struct conn	*conns;
static int		 nconns, ep;
static char		*req;
static size_t		 reqlen;
static int		 nidle, nfailed, nclosed, nbadstatus;
static SSL_CTX		*ctx;		/* with -s */
static int		 h2;		/* -2 */
static int		 ws;		/* -w */

#define H2_PREFACE	"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
enum { F_DATA = 0, F_HEADERS = 1, F_RST_STREAM = 3, F_SETTINGS = 4,
    F_PING = 6, F_GOAWAY = 7 };
enum { FL_END_STREAM = 0x1, FL_ACK = 0x1, FL_END_HEADERS = 0x4,
    FL_PADDED = 0x8, FL_PRIORITY = 0x20 };

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
fail(struct conn *c, const char *what, int err)
{
	static int reported;

	if (reported++ < 10)
		fprintf(stderr, "idle-conns: connection %ld: %s%s%s\n",
		    (long)(c - conns), what, err ? ": " : "",
		    err ? strerror(err) : "");
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	c->ssl = NULL;
	ERR_clear_error();
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->st = S_FAILED;
	nfailed++;
}

static int
start(struct conn *c, const struct sockaddr_in *sin)
{
	struct epoll_event ev;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail(c, "socket", errno);
		return -1;
	}
	c->fd = fd;
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0 &&
	    errno != EINPROGRESS) {
		fail(c, "connect", errno);
		return -1;
	}
	c->st = S_CONNECTING;
	ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		fail(c, "epoll_ctl", errno);
		return -1;
	}
	return 0;
}

/*
 * read(2) through TLS or not: > 0 bytes, 0 at the end, -1 with errno
 * EAGAIN when there is nothing yet, -1 with another errno on an error.
 */
static ssize_t
conn_read(struct conn *c, void *buf, size_t len)
{
	int r, e;

	if (c->ssl == NULL)
		return read(c->fd, buf, len);
	r = SSL_read(c->ssl, buf, (int)len);
	if (r > 0)
		return r;
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		errno = EAGAIN;
		return -1;
	}
	ERR_clear_error();
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
		return 0;
	if (e != SSL_ERROR_SYSCALL)
		errno = EPROTO;
	return -1;
}

/* write(2) through TLS or not; small writes only (all or nothing). */
static ssize_t
conn_write(struct conn *c, const void *buf, size_t len)
{
	int r;

	if (c->ssl == NULL)
		return write(c->fd, buf, len);
	r = SSL_write(c->ssl, buf, (int)len);
	if (r <= 0) {
		ERR_clear_error();
		return -1;
	}
	return r;
}

/* An HTTP/2 frame header. */
static unsigned char *
h2_frame(unsigned char *p, size_t len, int type, int flags, uint32_t sid)
{
	p[0] = len >> 16;
	p[1] = len >> 8;
	p[2] = len;
	p[3] = type;
	p[4] = flags;
	p[5] = (sid >> 24) & 0x7f;
	p[6] = sid >> 16;
	p[7] = sid >> 8;
	p[8] = sid;
	return p + 9;
}

/* An HPACK integer with an N-bit prefix, after the prefix bits FIRST. */
static unsigned char *
hpack_int(unsigned char *p, int first, int nbits, size_t v)
{
	size_t max = (1u << nbits) - 1;

	if (v < max) {
		*p++ = first | v;
		return p;
	}
	*p++ = first | max;
	v -= max;
	while (v >= 128) {
		*p++ = 0x80 | (v & 0x7f);
		v >>= 7;
	}
	*p++ = v;
	return p;
}

/* A string literal, no Huffman coding. */
static unsigned char *
hpack_str(unsigned char *p, const char *s)
{
	size_t n = strlen(s);

	p = hpack_int(p, 0, 7, n);
	memcpy(p, s, n);
	return p + n;
}

/*
 * The connection preface, SETTINGS and "GET PATH" on stream 1, in one
 * buffer: every connection sends the same bytes.
 */
static int
h2_request(const char *path, const char *authority, int tls)
{
	unsigned char *b, *p, *hb;
	size_t cap = 256 + 2 * strlen(path) + 2 * strlen(authority);

	b = malloc(cap);
	if (b == NULL)
		return -1;
	memcpy(b, H2_PREFACE, sizeof(H2_PREFACE) - 1);
	p = b + sizeof(H2_PREFACE) - 1;
	/* SETTINGS: ENABLE_PUSH (2) = 0. */
	p = h2_frame(p, 6, F_SETTINGS, 0, 0);
	*p++ = 0; *p++ = 2; *p++ = 0; *p++ = 0; *p++ = 0; *p++ = 0;
	/* HEADERS: the block first, the frame header in front of it. */
	hb = p + 9;
	p = hb;
	*p++ = 0x82;				/* :method GET */
	*p++ = tls ? 0x87 : 0x86;		/* :scheme https / http */
	p = hpack_int(p, 0x00, 4, 4);		/* :path, not indexed */
	p = hpack_str(p, path);
	p = hpack_int(p, 0x00, 4, 1);		/* :authority */
	p = hpack_str(p, authority);
	p = hpack_int(p, 0x00, 4, 58);		/* user-agent */
	p = hpack_str(p, "forkloop-bench-idle-conns");
	h2_frame(hb - 9, p - hb, F_HEADERS, FL_END_STREAM | FL_END_HEADERS, 1);
	req = (char *)b;
	reqlen = p - b;
	return 0;
}

/*
 * One whole frame has been read (its header and up to 16 bytes of its
 * payload).  Returns 1 when stream 1 ended, -1 when the server is closing
 * (GOAWAY) or reset the stream, 0 otherwise.
 */
static int
h2_on_frame(struct conn *c)
{
	unsigned char ack[9 + 8], *p;
	uint32_t sid;
	int type = c->fh[3], flags = c->fh[4];
	size_t off;

	sid = ((uint32_t)(c->fh[5] & 0x7f) << 24) | (c->fh[6] << 16) |
	    (c->fh[7] << 8) | c->fh[8];
	switch (type) {
	case F_SETTINGS:
		if (!(flags & FL_ACK)) {
			h2_frame(ack, 0, F_SETTINGS, FL_ACK, 0);
			conn_write(c, ack, 9);
		}
		return 0;
	case F_PING:
		if (!(flags & FL_ACK) && c->flen == 8) {
			p = h2_frame(ack, 8, F_PING, FL_ACK, 0);
			memcpy(p, c->fp, 8);
			conn_write(c, ack, sizeof(ack));
		}
		return 0;
	case F_GOAWAY:
		return -1;
	case F_RST_STREAM:
		return sid == 1 ? -1 : 0;
	case F_HEADERS:
		if (sid != 1)
			return 0;
		if (!c->gotheaders) {
			c->gotheaders = 1;
			off = (flags & FL_PADDED ? 1 : 0) +
			    (flags & FL_PRIORITY ? 5 : 0);
			/* :status 200 is static table entry 8. */
			if (off >= c->flen || off >= sizeof(c->fp) ||
			    c->fp[off] != 0x88)
				nbadstatus++;
		}
		return (flags & FL_END_STREAM) ? 1 : 0;
	case F_DATA:
		return (sid == 1 && (flags & FL_END_STREAM)) ? 1 : 0;
	default:
		return 0;
	}
}

/*
 * Feed bytes read from an HTTP/2 connection to its frame parser.  Returns
 * as h2_on_frame(): 1 as soon as stream 1 has ended, -1 when the server
 * is closing, 0 otherwise.
 */
static int
h2_input(struct conn *c, const unsigned char *b, size_t n)
{
	size_t k;
	int r, ended = 0;

	while (n > 0) {
		if (c->fhgot < 9) {
			k = 9 - c->fhgot;
			if (k > n)
				k = n;
			memcpy(c->fh + c->fhgot, b, k);
			c->fhgot += k;
			b += k;
			n -= k;
			if (c->fhgot < 9)
				return ended;
			c->flen = (c->fh[0] << 16) | (c->fh[1] << 8) | c->fh[2];
			c->fgot = 0;
		} else {
			k = c->flen - c->fgot;
			if (k > n)
				k = n;
			if (c->fgot < sizeof(c->fp))
				memcpy(c->fp + c->fgot, b,
				    sizeof(c->fp) - c->fgot < k ?
				    sizeof(c->fp) - c->fgot : k);
			c->fgot += k;
			b += k;
			n -= k;
		}
		if (c->fhgot == 9 && c->fgot == c->flen) {
			r = h2_on_frame(c);
			c->fhgot = 0;
			if (r < 0)
				return -1;
			if (r > 0)
				ended = 1;
		}
	}
	return ended;
}

static void
want(struct conn *c, uint32_t events)
{
	struct epoll_event ev;

	ev.events = events;
	ev.data.ptr = c;
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Send the request (in one go: it is small) and wait for the answer. */
static void
send_request(struct conn *c)
{
	ssize_t n;
	const unsigned char *alpn;
	unsigned int alpnlen;

	if (h2 && c->ssl != NULL) {
		SSL_get0_alpn_selected(c->ssl, &alpn, &alpnlen);
		if (alpnlen != 2 || memcmp(alpn, "h2", 2) != 0) {
			fail(c, "the server did not choose h2 by ALPN", 0);
			return;
		}
	}
	n = conn_write(c, req, reqlen);
	if (n != (ssize_t)reqlen) {
		fail(c, "write", n < 0 ? errno : 0);
		return;
	}
	if (h2) {
		/* Frames are parsed as they come: no buffer is kept. */
		c->st = S_READING;
		want(c, EPOLLIN | EPOLLRDHUP);
		return;
	}
	c->buf = malloc(BUFSZ);
	if (c->buf == NULL) {
		fail(c, "malloc", errno);
		return;
	}
	c->st = S_READING;
	want(c, EPOLLIN | EPOLLRDHUP);
}

/* One step of the TLS handshake; the request goes when it is done. */
static void
handshake(struct conn *c)
{
	int r, e;

	r = SSL_connect(c->ssl);
	if (r == 1) {
		send_request(c);
		return;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		want(c, EPOLLIN | EPOLLRDHUP);
	else if (e == SSL_ERROR_WANT_WRITE)
		want(c, EPOLLOUT);
	else
		fail(c, "TLS handshake", e == SSL_ERROR_SYSCALL ? errno : 0);
}

/* Parse the head once it is complete: status must be 200. */
static void
parse_head(struct conn *c)
{
	char *end, *p;
	size_t head;
	long len = -1;

	c->buf[c->got] = '\0';
	end = strstr(c->buf, "\r\n\r\n");
	if (end == NULL) {
		if (c->got >= BUFSZ - 1)
			fail(c, "answer head too long", 0);
		return;
	}
	head = end + 4 - c->buf;
	if (ws) {
		if (strncmp(c->buf, "HTTP/1.1 101 ", 13) != 0)
			nbadstatus++;
		c->want = head;	/* what follows is the WebSocket's */
		return;
	}
	if (strncmp(c->buf, "HTTP/1.1 200 ", 13) != 0 &&
	    strncmp(c->buf, "HTTP/1.0 200 ", 13) != 0)
		nbadstatus++;
	for (p = c->buf; p < end; p++) {
		if (*p == '\n' && strncasecmp(p + 1, "content-length:", 15) == 0) {
			len = strtol(p + 16, NULL, 10);
			break;
		}
	}
	if (len < 0) {
		fail(c, "answer without Content-Length", 0);
		return;
	}
	c->want = head + (size_t)len;
}

static void
on_event(struct conn *c, uint32_t events)
{
	char tmp[BUFSZ];
	int err;
	socklen_t sl;
	ssize_t n;

	switch (c->st) {
	case S_CONNECTING:
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		sl = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
			err = errno;
		if (err != 0) {
			fail(c, "connect", err);
			return;
		}
		if (ctx == NULL) {
			send_request(c);
			return;
		}
		c->ssl = SSL_new(ctx);
		if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
			fail(c, "SSL_new", 0);
			return;
		}
		SSL_set_tlsext_host_name(c->ssl, "localhost");
		c->st = S_HANDSHAKE;
		handshake(c);
		return;
	case S_HANDSHAKE:
		handshake(c);
		return;
	case S_READING:
		while (h2) {
			n = conn_read(c, tmp, sizeof(tmp));
			if (n < 0 && errno == EAGAIN)
				return;
			if (n < 0) {
				fail(c, "read", errno);
				return;
			}
			if (n == 0) {
				fail(c, "closed by the server before the answer ended", 0);
				return;
			}
			switch (h2_input(c, (unsigned char *)tmp, n)) {
			case -1:
				fail(c, "GOAWAY or RST_STREAM before the answer ended", 0);
				return;
			case 1:
				c->st = S_IDLE;
				nidle++;
				return;
			}
		}
		for (;;) {
			if (c->want == 0)
				n = conn_read(c, c->buf + c->got, BUFSZ - 1 - c->got);
			else
				n = conn_read(c, tmp, sizeof(tmp));
			if (n < 0 && errno == EAGAIN)
				return;
			if (n < 0) {
				fail(c, "read", errno);
				return;
			}
			if (n == 0) {
				fail(c, "closed by the server before the answer ended", 0);
				return;
			}
			c->got += n;
			if (c->want == 0) {
				parse_head(c);
				if (c->st != S_READING)
					return;
			}
			/* After a 101, what comes is the WebSocket's. */
			if (ws && c->want != 0 && c->got > c->want)
				c->got = c->want;
			if (c->want != 0 && c->got > c->want) {
				fail(c, "more bytes than the answer", 0);
				return;
			}
			if (c->want != 0 && c->got == c->want) {
				free(c->buf);
				c->buf = NULL;
				c->st = S_IDLE;
				nidle++;
				return;
			}
		}
	case S_IDLE:
		/*
		 * The server closed (or sent something on) an idle
		 * connection; with TLS, a record that is no data (a late
		 * session ticket) only gives EAGAIN.
		 */
		/*
		 * With -2: frames on an idle connection (SETTINGS, PING,
		 * WINDOW_UPDATE) are answered as needed; a GOAWAY is the
		 * server closing it.
		 */
		for (;;) {
			n = conn_read(c, tmp, sizeof(tmp));
			if (n < 0 && errno == EAGAIN)
				return;
			if (n <= 0 || !h2 ||
			    h2_input(c, (unsigned char *)tmp, n) < 0)
				break;
		}
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		if (c->ssl != NULL)
			SSL_free(c->ssl);
		c->ssl = NULL;
		ERR_clear_error();
		close(c->fd);
		c->fd = -1;
		c->st = S_CLOSED;
		nidle--;
		nclosed++;
		return;
	default:
		return;
	}
}

static int
poll_once(int timeout_ms)
{
	struct epoll_event evs[512];
	int i, n;

	n = epoll_wait(ep, evs, 512, timeout_ms);
	if (n < 0 && errno != EINTR) {
		perror("idle-conns: epoll_wait");
		exit(2);
	}
	for (i = 0; i < n; i++)
		on_event(evs[i].data.ptr, evs[i].events);
	return n < 0 ? 0 : n;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	struct rlimit rl;
	struct epoll_event ev;
	double t0, deadline;
	const char *host, *path;
	int i, next, pending, maxsec;
	char line[16];

	while (argc > 1 && (strcmp(argv[1], "-s") == 0 ||
	    strcmp(argv[1], "-2") == 0 || strcmp(argv[1], "-w") == 0)) {
		if (argv[1][1] == '2')
			h2 = 1;
		else if (argv[1][1] == 'w')
			ws = 1;
		else if (ctx == NULL) {
			/* Keep the client's own memory small: no idle buffers. */
			ctx = SSL_CTX_new(TLS_client_method());
			if (ctx == NULL)
				return 2;
			SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
			SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
			SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
		}
		argv++;
		argc--;
	}
	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: idle-conns [-s] [-2|-w] HOST PORT "
		    "COUNT PATH [MAX_SECONDS]\n");
		return 2;
	}
	if (h2 && ctx != NULL &&
	    SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x02h2", 3) != 0)
		return 2;
	host = argv[1];
	path = argv[4];
	nconns = atoi(argv[3]);
	maxsec = argc == 6 ? atoi(argv[5]) : 300;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(atoi(argv[2]));
	if (nconns <= 0 || inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		fprintf(stderr, "idle-conns: bad address or count\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	/* Room for every connection, plus stdio and the epoll fd. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)nconns + 16) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < (rlim_t)nconns + 16) {
			fprintf(stderr, "idle-conns: open files limit %lu is too "
			    "low for %d connections\n",
			    (unsigned long)rl.rlim_cur, nconns);
			return 2;
		}
	}

	if (h2) {
		char *authority;

		if (asprintf(&authority, "%s:%s", host, argv[2]) < 0 ||
		    h2_request(path, authority, ctx != NULL) < 0)
			return 2;
		free(authority);
	} else {
		if (asprintf(&req, "GET %s HTTP/1.1\r\nHost: %s:%s\r\n"
		    "User-Agent: forkloop-bench-idle-conns\r\n%s\r\n",
		    path, host, argv[2], ws ? "Upgrade: websocket\r\n"
		    "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
		    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" : "") < 0)
			return 2;
		reqlen = strlen(req);
	}
	conns = calloc(nconns, sizeof(*conns));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (conns == NULL || ep < 0) {
		perror("idle-conns");
		return 2;
	}
	for (i = 0; i < nconns; i++)
		conns[i].fd = -1;

	t0 = now();
	deadline = t0 + maxsec;
	next = 0;
	for (;;) {
		pending = next - nidle - nfailed - nclosed;
		while (next < nconns && pending < INFLIGHT) {
			start(&conns[next++], &sin);
			pending = next - nidle - nfailed - nclosed;
		}
		if (next == nconns && pending == 0)
			break;
		if (now() > deadline) {
			fprintf(stderr, "idle-conns: gave up after %d s with "
			    "%d connections unanswered\n", maxsec, pending);
			break;
		}
		poll_once(100);
	}
	if (nbadstatus)
		fprintf(stderr, "idle-conns: %d answers were not 200\n",
		    nbadstatus);
	printf("ready %d %d\n", nidle, nfailed + nclosed);
	fflush(stdout);
	fprintf(stderr, "idle-conns: %d connections idle after %.2f s\n",
	    nidle, now() - t0);

	/* Hold them until stdin closes. */
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = NULL;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev) < 0) {
		/* stdin is not pollable (a regular file): hold until the time */
		for (;;) {
			if (now() > deadline)
				break;
			poll_once(200);
		}
	} else {
		for (;;) {
			struct epoll_event evs[512];
			int n, stop = 0;

			if (now() > deadline)
				break;
			n = epoll_wait(ep, evs, 512, 200);
			for (i = 0; i < n; i++) {
				if (evs[i].data.ptr == NULL) {
					ssize_t r = read(0, line, sizeof(line));
					if (r == 0 || (r < 0 && errno != EAGAIN))
						stop = 1;
				} else
					on_event(evs[i].data.ptr, evs[i].events);
			}
			if (stop)
				break;
		}
	}
	/* Count what the server closed meanwhile. */
	epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
	while (poll_once(0) > 0)
		;
	printf("done %d %d\n", nidle, nclosed);
	fflush(stdout);
	return (nidle == nconns && nbadstatus == 0) ? 0 : 1;
}
