/*
 * decimal.h: an unsigned number in decimal digits, without printf, for
 * what runs on every answer (the status line, Content-Length, the access
 * log's status, byte count and IPv4 address).
 */
#ifndef FORKLOOP_HTTP_DECIMAL_H
#define FORKLOOP_HTTP_DECIMAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Writes v's digits at out (room for 20); returns how many. */
static inline size_t
http_decimal(char *out, uint64_t v)
{
	char digits[20];
	size_t n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	memcpy(out, digits + n, sizeof(digits) - n);
	return sizeof(digits) - n;
}

#endif
