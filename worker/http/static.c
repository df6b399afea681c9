/*
 * static.c: static files under a server's root.
 *
 * The path is decoded and normalised (path.c), looked up in the
 * open-file cache (file_cache.c, which opens under root with
 * RESOLVE_BENEATH so nothing outside root is ever opened), checked
 * against the request's preconditions and Range (conditional.c,
 * range.c), and answered (static_reply.c): the head from the cached
 * header lines, the body by reference to cached memory or to the cached
 * file's memory map.  FILE.gz or FILE.br goes instead of FILE under
 * gzip_static or brotli_static (precompressed.c), else text may be
 * compressed on the fly (compress.c).  A
 * folder without an index file is listed when autoindex is on
 * (autoindex.c).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "common/log.h"
#include "worker/http/compress.h"
#include "worker/http/file_cache.h"
#include "worker/http/handlers.h"
#include "worker/http/response.h"
#include "worker/http/conditional.h"
#include "worker/http/range.h"
#include "worker/http/static.h"
#include "worker/http/vars.h"

/*
 * A name that starts with "." is hidden: .git/, .env, .htpasswd are a
 * site's secrets far more often than its content, so they answer 404, as
 * if absent, unless hidden_files is on.  /.well-known/ (RFC 8615: ACME
 * challenges, security.txt) is served.  The path is decoded and
 * normalised already, so "%2e" and "/a/../.git" come here as ".".
 */
static int
http_static_hidden(const char *path, size_t len)
{
	static const char known[] = "/.well-known/";
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (path[i] != '/' || path[i + 1] != '.')
			continue;
		/* "/.well-known/..." and the folder itself, "/.well-known". */
		if (i == 0 && len >= sizeof(known) - 2 &&
		    memcmp(path, known, sizeof(known) - 2) == 0 &&
		    (len == sizeof(known) - 2 || path[sizeof(known) - 2] == '/'))
			continue;
		return 1;
	}
	return 0;
}

/*
 * Whether a path built from a regex's groups (an alias, a try_files
 * argument) has a "." or ".." segment: the request's path is normalised
 * before the match, but groups glued together can make one again
 * ("/v/..-..-x" with "$1/$2/$3").  Such a path is never opened, whatever
 * hidden_files and follow_symlinks say.
 */
static int
http_static_dot_segment(const char *path, size_t len)
{
	size_t i, seg;

	for (i = 0; i < len; i = seg + 1) {
		seg = i;
		while (seg < len && path[seg] != '/')
			seg++;
		if ((seg - i == 1 && path[i] == '.') ||
		    (seg - i == 2 && path[i] == '.' && path[i + 1] == '.'))
			return 1;
	}
	return 0;
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
	case EIO:
		return 500;
	default:
		/* ENOENT, ENOTDIR, EXDEV (outside root), ELOOP, ... */
		return 404;
	}
}

/*
 * Percent-encodes the decoded, normalised path for a Location header:
 * what a path segment may hold (RFC 3986, 3.3: unreserved, sub-delims,
 * ':' and '@') and '/' stay, all else becomes %XX.  Returns the length.
 */
static size_t
http_static_encode_path(const char *in, size_t len, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)in[i];

		/* strchr() would find the NUL terminator for ch 0. */
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') ||
		    (ch != 0 && strchr("-._~!$&'()*+,;=:@/", ch) != NULL)) {
			out[o++] = (char)ch;
			continue;
		}
		out[o++] = '%';
		out[o++] = hex[ch >> 4];
		out[o++] = hex[ch & 15];
	}
	return o;
}

/*
 * "/dir" names a directory: send the client to "/dir/".  The Location is
 * built from the normalised path, not the raw one: "//evil.example/../dir"
 * must lead to "/dir/", not to a scheme-relative URL on another host.
 */
static void
http_static_redirect_dir(struct http_req *r)
{
	static char location[3 * HTTP_PATH_MAX + 8];
	size_t o;
	int n;

	o = http_static_encode_path(r->path, r->path_len, location);
	n = snprintf(location + o, sizeof(location) - o, "/%s%.*s",
	    r->head.query ? "?" : "",
	    r->head.query ? (int)r->head.query_len : 0,
	    r->head.query ? r->head.query : "");
	if (n < 0 || (size_t)n >= sizeof(location) - o) {
		http_respond_error(r, 414);
		return;
	}
	http_respond_error_with(r, 301, "Location", location);
}

/* "Vary: Accept-Encoding" where the block may compress this file, or
 * may send a precompressed variant of it (any file may have one). */
static int
http_static_varies(const struct http_req *r, const struct file_cache_entry *e)
{
	const struct conf_server *s = r->server;

	if (!s->gzip_vary)
		return 0;
	if (s->gzip_static != CONF_STATIC_OFF ||
	    s->brotli_static != CONF_STATIC_OFF)
		return 1;
	return (s->gzip || s->brotli) && http_compress_type_ok(s, e->type);
}

/* The answer to a request the file compressed on the fly would have
 * had, but whose validators match: 304 with the weak ETag. */
static void
http_static_not_modified(struct http_req *r, struct file_cache_entry *e)
{
	char weak[64];

	http_response_start(r, 304, NULL, -1);
	snprintf(weak, sizeof(weak), "W/%s", e->etag);
	http_response_header(r, "ETag", weak);
	http_response_header(r, "Last-Modified", e->last_modified);
	if (http_static_varies(r, e))
		http_response_header(r, "Vary", "Accept-Encoding");
	http_response_end_head(r);
	http_request_done(r);
}

/*
 * The file compressed: its own length, a weak ETag (the bytes differ
 * from the file's, RFC 9110 8.8.1), no ranges (those are of the file).
 */
static void
http_static_send_coded(struct http_req *r, struct file_cache_entry *e,
    enum http_coding coding, const char *data, size_t len)
{
	char weak[64];

	snprintf(weak, sizeof(weak), "W/%s", e->etag);
	http_response_start(r, 200, e->type, (int64_t)len);
	http_response_header(r, "Last-Modified", e->last_modified);
	http_response_header(r, "ETag", weak);
	http_response_header(r, "Content-Encoding",
	    coding == HTTP_CODING_BR ? "br" : "gzip");
	if (http_static_varies(r, e))
		http_response_header(r, "Vary", "Accept-Encoding");
	http_response_end_head(r);
	http_response_body(r, data, len);
	http_request_done(r);
}

/*
 * The path of the file under the root: the request's, or under a
 * location's alias, what follows the location's prefix ("location /img/
 * { alias /srv/pics/; }": /img/a.png is /srv/pics/a.png).  Into out,
 * NUL-ended; returns its length.
 */
static size_t
http_static_file_path(struct http_req *r, char *out)
{
	const struct conf_location *loc = r->server->location;
	const char *rest;
	size_t len;

	if (r->server->alias == NULL || loc == NULL) {
		memcpy(out, r->path, r->path_len + 1);
		return r->path_len;
	}
	/* A regex location's alias names the file itself ("/$1"), under
	 * the folder it starts with (conf/location.c). */
	if (r->server->alias_file != NULL) {
		len = http_vars_expand(r, r->server->alias_file, out,
		    HTTP_PATH_MAX + 1);
		return out[0] == '/' && !http_static_dot_segment(out, len) ?
		    len : 0;
	}
	rest = r->path + loc->len;
	len = r->path_len - loc->len;
	if (len > 0 && rest[0] == '/') {
		memcpy(out, rest, len + 1);
		return len;
	}
	out[0] = '/';
	memcpy(out + 1, rest, len + 1);
	return len + 1;
}

static void http_static_entry(struct http_req *r,
    struct file_cache_entry *e);

/*
 * A folder ("/dir/") without an index file: its listing when autoindex
 * is on (autoindex.c).  errno is file_cache_get()'s, ENOENT when none of
 * the index files is there.  Returns 0 when answered, -1 when not (no
 * autoindex, or no such folder, errno then set).
 */
static int
http_static_autoindex(struct http_req *r, const char *path, size_t len)
{
	if (errno != ENOENT || !r->server->autoindex || len == 0 ||
	    path[len - 1] != '/' || r->path[r->path_len - 1] != '/')
		return -1;
	return http_autoindex_serve(r, path, len);
}

/*
 * A folder that is there but has no index file, and no listing: 403, as
 * nginx answers ("directory index is forbidden"); -1 when the folder is
 * not there after all (errno ENOENT: the 404 stands).
 */
static int
http_static_no_index(struct http_req *r, const char *path, size_t len)
{
	int fd;

	if (errno != ENOENT || len == 0 || path[len - 1] != '/')
		return -1;
	fd = file_cache_open_beneath(r->server, path,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		errno = ENOENT;
		return -1;
	}
	close(fd);
	http_respond_error(r, 403);
	return 0;
}

/*
 * A try_files path with $uri replaced by the decoded path and $1 to $9
 * by a regex location's groups, into out (of HTTP_PATH_MAX + 1 + 256
 * bytes, 256 left for an index name).  Returns its length, or 0 when it
 * does not fit or has a "." or ".." segment (http_static_dot_segment()).
 */
static size_t
http_static_expand(const struct http_req *r, const char *arg, char *out)
{
	size_t o = 0, max = HTTP_PATH_MAX;

	while (*arg != '\0') {
		if (strncmp(arg, "$uri", 4) == 0) {
			if (o + r->path_len > max)
				return 0;
			memcpy(out + o, r->path, r->path_len);
			o += r->path_len;
			arg += 4;
			continue;
		}
		if (arg[0] == '$' && arg[1] >= '1' && arg[1] <= '9') {
			http_vars_put_group(r, (size_t)(arg[1] - '0'), out,
			    &o, max);
			arg += 2;
			continue;
		}
		if (o + 1 > max)
			return 0;
		out[o++] = *arg++;
	}
	out[o] = '\0';
	return http_static_dot_segment(out, o) ? 0 : o;
}

/*
 * try_files: the first path that names a file (or, ending in "/", a
 * folder with an index file) answers; else the last argument, "=CODE"
 * or a path answered the same way, 404 when it is not there either.
 */
static void
http_static_try_files(struct http_req *r)
{
	static char path[HTTP_PATH_MAX + 1 + 256];
	const struct conf_server *s = r->server;
	const char *last = s->try_files[s->ntry_files - 1];
	struct file_cache_entry *e;
	size_t i, len;

	for (i = 0; i + 1 < s->ntry_files; i++) {
		len = http_static_expand(r, s->try_files[i], path);
		if (len == 0 || path[0] != '/' ||
		    (!s->hidden_files && http_static_hidden(path, len)))
			continue;
		e = file_cache_get(s, path, len);
		if (e != NULL && S_ISREG(e->st.st_mode)) {
			http_static_entry(r, e);
			return;
		}
		if (e == NULL && http_static_autoindex(r, path, len) == 0)
			return;
	}
	if (last[0] == '=') {
		http_respond_error(r, atoi(last + 1));
		return;
	}
	len = http_static_expand(r, last, path);
	e = len > 0 && path[0] == '/' ? file_cache_get(s, path, len) : NULL;
	if (e == NULL || !S_ISREG(e->st.st_mode)) {
		http_respond_error(r, 404);
		return;
	}
	http_static_entry(r, e);
}

void
http_static_serve(struct http_req *r)
{
	static char norm[HTTP_PATH_MAX + 1 + 256];
	struct file_cache_entry *e;
	size_t plen;

	if (r->head.method == HTTP_METHOD_UNKNOWN) {
		http_respond_error(r, 501);
		return;
	}
	if (r->head.method != HTTP_METHOD_GET &&
	    r->head.method != HTTP_METHOD_HEAD) {
		http_respond_error_with(r, 405, "Allow", "GET, HEAD");
		return;
	}
	if (r->head.path == NULL) {
		http_respond_error(r, 400);
		return;
	}
	if (!r->server->hidden_files &&
	    http_static_hidden(r->path, r->path_len)) {
		http_respond_error(r, 404);
		return;
	}
	if (r->server->ntry_files > 0) {
		http_static_try_files(r);
		return;
	}
	/* The cache may write an index name after the path: a copy. */
	plen = http_static_file_path(r, norm);
	if (plen == 0) {
		http_respond_error(r, 404);
		return;
	}
	e = file_cache_get(r->server, norm, plen);
	if (e == NULL) {
		if (errno == EISDIR)
			http_static_redirect_dir(r);
		else if (http_static_autoindex(r, norm, plen) == -1 &&
		    http_static_no_index(r, norm, plen) == -1)
			http_respond_error(r, http_static_errno_status(errno));
		return;
	}
	http_static_entry(r, e);
}

/*
 * FILE.gz or FILE.br for e (precompressed.c): its own bytes, validators
 * and Last-Modified (so a new FILE.gz is a new representation), with
 * e's type.  The ETag gets the coding as a suffix: FILE and FILE.gz
 * could have the same time and length, and one ETag must not name two
 * representations of a resource (RFC 9110 8.8.3).
 */
static void
http_static_variant(struct http_req *r, struct file_cache_entry *e,
    struct file_cache_entry *v, enum http_coding coding)
{
	const char *name = coding == HTTP_CODING_BR ? "br" : "gzip";
	struct http_static_rep rep;
	char etag[64];
	size_t len = strlen(v->etag);

	/* v->etag is "\"...\"": the suffix goes inside the quotes. */
	snprintf(etag, sizeof(etag), "%.*s-%s\"", (int)(len - 1), v->etag,
	    coding == HTTP_CODING_BR ? "br" : "gz");
	memset(&rep, 0, sizeof(rep));
	rep.file = v;
	rep.valid.etag = etag;
	rep.valid.mtime = v->st.st_mtime;
	rep.valid.size = v->st.st_size;
	rep.type = e->type;
	rep.last_modified = v->last_modified;
	rep.encoding = name;
	rep.vary = r->server->gzip_vary;
	http_static_reply(r, &rep);
}

/*
 * e compressed on the fly (compress.c) for a request it suits: its
 * preconditions against e's validators, weakly.
 */
static void
http_static_on_the_fly(struct http_req *r, struct file_cache_entry *e,
    enum http_coding coding, const char *data, size_t len)
{
	struct http_validators valid;
	struct http_range_set set;

	valid.etag = e->etag;
	valid.mtime = e->st.st_mtime;
	valid.size = e->st.st_size;
	switch (http_conditional_eval(&r->head, &valid, &set)) {
	case HTTP_COND_NOT_MODIFIED:
		http_static_not_modified(r, e);
		break;
	case HTTP_COND_FAILED:
		http_respond_error(r, 412);
		break;
	default:
		/* compress.c chose no coding for a Range: whole it is. */
		http_static_send_coded(r, e, coding, data, len);
		break;
	}
}

/*
 * Answers with a cached file: a precompressed variant of it, or it
 * compressed on the fly, or as it is, as its preconditions and Range
 * say.
 */
static void
http_static_entry(struct http_req *r, struct file_cache_entry *e)
{
	struct file_cache_entry *v;
	struct http_static_rep rep;
	enum http_coding coding;
	const char *coded = NULL;
	size_t coded_len = 0;

	/* Looking up FILE.gz may evict old entries: e is held meanwhile. */
	file_cache_ref(e);
	if ((v = http_precompressed_find(r, e, &coding)) != NULL) {
		http_static_variant(r, e, v, coding);
		file_cache_unref(e);
		return;
	}
	coding = http_compress_choose(r, e, &coded, &coded_len);
	if (coding != HTTP_CODING_IDENTITY) {
		http_static_on_the_fly(r, e, coding, coded, coded_len);
		file_cache_unref(e);
		return;
	}
	memset(&rep, 0, sizeof(rep));
	rep.file = e;
	rep.valid.etag = e->etag;
	rep.valid.mtime = e->st.st_mtime;
	rep.valid.size = e->st.st_size;
	rep.type = e->type;
	rep.last_modified = e->last_modified;
	rep.head = e->head;
	rep.head_len = e->head_len;
	rep.vary = http_static_varies(r, e);
	http_static_reply(r, &rep);
	file_cache_unref(e);
}
