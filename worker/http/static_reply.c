/*
 * static_reply.c: answering with a static file, or a precompressed
 * variant of one, once static.c has found it: its preconditions (304,
 * 412) and Range (conditional.c, range.c) decide between 200, 206 with
 * one range, 206 multipart/byteranges (RFC 9110 14.6) and 416.
 *
 * Bodies are never read here: the bytes go by reference to the cached
 * memory of a small file or as segments of a large one's descriptor
 * (file_cache_add_body()), for the parts of a multipart answer too,
 * between the part headers.
 */
#include "config.h"

#include <sys/random.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "common/log.h"
#include "worker/http/file_cache.h"
#include "worker/http/range.h"
#include "worker/http/response.h"
#include "worker/http/static.h"

/* Content-Type, Last-Modified, ETag, the coding and Accept-Ranges, as
 * every 200 and single-range 206 of rep carries them. */
static void
http_reply_fields(struct http_req *r, const struct http_static_rep *rep)
{
	if (rep->head != NULL) {
		http_response_raw(r, rep->head, rep->head_len);
	} else {
		http_response_header(r, "Content-Type", rep->type);
		http_response_header(r, "Last-Modified", rep->last_modified);
		http_response_header(r, "ETag", rep->valid.etag);
		http_response_header(r, "Accept-Ranges", "bytes");
	}
	if (rep->encoding != NULL)
		http_response_header(r, "Content-Encoding", rep->encoding);
	if (rep->vary)
		http_response_header(r, "Vary", "Accept-Encoding");
}

static void
http_reply_not_modified(struct http_req *r, const struct http_static_rep *rep)
{
	http_response_start(r, 304, NULL, -1);
	http_response_header(r, "ETag", rep->valid.etag);
	http_response_header(r, "Last-Modified", rep->last_modified);
	if (rep->vary)
		http_response_header(r, "Vary", "Accept-Encoding");
	http_response_end_head(r);
	http_request_done(r);
}

static void
http_reply_unsatisfiable(struct http_req *r, const struct http_static_rep *rep)
{
	char range[64];

	snprintf(range, sizeof(range), "bytes */%" PRId64,
	    (int64_t)rep->valid.size);
	http_respond_error_with(r, 416, "Content-Range", range);
}

/* The whole, or one range: the body straight from the file. */
static void
http_reply_one(struct http_req *r, const struct http_static_rep *rep,
    int partial, off_t start, off_t len)
{
	char range[96];

	http_response_start(r, partial ? 206 : 200, NULL, len);
	if (partial) {
		snprintf(range, sizeof(range), "bytes %" PRId64 "-%" PRId64
		    "/%" PRId64, (int64_t)start, (int64_t)(start + len - 1),
		    (int64_t)rep->valid.size);
		http_response_header(r, "Content-Range", range);
	}
	http_reply_fields(r, rep);
	http_response_end_head(r);
	http_response_file(r, rep->file, start, len);
	http_request_done(r);
}

/*
 * A boundary no file is likely to hold (RFC 2046 5.1.1): random bits of
 * this worker, drawn once, and a count of its answers.
 */
static const char *
http_reply_boundary(void)
{
	static char boundary[40];
	static uint64_t seed, count;

	if (seed == 0 && getrandom(&seed, sizeof(seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(seed)) {
		log_warn("getrandom");
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	}
	snprintf(boundary, sizeof(boundary), "%016" PRIx64 "%08" PRIx64,
	    seed, ++count & 0xffffffff);
	return boundary;
}

/*
 * The parts of a multipart/byteranges body into body: each its headers
 * (Content-Type and Content-Range, 14.6; the coding, which is the
 * part's and not the multipart body's) and the bytes from the file.
 */
static int
http_reply_parts(struct evbuffer *body, const struct http_static_rep *rep,
    const struct http_range_set *set, const char *boundary)
{
	char part[1024];
	size_t i;
	int n;

	for (i = 0; i < set->n; i++) {
		const struct http_range *g = &set->r[i];

		n = snprintf(part, sizeof(part), "%s--%s\r\nContent-Type: %s"
		    "\r\n%s%s%sContent-Range: bytes %" PRId64 "-%" PRId64
		    "/%" PRId64 "\r\n\r\n", i > 0 ? "\r\n" : "", boundary,
		    rep->type, rep->encoding ? "Content-Encoding: " : "",
		    rep->encoding ? rep->encoding : "",
		    rep->encoding ? "\r\n" : "", (int64_t)g->start,
		    (int64_t)(g->start + g->len - 1), (int64_t)rep->valid.size);
		if (n < 0 || (size_t)n >= sizeof(part) ||
		    evbuffer_add(body, part, (size_t)n) == -1 ||
		    file_cache_add_body(rep->file, body, g->start,
		    g->len) == -1)
			return -1;
	}
	n = snprintf(part, sizeof(part), "\r\n--%s--\r\n", boundary);
	return evbuffer_add(body, part, (size_t)n);
}

/* Several ranges: 206 multipart/byteranges, its length known ahead. */
static void
http_reply_multipart(struct http_req *r, const struct http_static_rep *rep,
    const struct http_range_set *set)
{
	const char *boundary = http_reply_boundary();
	char type[96];
	struct evbuffer *body;

	body = evbuffer_new();
	if (body == NULL || http_reply_parts(body, rep, set, boundary) == -1) {
		log_warnx("cannot make a multipart answer for %s",
		    rep->file->key);
		if (body != NULL)
			evbuffer_free(body);
		http_respond_error(r, 500);
		return;
	}
	snprintf(type, sizeof(type), "multipart/byteranges; boundary=%s",
	    boundary);
	http_response_start(r, 206, type,
	    (int64_t)evbuffer_get_length(body));
	http_response_header(r, "Last-Modified", rep->last_modified);
	http_response_header(r, "ETag", rep->valid.etag);
	http_response_header(r, "Accept-Ranges", "bytes");
	if (rep->vary)
		http_response_header(r, "Vary", "Accept-Encoding");
	http_response_end_head(r);
	http_response_buffer(r, body);
	evbuffer_free(body);
	http_request_done(r);
}

void
http_static_reply(struct http_req *r, const struct http_static_rep *rep)
{
	struct http_range_set set;

	switch (http_conditional_eval(&r->head, &rep->valid, &set)) {
	case HTTP_COND_NOT_MODIFIED:
		http_reply_not_modified(r, rep);
		break;
	case HTTP_COND_FAILED:
		http_respond_error(r, 412);
		break;
	case HTTP_COND_UNSATISFIABLE:
		http_reply_unsatisfiable(r, rep);
		break;
	case HTTP_COND_PARTIAL:
		if (set.n > 1)
			http_reply_multipart(r, rep, &set);
		else
			http_reply_one(r, rep, 1, set.r[0].start,
			    set.r[0].len);
		break;
	default:
		http_reply_one(r, rep, 0, 0, rep->valid.size);
		break;
	}
}
