/*
 * h1_in.c: a connection's input buffer.
 *
 * A connection with no buffer reads into one shared per-worker
 * buffer; only when bytes must outlive the callback (a partial head, a
 * head kept for a handler that answers later, pipelined bytes) does it
 * get a buffer of its own (http_in_keep).  So a burst of thousands of
 * connections whose requests arrive whole never allocates input memory,
 * and idle keep-alive connections hold none.  Buffers of the usual size
 * go back on a short free list.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "worker/http/h1_conn.h"

/* The parsed head moved with the input buffer: parse it again there. */
static void
http_in_rebase(struct http_conn *c)
{
	if (c->req != NULL && c->head_len > 0)
		http_parse_request(c->in + c->head_start, c->head_len,
		    &c->req->head);
}

#define HTTP_IN_INITIAL 4096
#define HTTP_IN_SPARE_MAX 16
static char http_in_shared[HTTP_IN_INITIAL];
static char *http_in_spare[HTTP_IN_SPARE_MAX];
static size_t http_in_nspare;

static char *
http_in_alloc(void)
{
	if (http_in_nspare > 0)
		return http_in_spare[--http_in_nspare];
	return malloc(HTTP_IN_INITIAL);
}

void
http_in_release(struct http_conn *c)
{
	if (c->in == NULL)
		return;
	if (c->in == http_in_shared)
		;
	else if (c->in_cap == HTTP_IN_INITIAL &&
	    http_in_nspare < HTTP_IN_SPARE_MAX)
		http_in_spare[http_in_nspare++] = c->in;
	else
		free(c->in);
	c->in = NULL;
	c->in_cap = c->in_len = c->head_start = 0;
	c->head_scanned = 0;
}

/* Before the callback ends: bytes in the shared buffer get their own. */
int
http_in_keep(struct http_conn *c)
{
	char *own;

	if (c->in != http_in_shared)
		return 0;
	if (c->state == HTTP_READ_HEAD && c->head_start == c->in_len) {
		http_in_release(c);
		return 0;
	}
	own = http_in_alloc();
	if (own == NULL) {
		http_in_release(c);
		return -1;
	}
	memcpy(own, http_in_shared, c->in_len);
	c->in = own;
	http_in_rebase(c);
	return 0;
}

/* Makes room to read: compacts, then grows up to the head limit. */
int
http_in_make_room(struct http_conn *c)
{
	size_t limit = c->server->max_header_size + HTTP_IN_INITIAL, size;
	char *grown;

	if (c->in == NULL) {
		c->in = http_in_shared;
		c->in_cap = HTTP_IN_INITIAL;
	}
	if (c->in_len < c->in_cap)
		return 0;
	if (c->head_start > 0 && c->state == HTTP_READ_HEAD) {
		memmove(c->in, c->in + c->head_start,
		    c->in_len - c->head_start);
		c->in_len -= c->head_start;
		c->head_start = 0;
		c->head_scanned = 0;
		if (c->in_len < c->in_cap)
			return 0;
	}
	if (c->in_cap >= limit)
		return 0;
	size = c->in_cap * 2 < limit ? c->in_cap * 2 : limit;
	/* The shared buffer is static: never realloc it. */
	if (c->in == http_in_shared) {
		if ((grown = malloc(size)) != NULL)
			memcpy(grown, c->in, c->in_len);
	} else {
		grown = realloc(c->in, size);
	}
	if (grown == NULL)
		return -1;
	c->in = grown;
	c->in_cap = size;
	http_in_rebase(c);
	return 0;
}
