/*
 * auth.c: HTTP Basic authentication (RFC 7617) for the blocks and
 * locations with auth_basic on (conf/auth.c reads the user file).
 *
 * A request without good credentials gets 401 and the challenge
 * "Basic realm=..., charset=UTF-8"; with them it goes on to its handler
 * (static files, return, routes or the reverse proxy, which passes the
 * Authorization field on to the upstream as nginx does).
 *
 * bcrypt is slow on purpose, a few milliseconds to a quarter of a
 * second of the worker's one thread, during which none of its other
 * connections is served.  So a connection remembers the last
 * credentials it proved (the field's token68 as sent, and which user
 * file proved it) and a keep-alive connection, HTTP/1.1 or HTTP/2, pays
 * for one verification per user, not one per request.  And a worker
 * remembers the last AUTH_PROVED_MAX credentials it proved, as an HMAC
 * under a key of its own (never the credentials themselves), so a
 * user's next connection costs one HMAC, not one bcrypt: a browser
 * opens six, and fifty clients reconnecting at once would otherwise
 * hold a worker for seconds (bench/auth-basic showed it).  Only proved
 * credentials are kept: a wrong password always pays the full price.
 * A reload starts new workers, with new files and empty memories, so a
 * changed password takes effect with it.
 *
 * Failures are logged as nginx logs them, but at most once a second
 * per worker, with the count of those left out: a client guessing
 * names must not fill the disk.
 */
#include "config.h"

#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "common/log.h"
#include "common/password.h"
#include "worker/http/access_log.h"
#include "worker/http/auth.h"
#include "worker/http/date.h"
#include "worker/http/request.h"

/* Longer credentials are refused: no user and password needs more. */
#define AUTH_TOKEN_MAX	1024
#define AUTH_DECODED_MAX (AUTH_TOKEN_MAX / 4 * 3)
/* How much of a user name goes to the log. */
#define AUTH_LOG_NAME	64

struct http_auth_cache {
	const struct conf_htpasswd *users;	/* the file that proved it */
	const struct conf_htpasswd_user *user;
	size_t len;
	size_t cap;			/* room in token */
	char token[];			/* the credentials, as sent */
};

/* Credentials this worker proved, least recently used replaced first. */
#define AUTH_PROVED_MAX	64
struct auth_proved {
	const struct conf_htpasswd *users;	/* NULL: a free slot */
	const struct conf_htpasswd_user *user;
	unsigned char mac[SHA256_DIGEST_LENGTH];
	uint64_t used;
};
static struct auth_proved auth_proved[AUTH_PROVED_MAX];
static uint64_t auth_proved_clock;
static unsigned char auth_key[32];	/* the worker's own HMAC key */
static int auth_key_made;

/* The failure log's limit: one line a second, and a count of the rest. */
static double auth_log_last;
static unsigned long auth_log_skipped;

void
http_auth_cache_free(struct http_auth_cache *cache)
{
	if (cache == NULL)
		return;
	OPENSSL_cleanse(cache, sizeof(*cache) + cache->cap);
	free(cache);
}

/* Puts name in out with anything unprintable as "?": it is the client's. */
static void
auth_log_name(char *out, const char *name, size_t len)
{
	size_t i;

	if (len > AUTH_LOG_NAME)
		len = AUTH_LOG_NAME;
	for (i = 0; i < len; i++)
		out[i] = name[i] >= 0x20 && name[i] < 0x7f && name[i] != '"' ?
		    name[i] : '?';
	out[len] = '\0';
}

/* "client ADDR, FILE: user "NAME": WHAT", at most once a second. */
static void
auth_log_failure(const struct http_req *r, const char *name, size_t len,
    const char *what)
{
	char peer[INET6_ADDRSTRLEN], user[AUTH_LOG_NAME + 1], more[64] = "";
	double now = http_clock();

	if (now - auth_log_last < 1.0) {
		auth_log_skipped++;
		return;
	}
	auth_log_last = now;
	http_log_peer(r, peer, sizeof(peer));
	auth_log_name(user, name, len);
	if (auth_log_skipped > 0)
		snprintf(more, sizeof(more), " (and %lu failures not logged "
		    "since the last)", auth_log_skipped);
	log_warnx("client %s, auth_basic_user_file \"%s\": user \"%s\": %s%s",
	    peer, r->server->auth_users->file, user, what, more);
	auth_log_skipped = 0;
}

static int
auth_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Strict base64 (RFC 4648 4), padding optional: the length decoded, or
 * -1 for a character outside the alphabet, padding in the middle, or
 * leftover bits that are not zero.  out: len / 4 * 3 + 3 bytes.
 */
static ssize_t
auth_b64_decode(const char *in, size_t len, unsigned char *out)
{
	unsigned long bits = 0;
	size_t i, o = 0;
	int n = 0, v;

	while (len > 0 && in[len - 1] == '=' && n < 2) {
		len--;
		n++;
	}
	if (n > 0 && (len + (size_t)n) % 4 != 0)
		return -1;
	n = 0;
	for (i = 0; i < len; i++) {
		if ((v = auth_b64_value((unsigned char)in[i])) < 0)
			return -1;
		bits = bits << 6 | (unsigned long)v;
		if (++n == 4) {
			out[o++] = (unsigned char)(bits >> 16);
			out[o++] = (unsigned char)(bits >> 8);
			out[o++] = (unsigned char)bits;
			bits = 0;
			n = 0;
		}
	}
	if (n == 1 || (n == 2 && (bits & 0xf) != 0) ||
	    (n == 3 && (bits & 0x3) != 0))
		return -1;
	if (n == 2)
		out[o++] = (unsigned char)(bits >> 4);
	if (n == 3) {
		out[o++] = (unsigned char)(bits >> 10);
		out[o++] = (unsigned char)(bits >> 2);
	}
	return (ssize_t)o;
}

/* 401 with the challenge: no credentials, or ones that do not hold. */
static int
auth_refuse(struct http_req *r)
{
	http_respond_error_with(r, 401, "WWW-Authenticate",
	    r->server->auth_challenge);
	return -1;
}

/*
 * The token68 of "Basic TOKEN" (RFC 9110 11.4: the scheme is
 * case-insensitive, then one or more spaces); NULL for another scheme
 * or a malformed value.
 */
static const char *
auth_token(const struct http_header *h, size_t *len)
{
	const char *v = h->value, *end = h->value + h->value_len;

	if (h->value_len < 6 || !http_token_equal(v, 5, "basic") ||
	    v[5] != ' ')
		return NULL;
	for (v += 5; v < end && *v == ' '; v++)
		;
	*len = (size_t)(end - v);
	if (*len == 0 || *len > AUTH_TOKEN_MAX)
		return NULL;
	return v;
}

/* Whether the connection proved these credentials with this file. */
static const struct conf_htpasswd_user *
auth_cached(const struct http_req *r, const char *token, size_t len)
{
	const struct http_auth_cache *cache;

	if (r->auth_cache == NULL || (cache = *r->auth_cache) == NULL ||
	    cache->users != r->server->auth_users || cache->len != len ||
	    CRYPTO_memcmp(cache->token, token, len) != 0)
		return NULL;
	return cache->user;
}

/*
 * The HMAC of the credentials under the worker's key, made at its first
 * use (after the fork: each worker has its own).  -1 when OpenSSL
 * fails: the worker then remembers nothing, and verifies each time.
 */
static int
auth_mac(const char *token, size_t len, unsigned char mac[SHA256_DIGEST_LENGTH])
{
	unsigned int maclen = 0;

	if (!auth_key_made) {
		if (RAND_bytes(auth_key, sizeof(auth_key)) != 1) {
			log_warnx("RAND_bytes failed: credentials not kept");
			return -1;
		}
		auth_key_made = 1;
	}
	if (HMAC(EVP_sha256(), auth_key, sizeof(auth_key),
	    (const unsigned char *)token, len, mac, &maclen) == NULL ||
	    maclen != SHA256_DIGEST_LENGTH)
		return -1;
	return 0;
}

/* The user of credentials this worker proved with this file, or NULL. */
static const struct conf_htpasswd_user *
auth_proved_find(const struct conf_htpasswd *users,
    const unsigned char mac[SHA256_DIGEST_LENGTH])
{
	size_t i;

	for (i = 0; i < AUTH_PROVED_MAX; i++) {
		struct auth_proved *p = &auth_proved[i];

		if (p->users != users ||
		    CRYPTO_memcmp(p->mac, mac, SHA256_DIGEST_LENGTH) != 0)
			continue;
		p->used = ++auth_proved_clock;
		return p->user;
	}
	return NULL;
}

static void
auth_proved_add(const struct conf_htpasswd *users,
    const struct conf_htpasswd_user *user,
    const unsigned char mac[SHA256_DIGEST_LENGTH])
{
	struct auth_proved *p = &auth_proved[0];
	size_t i;

	for (i = 1; i < AUTH_PROVED_MAX && p->users != NULL; i++)
		if (auth_proved[i].users == NULL ||
		    auth_proved[i].used < p->used)
			p = &auth_proved[i];
	p->users = users;
	p->user = user;
	memcpy(p->mac, mac, SHA256_DIGEST_LENGTH);
	p->used = ++auth_proved_clock;
}

/* Remembers credentials just proved; without memory, it just forgets. */
static void
auth_remember(struct http_req *r, const char *token, size_t len,
    const struct conf_htpasswd_user *user)
{
	struct http_auth_cache *cache;

	if (r->auth_cache == NULL)
		return;
	/* Sized for the token (a user and password are some 30 bytes),
	 * not for the longest: a connection may stay idle for long. */
	if ((cache = *r->auth_cache) != NULL && cache->cap < len) {
		http_auth_cache_free(cache);
		*r->auth_cache = cache = NULL;
	}
	if (cache == NULL) {
		if ((cache = malloc(sizeof(*cache) + len)) == NULL) {
			log_warnx("out of memory: credentials not kept");
			return;
		}
		cache->cap = len;
		*r->auth_cache = cache;
	}
	cache->users = r->server->auth_users;
	cache->user = user;
	cache->len = len;
	memcpy(cache->token, token, len);
}

/*
 * Verifies "USER:PASSWORD" (decoded, NUL-ended at len): 1 good, 0 not,
 * -1 when it could not be told (answered 500).
 */
static int
auth_verify(struct http_req *r, char *pair, size_t len,
    const struct conf_htpasswd_user **userp)
{
	const struct conf_htpasswd_user *user;
	char *colon = memchr(pair, ':', len);
	int rc;

	/* RFC 7617 2: the user-id has no colon, and neither part NULs. */
	if (colon == NULL || memchr(pair, '\0', len) != NULL) {
		auth_log_failure(r, pair, colon != NULL ?
		    (size_t)(colon - pair) : 0, "malformed credentials (no "
		    "colon, or a NUL byte)");
		return 0;
	}
	*colon = '\0';
	if ((user = conf_htpasswd_find(r->server->auth_users, pair)) == NULL) {
		auth_log_failure(r, pair, (size_t)(colon - pair),
		    "not found");
		return 0;
	}
	rc = password_verify(colon + 1, (size_t)(pair + len - colon - 1),
	    user->hash, (enum password_kind)user->kind);
	if (rc == -1) {
		log_errorx("user \"%s\" of \"%s\": the %s hash could not be "
		    "computed", user->name, r->server->auth_users->file,
		    password_kind_name((enum password_kind)user->kind));
		http_respond_error(r, 500);
		return -1;
	}
	if (rc == 0)
		auth_log_failure(r, pair, (size_t)(colon - pair),
		    "password mismatch");
	*userp = user;
	return rc;
}

int
http_auth_check(struct http_req *r)
{
	const struct conf_htpasswd_user *user = NULL;
	const struct http_header *h = NULL;
	unsigned char pair[AUTH_DECODED_MAX + 4];
	unsigned char mac[SHA256_DIGEST_LENGTH];
	const char *token;
	size_t i, len;
	ssize_t n;
	int rc, have_mac;

	for (i = 0; i < r->head.nheaders && h == NULL; i++)
		if (http_token_equal(r->head.headers[i].name,
		    r->head.headers[i].name_len, "authorization"))
			h = &r->head.headers[i];
	if (h == NULL)
		return auth_refuse(r);
	/* A singleton field (RFC 9110 11.6.2): two are no credentials. */
	if (http_header_next(&r->head, h) != NULL) {
		http_respond_error(r, 400);
		return -1;
	}
	if ((token = auth_token(h, &len)) == NULL)
		return auth_refuse(r);
	if ((user = auth_cached(r, token, len)) != NULL) {
		r->remote_user = user->name;
		return 0;
	}
	have_mac = auth_mac(token, len, mac) == 0;
	if (have_mac && (user = auth_proved_find(r->server->auth_users,
	    mac)) != NULL) {
		log_debug("user \"%s\" of \"%s\" recognised: proved before "
		    "in this worker", user->name, r->server->auth_users->file);
		auth_remember(r, token, len, user);
		r->remote_user = user->name;
		return 0;
	}
	if ((n = auth_b64_decode(token, len, pair)) < 0) {
		auth_log_failure(r, "", 0, "malformed base64");
		return auth_refuse(r);
	}
	pair[n] = '\0';
	rc = auth_verify(r, (char *)pair, (size_t)n, &user);
	OPENSSL_cleanse(pair, sizeof(pair));
	if (rc == -1)
		return -1;
	if (rc == 0)
		return auth_refuse(r);
	/* Once per worker and credentials: the tests count these lines. */
	log_debug("user \"%s\" of \"%s\" verified (%s)", user->name,
	    r->server->auth_users->file,
	    password_kind_name((enum password_kind)user->kind));
	auth_remember(r, token, len, user);
	if (have_mac)
		auth_proved_add(r->server->auth_users, user, mac);
	r->remote_user = user->name;
	return 0;
}
