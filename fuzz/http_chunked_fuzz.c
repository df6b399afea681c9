/*
 * http_chunked_fuzz.c: libFuzzer harness for the chunked body decoder,
 * http_chunked_decode() in worker/http/chunked.c.
 *
 * The first input byte picks a split point, the rest is the body as it
 * comes off the wire.  The body is decoded whole, in two reads split at
 * that point, and a byte at a time; each read is a block of exactly its
 * size.  All three must give the same body bytes, the same result and
 * stop at the same offset, since where the reads fall is up to the
 * network.  Every call must make progress and hand out data only from
 * the bytes it consumed.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "worker/http/parse.h"
#include "fuzz/fuzz.h"

struct decoded {
	struct http_chunked c;
	int result;		/* of the last call */
	size_t offset;		/* input bytes consumed in all */
	char *body;		/* the body bytes handed out */
	size_t body_len;
};

/* Feeds one read of len bytes; returns 0 once DONE or ERROR. */
static int
feed(struct decoded *d, const uint8_t *data, size_t len)
{
	char *in;
	size_t off = 0;

	in = fuzz_copy(data, len);
	while (off < len) {
		const char *out = (const char *)1;
		size_t consumed = (size_t)-1, out_len = (size_t)-1;

		d->result = http_chunked_decode(&d->c, in + off, len - off,
		    &consumed, &out, &out_len);
		FUZZ_CHECK(d->result == HTTP_CHUNKED_MORE ||
		    d->result == HTTP_CHUNKED_DONE ||
		    d->result == HTTP_CHUNKED_ERROR);
		FUZZ_CHECK(consumed <= len - off);
		if (out_len > 0) {
			/* Data comes from what this call consumed. */
			FUZZ_CHECK(out != NULL && out >= in + off &&
			    out_len <= consumed &&
			    (size_t)(out - (in + off)) <= consumed - out_len);
			memcpy(d->body + d->body_len, out, out_len);
			d->body_len += out_len;
		}
		off += consumed;
		if (d->result != HTTP_CHUNKED_MORE)
			break;
		/* MORE must mean progress, or the caller loops forever. */
		FUZZ_CHECK(consumed > 0);
	}
	d->offset += off;
	fuzz_free(in, len);
	return d->result == HTTP_CHUNKED_MORE;
}

static void
decoded_init(struct decoded *d, size_t len)
{
	memset(d, 0, sizeof(*d));
	d->result = HTTP_CHUNKED_MORE;
	d->body = malloc(len > 0 ? len : 1);
	FUZZ_CHECK(d->body != NULL);
}

static void
decoded_same(const struct decoded *a, const struct decoded *b)
{
	FUZZ_CHECK(a->result == b->result);
	FUZZ_CHECK(a->offset == b->offset);
	FUZZ_CHECK(a->body_len == b->body_len);
	FUZZ_CHECK(memcmp(a->body, b->body, a->body_len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decoded whole, split, bytes;
	size_t len, at, i;

	if (size < 1)
		return 0;
	len = size - 1;
	at = (size_t)data[0] * len / 255;
	data++;

	decoded_init(&whole, len);
	feed(&whole, data, len);
	FUZZ_CHECK(whole.offset <= len);
	FUZZ_CHECK(whole.body_len <= whole.offset);
	/* Only DONE and ERROR stop short of the end. */
	if (whole.result == HTTP_CHUNKED_MORE)
		FUZZ_CHECK(whole.offset == len);

	decoded_init(&split, len);
	if (feed(&split, data, at))
		feed(&split, data + at, len - at);

	decoded_init(&bytes, len);
	for (i = 0; i < len; i++)
		if (!feed(&bytes, data + i, 1))
			break;

	decoded_same(&whole, &split);
	decoded_same(&whole, &bytes);
	free(whole.body);
	free(split.body);
	free(bytes.body);
	return 0;
}
