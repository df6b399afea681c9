/*
 * ws_frame_test.c: unit tests for the WebSocket wire format
 * (worker/ws_frame.c): frame heads read at every prefix (0 until whole)
 * and judged, heads made in the shortest form and read back, unmasking
 * from any offset, UTF-8 (RFC 3629's edges: overlong forms, surrogates,
 * past U+10FFFF, cut sequences), close codes, and the handshake's key
 * and accept value (RFC 6455 1.3's example).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "worker/ws_frame.h"
#include "tests/unit/tap.h"

#define S(s)		(const unsigned char *)(s), sizeof(s) - 1

/* Parsed at every prefix: 0 before the whole head, its length at it. */
static int
head_at_every_prefix(const unsigned char *buf, size_t len, size_t want,
    struct ws_frame_head *h)
{
	size_t i;

	for (i = 0; i < want; i++)
		if (ws_frame_head_parse(buf, i, h) != 0)
			return 0;
	return ws_frame_head_parse(buf, len, h) == want;
}

static void
test_heads(void)
{
	struct ws_frame_head h;
	unsigned char out[WS_HEAD_MAX];
	static const uint64_t lens[] = { 0, 125, 126, 65535, 65536,
	    100ULL << 20 };
	size_t i, n;

	ok(head_at_every_prefix(S("\x81\x85\x01\x02\x03\x04"), 6, &h),
	    "a masked text head: 6 bytes, 0 before");
	ok(h.fin && h.opcode == WS_OP_TEXT && h.masked && h.len == 5 &&
	    memcmp(h.mask, "\x01\x02\x03\x04", 4) == 0 && h.rsv == 0,
	    "its fields");
	is_int(ws_frame_head_check(&h), 0, "a masked text frame is fine");
	ok(head_at_every_prefix(S("\x02\xfe\x01\x00mask"), 8, &h) &&
	    h.len == 256 && !h.fin, "16-bit length: 256, not final");
	ok(head_at_every_prefix(S("\x81\xff\x00\x00\x00\x00\x06\x40\x00\x00"
	    "mask"), 14, &h) && h.len == 100ULL << 20,
	    "64-bit length: 100 MiB, read before any payload");
	ws_frame_head_parse(S("\x81\x05"), &h);
	is_int(ws_frame_head_check(&h), WS_CLOSE_PROTOCOL, "unmasked: 1002");
	ws_frame_head_parse(S("\xc1\x80mask"), &h);
	is_int(ws_frame_head_check(&h), WS_CLOSE_PROTOCOL, "RSV1: 1002");
	ws_frame_head_parse(S("\x83\x80mask"), &h);
	is_int(ws_frame_head_check(&h), WS_CLOSE_PROTOCOL, "opcode 3: 1002");
	ws_frame_head_parse(S("\x8b\x80mask"), &h);
	is_int(ws_frame_head_check(&h), WS_CLOSE_PROTOCOL, "opcode 11: 1002");
	ws_frame_head_parse(S("\x09\x80mask"), &h);
	is_int(ws_frame_head_check(&h), WS_CLOSE_PROTOCOL,
	    "a fragmented ping: 1002");
	ws_frame_head_parse(S("\x89\xfe\x00\x7emask"), &h);
	is_int(ws_frame_head_check(&h), WS_CLOSE_PROTOCOL,
	    "a ping of 126 bytes: 1002");
	ws_frame_head_parse(S("\x89\xfdmask"), &h);
	is_int(ws_frame_head_check(&h), 0, "a ping of 125 bytes is fine");
	ws_frame_head_parse(S("\x81\xff\x80\x00\x00\x00\x00\x00\x00\x00mask"),
	    &h);
	is_int(ws_frame_head_check(&h), WS_CLOSE_PROTOCOL,
	    "a 64-bit length with its top bit set: 1002");

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		n = ws_frame_head_make(out, WS_OP_TEXT, lens[i]);
		is_int((long long)n, lens[i] < 126 ? 2 : lens[i] <= 0xffff ?
		    4 : 10, "made head for %llu: the shortest form",
		    (unsigned long long)lens[i]);
		ok(ws_frame_head_parse(out, n, &h) == n && h.len == lens[i] &&
		    h.fin && !h.masked && h.opcode == WS_OP_TEXT,
		    "made head for %llu reads back, final and unmasked",
		    (unsigned long long)lens[i]);
	}
}

static void
test_unmask(void)
{
	unsigned char mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	unsigned char data[] = { 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	unsigned char split[5];

	/* RFC 6455 5.7: "Hello" masked with 37 fa 21 3d. */
	ws_unmask(data, 5, mask, 0);
	ok(memcmp(data, "Hello", 5) == 0, "RFC 6455 5.7's masked Hello");
	memcpy(split, "\x7f\x9f\x4d\x51\x58", 5);
	ws_unmask(split, 3, mask, 0);
	ws_unmask(split + 3, 2, mask, 3);
	ok(memcmp(split, "Hello", 5) == 0, "unmasked in two parts (offset)");
}

static void
test_utf8(void)
{
	static const struct {
		const char *bytes;
		size_t len;
		int valid;
		const char *name;
	} cases[] = {
		{ "", 0, 1, "empty" },
		{ "hello", 5, 1, "ASCII" },
		{ "caf\xc3\xa9", 5, 1, "2 bytes" },
		{ "\xe2\x82\xac", 3, 1, "3 bytes (euro)" },
		{ "\xf0\x9f\x98\x80", 4, 1, "4 bytes (emoji)" },
		{ "\xf4\x8f\xbf\xbf", 4, 1, "U+10FFFF" },
		{ "\xef\xbf\xbd", 3, 1, "U+FFFD" },
		{ "\xc3\x28", 2, 0, "a bad continuation" },
		{ "\xc0\xaf", 2, 0, "overlong 2 bytes" },
		{ "\xc1\xbf", 2, 0, "overlong C1" },
		{ "\xe0\x80\xaf", 3, 0, "overlong 3 bytes" },
		{ "\xf0\x80\x80\xaf", 4, 0, "overlong 4 bytes" },
		{ "\xed\xa0\x80", 3, 0, "a surrogate (U+D800)" },
		{ "\xed\xbf\xbf", 3, 0, "a surrogate (U+DFFF)" },
		{ "\xed\x9f\xbf", 3, 1, "U+D7FF, just before" },
		{ "\xf4\x90\x80\x80", 4, 0, "U+110000" },
		{ "\xf5\x80\x80\x80", 4, 0, "F5" },
		{ "\xff", 1, 0, "FF" },
		{ "\x80", 1, 0, "a lone continuation" },
		{ "caf\xc3", 4, 0, "cut at the end" },
		{ "\xe2\x82", 2, 0, "3 bytes cut" },
		{ "a\x00z", 3, 1, "NUL is valid UTF-8" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(ws_utf8_valid((const unsigned char *)cases[i].bytes,
		    cases[i].len), cases[i].valid, "UTF-8: %s", cases[i].name);
	is_int((long long)ws_utf8_char_len(S("\xe2\x82\xac!")), 3,
	    "the length of one character");
}

static void
test_close_codes(void)
{
	static const unsigned valid[] = { 1000, 1001, 1002, 1003, 1007, 1008,
	    1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999 };
	static const unsigned invalid[] = { 0, 999, 1004, 1005, 1006, 1015,
	    1016, 2999, 5000, 65535 };
	size_t i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		ok(ws_close_code_valid(valid[i]), "close code %u is valid",
		    valid[i]);
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		ok(!ws_close_code_valid(invalid[i]), "close code %u is not",
		    invalid[i]);
}

static void
test_handshake(void)
{
	char accept[WS_ACCEPT_LEN + 1];
	static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";

	ok(ws_key_valid(key, sizeof(key) - 1), "RFC 6455's example key");
	ok(!ws_key_valid(key, sizeof(key) - 2), "23 characters: not a key");
	ok(!ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=A", 24), "no == at the end");
	ok(!ws_key_valid("dGhlIHNhbXBsZSBub2 jZQ==", 24), "a space inside");
	ok(ws_accept(key, sizeof(key) - 1, accept) == 0 &&
	    strcmp(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0,
	    "RFC 6455 1.3's accept value: %s", accept);
}

int
main(void)
{
	test_heads();
	test_unmask();
	test_utf8();
	test_close_codes();
	test_handshake();
	return done_testing();
}
