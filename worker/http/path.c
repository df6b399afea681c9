/*
 * path.c: turns a request path into a safe path under root.
 *
 * Decode once, then remove dot segments (RFC 3986 section 5.2.4): since
 * "%2e%2e" and "%2f" are decoded first, no encoded form can climb out.
 * A path that would climb above "/" is refused rather than clamped, as
 * such a request is an attack or a broken client, not a file.
 */
#include "config.h"

#include <string.h>

#include "worker/http/parse.h"

static int
http_unhex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

ssize_t
http_percent_decode(const char *in, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		int hi, lo;

		if (in[i] != '%') {
			if (in[i] == '\0')
				return -1;
			out[o++] = in[i];
			continue;
		}
		if (i + 2 >= len)
			return -1;
		hi = http_unhex((unsigned char)in[i + 1]);
		lo = http_unhex((unsigned char)in[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -1;
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[o] = '\0';
	return (ssize_t)o;
}

/* Does path hold "//", "/." (a dot segment's start)? */
static int
http_path_has_dot_or_slashes(const char *path, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++)
		if (path[i] == '/' && (path[i + 1] == '/' || path[i + 1] == '.'))
			return 1;
	return 0;
}

ssize_t
http_path_normalize(const char *path, size_t len, char *out)
{
	ssize_t dlen;
	size_t i, o = 0, last;
	int dir;

	if (len == 0 || path[0] != '/')
		return -1;
	/* Most paths need nothing done: no escapes, dots or double slashes. */
	if (memchr(path, '%', len) == NULL && memchr(path, '\0', len) == NULL &&
	    !http_path_has_dot_or_slashes(path, len)) {
		memcpy(out, path, len);
		out[len] = '\0';
		return (ssize_t)len;
	}
	dlen = http_percent_decode(path, len, out);
	if (dlen < 0)
		return -1;
	/* A path ending in "/", "/." or "/.." names a directory. */
	for (last = (size_t)dlen; last > 0 && out[last - 1] != '/'; last--)
		;
	dir = (size_t)dlen == last ||
	    ((size_t)dlen - last == 1 && out[last] == '.') ||
	    ((size_t)dlen - last == 2 && out[last] == '.' &&
	    out[last + 1] == '.');
	/* Works in place: the output never runs ahead of the input. */
	for (i = 0; i < (size_t)dlen;) {
		size_t seg, seglen;

		while (i < (size_t)dlen && out[i] == '/')
			i++;
		seg = i;
		while (i < (size_t)dlen && out[i] != '/')
			i++;
		seglen = i - seg;
		if (seglen == 1 && out[seg] == '.')
			continue;
		if (seglen == 2 && out[seg] == '.' && out[seg + 1] == '.') {
			if (o == 0)
				return -1;
			while (o > 0 && out[o - 1] != '/')
				o--;
			o--;	/* the slash before the removed segment */
			continue;
		}
		if (seglen == 0)
			continue;
		out[o++] = '/';
		memmove(out + o, out + seg, seglen);
		o += seglen;
	}
	if (o == 0 || dir)
		out[o++] = '/';
	out[o] = '\0';
	return (ssize_t)o;
}
