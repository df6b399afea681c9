/*
 * autoindex.c: folder listings, as nginx's ngx_http_autoindex_module
 * writes them.  With "autoindex on", a request for a folder ("/path/")
 * that has none of the index files gets a list of the folder's entries:
 * an HTML page or, with "autoindex_format json", a JSON array.
 *
 * The folder is opened beneath the root as static files are
 * (file_cache_open_beneath(): no path or link leads out of it unless
 * follow_symlinks is on), read on every request (never cached) and
 * only its first HTTP_AUTOINDEX_MAX entries.  An entry is listed as a
 * request for it would find it: a folder or a regular file, hidden
 * names left out as static.c leaves them out, and with follow_symlinks
 * off a link resolved beneath the root like a file, and left out when
 * it leads elsewhere.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "common/log.h"
#include "worker/http/file_cache.h"
#include "worker/http/handlers.h"
#include "worker/http/response.h"

#define HTTP_AUTOINDEX_MAX	10000	/* entries read from one folder */

/* Names are padded to nginx's column of 50 characters. */
static const char http_autoindex_pad[] =
    "                                                  ";
#define HTTP_AUTOINDEX_COLS	(sizeof(http_autoindex_pad) - 1)

struct http_autoindex_entry {
	char *name;
	size_t len;
	int dir;			/* else a regular file */
	time_t mtime;
	int64_t size;
};

struct http_autoindex_list {
	struct http_autoindex_entry *v;
	size_t n, cap;
};

/* The body being written: small pieces gather in stage, then go to buf
 * in one add.  One failed add fails the whole. */
struct http_autoindex_out {
	struct evbuffer *buf;
	int failed;
	size_t staged;
	char stage[4096];
};

/* For the log: path under root, cut to fit, control bytes as '?'. */
static const char *
http_autoindex_where(const struct http_req *r, const char *dir,
    const char *name)
{
	static char out[1024];
	size_t i;

	snprintf(out, sizeof(out), "%s%s%s", r->server->root, dir, name);
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
	return out;
}

/* Logs a failure, errno kept: "what" was being done, where, and why. */
static void
http_autoindex_log(const struct http_req *r, const char *what,
    const char *dir, const char *name)
{
	int err = errno;

	log_warn("autoindex: %s %s", what, http_autoindex_where(r, dir,
	    name));
	errno = err;
}

static int
http_autoindex_errno_status(int err)
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
		return 500;
	}
}

/* As static.c: a name starting with "." is hidden unless hidden_files
 * is on; /.well-known/ is served, so it is listed. */
static int
http_autoindex_hidden(const struct http_req *r, const char *name)
{
	if (name[0] != '.' || r->server->hidden_files)
		return 0;
	return !(r->path_len == 1 && strcmp(name, ".well-known") == 0);
}

/*
 * A link, with follow_symlinks off: resolved beneath the root as a
 * request for it would be.  Returns 1 with st its target's, 0 when it
 * leads nowhere a request could follow, -1 on a failure (logged).
 */
static int
http_autoindex_link(const struct http_req *r, const char *dir, size_t dlen,
    const char *name, struct stat *st)
{
	static char path[HTTP_PATH_MAX + 1 + 256];
	size_t nlen = strlen(name);
	int fd, rc = 1;

	if (dlen + nlen >= sizeof(path))
		return 0;
	memcpy(path, dir, dlen);
	memcpy(path + dlen, name, nlen + 1);
	fd = file_cache_open_beneath(r->server, path, O_PATH | O_CLOEXEC);
	if (fd == -1) {
		if (errno != EMFILE && errno != ENFILE && errno != ENOMEM)
			return 0;	/* outside root, dangling, a loop */
		http_autoindex_log(r, "opening the link", dir, name);
		return -1;
	}
	if (fstat(fd, st) == -1) {
		http_autoindex_log(r, "fstat of the link", dir, name);
		rc = -1;
	}
	close(fd);
	return rc;
}

/*
 * The entry's status.  Returns 1 to list it (a folder or a regular
 * file), 0 to leave it out, -1 on a failure (logged, errno set).
 */
static int
http_autoindex_stat(const struct http_req *r, int dfd, const char *dir,
    size_t dlen, const char *name, struct stat *st)
{
	int follow = r->server->follow_symlinks, rc;

	if (fstatat(dfd, name, st, follow ? 0 : AT_SYMLINK_NOFOLLOW) == -1) {
		/* Gone since readdir, or (followed) a link to nowhere. */
		if (errno == ENOENT || errno == ELOOP)
			return 0;
		http_autoindex_log(r, "fstatat", dir, name);
		return -1;
	}
	if (S_ISLNK(st->st_mode) &&
	    (rc = http_autoindex_link(r, dir, dlen, name, st)) != 1)
		return rc;
	return S_ISDIR(st->st_mode) || S_ISREG(st->st_mode);
}

static int
http_autoindex_add(struct http_autoindex_list *l, const char *name,
    const struct stat *st)
{
	struct http_autoindex_entry *e;

	if (l->n == l->cap) {
		size_t cap = l->cap > 0 ? l->cap * 2 : 64;

		e = realloc(l->v, cap * sizeof(*e));
		if (e == NULL)
			return -1;
		l->v = e;
		l->cap = cap;
	}
	e = &l->v[l->n];
	e->len = strlen(name);
	e->name = malloc(e->len + 1);
	if (e->name == NULL)
		return -1;
	memcpy(e->name, name, e->len + 1);
	e->dir = S_ISDIR(st->st_mode);
	e->mtime = st->st_mtime;
	e->size = (int64_t)st->st_size;
	l->n++;
	return 0;
}

static void
http_autoindex_free(struct http_autoindex_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
}

/* Reads the folder's entries into l.  -1 on a failure (logged). */
static int
http_autoindex_read(const struct http_req *r, DIR *d, int dfd,
    const char *dir, size_t dlen, struct http_autoindex_list *l)
{
	struct dirent *de;
	struct stat st;
	size_t seen = 0;
	int rc;

	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno == 0)
				return 0;
			http_autoindex_log(r, "reading the folder", dir, "");
			return -1;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (++seen > HTTP_AUTOINDEX_MAX)
			return 0;
		if (http_autoindex_hidden(r, de->d_name))
			continue;
		rc = http_autoindex_stat(r, dfd, dir, dlen, de->d_name, &st);
		if (rc == -1)
			return -1;
		if (rc == 1 && http_autoindex_add(l, de->d_name, &st) == -1) {
			http_autoindex_log(r, "listing", dir, "");
			return -1;
		}
	}
}

/* Folders first, then files, each by name in byte order. */
static int
http_autoindex_cmp(const void *a, const void *b)
{
	const struct http_autoindex_entry *x = a, *y = b;

	if (x->dir != y->dir)
		return x->dir ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void
http_autoindex_flush(struct http_autoindex_out *o)
{
	if (o->staged > 0 && !o->failed &&
	    evbuffer_add(o->buf, o->stage, o->staged) == -1)
		o->failed = 1;
	o->staged = 0;
}

static void
http_autoindex_put(struct http_autoindex_out *o, const char *s, size_t len)
{
	if (o->staged + len > sizeof(o->stage))
		http_autoindex_flush(o);
	if (len > sizeof(o->stage)) {
		if (!o->failed && evbuffer_add(o->buf, s, len) == -1)
			o->failed = 1;
		return;
	}
	memcpy(o->stage + o->staged, s, len);
	o->staged += len;
}

static void
http_autoindex_puts(struct http_autoindex_out *o, const char *s)
{
	http_autoindex_put(o, s, strlen(s));
}

/* The length of the well-formed UTF-8 character at s (n bytes), or 0. */
static size_t
http_autoindex_utf8(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	c = s[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, and past U+10FFFF. */
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return len;
}

/*
 * s as HTML text: markup characters escaped, control bytes and bytes
 * that are not UTF-8 shown as U+FFFD.  Returns the characters shown.
 */
static size_t
http_autoindex_html_text(struct http_autoindex_out *o, const char *s,
    size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n, chars = 0;

	for (; i < len; i += n, chars++) {
		n = http_autoindex_utf8(u + i, len - i);
		if (n == 0 || u[i] < 0x20 || u[i] == 0x7f) {
			http_autoindex_puts(o, "&#xFFFD;");
			n = 1;
			continue;
		}
		switch (u[i]) {
		case '&': http_autoindex_puts(o, "&amp;"); break;
		case '<': http_autoindex_puts(o, "&lt;"); break;
		case '>': http_autoindex_puts(o, "&gt;"); break;
		case '"': http_autoindex_puts(o, "&quot;"); break;
		case '\'': http_autoindex_puts(o, "&#39;"); break;
		default: http_autoindex_put(o, s + i, n); break;
		}
	}
	return chars;
}

/*
 * s as a relative link: every byte but letters, digits and "-._~"
 * percent-encoded, so the name is one path segment ("a:b" no scheme,
 * "?" and "#" no query or fragment) and needs no HTML escaping.
 */
static void
http_autoindex_href(struct http_autoindex_out *o, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	char pct[3] = { '%', 0, 0 };
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~') {
			http_autoindex_put(o, s + i, 1);
			continue;
		}
		pct[1] = hex[ch >> 4];
		pct[2] = hex[ch & 15];
		http_autoindex_put(o, pct, 3);
	}
}

/* s as a JSON string's contents; bytes that are not UTF-8 as U+FFFD. */
static void
http_autoindex_json_text(struct http_autoindex_out *o, const char *s,
    size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	char esc[8];
	size_t i, n;

	for (i = 0; i < len; i += n) {
		n = http_autoindex_utf8(u + i, len - i);
		if (n == 0) {
			http_autoindex_puts(o, "\\ufffd");
			n = 1;
		} else if (u[i] == '"' || u[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)u[i];
			http_autoindex_put(o, esc, 2);
		} else if (u[i] < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", u[i]);
			http_autoindex_put(o, esc, 6);
		} else {
			http_autoindex_put(o, s + i, n);
		}
	}
}

/* One line: the linked name, padded to nginx's column, then
 * "dd-Mon-yyyy hh:mm" (UTC) and the size ("-" for a folder). */
static void
http_autoindex_html_entry(struct http_autoindex_out *o,
    const struct http_autoindex_entry *e)
{
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char tail[96], size[24];
	struct tm tm;
	size_t cols;
	int n;

	http_autoindex_puts(o, "<a href=\"");
	http_autoindex_href(o, e->name, e->len);
	http_autoindex_puts(o, e->dir ? "/\">" : "\">");
	cols = http_autoindex_html_text(o, e->name, e->len) + (size_t)e->dir;
	http_autoindex_puts(o, e->dir ? "/</a>" : "</a>");
	if (cols < HTTP_AUTOINDEX_COLS)
		http_autoindex_put(o, http_autoindex_pad,
		    HTTP_AUTOINDEX_COLS - cols);
	if (gmtime_r(&e->mtime, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	if (e->dir)
		snprintf(size, sizeof(size), "-");
	else
		snprintf(size, sizeof(size), "%" PRId64, e->size);
	n = snprintf(tail, sizeof(tail), " %02d-%s-%d %02d:%02d %19s\r\n",
	    tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, size);
	if (n > 0 && (size_t)n < sizeof(tail))
		http_autoindex_put(o, tail, (size_t)n);
}

static void
http_autoindex_html(const struct http_req *r,
    const struct http_autoindex_list *l, struct http_autoindex_out *o)
{
	size_t i;

	http_autoindex_puts(o, "<html>\r\n<head><title>Index of ");
	http_autoindex_html_text(o, r->path, r->path_len);
	http_autoindex_puts(o, "</title></head>\r\n<body>\r\n<h1>Index of ");
	http_autoindex_html_text(o, r->path, r->path_len);
	http_autoindex_puts(o, "</h1><hr><pre>");
	if (r->path_len > 1)
		http_autoindex_puts(o, "<a href=\"../\">../</a>\r\n");
	for (i = 0; i < l->n; i++)
		http_autoindex_html_entry(o, &l->v[i]);
	http_autoindex_puts(o, "</pre><hr></body>\r\n</html>\r\n");
}

/* As nginx: [ { "name", "type", "mtime" (RFC 1123), "size" }, ... ]. */
static void
http_autoindex_json(const struct http_autoindex_list *l,
    struct http_autoindex_out *o)
{
	const struct http_autoindex_entry *e;
	char date[30], size[48];
	size_t i;

	http_autoindex_puts(o, "[");
	for (i = 0; i < l->n; i++) {
		e = &l->v[i];
		http_autoindex_puts(o, i > 0 ? ",\r\n{ \"name\":\"" :
		    "\r\n{ \"name\":\"");
		http_autoindex_json_text(o, e->name, e->len);
		http_autoindex_puts(o, e->dir ? "\", \"type\":\"directory\"" :
		    "\", \"type\":\"file\"");
		http_format_date(e->mtime, date);
		http_autoindex_puts(o, ", \"mtime\":\"");
		http_autoindex_puts(o, date);
		http_autoindex_puts(o, "\"");
		if (!e->dir) {
			snprintf(size, sizeof(size), ", \"size\":%" PRId64,
			    e->size);
			http_autoindex_puts(o, size);
		}
		http_autoindex_puts(o, " }");
	}
	http_autoindex_puts(o, "\r\n]\r\n");
}

/* Answers 200 with the list, sorted.  -1 when out of memory. */
static int
http_autoindex_send(struct http_req *r, struct http_autoindex_list *l)
{
	struct http_autoindex_out o;
	int json = r->server->autoindex_format == CONF_AUTOINDEX_JSON;

	memset(&o, 0, sizeof(o));
	if ((o.buf = evbuffer_new()) == NULL)
		return -1;
	if (l->n > 0)
		qsort(l->v, l->n, sizeof(l->v[0]), http_autoindex_cmp);
	if (json)
		http_autoindex_json(l, &o);
	else
		http_autoindex_html(r, l, &o);
	http_autoindex_flush(&o);
	if (o.failed) {
		evbuffer_free(o.buf);
		return -1;
	}
	http_response_start(r, 200, json ? "application/json" :
	    "text/html; charset=utf-8", (int64_t)evbuffer_get_length(o.buf));
	http_response_end_head(r);
	http_response_buffer(r, o.buf);
	http_request_done(r);
	evbuffer_free(o.buf);
	return 0;
}

int
http_autoindex_serve(struct http_req *r, const char *dir, size_t len)
{
	struct http_autoindex_list l = { NULL, 0, 0 };
	int fd, status = 0;
	DIR *d;

	fd = file_cache_open_beneath(r->server, dir,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		/* Not there, or not to be reached: as for a file. */
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP ||
		    errno == EXDEV || errno == ENAMETOOLONG)
			return -1;
		http_autoindex_log(r, "opening the folder", dir, "");
		http_respond_error(r, http_autoindex_errno_status(errno));
		return 0;
	}
	if ((d = fdopendir(fd)) == NULL) {
		http_autoindex_log(r, "fdopendir", dir, "");
		status = http_autoindex_errno_status(errno);
		close(fd);
	} else {
		if (http_autoindex_read(r, d, fd, dir, len, &l) == -1)
			status = http_autoindex_errno_status(errno);
		if (closedir(d) == -1)
			http_autoindex_log(r, "closing the folder", dir, "");
	}
	if (status == 0 && http_autoindex_send(r, &l) == -1) {
		log_warnx("autoindex: out of memory for a listing of %s",
		    http_autoindex_where(r, dir, ""));
		status = 503;
	}
	http_autoindex_free(&l);
	if (status != 0)
		http_respond_error(r, status);
	return 0;
}
