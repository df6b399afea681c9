/*
 * context.c: one SSL_CTX per block with an ssl listener, built by the
 * master from the config, and the SNI table of each ssl address.
 *
 * The defaults are what a public site wants today: TLS 1.2 and 1.3 only
 * (RFC 8996 retires 1.0 and 1.1), ECDHE key exchange with AEAD ciphers
 * only for 1.2 (forward secrecy, no CBC), X25519, P-256 and P-384, no
 * compression (CRIME), no renegotiation, no 0-RTT (its data can be
 * replayed, RFC 8446 8).  Every error names the line it comes from.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "conf/conf.h"
#include "conf/vhosts.h"
#include "tls/tls.h"

#define TLS_DEFAULT_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_DEFAULT_GROUPS "X25519:P-256:P-384"

/* SSL ex_data: the SNI table of the connection's address, and the
 * block SNI chose. */
static int tls_sni_index = -1;
static int tls_chosen_index = -1;
static int tls_matched_index = -1;	/* set when a server_name matched */

static int
tls_err(char *err, size_t errlen, const struct conf *conf, int line,
    const char *fmt, ...)
{
	char what[CONF_ERR_LEN], why[256] = "";
	unsigned long e = ERR_peek_last_error();
	const char *file;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (e != 0) {
		/* OpenSSL's reason, e.g. "no start line", "key values mismatch". */
		const char *r = ERR_reason_error_string(e);

		snprintf(why, sizeof(why), ": %s", r != NULL ? r : "error");
	}
	ERR_clear_error();
	file = conf_where(conf, line, &line);
	snprintf(err, errlen, "%s:%d: %s%s", file, line, what, why);
	return -1;
}

/*
 * RFC 7301, 3.2: a client that offers protocols but none we speak gets
 * the no_application_protocol alert; one that offers none, no ALPN.  h2
 * comes first where the block has http2 on: our preference decides
 * (SSL_select_next_proto takes the first of ours the client offers).
 * The callback is the SSL_CTX's that SNI chose, so the block's own.
 */
static int
tls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char with_h2[] = "\x02h2\x08http/1.1";
	static const unsigned char h1_only[] = "\x08http/1.1";
	const struct conf_server *s = arg;
	unsigned char *sel;
	int rc;

	(void)ssl;
	if (s->http2)
		rc = SSL_select_next_proto(&sel, outlen, with_h2,
		    sizeof(with_h2) - 1, in, inlen);
	else
		rc = SSL_select_next_proto(&sel, outlen, h1_only,
		    sizeof(h1_only) - 1, in, inlen);
	if (rc != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/*
 * The host name in a ClientHello's server_name extension (RFC 6066 3:
 * a list of (type, name) of which host_name is type 0), or 0 when there
 * is none or it does not parse; OpenSSL itself rejects a malformed one.
 */
static int
tls_hello_name(SSL *ssl, char *name, size_t size)
{
	const unsigned char *p;
	size_t len, list, n;

	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &len)
	    || len < 2)
		return 0;
	list = (size_t)p[0] << 8 | p[1];
	if (list != len - 2 || list < 3 || p[2] != TLSEXT_NAMETYPE_host_name)
		return 0;
	n = (size_t)p[3] << 8 | p[4];
	if (n == 0 || n + 3 > list || n >= size || memchr(p + 5, 0, n))
		return 0;
	memcpy(name, p + 5, n);
	name[n] = '\0';
	return 1;
}

/*
 * The block is chosen from the ClientHello itself, before OpenSSL
 * decides whether to resume: SSL_get_servername() in the servername
 * callback gives a resumed TLS 1.2 session's old name instead.  Each
 * block has its own session id context, so the session of one site is
 * not resumed for another (RFC 6066 3); the client gets a full handshake
 * with the certificate of the site it asked for.  Unknown names get the
 * default block, as in nginx: no alert.
 */
static int
tls_client_hello(SSL *ssl, int *alert, void *arg)
{
	const struct conf_vhosts *v = SSL_get_ex_data(ssl, tls_sni_index);
	struct conf_server *s;
	char name[256];

	(void)alert;
	(void)arg;
	if (v == NULL || !tls_hello_name(ssl, name, sizeof(name)))
		return SSL_CLIENT_HELLO_SUCCESS;
	s = conf_vhosts_find(v, name, strlen(name));
	if (s == NULL)
		return SSL_CLIENT_HELLO_SUCCESS;
	SSL_set_ex_data(ssl, tls_chosen_index, s);
	SSL_set_ex_data(ssl, tls_matched_index, s);
	if (s != v->dflt &&
	    SSL_set_SSL_CTX(ssl, s->tls->ctx) == NULL) {
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* Acknowledges the name when a block has it (RFC 6066 3). */
static int
tls_servername(SSL *ssl, int *alert, void *arg)
{
	(void)alert;
	(void)arg;
	return SSL_get_ex_data(ssl, tls_matched_index) != NULL ?
	    SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_NOACK;
}

static int
tls_set_protocols(SSL_CTX *ctx, const struct conf_server *s)
{
	int min = (s->ssl_protocols & CONF_TLS_1_2) ? TLS1_2_VERSION :
	    TLS1_3_VERSION;
	int max = (s->ssl_protocols & CONF_TLS_1_3) ? TLS1_3_VERSION :
	    TLS1_2_VERSION;

	return SSL_CTX_set_min_proto_version(ctx, min) == 1 &&
	    SSL_CTX_set_max_proto_version(ctx, max) == 1 ? 0 : -1;
}

static int
tls_load_certs(SSL_CTX *ctx, const struct conf *conf,
    const struct conf_server *s, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < s->ncerts; i++) {
		const struct conf_tls_cert *c = &s->certs[i];

		ERR_clear_error();
		if (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1)
			return tls_err(err, errlen, conf, c->cert_line,
			    "cannot load certificate \"%s\"", c->cert);
		if (SSL_CTX_use_PrivateKey_file(ctx, c->key,
		    SSL_FILETYPE_PEM) != 1)
			return tls_err(err, errlen, conf, c->key_line,
			    "cannot load key \"%s\" for certificate \"%s\"",
			    c->key, c->cert);
		if (SSL_CTX_check_private_key(ctx) != 1)
			return tls_err(err, errlen, conf, c->key_line,
			    "key \"%s\" does not match certificate \"%s\"",
			    c->key, c->cert);
	}
	return 0;
}

/* Sessions resume only in the block (site) that made them; the same
 * config after a reload gives the same ids, so tickets still resume. */
static int
tls_set_session_context(SSL_CTX *ctx, const struct conf *conf,
    const struct conf_server *s)
{
	char id[SSL_MAX_SID_CTX_LENGTH];
	int n = snprintf(id, sizeof(id), "forkloop %zu:%d",
	    (size_t)(s - conf->servers), s->line);

	return SSL_CTX_set_session_id_context(ctx, (unsigned char *)id,
	    (unsigned int)n) == 1 ? 0 : -1;
}

static SSL_CTX *
tls_ctx_new(const struct conf *conf, const struct conf_server *s, char *err,
    size_t errlen)
{
	uint64_t opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		tls_err(err, errlen, conf, s->line, "cannot create a TLS "
		    "context");
		return NULL;
	}
	if (s->ssl_prefer_server_ciphers)
		opts |= SSL_OP_CIPHER_SERVER_PREFERENCE;
	if (!s->ssl_session_tickets)
		opts |= SSL_OP_NO_TICKET;
#ifdef SSL_OP_ENABLE_KTLS
	if (s->ssl_ktls)
		opts |= SSL_OP_ENABLE_KTLS;
#endif
	SSL_CTX_set_options(ctx, opts);
	/* Idle connections give their buffers back; writes may be partial
	 * and retried from a moved buffer (the output evbuffer). */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_max_early_data(ctx, 0);
	/* Stateless tickets only: no per-worker cache to fill or share. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_timeout(ctx, (long)(s->ssl_session_timeout_ms / 1000));
	SSL_CTX_set_num_tickets(ctx, 1);
	if (tls_set_protocols(ctx, s) == -1) {
		tls_err(err, errlen, conf, s->line, "cannot set ssl_protocols");
		goto fail;
	}
	if (SSL_CTX_set_cipher_list(ctx, s->ssl_ciphers != NULL ?
	    s->ssl_ciphers : TLS_DEFAULT_CIPHERS) != 1) {
		tls_err(err, errlen, conf, s->ssl_ciphers != NULL ?
		    s->ssl_ciphers_line : s->line, "invalid ssl_ciphers");
		goto fail;
	}
	if (SSL_CTX_set1_groups_list(ctx, s->ssl_ecdh_curve != NULL ?
	    s->ssl_ecdh_curve : TLS_DEFAULT_GROUPS) != 1) {
		tls_err(err, errlen, conf, s->ssl_ecdh_curve != NULL ?
		    s->ssl_ecdh_curve_line : s->line, "invalid ssl_ecdh_curve");
		goto fail;
	}
	if (tls_load_certs(ctx, conf, s, err, errlen) == -1)
		goto fail;
	if (s->ssl_session_tickets && tls_tickets_install(ctx) == -1) {
		tls_err(err, errlen, conf, s->line, "cannot set up tickets");
		goto fail;
	}
	if (s->kind == CONF_SERVER_HTTP)
		SSL_CTX_set_alpn_select_cb(ctx, tls_alpn_select, (void *)s);
	SSL_CTX_set_client_hello_cb(ctx, tls_client_hello, NULL);
	SSL_CTX_set_tlsext_servername_callback(ctx, tls_servername);
	if (tls_set_session_context(ctx, conf, s) == -1) {
		tls_err(err, errlen, conf, s->line, "cannot set the session "
		    "context");
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static void
tls_conf_free(struct conf *conf)
{
	size_t i;

	for (i = 0; i < conf->nservers; i++) {
		struct conf_server *s = &conf->servers[i];

		if (s->tls != NULL) {
			SSL_CTX_free(s->tls->ctx);
			free(s->tls);
			s->tls = NULL;
		}
	}
}

/*
 * What OpenSSL decides before the server name is read (the versions, the
 * groups, tickets) and the address's socket options come from the first
 * block on an address; another block on it that asks for something else
 * would silently not get it, so that is an error.
 */
static int
tls_sni_check(const struct conf *conf, const struct conf_server *first,
    const struct conf_server *s, const struct conf_listen *l, char *err,
    size_t errlen)
{
	const char *what = NULL, *file;
	char at[CONF_ERR_LEN];
	int line;

	if (s->ssl_protocols != first->ssl_protocols)
		what = "ssl_protocols";
	else if ((s->ssl_ecdh_curve == NULL) != (first->ssl_ecdh_curve == NULL)
	    || (s->ssl_ecdh_curve != NULL &&
	    strcmp(s->ssl_ecdh_curve, first->ssl_ecdh_curve) != 0))
		what = "ssl_ecdh_curve";
	else if (s->ssl_prefer_server_ciphers !=
	    first->ssl_prefer_server_ciphers)
		what = "ssl_prefer_server_ciphers";
	else if (s->ssl_session_tickets != first->ssl_session_tickets)
		what = "ssl_session_tickets";
	else if (s->ssl_session_timeout_ms != first->ssl_session_timeout_ms)
		what = "ssl_session_timeout";
	else if (s->ssl_handshake_timeout_ms != first->ssl_handshake_timeout_ms)
		what = "ssl_handshake_timeout";
	else if (s->ssl_ktls != first->ssl_ktls)
		what = "ssl_ktls";
	else if (s->defer_accept != first->defer_accept)
		what = "defer_accept";
	if (what == NULL)
		return 0;
	file = conf_where(conf, l->line, &line);
	conf_line_ref(conf, first->line, l->line, at, sizeof(at));
	snprintf(err, errlen, "%s:%d: listen %s ssl: \"%s\" differs from the "
	    "block at %s, whose value holds before SNI chooses a block; "
	    "give both the same", file, line, l->text, what, at);
	return -1;
}

/* Every block on an ssl address must agree with its default. */
static int
tls_vhosts_check(const struct conf *conf, const struct conf_listen *first,
    char *err, size_t errlen)
{
	const struct conf_vhosts *v = first->vhosts;
	size_t i, j;

	for (i = 0; i < v->nservers; i++) {
		const struct conf_server *s = v->servers[i];

		if (s == v->dflt)
			continue;
		for (j = 0; j < s->nlistens; j++)
			if (strcmp(s->listens[j].text, first->text) == 0 &&
			    tls_sni_check(conf, v->dflt, s, &s->listens[j], err,
			    errlen) == -1)
				return -1;
	}
	return 0;
}

int
tls_conf_load(struct conf *conf, char *err, size_t errlen)
{
	size_t i, j;

	if (tls_sni_index == -1) {
		tls_sni_index = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    NULL);
		tls_chosen_index = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    NULL);
		tls_matched_index = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    NULL);
	}
	conf->tls_free = tls_conf_free;
	for (i = 0; i < conf->nservers; i++) {
		struct conf_server *s = &conf->servers[i];

		if (!s->has_ssl)
			continue;
		s->tls = calloc(1, sizeof(*s->tls));
		if (s->tls == NULL)
			return tls_err(err, errlen, conf, s->line,
			    "out of memory");
		s->tls->ctx = tls_ctx_new(conf, s, err, errlen);
		if (s->tls->ctx == NULL)
			return -1;
	}
	for (i = 0; i < conf->nservers; i++)
		for (j = 0; j < conf->servers[i].nlistens; j++) {
			struct conf_listen *l = &conf->servers[i].listens[j];

			if (l->ssl && !l->repeat && l->vhosts != NULL &&
			    tls_vhosts_check(conf, l, err, errlen) == -1)
				return -1;
		}
	return 0;
}

SSL *
tls_new(const struct conf_vhosts *v)
{
	SSL *ssl = SSL_new(v->dflt->tls->ctx);

	if (ssl == NULL)
		return NULL;
	SSL_set_ex_data(ssl, tls_sni_index, (void *)v);
	SSL_set_ex_data(ssl, tls_chosen_index, v->dflt);
	SSL_set_accept_state(ssl);
	return ssl;
}

struct conf_server *
tls_chosen_server(SSL *ssl)
{
	return SSL_get_ex_data(ssl, tls_chosen_index);
}

int
tls_sni_matched(SSL *ssl)
{
	return SSL_get_ex_data(ssl, tls_matched_index) != NULL;
}
