/*
 * tls.h: TLS contexts and session-ticket keys.
 *
 * The master builds one OpenSSL SSL_CTX per block with an ssl listener,
 * from the config, before it drops privileges (key files may be 0600
 * root), so a broken certificate is a FILE:LINE: error of "forkloop -t"
 * and of a reload; workers inherit the contexts by fork.  The master
 * also makes the session-ticket keys, in a shared segment that every
 * worker of every generation reads, so a ticket one worker issued
 * resumes on any other and across reloads.
 */
#ifndef FORKLOOP_TLS_H
#define FORKLOOP_TLS_H

#include <stddef.h>

struct conf;
struct conf_server;
struct ssl_st;
struct ssl_ctx_st;

/* A block's context. */
struct tls_server {
	struct ssl_ctx_st *ctx;
};

/*
 * Builds the contexts of every ssl block of conf and the SNI table of
 * every ssl address.  Returns 0, or -1 with "FILE:LINE: what" in err.
 */
int tls_conf_load(struct conf *conf, char *err, size_t errlen);

/* A connection on the address of v, starting with its default block. */
struct conf_vhosts;
struct ssl_st *tls_new(const struct conf_vhosts *v);
/* Whether the client's SNI named a block (then tls_chosen_server's). */
int tls_sni_matched(struct ssl_st *ssl);
/* The block SNI chose for ssl (the default when none or unknown). */
struct conf_server *tls_chosen_server(struct ssl_st *ssl);

/*
 * Session-ticket keys (tickets.c).  tls_tickets_init() maps the shared
 * segment and makes the first key; the master calls it once, before the
 * first fork.  tls_tickets_rotate() makes a new key for new tickets; the
 * previous keys still decrypt theirs.
 */
int tls_tickets_init(void);
void tls_tickets_rotate(void);
int tls_tickets_install(struct ssl_ctx_st *ctx);

#endif
