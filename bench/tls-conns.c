/*
 * tls-conns: a load generator for TLS handshakes, one request per
 * connection.  Part of forkloop's benchmark (bench/run compiles it with
 * cc -lssl -lcrypto); wrk and h2load cannot be used for this, as both
 * resume the previous session on every reconnection.
 *
 *	tls-conns [-r] [-t THREADS] [-c CONNS] [-d SECONDS] [-n MAX]
 *	    [-T TIMEOUT] [-o FILE] HOST PORT PATH
 *
 * Each connection: TCP connect, TLS handshake, one "GET PATH HTTP/1.1"
 * with "Connection: close", the whole answer read (the head and
 * Content-Length bytes of body), close_notify, close; then the next.
 * CONNS connections (default 50) are under way at any time, spread over
 * THREADS threads (default 2), each with an epoll loop of its own, until
 * SECONDS (default 5) have passed or MAX answers have been read.  A
 * connection that makes no progress for TIMEOUT seconds (default 2) counts
 * as a timeout and is replaced.
 *
 * Without -r every handshake is a full one: every connection has a new SSL
 * object and never offers a session.  With -r every connection offers the
 * session (TLS 1.3 ticket, or TLS 1.2 ticket or id) that the previous
 * connection of the same slot ended with, as a browser does; the first
 * handshake of each slot is full.  Either way, the handshakes that the
 * server accepted as resumptions (SSL_session_reused) are counted.
 *
 * -o FILE writes the first answer (head and body) to FILE: with -n 1, a
 * fetch for checking content.
 *
 * At the end, one line on standard output, as bench/wrk-report.lua prints
 * for wrk (latency: from connect() to the last byte of the answer):
 *
 *	BENCH requests=N duration_us=N bytes=N connect=N read=N write=N
 *	    status=N timeout=N p50_us=N p90_us=N p99_us=N max_us=N
 *	    handshakes=N resumed=N version=V cipher=C group=G key=K
 *
 * (on one line).  connect counts failed connects and handshakes; status,
 * answers with a status above 399; version, cipher, group (key exchange)
 * and key (the server certificate's key type: EC or RSA) are those of the
 * first handshake.  Exit status: 0, or 2 on a usage or system error.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define HEADSZ		8192
#define MAXLAT		(1 << 20)	/* latencies kept per thread */

enum state { C_CONNECT, C_HANDSHAKE, C_WRITE, C_READ };

struct conn {
	int		 fd;
	enum state	 st;
	SSL		*ssl;
	SSL_SESSION	*sess;		/* -r: offered by the next connection */
	double		 t0, tlast;
	size_t		 sent, got, want;	/* want: head + body, 0 unknown */
	char		 head[HEADSZ];
};

struct worker {
	pthread_t	 tid;
	int		 ep, nconns;
	struct conn	*conns;
	unsigned long	 requests, bytes, handshakes, resumed;
	unsigned long	 e_connect, e_read, e_write, e_status, e_timeout;
	unsigned	*lat;
	size_t		 nlat;
};

static struct sockaddr_in sin_srv;
static SSL_CTX		*ctx;
static char		*req;
static size_t		 reqlen;
static int		 resume, timeout_s = 2;
static volatile double	 deadline;
static unsigned long	 maxreq, done_total;
static FILE		*outf;
static char		 first_info[256];
static pthread_mutex_t	 info_lock = PTHREAD_MUTEX_INITIALIZER;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void conn_start(struct worker *, struct conn *);

/* End a connection (after an answer or an error) and start the next. */
static void
conn_end(struct worker *w, struct conn *c, int ok)
{
	if (c->ssl != NULL) {
		if (ok && resume) {
			SSL_SESSION_free(c->sess);
			c->sess = SSL_get1_session(c->ssl);
		}
		if (ok)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	conn_start(w, c);
}

static void
note_first(SSL *ssl)
{
	const char *key = "?", *group = "?";
	EVP_PKEY *pk;
	X509 *x;
	int nid;

	pthread_mutex_lock(&info_lock);
	if (first_info[0] == '\0') {
		x = SSL_get0_peer_certificate(ssl);
		pk = x ? X509_get0_pubkey(x) : NULL;
		if (pk != NULL)
			key = EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC ? "EC" :
			    EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA ? "RSA" :
			    "other";
		nid = SSL_get_negotiated_group(ssl);
		if (nid > 0 && OBJ_nid2sn(nid) != NULL)
			group = OBJ_nid2sn(nid);
		snprintf(first_info, sizeof(first_info),
		    "version=%s cipher=%s group=%s key=%s", SSL_get_version(ssl),
		    SSL_get_cipher_name(ssl), group, key);
	}
	pthread_mutex_unlock(&info_lock);
}

/* Parse the answer's head once it is complete. */
static int
parse_head(struct worker *w, struct conn *c)
{
	char *end, *p;
	long len = -1;

	c->head[c->got < HEADSZ ? c->got : HEADSZ - 1] = '\0';
	end = strstr(c->head, "\r\n\r\n");
	if (end == NULL)
		return c->got >= HEADSZ - 1 ? -1 : 0;
	if (strncmp(c->head, "HTTP/1.", 7) != 0 || strlen(c->head) < 12)
		return -1;
	if (atoi(c->head + 9) > 399)
		w->e_status++;
	for (p = c->head; p < end; p++) {
		if (*p == '\n' && strncasecmp(p + 1, "content-length:", 15) == 0) {
			len = strtol(p + 16, NULL, 10);
			break;
		}
	}
	if (len < 0)
		return -1;
	c->want = (size_t)(end + 4 - c->head) + (size_t)len;
	return 1;
}

static void
answered(struct worker *w, struct conn *c)
{
	double t = now();
	unsigned long n;

	w->requests++;
	w->bytes += c->got;
	if (w->nlat < MAXLAT)
		w->lat[w->nlat++] = (unsigned)((t - c->t0) * 1e6);
	n = __atomic_add_fetch(&done_total, 1, __ATOMIC_RELAXED);
	if (maxreq && n >= maxreq)
		deadline = 0;	/* every thread stops at its next look */
	conn_end(w, c, 1);
}

/* Is this SSL call's failure only a wait for the socket? */
static int
ssl_wait(struct conn *c, int r)
{
	int e = SSL_get_error(c->ssl, r);

	return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

/* Drive a connection as far as it goes without waiting. */
static void
step(struct worker *w, struct conn *c)
{
	char buf[16384];
	socklen_t sl;
	int r, err;

	c->tlast = now();
	for (;;) {
		switch (c->st) {
		case C_CONNECT:
			err = 0;
			sl = sizeof(err);
			if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0 ||
			    err != 0) {
				w->e_connect++;
				conn_end(w, c, 0);
				return;
			}
			c->st = C_HANDSHAKE;
			break;
		case C_HANDSHAKE:
			r = SSL_connect(c->ssl);
			if (r != 1) {
				if (ssl_wait(c, r))
					return;
				ERR_clear_error();
				w->e_connect++;
				conn_end(w, c, 0);
				return;
			}
			w->handshakes++;
			if (SSL_session_reused(c->ssl))
				w->resumed++;
			if (first_info[0] == '\0')
				note_first(c->ssl);
			c->st = C_WRITE;
			break;
		case C_WRITE:
			r = SSL_write(c->ssl, req + c->sent, reqlen - c->sent);
			if (r <= 0) {
				if (ssl_wait(c, r))
					return;
				ERR_clear_error();
				w->e_write++;
				conn_end(w, c, 0);
				return;
			}
			c->sent += r;
			if (c->sent == reqlen)
				c->st = C_READ;
			break;
		case C_READ:
			if (c->want == 0 && c->got < HEADSZ - 1)
				r = SSL_read(c->ssl, c->head + c->got,
				    HEADSZ - 1 - c->got);
			else
				r = SSL_read(c->ssl, buf, sizeof(buf));
			if (r <= 0) {
				if (ssl_wait(c, r))
					return;
				ERR_clear_error();
				w->e_read++;	/* closed before the end */
				conn_end(w, c, 0);
				return;
			}
			if (outf != NULL)
				fwrite(c->want == 0 && c->got < HEADSZ - 1 ?
				    c->head + c->got : buf, 1, r, outf);
			c->got += r;
			if (c->want == 0 && parse_head(w, c) < 0) {
				w->e_read++;
				conn_end(w, c, 0);
				return;
			}
			if (c->want != 0 && c->got >= c->want) {
				if (c->got > c->want)
					w->e_read++;
				if (outf != NULL) {
					fclose(outf);
					outf = NULL;
				}
				answered(w, c);
				return;
			}
			break;
		}
	}
}

static void
conn_start(struct worker *w, struct conn *c)
{
	struct epoll_event ev;
	int one = 1;

	if (now() >= deadline)
		return;
	c->st = C_CONNECT;
	c->sent = c->got = c->want = 0;
	c->t0 = c->tlast = now();
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		perror("tls-conns: socket");
		exit(2);
	}
	/* As wrk: the request must not wait for the ACK of the Finished. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		fprintf(stderr, "tls-conns: SSL_new failed\n");
		exit(2);
	}
	SSL_set_tlsext_host_name(c->ssl, "localhost");
	if (resume && c->sess != NULL)
		SSL_set_session(c->ssl, c->sess);
	/* Edge-triggered, both ways: step() runs each state to a wait. */
	ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
	ev.data.ptr = c;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		perror("tls-conns: epoll_ctl");
		exit(2);
	}
	if (connect(c->fd, (struct sockaddr *)&sin_srv, sizeof(sin_srv)) < 0 &&
	    errno != EINPROGRESS) {
		w->e_connect++;
		close(c->fd);
		c->fd = -1;
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	/* The first EPOLLOUT edge says the connect is done. */
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[256];
	double t, lastscan = 0;
	int i, n;

	for (i = 0; i < w->nconns; i++)
		conn_start(w, &w->conns[i]);
	while ((t = now()) < deadline) {
		n = epoll_wait(w->ep, evs, 256, 50);
		for (i = 0; i < n; i++)
			step(w, evs[i].data.ptr);
		t = now();
		if (t - lastscan < 0.1)
			continue;
		lastscan = t;
		/* Timeouts; and slots whose connect() failed at once. */
		for (i = 0; i < w->nconns; i++) {
			struct conn *c = &w->conns[i];

			if (c->fd < 0)
				conn_start(w, c);
			else if (t - c->tlast > timeout_s) {
				w->e_timeout++;
				conn_end(w, c, 0);
			}
		}
	}
	return NULL;
}

static int
cmp_u(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

static unsigned
pct(unsigned *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p / 100 * n);
	return v[i < n ? i : n - 1];
}

static void
usage(void)
{
	fprintf(stderr, "usage: tls-conns [-r] [-t THREADS] [-c CONNS] "
	    "[-d SECONDS] [-n MAX] [-T TIMEOUT] [-o FILE] HOST PORT PATH\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct worker *ws, tot;
	unsigned *all;
	double t0, t1;
	int opt, i, j, nthreads = 2, nconns = 50, secs = 5;
	size_t k;

	while ((opt = getopt(argc, argv, "rt:c:d:n:T:o:")) != -1) {
		switch (opt) {
		case 'r': resume = 1; break;
		case 't': nthreads = atoi(optarg); break;
		case 'c': nconns = atoi(optarg); break;
		case 'd': secs = atoi(optarg); break;
		case 'n': maxreq = strtoul(optarg, NULL, 10); break;
		case 'T': timeout_s = atoi(optarg); break;
		case 'o':
			if ((outf = fopen(optarg, "w")) == NULL) {
				perror(optarg);
				return 2;
			}
			break;
		default: usage();
		}
	}
	if (argc - optind != 3 || nthreads < 1 || nconns < 1 || secs < 1 ||
	    timeout_s < 1)
		usage();
	if (nthreads > nconns)
		nthreads = nconns;
	memset(&sin_srv, 0, sizeof(sin_srv));
	sin_srv.sin_family = AF_INET;
	sin_srv.sin_port = htons(atoi(argv[optind + 1]));
	if (inet_pton(AF_INET, argv[optind], &sin_srv.sin_addr) != 1)
		usage();
	if (asprintf(&req, "GET %s HTTP/1.1\r\nHost: %s:%s\r\n"
	    "User-Agent: forkloop-bench-tls-conns\r\nConnection: close\r\n\r\n",
	    argv[optind + 2], argv[optind], argv[optind + 1]) < 0)
		return 2;
	reqlen = strlen(req);
	signal(SIGPIPE, SIG_IGN);

	/* As wrk: no certificate verification, OpenSSL's defaults. */
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL)
		return 2;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);

	ws = calloc(nthreads, sizeof(*ws));
	if (ws == NULL)
		return 2;
	t0 = now();
	deadline = t0 + secs;
	for (i = 0; i < nthreads; i++) {
		ws[i].nconns = nconns / nthreads + (i < nconns % nthreads);
		ws[i].conns = calloc(ws[i].nconns, sizeof(struct conn));
		ws[i].lat = malloc(MAXLAT * sizeof(unsigned));
		ws[i].ep = epoll_create1(EPOLL_CLOEXEC);
		if (ws[i].conns == NULL || ws[i].lat == NULL || ws[i].ep < 0)
			return 2;
		for (j = 0; j < ws[i].nconns; j++)
			ws[i].conns[j].fd = -1;
		if (pthread_create(&ws[i].tid, NULL, run, &ws[i]) != 0)
			return 2;
	}
	memset(&tot, 0, sizeof(tot));
	for (i = 0; i < nthreads; i++) {
		pthread_join(ws[i].tid, NULL);
		tot.requests += ws[i].requests;
		tot.bytes += ws[i].bytes;
		tot.handshakes += ws[i].handshakes;
		tot.resumed += ws[i].resumed;
		tot.e_connect += ws[i].e_connect;
		tot.e_read += ws[i].e_read;
		tot.e_write += ws[i].e_write;
		tot.e_status += ws[i].e_status;
		tot.e_timeout += ws[i].e_timeout;
		tot.nlat += ws[i].nlat;
	}
	t1 = now();
	all = malloc((tot.nlat + 1) * sizeof(unsigned));
	if (all == NULL)
		return 2;
	for (i = 0, k = 0; i < nthreads; i++) {
		memcpy(all + k, ws[i].lat, ws[i].nlat * sizeof(unsigned));
		k += ws[i].nlat;
	}
	qsort(all, tot.nlat, sizeof(unsigned), cmp_u);
	printf("BENCH requests=%lu duration_us=%.0f bytes=%lu connect=%lu "
	    "read=%lu write=%lu status=%lu timeout=%lu p50_us=%u p90_us=%u "
	    "p99_us=%u max_us=%u handshakes=%lu resumed=%lu %s\n",
	    tot.requests, (t1 - t0) * 1e6, tot.bytes, tot.e_connect, tot.e_read,
	    tot.e_write, tot.e_status, tot.e_timeout, pct(all, tot.nlat, 50),
	    pct(all, tot.nlat, 90), pct(all, tot.nlat, 99),
	    tot.nlat ? all[tot.nlat - 1] : 0, tot.handshakes, tot.resumed,
	    first_info[0] ? first_info : "version=? cipher=? group=? key=?");
	return 0;
}
