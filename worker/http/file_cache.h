/*
 * file_cache.h: the worker's open-file cache for static files.
 */
#ifndef FORKLOOP_FILE_CACHE_H
#define FORKLOOP_FILE_CACHE_H

#include <sys/stat.h>
#include <stddef.h>
#include <time.h>

#include "conf/conf.h"

struct evbuffer;
struct evbuffer_file_segment;

struct file_cache_entry {
	struct file_cache_entry *hash_next;
	struct file_cache_entry **hash_pprev;	/* what points at it */
	struct file_cache_entry *lru_prev, *lru_next;
	const struct conf_server *server;
	char *key;			/* the normalised request path, and */
	size_t key_len;
	size_t name_len;		/* with an index file's name: the file */
	unsigned hash;
	int refs;			/* the cache's own, plus responses */
	int evicted;

	int fd;				/* -1 once a small file is read */
	struct stat st;
	time_t checked;			/* when it was last compared */
	unsigned hits;			/* times found again after insertion */
	char *data;			/* contents of a small file */
	struct evbuffer_file_segment *segment;	/* a large file */
	char etag[48];
	char last_modified[30];
	const char *type;		/* its media type */
	/* Compressed, made on first need (compress.c). */
	char *gz, *br;
	size_t gz_len, br_len;
	int compress_failed;
	/* When its FILE.gz and FILE.br were last found missing. */
	time_t variant_missing[2];
	/* Content-Type, Last-Modified, ETag and Accept-Ranges lines. */
	char head[512];
	size_t head_len;
};

/*
 * The entry for path (normalised, ending in '/' for a directory, whose
 * index file is looked up) under server's root, opening and caching it
 * as needed.  Returns NULL with errno set; a directory without a trailing
 * slash gives EISDIR.  The entry stays valid until the next call.
 */
struct file_cache_entry *file_cache_get(const struct conf_server *server,
    char *path, size_t path_len);

/*
 * The entry of e's file with suffix (".gz", ".br") after its name: its
 * precompressed variant, opened as any file under the same root.  A
 * variant found missing is not looked for again within a second (slot:
 * 0 or 1, which of e's variants).  Returns NULL when there is none.
 * The caller holds e (file_cache_ref), which inserting the variant could
 * otherwise evict.
 */
struct file_cache_entry *file_cache_variant(struct file_cache_entry *e,
    const char *suffix, int slot);

/*
 * Opens path (normalised, starting with '/') under server's root as the
 * cache opens its files: never outside root unless follow_symlinks is
 * on, never through a /proc magic link.  flags are open(2)'s (O_PATH,
 * O_DIRECTORY, ...).  Returns the descriptor, or -1 with errno set.
 * For autoindex.c, which lists folders without caching them.
 */
int file_cache_open_beneath(const struct conf_server *server,
    const char *path, int flags);

/*
 * Adds bytes [offset, offset + len) of the file to out, by reference to
 * the cached memory or as a segment of the file: never a copy.
 */
int file_cache_add_body(struct file_cache_entry *e, struct evbuffer *out,
    off_t offset, off_t len);

/* An answer that sends the file later (HTTP/2) holds it meanwhile. */
static inline void
file_cache_ref(struct file_cache_entry *e)
{
	e->refs++;
}
void file_cache_unref(struct file_cache_entry *e);

void file_cache_clear(void);

#endif
