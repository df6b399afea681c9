/*
 * password.c: verifies a password against an htpasswd hash.
 *
 * bcrypt and the SHA-2 crypts go to libcrypt's crypt_r(): Debian 12's
 * libcrypt is libxcrypt, which has them all.  It has no apr1, Apache's
 * MD5 variant that "htpasswd -m" and "openssl passwd -apr1" write, so
 * apr1 is computed here from its published algorithm (Poul-Henning
 * Kamp's md5crypt with the magic "$apr1$") on OpenSSL's MD5.  That is
 * 60 lines on a library forkloop already links, where apr-util's
 * apr_password_validate() would bring libapr1 and libaprutil1 (and
 * their own dependencies) to every install for one function.  {SHA} is
 * base64 of an unsalted SHA-1: weak, but nginx reads it, so files that
 * port keep working.
 *
 * Plain text and DES crypt are refused: a DES hash is 13 characters of
 * the same alphabet as a plain password, so neither can be told from
 * the other, and crypt() would take a plain "password" as a DES salt.
 */
#include "config.h"

#include <crypt.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "common/password.h"

/* crypt(3)'s base-64 alphabet ("./0-9A-Za-z"), apr1's too. */
static const char password_itoa64[] =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

#define APR1_MAGIC	"$apr1$"
#define APR1_SALT_MAX	8
#define APR1_LEN	22	/* the hash part: 128 bits in 6-bit digits */

static int
password_is_crypt64(const char *s, size_t len)
{
	return strspn(s, password_itoa64) >= len;
}

/* "$2y$NN$" and 53 digits: 22 of salt, 31 of hash; cost 04 to 31. */
static int
password_is_bcrypt(const char *h)
{
	int cost;

	if (strncmp(h, "$2", 2) != 0 || strchr("aby", h[2]) == NULL ||
	    h[2] == '\0' || h[3] != '$' || h[4] < '0' || h[4] > '3' ||
	    h[5] < '0' || h[5] > '9' || h[6] != '$')
		return 0;
	cost = (h[4] - '0') * 10 + (h[5] - '0');
	return cost >= 4 && cost <= 31 && strlen(h) == 60 &&
	    password_is_crypt64(h + 7, 53);
}

/* "$N$[rounds=R$]SALT$HASH", SALT up to 16, HASH hashlen digits. */
static int
password_is_sha_crypt(const char *h, char n, size_t hashlen)
{
	const char *salt, *dollar;

	if (h[0] != '$' || h[1] != n || h[2] != '$')
		return 0;
	salt = h + 3;
	if (strncmp(salt, "rounds=", 7) == 0) {
		salt += 7;
		if (*salt < '1' || *salt > '9')
			return 0;
		salt += strspn(salt, "0123456789");
		if (*salt++ != '$')
			return 0;
	}
	if ((dollar = strchr(salt, '$')) == NULL || dollar - salt > 16)
		return 0;
	return strlen(dollar + 1) == hashlen &&
	    password_is_crypt64(dollar + 1, hashlen);
}

/* "$apr1$SALT$HASH", SALT up to 8 characters. */
static int
password_is_apr1(const char *h)
{
	const char *salt = h + strlen(APR1_MAGIC), *dollar;

	if (strncmp(h, APR1_MAGIC, strlen(APR1_MAGIC)) != 0 ||
	    (dollar = strchr(salt, '$')) == NULL ||
	    dollar - salt > APR1_SALT_MAX)
		return 0;
	return strlen(dollar + 1) == APR1_LEN &&
	    password_is_crypt64(dollar + 1, APR1_LEN);
}

/* "{SHA}" and 28 characters of base64: 20 bytes and one "=". */
static int
password_is_sha1(const char *h)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";

	return strncmp(h, "{SHA}", 5) == 0 && strlen(h) == 5 + 28 &&
	    strspn(h + 5, b64) == 27 && h[5 + 27] == '=';
}

enum password_kind
password_kind(const char *hash)
{
	enum password_kind kind = PASSWORD_UNKNOWN;
	int ok;

	if (password_is_bcrypt(hash))
		kind = PASSWORD_BCRYPT;
	else if (password_is_sha_crypt(hash, '6', 86))
		kind = PASSWORD_SHA512_CRYPT;
	else if (password_is_sha_crypt(hash, '5', 43))
		kind = PASSWORD_SHA256_CRYPT;
	else if (password_is_apr1(hash))
		return PASSWORD_APR1;
	else if (password_is_sha1(hash))
		return PASSWORD_SHA1;
	if (kind == PASSWORD_UNKNOWN)
		return kind;
	/* The form is right; this libcrypt must also take it (a
	 * distribution may disable a method).  SHA-256 counts as
	 * "legacy" there, which still verifies. */
	ok = crypt_checksalt(hash);
	if (ok != CRYPT_SALT_OK && ok != CRYPT_SALT_METHOD_LEGACY &&
	    ok != CRYPT_SALT_TOO_CHEAP)
		return PASSWORD_UNKNOWN;
	return kind;
}

const char *
password_kind_name(enum password_kind kind)
{
	switch (kind) {
	case PASSWORD_BCRYPT:
		return "bcrypt";
	case PASSWORD_SHA512_CRYPT:
		return "SHA-512 crypt";
	case PASSWORD_SHA256_CRYPT:
		return "SHA-256 crypt";
	case PASSWORD_APR1:
		return "apr1";
	case PASSWORD_SHA1:
		return "{SHA}";
	default:
		return "unknown";
	}
}

/* Constant time over the bytes once the lengths agree; the length of a
 * hash of a known kind is no secret. */
static int
password_equal(const char *computed, const char *hash)
{
	size_t len = strlen(hash);

	return strlen(computed) == len &&
	    CRYPTO_memcmp(computed, hash, len) == 0;
}

static int
password_crypt(const char *password, const char *hash)
{
	/* About 32 KiB: static rather than on the stack.  A worker is one
	 * thread, and nothing keeps the result past this call. */
	static struct crypt_data data;
	const char *out;
	int same;

	out = crypt_r(password, hash, &data);
	if (out == NULL || out[0] == '*')
		return -1;
	same = password_equal(out, hash);
	explicit_bzero(&data, sizeof(data));
	return same;
}

/* Adds n bytes of data to an MD5 (or SHA-1) context. */
static int
password_add(EVP_MD_CTX *md, const void *data, size_t n)
{
	return EVP_DigestUpdate(md, data, n) == 1 ? 0 : -1;
}

/* apr1's first digest: password, magic, salt, then the "alternate" sum
 * over each 16 bytes of the password, then one byte per bit of its
 * length (a NUL for a set bit, the password's first byte otherwise). */
static int
password_apr1_first(EVP_MD_CTX *md, const char *pw, size_t len,
    const char *salt, size_t salt_len, unsigned char sum[16])
{
	unsigned char alt[16];
	size_t i;

	if (EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1 ||
	    password_add(md, pw, len) == -1 ||
	    password_add(md, salt, salt_len) == -1 ||
	    password_add(md, pw, len) == -1 ||
	    EVP_DigestFinal_ex(md, alt, NULL) != 1)
		return -1;
	if (EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1 ||
	    password_add(md, pw, len) == -1 ||
	    password_add(md, APR1_MAGIC, strlen(APR1_MAGIC)) == -1 ||
	    password_add(md, salt, salt_len) == -1)
		return -1;
	for (i = len; i > 0; i -= i > 16 ? 16 : i)
		if (password_add(md, alt, i > 16 ? 16 : i) == -1)
			return -1;
	for (i = len; i > 0; i >>= 1)
		if (password_add(md, (i & 1) ? "" : pw, 1) == -1)
			return -1;
	return EVP_DigestFinal_ex(md, sum, NULL) == 1 ? 0 : -1;
}

/* A thousand rounds that mix password, salt and the sum, to be slow. */
static int
password_apr1_rounds(EVP_MD_CTX *md, const char *pw, size_t len,
    const char *salt, size_t salt_len, unsigned char sum[16])
{
	int i;

	for (i = 0; i < 1000; i++) {
		if (EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1 ||
		    ((i & 1) ? password_add(md, pw, len) :
		    password_add(md, sum, 16)) == -1 ||
		    (i % 3 != 0 && password_add(md, salt, salt_len) == -1) ||
		    (i % 7 != 0 && password_add(md, pw, len) == -1) ||
		    ((i & 1) ? password_add(md, sum, 16) :
		    password_add(md, pw, len)) == -1 ||
		    EVP_DigestFinal_ex(md, sum, NULL) != 1)
			return -1;
	}
	return 0;
}

/* The 16 bytes as 22 digits, in md5crypt's order of byte triples. */
static void
password_apr1_encode(const unsigned char s[16], char out[APR1_LEN + 1])
{
	static const int order[5][3] = { { 0, 6, 12 }, { 1, 7, 13 },
	    { 2, 8, 14 }, { 3, 9, 15 }, { 4, 10, 5 } };
	unsigned long v;
	char *o = out;
	int i, j;

	for (i = 0; i < 5; i++) {
		v = (unsigned long)s[order[i][0]] << 16 |
		    (unsigned long)s[order[i][1]] << 8 | s[order[i][2]];
		for (j = 0; j < 4; j++, v >>= 6)
			*o++ = password_itoa64[v & 0x3f];
	}
	v = s[11];
	for (j = 0; j < 2; j++, v >>= 6)
		*o++ = password_itoa64[v & 0x3f];
	*o = '\0';
}

static int
password_apr1(const char *pw, size_t len, const char *hash)
{
	const char *salt = hash + strlen(APR1_MAGIC);
	size_t salt_len = (size_t)(strchr(salt, '$') - salt);
	unsigned char sum[16];
	char out[APR1_LEN + 1];
	EVP_MD_CTX *md;
	int rc = -1;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (password_apr1_first(md, pw, len, salt, salt_len, sum) == 0 &&
	    password_apr1_rounds(md, pw, len, salt, salt_len, sum) == 0) {
		password_apr1_encode(sum, out);
		rc = password_equal(out, salt + salt_len + 1);
	}
	EVP_MD_CTX_free(md);
	OPENSSL_cleanse(sum, sizeof(sum));
	return rc;
}

static int
password_sha1(const char *pw, size_t len, const char *hash)
{
	unsigned char sum[SHA_DIGEST_LENGTH];
	char out[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];

	if (SHA1((const unsigned char *)pw, len, sum) == NULL)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, sum, sizeof(sum));
	return password_equal(out, hash + 5);
}

int
password_verify(const char *password, size_t len, const char *hash,
    enum password_kind kind)
{
	switch (kind) {
	case PASSWORD_BCRYPT:
	case PASSWORD_SHA512_CRYPT:
	case PASSWORD_SHA256_CRYPT:
		return password_crypt(password, hash);
	case PASSWORD_APR1:
		return password_apr1(password, len, hash);
	case PASSWORD_SHA1:
		return password_sha1(password, len, hash);
	default:
		return 0;
	}
}
