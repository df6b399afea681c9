/*
 * crc32.h: gzip's CRC-32 (crc32.c), faster than zlib's where the CPU
 * has a carry-less multiply.
 */
#ifndef FORKLOOP_HTTP_CRC32_H
#define FORKLOOP_HTTP_CRC32_H

#include <stddef.h>
#include <stdint.h>

/*
 * The CRC-32 of RFC 1952 of len bytes at data, continuing from crc (0
 * to start): the same value as zlib's crc32(crc, data, len).
 */
uint32_t http_crc32(uint32_t crc, const void *data, size_t len);

#endif
