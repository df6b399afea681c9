/*
 * proxy_protocol.h: the PROXY protocol header parser, versions 1 (text)
 * and 2 (binary), as HAProxy's doc/proxy-protocol.txt specifies them.
 * A load balancer sends the header first on each connection so that the
 * server learns the client's address.  The parser does not allocate and
 * keeps no state: call it again with the longer buffer after each read.
 */
#ifndef FORKLOOP_PROXY_PROTOCOL_H
#define FORKLOOP_PROXY_PROTOCOL_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

/*
 * The longest version 1 line, CRLF included (section 2.1: "PROXY UNKNOWN"
 * with two full IPv6 addresses and ports).
 */
#define PROXY_V1_MAX_LEN	107

/*
 * Our limit on a whole version 2 header; the spec's own limit is 16 +
 * 65535.  The 16 fixed bytes, then 1008 for addresses and TLVs: the
 * largest address block (two AF_UNIX paths, 216 bytes) leaves 792 for
 * TLVs, and what HAProxy sends (ALPN, the SNI of at most 255 bytes, a
 * 128-byte unique ID, the SSL TLV with its version, cipher, algorithms
 * and certificate CN) stays well under that.
 */
#define PROXY_V2_MAX_LEN	1024

/*
 * Reading this many bytes always settles it: with len at least this,
 * proxy_parse() never returns 0.
 */
#define PROXY_MAX_LEN		PROXY_V2_MAX_LEN

/*
 * Parses a PROXY header at the start of buf[0..len).  Returns the
 * header's length (> 0) with *src and *srclen set to the client's
 * address and port; 0 if buf holds a prefix of a valid header and more
 * bytes are needed; -1 as soon as the bytes can no longer begin a valid
 * header.  On 0 and -1, *src and *srclen are left alone.
 *
 * The family is AF_UNSPEC, with *srclen 0, for v1 "UNKNOWN", v2 LOCAL,
 * and v2 PROXY over anything but TCP over IPv4 or IPv6: the connection
 * keeps its own address then.  The destination is checked, not returned.
 */
int proxy_parse(const char *buf, size_t len, struct sockaddr_storage *src,
    socklen_t *srclen);

#endif
