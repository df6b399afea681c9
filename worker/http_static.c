/*
 * http_static.c: static files under a server's root.
 *
 * The path is decoded and normalised (http_path.c), looked up in the
 * open-file cache (file_cache.c, which opens under root with
 * RESOLVE_BENEATH so nothing outside root is ever opened), checked
 * against the request's preconditions and Range (http_conditional.c),
 * and answered: the head from the cached header lines, the body by
 * reference to cached memory or by sendfile from the cached descriptor.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "common/log.h"
#include "worker/file_cache.h"
#include "worker/http.h"
#include "worker/http_conditional.h"

static int
http_static_errno_status(int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return 403;
	case EMFILE:
	case ENFILE:
	case ENOMEM:
		return 503;
	case EIO:
		return 500;
	default:
		/* ENOENT, ENOTDIR, EXDEV (outside root), ELOOP, ... */
		return 404;
	}
}

/* "/dir" names a directory: send the client to "/dir/". */
static void
http_static_redirect_dir(struct http_conn *c)
{
	static char location[2 * HTTP_PATH_MAX + 8];
	int n;

	n = snprintf(location, sizeof(location), "%.*s/%s%.*s",
	    (int)http_req.path_len, http_req.path, http_req.query ? "?" : "",
	    http_req.query ? (int)http_req.query_len : 0,
	    http_req.query ? http_req.query : "");
	if (n < 0 || (size_t)n >= sizeof(location)) {
		http_respond_error(c, 414);
		return;
	}
	http_respond_error_with(c, 301, "Location", location);
}

static void
http_static_not_modified(struct http_conn *c, struct file_cache_entry *e)
{
	http_response_start(c, 304, NULL, -1);
	http_response_header(c, "ETag", e->etag);
	http_response_header(c, "Last-Modified", e->last_modified);
	http_response_end_head(c);
	http_request_done(c);
}

static void
http_static_unsatisfiable(struct http_conn *c, struct file_cache_entry *e)
{
	char range[64];

	snprintf(range, sizeof(range), "bytes */%" PRId64,
	    (int64_t)e->st.st_size);
	http_respond_error_with(c, 416, "Content-Range", range);
}

static void
http_static_send(struct http_conn *c, struct file_cache_entry *e,
    enum http_conditional cond, off_t start, off_t len)
{
	char range[96];

	if (cond == HTTP_COND_PARTIAL) {
		http_response_start(c, 206, NULL, len);
		snprintf(range, sizeof(range), "bytes %" PRId64 "-%" PRId64
		    "/%" PRId64, (int64_t)start, (int64_t)(start + len - 1),
		    (int64_t)e->st.st_size);
		http_response_header(c, "Content-Range", range);
	} else {
		http_response_start(c, 200, NULL, len);
	}
	http_response_raw(c, e->head, e->head_len);
	http_response_end_head(c);
	if (!http_is_head() && len > 0) {
		if (file_cache_add_body(e, c, start, len) == -1) {
			log_warnx("cannot queue the body of %s", e->key);
			c->close_after = 1;	/* the head promised more */
		} else {
			c->sent_body += (uint64_t)len;
		}
	}
	http_request_done(c);
}

void
http_static_serve(struct http_conn *c)
{
	static char norm[HTTP_PATH_MAX + 1 + 256];
	struct file_cache_entry *e;
	enum http_conditional cond;
	off_t start, len;

	if (http_req.method == HTTP_METHOD_UNKNOWN) {
		http_respond_error(c, 501);
		return;
	}
	if (http_req.method != HTTP_METHOD_GET &&
	    http_req.method != HTTP_METHOD_HEAD) {
		http_respond_error_with(c, 405, "Allow", "GET, HEAD");
		return;
	}
	if (http_req.path == NULL) {
		http_respond_error(c, 400);
		return;
	}
	/* The cache may write an index name after the path: a copy. */
	memcpy(norm, http_path, http_path_len + 1);
	e = file_cache_get(c->server, norm, http_path_len);
	if (e == NULL) {
		if (errno == EISDIR)
			http_static_redirect_dir(c);
		else
			http_respond_error(c, http_static_errno_status(errno));
		return;
	}
	cond = http_conditional_eval(e, &start, &len);
	switch (cond) {
	case HTTP_COND_NOT_MODIFIED:
		http_static_not_modified(c, e);
		break;
	case HTTP_COND_FAILED:
		http_respond_error(c, 412);
		break;
	case HTTP_COND_UNSATISFIABLE:
		http_static_unsatisfiable(c, e);
		break;
	default:
		http_static_send(c, e, cond, start, len);
		break;
	}
}
