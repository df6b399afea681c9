/*
 * ws_frame.c: the WebSocket wire format (RFC 6455), as ws_frame.h says:
 * pure functions over bytes, no connection, no allocation.
 */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>

#include "worker/ws_frame.h"

/* RFC 6455 1.3: appended to the client's key before hashing. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

size_t
ws_frame_head_parse(const unsigned char *buf, size_t len,
    struct ws_frame_head *h)
{
	size_t need = 2, i;

	if (len < 2)
		return 0;
	h->fin = (buf[0] & 0x80) != 0;
	h->rsv = (buf[0] >> 4) & 0x07;
	h->opcode = buf[0] & 0x0f;
	h->masked = (buf[1] & 0x80) != 0;
	h->len = buf[1] & 0x7f;
	/* Section 5.2: 126 says 16 bits of length follow, 127 says 64. */
	if (h->len == 126)
		need += 2;
	else if (h->len == 127)
		need += 8;
	if (h->masked)
		need += 4;
	if (len < need)
		return 0;
	if (h->len >= 126) {
		size_t n = h->len == 126 ? 2 : 8;

		h->len = 0;
		for (i = 0; i < n; i++)
			h->len = (h->len << 8) | buf[2 + i];
	}
	if (h->masked)
		memcpy(h->mask, buf + need - 4, 4);
	h->head_len = need;
	return need;
}

int
ws_frame_head_check(const struct ws_frame_head *h)
{
	/* 5.2: a reserved bit set without an extension that defines it,
	 * or a reserved opcode, fails the connection. */
	if (h->rsv != 0)
		return WS_CLOSE_PROTOCOL;
	if ((h->opcode > WS_OP_BINARY && h->opcode < WS_OP_CLOSE) ||
	    h->opcode > WS_OP_PONG)
		return WS_CLOSE_PROTOCOL;
	/* 5.1: a server closes on an unmasked client frame. */
	if (!h->masked)
		return WS_CLOSE_PROTOCOL;
	/* 5.2: the most significant bit of a 64-bit length is 0. */
	if (h->len >> 63)
		return WS_CLOSE_PROTOCOL;
	/* 5.5: control frames are final and at most 125 bytes. */
	if ((h->opcode & 0x08) && (!h->fin || h->len > WS_CONTROL_MAX))
		return WS_CLOSE_PROTOCOL;
	return 0;
}

void
ws_unmask(unsigned char *data, size_t len, const unsigned char mask[4],
    uint64_t offset)
{
	size_t i;

	/* 5.3: byte i of the payload is XORed with mask[i mod 4]. */
	for (i = 0; i < len; i++)
		data[i] ^= mask[(offset + i) & 3];
}

size_t
ws_frame_head_make(unsigned char out[WS_HEAD_MAX], int opcode, uint64_t len)
{
	size_t n, i;

	out[0] = (unsigned char)(0x80 | (opcode & 0x0f));
	/* 5.2: the shortest length form; a server does not mask. */
	if (len < 126) {
		out[1] = (unsigned char)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		n = 2;
	} else {
		out[1] = 127;
		n = 8;
	}
	for (i = 0; i < n; i++)
		out[2 + i] = (unsigned char)(len >> (8 * (n - 1 - i)));
	return 2 + n;
}

size_t
ws_utf8_char_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len, i;
	unsigned lo = 0x80, hi = 0xbf;

	if (n == 0)
		return 0;
	if (c < 0x80)
		return 1;
	/* RFC 3629 4: the second byte's range rules out overlong forms,
	 * surrogates (ED A0..BF) and code points past U+10FFFF. */
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

int
ws_utf8_valid(const unsigned char *p, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		/* ASCII runs are the common case: no call per byte. */
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = ws_utf8_char_len(p + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

int
ws_close_code_valid(unsigned code)
{
	/*
	 * 7.4.1 and 7.4.2: 1004 is reserved, 1005, 1006 and 1015 are never
	 * sent; 1012 to 1014 are in IANA's registry since; 1016 to 2999 are
	 * for future revisions; 3000 to 4999 for libraries and
	 * applications.
	 */
	if (code >= 1000 && code <= 1003)
		return 1;
	if (code >= 1007 && code <= 1014)
		return 1;
	return code >= 3000 && code <= 4999;
}

static int
ws_base64_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int
ws_key_valid(const char *key, size_t len)
{
	size_t i;

	/* 16 bytes are 24 base64 characters, the last two "=". */
	if (len != 24 || key[22] != '=' || key[23] != '=')
		return 0;
	for (i = 0; i < 22; i++)
		if (!ws_base64_char((unsigned char)key[i]))
			return 0;
	return 1;
}

int
ws_accept(const char *key, size_t len, char out[WS_ACCEPT_LEN + 1])
{
	unsigned char in[64 + sizeof(ws_guid)], digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;

	if (len > 64)
		return -1;
	/* 4.2.2: base64(SHA-1(key + GUID)), the key as sent, trimmed. */
	memcpy(in, key, len);
	memcpy(in + len, ws_guid, sizeof(ws_guid) - 1);
	if (EVP_Digest(in, len + sizeof(ws_guid) - 1, digest, &dlen,
	    EVP_sha1(), NULL) != 1 || dlen != 20)
		return -1;
	if (EVP_EncodeBlock((unsigned char *)out, digest, 20) != WS_ACCEPT_LEN)
		return -1;
	return 0;
}
