/*
 * h2-session-floor.c: what one idle libnghttp2 server session costs by
 * itself, with no server around it, so the per-connection memory of
 * forkloop's HTTP/2 (issue 13: "memory per idle h2 connection <=
 * nginx's") can be set against the library's own floor.
 *
 * It makes a server session as forkloop does (nghttp2_session_server_new3
 * with an allocator that counts), sends the server's SETTINGS, feeds it a
 * client preface, an empty SETTINGS and the ACK of ours, and prints every
 * block the library asked for and what is still held: an idle session.
 *
 *	cc -O2 -Wall -o /tmp/h2-session-floor bench/h2-session-floor.c -lnghttp2
 *	/tmp/h2-session-floor
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <nghttp2/nghttp2.h>

/* Each block carries its size in front, so free() can count it back. */
#define FLOOR_HEAD 16

static size_t floor_live, floor_blocks;

static void *
floor_malloc(size_t n, void *user)
{
	size_t *p;

	(void)user;
	p = malloc(n + FLOOR_HEAD);
	if (p == NULL)
		return NULL;
	p[0] = n;
	floor_live += n;
	floor_blocks++;
	printf("  block of %zu bytes\n", n);
	return (char *)p + FLOOR_HEAD;
}

static void
floor_free(void *ptr, void *user)
{
	size_t *p;

	(void)user;
	if (ptr == NULL)
		return;
	p = (size_t *)(void *)((char *)ptr - FLOOR_HEAD);
	floor_live -= p[0];
	floor_blocks--;
	free(p);
}

static void *
floor_calloc(size_t n, size_t size, void *user)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	p = floor_malloc(n * size, user);
	if (p != NULL)
		memset(p, 0, n * size);
	return p;
}

static void *
floor_realloc(void *ptr, size_t n, void *user)
{
	size_t old;
	void *p;

	if (ptr == NULL)
		return floor_malloc(n, user);
	old = ((size_t *)(void *)((char *)ptr - FLOOR_HEAD))[0];
	p = floor_malloc(n, user);
	if (p == NULL)
		return NULL;
	memcpy(p, ptr, old < n ? old : n);
	floor_free(ptr, user);
	return p;
}

/* The bytes go nowhere: only the session's own memory is measured. */
static ssize_t
floor_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags,
    void *user)
{
	(void)s;
	(void)data;
	(void)flags;
	(void)user;
	return (ssize_t)len;
}

int
main(void)
{
	static const uint8_t client[] =
	    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	    "\0\0\0\4\0\0\0\0\0"	/* SETTINGS, empty */
	    "\0\0\0\4\1\0\0\0\0";	/* SETTINGS ACK */
	nghttp2_mem mem = { NULL, floor_malloc, floor_free, floor_calloc,
	    floor_realloc };
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 128 },
	};
	nghttp2_session_callbacks *cb;
	nghttp2_session *s;
	ssize_t n;

	if (nghttp2_session_callbacks_new(&cb) != 0) {
		fprintf(stderr, "nghttp2_session_callbacks_new failed\n");
		return 1;
	}
	nghttp2_session_callbacks_set_send_callback(cb, floor_send);
	printf("libnghttp2 %s, nghttp2_session_server_new3:\n",
	    nghttp2_version(0)->version_str);
	if (nghttp2_session_server_new3(&s, cb, NULL, NULL, &mem) != 0) {
		fprintf(stderr, "nghttp2_session_server_new3 failed\n");
		return 1;
	}
	printf("the preface and SETTINGS both ways:\n");
	if (nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, iv, 1) != 0 ||
	    nghttp2_session_send(s) != 0) {
		fprintf(stderr, "sending SETTINGS failed\n");
		return 1;
	}
	n = nghttp2_session_mem_recv(s, client, sizeof(client) - 1);
	if (n != (ssize_t)(sizeof(client) - 1) || nghttp2_session_send(s)
	    != 0) {
		fprintf(stderr, "the client's preface was refused: %zd\n", n);
		return 1;
	}
	printf("idle session: %zu bytes held in %zu blocks\n", floor_live,
	    floor_blocks);
	nghttp2_session_del(s);
	nghttp2_session_callbacks_del(cb);
	return 0;
}
