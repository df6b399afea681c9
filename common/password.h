/*
 * password.h: checking a password against one hash of an htpasswd file
 * (auth_basic_user_file): bcrypt, SHA-512 and SHA-256 crypt through
 * libcrypt (libxcrypt on Debian 12), Apache's apr1 MD5 and {SHA}
 * through OpenSSL.  The master checks each hash's form when it reads
 * the file (conf/auth.c); a worker verifies passwords against it
 * (worker/http/auth.c).
 */
#ifndef FORKLOOP_PASSWORD_H
#define FORKLOOP_PASSWORD_H

#include <stddef.h>

enum password_kind {
	PASSWORD_UNKNOWN,	/* plain text, DES crypt, or malformed */
	PASSWORD_BCRYPT,	/* $2y$, $2b$, $2a$ */
	PASSWORD_SHA512_CRYPT,	/* $6$ */
	PASSWORD_SHA256_CRYPT,	/* $5$ */
	PASSWORD_APR1,		/* $apr1$: Apache's MD5 */
	PASSWORD_SHA1,		/* {SHA}: base64 of SHA-1, unsalted */
};

/* The kind of a well-formed hash; PASSWORD_UNKNOWN for anything else. */
enum password_kind password_kind(const char *hash);
const char *password_kind_name(enum password_kind kind);

/*
 * Whether password (len bytes, NUL-free) hashes to hash, a hash whose
 * kind is known: 1 yes, 0 no, -1 when it could not be computed (out of
 * memory, libcrypt or OpenSSL failed: the caller logs it).  The final comparison takes the
 * same time whatever bytes differ.
 */
int password_verify(const char *password, size_t len, const char *hash,
    enum password_kind kind);

#endif
