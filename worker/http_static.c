/*
 * http_static.c: static files under a server's root.
 *
 * The path is decoded and normalised first (http_path.c), then opened
 * relative to the root directory with openat2(RESOLVE_BENEATH), so the
 * kernel itself refuses any way out of root, symlinks included, unless
 * follow_symlinks is on.  Small files are read into the response so head
 * and body leave in one write; larger ones go with sendfile through a
 * libevent file segment.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "common/log.h"
#include "worker/http.h"

/* Files up to this size are copied into the response, not sendfile'd. */
#define HTTP_STATIC_INLINE_MAX (32 * 1024)

struct http_root {
	const struct conf_server *server;
	int fd;
};

static struct http_root *http_roots;
static size_t http_nroots;

static int
http_root_fd(const struct conf_server *s)
{
	size_t i;
	struct http_root *grown;
	int fd;

	for (i = 0; i < http_nroots; i++)
		if (http_roots[i].server == s)
			return http_roots[i].fd;
	fd = open(s->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		log_warn("opening root %s", s->root);
	grown = realloc(http_roots, (http_nroots + 1) * sizeof(*grown));
	if (grown == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	http_roots = grown;
	http_roots[http_nroots].server = s;
	http_roots[http_nroots].fd = fd;
	http_nroots++;
	return fd;
}

/* Opens rel (no leading slash) under root; -1 with errno on failure. */
static int
http_static_open(const struct conf_server *s, const char *rel)
{
	struct open_how how;
	int rootfd = http_root_fd(s);
	long fd;

	if (rootfd == -1) {
		errno = ENOENT;
		return -1;
	}
	if (*rel == '\0')
		rel = ".";
	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	how.resolve = RESOLVE_NO_MAGICLINKS;
	if (!s->follow_symlinks)
		how.resolve |= RESOLVE_BENEATH;
	fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
	return (int)fd;
}

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
	default:
		/* ENOENT, ENOTDIR, EXDEV (outside root), ELOOP, ... */
		return 404;
	}
}

static void
http_static_redirect_dir(struct http_conn *c)
{
	char location[PATH_MAX + 8];
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

/* Tries each index file in the directory norm (ending in '/'). */
static int
http_static_open_index(const struct conf_server *s, char *norm, size_t len,
    size_t *final_len)
{
	size_t i;
	int fd = -1, err = ENOENT;

	for (i = 0; i < s->nindex; i++) {
		size_t ilen = strlen(s->index[i]);

		if (len + ilen >= PATH_MAX)
			continue;
		memcpy(norm + len, s->index[i], ilen + 1);
		fd = http_static_open(s, norm + 1);
		if (fd != -1) {
			*final_len = len + ilen;
			return fd;
		}
		if (errno != ENOENT)
			err = errno;
	}
	norm[len] = '\0';
	errno = err;
	return -1;
}

static void
http_static_send(struct http_conn *c, int fd, const struct stat *st,
    const char *name, size_t name_len)
{
	char modified[30], etag[64];
	const char *type;

	type = mime_type_for(name, name_len, c->server->default_type);
	http_format_date(st->st_mtime, modified);
	snprintf(etag, sizeof(etag), "\"%" PRIx64 "-%" PRIx64 "\"",
	    (uint64_t)st->st_mtime, (uint64_t)st->st_size);
	http_response_start(c, 200, type, st->st_size);
	http_response_header(c, "Last-Modified", modified);
	http_response_header(c, "ETag", etag);
	http_response_header(c, "Accept-Ranges", "bytes");
	http_response_end_head(c);
	if (http_is_head() || st->st_size == 0) {
		close(fd);
		http_request_done(c);
		return;
	}
	if (st->st_size <= HTTP_STATIC_INLINE_MAX) {
		struct evbuffer_iovec v;
		ssize_t n;

		if (evbuffer_reserve_space(c->out, st->st_size, &v, 1) < 1)
			goto fail;
		n = pread(fd, v.iov_base, (size_t)st->st_size, 0);
		close(fd);
		if (n != st->st_size) {
			log_warn("reading %s", name);
			c->close_after = 1;	/* the head promised more */
			http_request_done(c);
			return;
		}
		v.iov_len = (size_t)n;
		evbuffer_commit_space(c->out, &v, 1);
	} else if (evbuffer_add_file(c->out, fd, 0, st->st_size) == -1) {
		/* evbuffer_add_file closed fd. */
		c->close_after = 1;
		http_request_done(c);
		return;
	}
	c->sent_body += (uint64_t)st->st_size;
	http_request_done(c);
	return;
fail:
	close(fd);
	c->close_after = 1;
	http_request_done(c);
}

void
http_static_serve(struct http_conn *c)
{
	char norm[PATH_MAX + 1];
	size_t name_len;
	ssize_t len;
	struct stat st;
	int fd;

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
	if (http_req.path_len >= PATH_MAX - 256) {
		http_respond_error(c, 414);
		return;
	}
	len = http_path_normalize(http_req.path, http_req.path_len, norm);
	if (len < 0) {
		http_respond_error(c, 400);
		return;
	}
	name_len = (size_t)len;
	if (norm[len - 1] == '/')
		fd = http_static_open_index(c->server, norm, (size_t)len,
		    &name_len);
	else
		fd = http_static_open(c->server, norm + 1);
	if (fd == -1) {
		http_respond_error(c, http_static_errno_status(errno));
		return;
	}
	if (fstat(fd, &st) == -1) {
		log_warn("fstat %s", norm);
		close(fd);
		http_respond_error(c, 500);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		if (norm[len - 1] == '/')
			http_respond_error(c, 403);	/* no index file */
		else
			http_static_redirect_dir(c);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		http_respond_error(c, 404);
		return;
	}
	http_static_send(c, fd, &st, norm, name_len);
}
