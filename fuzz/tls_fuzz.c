/*
 * tls_fuzz.c: libFuzzer harness for the TLS read path: bytes from a
 * client go through OpenSSL and forkloop's TLS transport
 * (worker/net/tls.c: net_tls_handshake(), net_recv()) into the HTTP head
 * parser, over a pair of memory BIOs instead of a socket.
 *
 * The first input byte chooses what the rest is:
 *   even: raw bytes on the wire, where a ClientHello should be (what an
 *         attacker sends before any key exists);
 *   odd:  plaintext that a real client, after a real handshake with the
 *         server, sends encrypted: the decrypted bytes must come out of
 *         net_recv() unchanged, in whatever pieces, and go to the parser.
 * The server's context is built by tls_conf_load() from a config, as the
 * master builds it, with a certificate made at start-up.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/stats.h"
#include "conf/conf.h"
#include "tls/tls.h"
#include "worker/http/parse.h"
#include "worker/net/tls.h"
#include "worker/conns.h"
#include "fuzz/fuzz.h"

/* What worker/net/tls.c expects of a worker. */
static struct stats_worker fuzz_stats;
struct stats_worker *worker_stats = &fuzz_stats;
struct worker *worker_self;

static struct conf *fuzz_conf;
static SSL_CTX *fuzz_client_ctx;

static void
fuzz_write_pem(const char *path, EVP_PKEY *key, X509 *cert)
{
	FILE *fp = fopen(path, "w");

	FUZZ_CHECK(fp != NULL);
	if (key != NULL)
		FUZZ_CHECK(PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL,
		    NULL) == 1);
	else
		FUZZ_CHECK(PEM_write_X509(fp, cert) == 1);
	fclose(fp);
}

/* A self-signed P-256 certificate, written where the config names it. */
static void
fuzz_make_cert(const char *dir)
{
	char path[512];
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = X509_new();

	FUZZ_CHECK(key != NULL && cert != NULL);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
	X509_set_pubkey(cert, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN",
	    MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(cert, X509_get_subject_name(cert));
	FUZZ_CHECK(X509_sign(cert, key, EVP_sha256()) > 0);
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	fuzz_write_pem(path, key, NULL);
	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	fuzz_write_pem(path, NULL, cert);
	X509_free(cert);
	EVP_PKEY_free(key);
}

static void
fuzz_init(void)
{
	char dir[] = "/tmp/tls_fuzz.XXXXXX", err[CONF_ERR_LEN], text[1024];

	FUZZ_CHECK(mkdtemp(dir) != NULL);
	fuzz_make_cert(dir);
	snprintf(text, sizeof(text), "http {\n listen 127.0.0.1:1 ssl;\n"
	    " ssl_certificate %s/cert.pem;\n ssl_certificate_key %s/key.pem;"
	    "\n}\n", dir, dir);
	fuzz_conf = conf_load_string("fuzz.conf", text, NULL, err,
	    sizeof(err));
	FUZZ_CHECK(fuzz_conf != NULL);
	if (tls_conf_load(fuzz_conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	FUZZ_CHECK(tls_tickets_init() == 0);
	fuzz_client_ctx = SSL_CTX_new(TLS_client_method());
	FUZZ_CHECK(fuzz_client_ctx != NULL);
}

/* The server side: a net_conn whose SSL reads and writes memory. */
static void
fuzz_server(struct net_conn *n, BIO **in, BIO **out)
{
	memset(n, 0, sizeof(*n));
	n->fd = -1;
	FUZZ_CHECK(net_tls_start(n, &fuzz_conf->servers[0].listens[0], NULL,
	    0) == 0);
	*in = BIO_new(BIO_s_mem());
	*out = BIO_new(BIO_s_mem());
	FUZZ_CHECK(*in != NULL && *out != NULL);
	/* Read empty means "wait", as EAGAIN on a socket. */
	BIO_set_mem_eof_return(*in, -1);
	SSL_set_bio(n->ssl, *in, *out);
}

/* Moves what one side wrote to the other's input. */
static void
fuzz_pump(BIO *from, BIO *to)
{
	char buf[4096];
	int len;

	while ((len = BIO_read(from, buf, sizeof(buf))) > 0)
		FUZZ_CHECK(BIO_write(to, buf, len) == len);
}

/* Whatever the server decrypts, in pieces of a few sizes, then parsed. */
static size_t
fuzz_drain(struct net_conn *n, char *got, size_t cap)
{
	static const size_t pieces[] = { 1, 7, 4096, 16384 };
	size_t len = 0, i = 0;
	ssize_t r;

	while (len < cap) {
		size_t want = pieces[i++ % 4];

		if (want > cap - len)
			want = cap - len;
		r = net_recv(n, got + len, want);
		if (r <= 0)
			break;
		FUZZ_CHECK((size_t)r <= want);
		len += (size_t)r;
	}
	return len;
}

static void
fuzz_parse(const char *buf, size_t len)
{
	struct http_request req;
	size_t scanned = 0, head;

	head = http_head_length(buf, len, &scanned);
	if (head > 0 && head <= len)
		(void)http_parse_request(buf, head, &req);
}

static void
fuzz_raw(const uint8_t *data, size_t size)
{
	struct net_conn n;
	BIO *in, *out;
	char got[64];

	fuzz_server(&n, &in, &out);
	if (size > 0)
		FUZZ_CHECK(BIO_write(in, data, (int)size) == (int)size);
	/* Bytes that never saw our answers cannot finish a handshake. */
	FUZZ_CHECK(net_tls_handshake(&n) <= 0);
	FUZZ_CHECK(n.tls == NET_TLS_HANDSHAKE);
	FUZZ_CHECK(net_recv(&n, got, sizeof(got)) <= 0);
	net_tls_free(&n);
}

static void
fuzz_plaintext(const uint8_t *data, size_t size)
{
	struct net_conn n;
	BIO *in, *out, *cin, *cout;
	SSL *client = SSL_new(fuzz_client_ctx);
	char *got = malloc(size + 1);
	size_t len = 0;
	int i, done = 0;

	FUZZ_CHECK(client != NULL && got != NULL);
	fuzz_server(&n, &in, &out);
	cin = BIO_new(BIO_s_mem());
	cout = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(cin, -1);
	SSL_set_bio(client, cin, cout);
	SSL_set_connect_state(client);
	SSL_set_tlsext_host_name(client, "localhost");
	for (i = 0; i < 8 && !done; i++) {
		SSL_do_handshake(client);
		fuzz_pump(cout, in);
		done = net_tls_handshake(&n) == 1;
		fuzz_pump(out, cin);
	}
	FUZZ_CHECK(done);
	FUZZ_CHECK(SSL_do_handshake(client) == 1);
	if (size > 0)
		FUZZ_CHECK(SSL_write(client, data, (int)size) == (int)size);
	fuzz_pump(cout, in);
	len = fuzz_drain(&n, got, size + 1);
	/* Every byte the client sent, no more, in order. */
	FUZZ_CHECK(len == size && memcmp(got, data, size) == 0);
	fuzz_parse(got, len);
	SSL_free(client);
	net_tls_free(&n);
	free(got);
	ERR_clear_error();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fuzz_conf == NULL)
		fuzz_init();
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_plaintext(data + 1, size - 1);
	else
		fuzz_raw(data + 1, size - 1);
	return 0;
}
