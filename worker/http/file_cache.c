/*
 * file_cache.c: the worker's open-file cache.
 *
 * A hot static file costs no system call but the write: its stat, ETag,
 * Last-Modified and header lines are kept, small files' contents are kept
 * in memory and sent by reference (writev straight from the cache), and
 * large files keep their descriptor in a libevent file segment, which
 * libevent maps read-only and writev sends from (sendfile only on a kTLS
 * connection, whose evbuffer drains to the socket: sendfile measured
 * slower than the mapping on loopback).  An entry is compared with the file again at most once
 * a second (FILE_CACHE_VALID_SEC), so a changed file is seen within a
 * second; a large file's descriptor is also checked on every use.
 * Entries are reference counted: one evicted or replaced while a
 * response still sends it lives until that response is done.
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
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/log.h"
#include "worker/http/file_cache.h"
#include "worker/http/response.h"
#include "worker/conns.h"

/* Twice the entries: a lookup of a name not cached (every request,
 * where names outnumber the entries) mostly finds an empty bucket, not
 * entries whose memory went cold long ago. */
#define FILE_CACHE_BUCKETS 4096		/* a power of two */
#define FILE_CACHE_MAX_ENTRIES 2048
#define FILE_CACHE_INLINE_MAX (64 * 1024)
#define FILE_CACHE_VALID_SEC 1
#define FILE_CACHE_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

static struct file_cache_entry *file_cache_buckets[FILE_CACHE_BUCKETS];
static struct file_cache_entry file_cache_lru = {
	.lru_prev = &file_cache_lru, .lru_next = &file_cache_lru,
};
static size_t file_cache_count;

struct file_cache_root {
	const struct conf_server *server;
	int fd;
};
static struct file_cache_root *file_cache_roots;
static size_t file_cache_nroots;

static unsigned
file_cache_hash(const struct conf_server *s, const char *key, size_t len)
{
	unsigned h = 2166136261u ^ (unsigned)(uintptr_t)s;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 16777619u;
	return h;
}

static int
file_cache_root_fd(const struct conf_server *s)
{
	struct file_cache_root *grown;
	size_t i;
	int fd;

	for (i = 0; i < file_cache_nroots; i++)
		if (file_cache_roots[i].server == s)
			return file_cache_roots[i].fd;
	fd = open(s->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		log_warn("opening root %s", s->root);
		return -1;	/* not remembered: it may appear later */
	}
	grown = realloc(file_cache_roots,
	    (file_cache_nroots + 1) * sizeof(*grown));
	if (grown == NULL) {
		close(fd);
		return -1;
	}
	file_cache_roots = grown;
	file_cache_roots[file_cache_nroots].server = s;
	file_cache_roots[file_cache_nroots].fd = fd;
	file_cache_nroots++;
	return fd;
}

/*
 * Where openat2 is missing (kernels before 5.6, some seccomp filters,
 * valgrind), open normally and then ask the kernel where the descriptor
 * really points: a file that resolved outside root is closed unread.
 */
static int
file_cache_open_checked(const struct conf_server *s, int rootfd,
    const char *rel, int flags)
{
	char link[64], real[PATH_MAX], rootreal[PATH_MAX];
	size_t rlen;
	ssize_t n;
	int fd;

	fd = openat(rootfd, rel, flags);
	if (fd == -1 || s->follow_symlinks)
		return fd;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, real, sizeof(real) - 1);
	if (n <= 0 || realpath(s->root, rootreal) == NULL)
		goto refuse;
	real[n] = '\0';
	rlen = strlen(rootreal);
	if (strncmp(real, rootreal, rlen) == 0 &&
	    (real[rlen] == '/' || real[rlen] == '\0' ||
	    (rlen == 1 && rootreal[0] == '/')))
		return fd;
refuse:
	close(fd);
	errno = EXDEV;
	return -1;
}

/*
 * Opens rel under root with open(2)'s flags.  RESOLVE_BENEATH makes the
 * kernel refuse any path, symlinks included, that leaves root (EXDEV).
 */
static int
file_cache_open(const struct conf_server *s, const char *rel, int flags)
{
	static int no_openat2;
	struct open_how how;
	int rootfd = file_cache_root_fd(s), fd;

	if (rootfd == -1) {
		errno = ENOENT;
		return -1;
	}
	if (*rel == '\0')
		rel = ".";
	if (no_openat2)
		return file_cache_open_checked(s, rootfd, rel, flags);
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)flags;
	how.resolve = RESOLVE_NO_MAGICLINKS;
	if (!s->follow_symlinks)
		how.resolve |= RESOLVE_BENEATH;
	fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
	if (fd == -1 && (errno == ENOSYS || errno == EPERM)) {
		log_info("openat2 is not available; checking paths after "
		    "opening instead");
		no_openat2 = 1;
		return file_cache_open_checked(s, rootfd, rel, flags);
	}
	return fd;
}

int
file_cache_open_beneath(const struct conf_server *s, const char *path,
    int flags)
{
	return file_cache_open(s, path + 1, flags);
}

/* Opens path, or for "dir/" the first index file in it. */
static int
file_cache_open_path(const struct conf_server *s, char *path, size_t len,
    size_t *name_len)
{
	size_t i;
	int fd, err = ENOENT;

	*name_len = len;
	if (path[len - 1] != '/')
		return file_cache_open(s, path + 1, FILE_CACHE_FLAGS);
	for (i = 0; i < s->nindex; i++) {
		size_t ilen = strlen(s->index[i]);

		if (len + ilen >= HTTP_PATH_MAX + 256)
			continue;
		memcpy(path + len, s->index[i], ilen + 1);
		fd = file_cache_open(s, path + 1, FILE_CACHE_FLAGS);
		if (fd != -1) {
			*name_len = len + ilen;
			return fd;
		}
		if (errno != ENOENT)
			err = errno;
	}
	path[len] = '\0';
	errno = err;
	return -1;
}

void
file_cache_unref(struct file_cache_entry *e)
{
	if (--e->refs > 0)
		return;
	free(e->data);
	free(e->gz);
	free(e->br);
	if (e->segment != NULL)
		evbuffer_file_segment_free(e->segment);
	else if (e->fd != -1)
		close(e->fd);
	free(e->key);
	free(e);
}

/* Out of its bucket through hash_pprev: no walk over other entries. */
static void
file_cache_unlink(struct file_cache_entry *e)
{
	*e->hash_pprev = e->hash_next;
	if (e->hash_next != NULL)
		e->hash_next->hash_pprev = e->hash_pprev;
	e->lru_prev->lru_next = e->lru_next;
	e->lru_next->lru_prev = e->lru_prev;
	file_cache_count--;
	file_cache_unref(e);
}

/* A hit: e goes to the front, and counts it (compress.c keeps the
 * compressed bytes of an entry asked for again only). */
static void
file_cache_touch(struct file_cache_entry *e)
{
	e->hits++;
	e->lru_prev->lru_next = e->lru_next;
	e->lru_next->lru_prev = e->lru_prev;
	e->lru_next = file_cache_lru.lru_next;
	e->lru_prev = &file_cache_lru;
	file_cache_lru.lru_next->lru_prev = e;
	file_cache_lru.lru_next = e;
}

static void
file_cache_on_segment_free(struct evbuffer_file_segment const *seg,
    int flags, void *arg)
{
	(void)seg;
	(void)flags;
	close((int)(intptr_t)arg);
}

static int
file_cache_fill(struct file_cache_entry *e, const char *name, size_t name_len)
{
	const char *type;
	time_t now = time(NULL);
	int n;

	/* RFC 9110, 8.8.2.1: a modification time in the future is sent
	 * as the time of the response instead. */
	http_format_date(e->st.st_mtime > now ? now : e->st.st_mtime,
	    e->last_modified);
	snprintf(e->etag, sizeof(e->etag), "\"%" PRIx64 "-%" PRIx64 "\"",
	    (uint64_t)e->st.st_mtime, (uint64_t)e->st.st_size);
	type = mime_type_for(name, name_len, e->server->default_type);
	e->type = type;
	n = snprintf(e->head, sizeof(e->head), "Content-Type: %s\r\n"
	    "Last-Modified: %s\r\nETag: %s\r\nAccept-Ranges: bytes\r\n",
	    type, e->last_modified, e->etag);
	if (n < 0 || (size_t)n >= sizeof(e->head))
		return -1;
	e->head_len = (size_t)n;
	if (e->st.st_size <= FILE_CACHE_INLINE_MAX) {
		ssize_t got;

		e->data = malloc(e->st.st_size > 0 ? (size_t)e->st.st_size : 1);
		if (e->data == NULL)
			return -1;
		got = pread(e->fd, e->data, (size_t)e->st.st_size, 0);
		if (got != e->st.st_size) {
			log_warn("reading %s", name);
			return -1;
		}
		close(e->fd);
		e->fd = -1;
		return 0;
	}
	e->segment = evbuffer_file_segment_new(e->fd, 0, e->st.st_size, 0);
	if (e->segment == NULL)
		return -1;
	evbuffer_file_segment_add_cleanup_cb(e->segment,
	    file_cache_on_segment_free, (void *)(intptr_t)e->fd);
	return 0;
}

static struct file_cache_entry *
file_cache_insert(const struct conf_server *s, size_t len, unsigned hash,
    int fd, const struct stat *st, const char *name, size_t name_len)
{
	struct file_cache_entry *e, **bucket;

	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->key = malloc(name_len + 1)) == NULL) {
		free(e);
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	/* The key, and after it the index file's name if one was added:
	 * name is key with that name (file_cache_open_path). */
	memcpy(e->key, name, name_len);
	e->key[name_len] = '\0';
	e->key_len = len;
	e->name_len = name_len;
	e->hash = hash;
	e->server = s;
	e->refs = 1;
	e->fd = fd;
	e->st = *st;
	if (file_cache_fill(e, name, name_len) == -1) {
		file_cache_unref(e);
		errno = EIO;
		return NULL;
	}
	bucket = &file_cache_buckets[hash & (FILE_CACHE_BUCKETS - 1)];
	e->hash_next = *bucket;
	if (e->hash_next != NULL)
		e->hash_next->hash_pprev = &e->hash_next;
	e->hash_pprev = bucket;
	*bucket = e;
	e->lru_prev = e->lru_next = e;
	file_cache_lru.lru_next->lru_prev = e;
	e->lru_next = file_cache_lru.lru_next;
	e->lru_prev = &file_cache_lru;
	file_cache_lru.lru_next = e;
	if (++file_cache_count > FILE_CACHE_MAX_ENTRIES)
		file_cache_unlink(file_cache_lru.lru_prev);
	return e;
}

static int
file_cache_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * A large file is sent from its open descriptor, so one truncated or
 * rewritten in place would be sent with the old Content-Length and cut
 * short (RFC 9112, 6.3): its descriptor is checked on every use, which
 * costs one fstat next to a sendfile of over 64 KiB.  A small file's
 * bytes are a copy and always match the head cached with them.
 */
static int
file_cache_fd_unchanged(const struct file_cache_entry *e)
{
	struct stat st;

	if (e->data != NULL || e->fd == -1)
		return 1;
	if (fstat(e->fd, &st) == -1) {
		log_warn("fstat %s", e->key);
		return 0;
	}
	return file_cache_same(&e->st, &st);
}

struct file_cache_entry *
file_cache_get(const struct conf_server *s, char *path, size_t len)
{
	struct file_cache_entry *e;
	struct timeval now;
	struct stat st;
	size_t name_len;
	unsigned hash = file_cache_hash(s, path, len);
	int fd;

	if (event_base_gettimeofday_cached(worker_self->base, &now) == -1)
		now.tv_sec = time(NULL);
	for (e = file_cache_buckets[hash & (FILE_CACHE_BUCKETS - 1)];
	    e != NULL; e = e->hash_next)
		if (e->hash == hash && e->server == s && e->key_len == len &&
		    memcmp(e->key, path, len) == 0)
			break;
	if (e != NULL && now.tv_sec - e->checked < FILE_CACHE_VALID_SEC &&
	    file_cache_fd_unchanged(e)) {
		file_cache_touch(e);
		return e;
	}
	fd = file_cache_open_path(s, path, len, &name_len);
	if (fd == -1)
		goto gone;
	if (fstat(fd, &st) == -1) {
		log_warn("fstat %s", path);
		close(fd);
		goto gone;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = S_ISDIR(st.st_mode) && path[len - 1] != '/' ?
		    EISDIR : ENOENT;
		goto gone;
	}
	if (e != NULL && file_cache_same(&e->st, &st)) {
		close(fd);
		e->checked = now.tv_sec;
		file_cache_touch(e);
		return e;
	}
	if (e != NULL)
		file_cache_unlink(e);
	e = file_cache_insert(s, len, hash, fd, &st, path, name_len);
	if (e != NULL)
		e->checked = now.tv_sec;
	return e;
gone:
	if (e != NULL) {
		int saved = errno;

		file_cache_unlink(e);
		errno = saved;
	}
	return NULL;
}

struct file_cache_entry *
file_cache_variant(struct file_cache_entry *e, const char *suffix, int slot)
{
	static char path[HTTP_PATH_MAX + 256 + 8];
	struct file_cache_entry *v;
	struct timeval now;
	size_t slen = strlen(suffix);

	if (event_base_gettimeofday_cached(worker_self->base, &now) == -1)
		now.tv_sec = time(NULL);
	if (e->variant_missing[slot] != 0 &&
	    now.tv_sec - e->variant_missing[slot] < FILE_CACHE_VALID_SEC)
		return NULL;
	if (e->name_len + slen >= sizeof(path))
		return NULL;
	memcpy(path, e->key, e->name_len);
	memcpy(path + e->name_len, suffix, slen + 1);
	v = file_cache_get(e->server, path, e->name_len + slen);
	if (v == NULL) {
		if (errno != ENOENT && errno != ENOTDIR && errno != EISDIR &&
		    errno != EXDEV && errno != ELOOP)
			log_warnx("%s%s: %s", e->key, suffix, strerror(errno));
		e->variant_missing[slot] = now.tv_sec;
	}
	return v;
}

static void
file_cache_on_reference_done(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	file_cache_unref(arg);
}

int
file_cache_add_body(struct file_cache_entry *e, struct evbuffer *out,
    off_t offset, off_t len)
{
	if (len == 0)
		return 0;
	if (e->data != NULL) {
		e->refs++;
		if (evbuffer_add_reference(out, e->data + offset, (size_t)len,
		    file_cache_on_reference_done, e) == -1) {
			e->refs--;
			return -1;
		}
		return 0;
	}
	return evbuffer_add_file_segment(out, e->segment, offset, len);
}

void
file_cache_clear(void)
{
	while (file_cache_lru.lru_next != &file_cache_lru)
		file_cache_unlink(file_cache_lru.lru_next);
}
