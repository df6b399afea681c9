/*
 * tickets.c: the session-ticket keys, shared by every worker.
 *
 * A stateless ticket (RFC 5077 for TLS 1.2, RFC 8446 4.6.1 for 1.3) is
 * the session encrypted under a key of the server's; any process that
 * holds the key can resume it.  The master maps one shared segment before
 * it forks, makes a key from the kernel's random source, and makes a new
 * one every ssl_session_ticket_rotate; workers of every generation read
 * the same segment, so a ticket issued by one worker resumes on another
 * and after a reload.  New tickets use the newest key; the last
 * TLS_TICKET_KEYS - 1 keys still decrypt (and the ticket is then renewed
 * under the newest), as nginx and h2o do.
 *
 * The master is the only writer.  It writes a key into the slot after
 * the current one, the oldest, and only then publishes its index, so a
 * reader never takes a half-written key for new tickets.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/random.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "common/log.h"
#include "tls/tls.h"

#define TLS_TICKET_KEYS 4

struct tls_ticket_key {
	unsigned char name[16];
	unsigned char aes[32];
	unsigned char hmac[32];
};

struct tls_ticket_keys {
	uint32_t current;		/* read and written atomically */
	uint32_t count;			/* keys made so far, up to the max */
	struct tls_ticket_key keys[TLS_TICKET_KEYS];
};

static struct tls_ticket_keys *tls_keys;

static int
tls_random(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_error("getrandom for a session-ticket key");
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
tls_tickets_init(void)
{
	void *seg;

	if (tls_keys != NULL)
		return 0;
	seg = mmap(NULL, sizeof(*tls_keys), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (seg == MAP_FAILED) {
		log_error("mapping the session-ticket keys");
		return -1;
	}
	tls_keys = seg;
	memset(tls_keys, 0, sizeof(*tls_keys));
	if (tls_random(&tls_keys->keys[0], sizeof(tls_keys->keys[0])) == -1)
		return -1;
	tls_keys->count = 1;
	__atomic_store_n(&tls_keys->current, 0, __ATOMIC_RELEASE);
	return 0;
}

void
tls_tickets_rotate(void)
{
	uint32_t next;

	if (tls_keys == NULL)
		return;
	next = (tls_keys->current + 1) % TLS_TICKET_KEYS;
	if (tls_random(&tls_keys->keys[next], sizeof(tls_keys->keys[next]))
	    == -1)
		return;
	if (tls_keys->count < TLS_TICKET_KEYS)
		tls_keys->count++;
	__atomic_store_n(&tls_keys->current, next, __ATOMIC_RELEASE);
	log_info("new session-ticket key; the previous %u still decrypt",
	    tls_keys->count - 1);
}

static int
tls_ticket_mac_key(EVP_MAC_CTX *hctx, const unsigned char *key)
{
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	return EVP_MAC_init(hctx, key, 32, params);
}

static int
tls_ticket_encrypt(unsigned char *name, unsigned char *iv,
    EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx)
{
	struct tls_ticket_key key;
	uint32_t cur;

	cur = __atomic_load_n(&tls_keys->current, __ATOMIC_ACQUIRE);
	memcpy(&key, &tls_keys->keys[cur % TLS_TICKET_KEYS], sizeof(key));
	if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1)
		return -1;
	memcpy(name, key.name, sizeof(key.name));
	if (EVP_EncryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, key.aes, iv)
	    != 1 || tls_ticket_mac_key(hctx, key.hmac) != 1)
		return -1;
	return 1;
}

/* 1: decrypted; 2: decrypted with an older key, issue a new ticket;
 * 0: no such key (an unknown or too old ticket): a full handshake. */
static int
tls_ticket_decrypt(const unsigned char *name, unsigned char *iv,
    EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx)
{
	struct tls_ticket_key key;
	uint32_t cur, i, n;

	cur = __atomic_load_n(&tls_keys->current, __ATOMIC_ACQUIRE);
	n = tls_keys->count;
	for (i = 0; i < n; i++) {
		uint32_t slot = (cur + TLS_TICKET_KEYS - i) % TLS_TICKET_KEYS;

		memcpy(&key, &tls_keys->keys[slot], sizeof(key));
		if (memcmp(key.name, name, sizeof(key.name)) != 0)
			continue;
		if (tls_ticket_mac_key(hctx, key.hmac) != 1 ||
		    EVP_DecryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, key.aes,
		    iv) != 1)
			return -1;
		return i == 0 ? 1 : 2;
	}
	return 0;
}

static int
tls_ticket_cb(SSL *ssl, unsigned char *name, unsigned char *iv,
    EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx, int enc)
{
	(void)ssl;
	if (tls_keys == NULL)
		return 0;
	if (enc)
		return tls_ticket_encrypt(name, iv, ectx, hctx);
	return tls_ticket_decrypt(name, iv, ectx, hctx);
}

int
tls_tickets_install(SSL_CTX *ctx)
{
	return SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, tls_ticket_cb) == 1 ?
	    0 : -1;
}
