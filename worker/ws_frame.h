/*
 * ws_frame.h: the WebSocket wire format (RFC 6455), with no connection
 * in it: frame heads read and made, unmasking, UTF-8 checking, close
 * codes, and the handshake's key and accept value (ws_frame.c).  The
 * chat's WebSocket members (chat_ws.c) and the upgrade handler
 * (http/websocket.c) use it; the unit test takes it alone.
 */
#ifndef FORKLOOP_WORKER_WS_FRAME_H
#define FORKLOOP_WORKER_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* Opcodes, RFC 6455 5.2. */
#define WS_OP_CONTINUATION	0x0
#define WS_OP_TEXT		0x1
#define WS_OP_BINARY		0x2
#define WS_OP_CLOSE		0x8
#define WS_OP_PING		0x9
#define WS_OP_PONG		0xa

/* Close codes, RFC 6455 7.4.1. */
#define WS_CLOSE_NORMAL		1000
#define WS_CLOSE_GOING_AWAY	1001
#define WS_CLOSE_PROTOCOL	1002
#define WS_CLOSE_UNSUPPORTED	1003
#define WS_CLOSE_INVALID_DATA	1007
#define WS_CLOSE_POLICY		1008
#define WS_CLOSE_TOO_BIG	1009
#define WS_CLOSE_INTERNAL	1011

/* A control frame's payload is at most this (RFC 6455 5.5). */
#define WS_CONTROL_MAX		125
/* The longest frame head: 2, 8 of length, 4 of mask. */
#define WS_HEAD_MAX		14
/* The accept value: base64 of a SHA-1, and its NUL. */
#define WS_ACCEPT_LEN		28

struct ws_frame_head {
	int fin;
	int rsv;		/* the reserved bits: 0, no extensions */
	int opcode;
	int masked;
	unsigned char mask[4];
	uint64_t len;		/* of the payload */
	size_t head_len;	/* bytes of the head itself */
};

/*
 * Reads the head of a frame at buf[0..len): its length in bytes (2 to
 * 14), or 0 while it is not all there.  It judges nothing: see
 * ws_frame_head_check().
 */
size_t ws_frame_head_parse(const unsigned char *buf, size_t len,
    struct ws_frame_head *h);

/*
 * What a server makes of a client's frame head: 0 when the frame may be
 * read, else the close code it earns (1002: reserved bits or opcode, no
 * mask, a control frame fragmented or over 125 bytes, a length with its
 * top bit set).
 */
int ws_frame_head_check(const struct ws_frame_head *h);

/* Unmasks data in place; offset: bytes of the payload before data. */
void ws_unmask(unsigned char *data, size_t len, const unsigned char mask[4],
    uint64_t offset);

/* The head of a server frame (final, unmasked) into out: its length. */
size_t ws_frame_head_make(unsigned char out[WS_HEAD_MAX], int opcode,
    uint64_t len);

/* The length of the valid UTF-8 character at p (RFC 3629: no overlong
 * forms, no surrogates, at most U+10FFFF), or 0. */
size_t ws_utf8_char_len(const unsigned char *p, size_t n);
int ws_utf8_valid(const unsigned char *p, size_t n);

/* Whether a close frame may carry code (RFC 6455 7.4). */
int ws_close_code_valid(unsigned code);

/* Whether key is a Sec-WebSocket-Key: base64 of 16 bytes (RFC 6455
 * 4.1). */
int ws_key_valid(const char *key, size_t len);
/* Sec-WebSocket-Accept for key (RFC 6455 4.2.2): 0, or -1. */
int ws_accept(const char *key, size_t len, char out[WS_ACCEPT_LEN + 1]);

#endif
