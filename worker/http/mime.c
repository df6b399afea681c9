/*
 * mime.c: Content-Type from a file name's extension.  A sorted table,
 * searched with bsearch; text types carry charset=utf-8.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "worker/http/response.h"

struct mime_entry {
	const char *ext;
	const char *type;
};

/* Sorted by extension (lower case), for bsearch. */
static const struct mime_entry mime_table[] = {
	{ "3gp", "video/3gpp" },
	{ "3gpp", "video/3gpp" },
	{ "7z", "application/x-7z-compressed" },
	{ "atom", "application/atom+xml" },
	{ "avi", "video/x-msvideo" },
	{ "avif", "image/avif" },
	{ "bin", "application/octet-stream" },
	{ "bmp", "image/bmp" },
	{ "bz2", "application/x-bzip2" },
	{ "crt", "application/x-x509-ca-cert" },
	{ "css", "text/css; charset=utf-8" },
	{ "csv", "text/csv; charset=utf-8" },
	{ "der", "application/x-x509-ca-cert" },
	{ "doc", "application/msword" },
	{ "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
	{ "eot", "application/vnd.ms-fontobject" },
	{ "eps", "application/postscript" },
	{ "epub", "application/epub+zip" },
	{ "flv", "video/x-flv" },
	{ "gif", "image/gif" },
	{ "gz", "application/gzip" },
	{ "htm", "text/html; charset=utf-8" },
	{ "html", "text/html; charset=utf-8" },
	{ "ico", "image/x-icon" },
	{ "ics", "text/calendar; charset=utf-8" },
	{ "jar", "application/java-archive" },
	{ "jpe", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "jpg", "image/jpeg" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },
	{ "jsonld", "application/ld+json" },
	{ "kml", "application/vnd.google-earth.kml+xml" },
	{ "kmz", "application/vnd.google-earth.kmz" },
	{ "m3u8", "application/vnd.apple.mpegurl" },
	{ "m4a", "audio/mp4" },
	{ "m4v", "video/x-m4v" },
	{ "map", "application/json" },
	{ "md", "text/markdown; charset=utf-8" },
	{ "mid", "audio/midi" },
	{ "midi", "audio/midi" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "mov", "video/quicktime" },
	{ "mp3", "audio/mpeg" },
	{ "mp4", "video/mp4" },
	{ "mpeg", "video/mpeg" },
	{ "mpg", "video/mpeg" },
	{ "odg", "application/vnd.oasis.opendocument.graphics" },
	{ "odp", "application/vnd.oasis.opendocument.presentation" },
	{ "ods", "application/vnd.oasis.opendocument.spreadsheet" },
	{ "odt", "application/vnd.oasis.opendocument.text" },
	{ "oga", "audio/ogg" },
	{ "ogg", "audio/ogg" },
	{ "ogv", "video/ogg" },
	{ "otf", "font/otf" },
	{ "pdf", "application/pdf" },
	{ "pem", "application/x-x509-ca-cert" },
	{ "png", "image/png" },
	{ "ppt", "application/vnd.ms-powerpoint" },
	{ "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation" },
	{ "ps", "application/postscript" },
	{ "rar", "application/x-rar-compressed" },
	{ "rss", "application/rss+xml" },
	{ "rtf", "application/rtf" },
	{ "svg", "image/svg+xml" },
	{ "tar", "application/x-tar" },
	{ "tif", "image/tiff" },
	{ "tiff", "image/tiff" },
	{ "ts", "video/mp2t" },
	{ "ttf", "font/ttf" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "wasm", "application/wasm" },
	{ "wav", "audio/wav" },
	{ "weba", "audio/webm" },
	{ "webm", "video/webm" },
	{ "webmanifest", "application/manifest+json" },
	{ "webp", "image/webp" },
	{ "wmv", "video/x-ms-wmv" },
	{ "woff", "font/woff" },
	{ "woff2", "font/woff2" },
	{ "xhtml", "application/xhtml+xml" },
	{ "xls", "application/vnd.ms-excel" },
	{ "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
	{ "xml", "text/xml; charset=utf-8" },
	{ "xz", "application/x-xz" },
	{ "yaml", "application/yaml" },
	{ "yml", "application/yaml" },
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
