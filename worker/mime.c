/*
 * mime.c: Content-Type from a file name's extension.  A sorted table,
 * searched with bsearch; text types carry charset=utf-8.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "worker/http.h"

struct mime_entry {
	const char *ext;
	const char *type;
};

/* Sorted by extension (lower case), for bsearch. */
static const struct mime_entry mime_table[] = {
	{ "7z", "application/x-7z-compressed" },
	{ "avif", "image/avif" },
	{ "bin", "application/octet-stream" },
	{ "bmp", "image/bmp" },
	{ "bz2", "application/x-bzip2" },
	{ "css", "text/css; charset=utf-8" },
	{ "csv", "text/csv; charset=utf-8" },
	{ "doc", "application/msword" },
	{ "eot", "application/vnd.ms-fontobject" },
	{ "epub", "application/epub+zip" },
	{ "gif", "image/gif" },
	{ "gz", "application/gzip" },
	{ "htm", "text/html; charset=utf-8" },
	{ "html", "text/html; charset=utf-8" },
	{ "ico", "image/x-icon" },
	{ "ics", "text/calendar; charset=utf-8" },
	{ "jpeg", "image/jpeg" },
	{ "jpg", "image/jpeg" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },
	{ "jsonld", "application/ld+json" },
	{ "m4a", "audio/mp4" },
	{ "map", "application/json" },
	{ "md", "text/markdown; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "mp3", "audio/mpeg" },
	{ "mp4", "video/mp4" },
	{ "mpeg", "video/mpeg" },
	{ "oga", "audio/ogg" },
	{ "ogg", "audio/ogg" },
	{ "ogv", "video/ogg" },
	{ "otf", "font/otf" },
	{ "pdf", "application/pdf" },
	{ "png", "image/png" },
	{ "rss", "application/rss+xml" },
	{ "rtf", "application/rtf" },
	{ "svg", "image/svg+xml" },
	{ "tar", "application/x-tar" },
	{ "tif", "image/tiff" },
	{ "tiff", "image/tiff" },
	{ "ttf", "font/ttf" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "wasm", "application/wasm" },
	{ "wav", "audio/wav" },
	{ "weba", "audio/webm" },
	{ "webm", "video/webm" },
	{ "webmanifest", "application/manifest+json" },
	{ "webp", "image/webp" },
	{ "woff", "font/woff" },
	{ "woff2", "font/woff2" },
	{ "xhtml", "application/xhtml+xml" },
	{ "xml", "text/xml; charset=utf-8" },
	{ "xz", "application/x-xz" },
	{ "yaml", "application/yaml" },
	{ "zip", "application/zip" },
};

static int
mime_compare(const void *key, const void *entry)
{
	return strcasecmp(key, ((const struct mime_entry *)entry)->ext);
}

const char *
mime_type_for(const char *path, size_t len, const char *default_type)
{
	const struct mime_entry *e;
	char ext[16];
	size_t i, n;

	for (i = len; i > 0 && path[i - 1] != '.' && path[i - 1] != '/'; i--)
		;
	if (i == 0 || path[i - 1] != '.')
		return default_type;
	n = len - i;
	if (n == 0 || n >= sizeof(ext))
		return default_type;
	memcpy(ext, path + i, n);
	ext[n] = '\0';
	e = bsearch(ext, mime_table, sizeof(mime_table) / sizeof(mime_table[0]),
	    sizeof(mime_table[0]), mime_compare);
	return e != NULL ? e->type : default_type;
}
