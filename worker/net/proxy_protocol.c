/*
 * proxy_protocol.c: parses the PROXY protocol header, versions 1 and 2,
 * that a load balancer sends before the client's bytes (HAProxy's
 * doc/proxy-protocol.txt; section numbers below are that document's).
 *
 * The header may arrive split over any number of reads, and the spec
 * asks to drop a bad one "as soon as possible" (section 2.1), so the
 * parser answers for every prefix: 0 while the bytes can still become a
 * valid header, -1 from the first byte that rules it out.  Every field
 * of version 1 is checked as it grows.  The one gap is IPv6: only a
 * whole address goes to inet_pton(3), so a prefix is judged by its
 * characters, group sizes and length alone, and "1:2:3:4:5:6:7:8:9"
 * fails at the space after it, not at its eighth colon.
 *
 * Strictness, version 1: "PROXY", the protocol and every field are
 * separated by exactly one space, upper case only, the line ends in CRLF
 * and is at most 107 bytes.  No heading zeroes in IPv4 octets or ports
 * (the spec forbids them, to avoid reading them as octal).  IPv6 is what
 * inet_pton accepts, the "::ffff:1.2.3.4" form included since that is
 * what inet_ntop gives senders for mapped addresses, but at most the 39
 * characters of section 2.1.  For "UNKNOWN" the rest of the line is
 * ignored, as the spec says, but a lone CR or LF in it is still refused.
 *
 * Version 2: the version nibble must be 2 and the command LOCAL or
 * PROXY; the family and transport nibbles must be ones the spec defines
 * even when they are not used.  Only TCP over IPv4 and IPv6 give an
 * address; UDP, UNIX and the UNSPEC combinations are accepted and keep
 * the connection's own address (section 2.2 allows that fallback).  For
 * the combinations whose address block has a known size, the length
 * must cover it and the bytes after it must be whole TLVs, which are
 * then skipped (CRC32C included: checking it is optional).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <string.h>

#include "worker/net/proxy_protocol.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Section 2.2: chosen to be invalid in as many other protocols as can be. */
static const unsigned char proxy_v2_signature[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

#define PROXY_V2_FIXED_LEN	16	/* signature, ver_cmd, fam, len */
#define PROXY_V2_CMD_LOCAL	0x0
#define PROXY_V2_CMD_PROXY	0x1
#define PROXY_V2_TLV_HEAD_LEN	3	/* type, length_hi, length_lo */

/* Section 2.1: "ffff:...:ffff", eight groups of four and seven colons. */
#define PROXY_V1_INET6_MAX_LEN	39

/*
 * Checks the version 1 field s[0..n).  complete says whether its end was
 * seen.  Returns 1 if it is valid, or for an incomplete field if it can
 * still become valid, else 0.  A valid complete field is stored at out.
 */
typedef int proxy_v1_check(const char *s, size_t n, int complete, void *out);

static int
proxy_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
proxy_is_xdigit(char c)
{
	return proxy_is_digit(c) || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* A dotted quad, four decimal octets without heading zeroes. */
static int
proxy_v1_inet(const char *s, size_t n, int complete, void *out)
{
	char text[INET_ADDRSTRLEN];
	unsigned int octet = 0;
	size_t i, digits = 0, dots = 0;

	if (n >= sizeof(text))
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (digits == 0 || ++dots > 3)
				return 0;
			digits = 0;
			octet = 0;
		} else if (proxy_is_digit(s[i])) {
			if (digits == 1 && octet == 0)
				return 0;
			octet = octet * 10 + (unsigned int)(s[i] - '0');
			if (++digits > 3 || octet > 255)
				return 0;
		} else
			return 0;
	}
	if (!complete)
		return 1;
	if (dots != 3 || digits == 0)
		return 0;
	/* The walk above is already exact; inet_pton only converts. */
	memcpy(text, s, n);
	text[n] = '\0';
	return inet_pton(AF_INET, text, out) == 1;
}

/*
 * An IPv6 address.  A prefix is refused for a character that cannot
 * appear, a group of more than four hex digits, a second "::" or a hex
 * digit or colon after the dotted IPv4 tail has begun; the rest is left
 * to inet_pton once the address is whole.
 */
static int
proxy_v1_inet6(const char *s, size_t n, int complete, void *out)
{
	char text[PROXY_V1_INET6_MAX_LEN + 1];
	size_t i, group = 0;
	int double_colon = 0, dotted = 0;

	if (n > PROXY_V1_INET6_MAX_LEN)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == ':') {
			if (dotted)
				return 0;
			if (i > 0 && s[i - 1] == ':' && double_colon++)
				return 0;
			group = 0;
		} else if (s[i] == '.') {
			dotted = 1;
			group = 0;
		} else if (proxy_is_digit(s[i]) ||
		    (!dotted && proxy_is_xdigit(s[i]))) {
			if (++group > 4)
				return 0;
		} else
			return 0;
	}
	if (!complete)
		return 1;
	memcpy(text, s, n);
	text[n] = '\0';
	return inet_pton(AF_INET6, text, out) == 1;
}

/* A decimal port in [0..65535] without heading zeroes. */
static int
proxy_v1_port(const char *s, size_t n, int complete, void *out)
{
	unsigned long port = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!proxy_is_digit(s[i]) || (i == 1 && s[0] == '0'))
			return 0;
		port = port * 10 + (unsigned long)(s[i] - '0');
		if (port > 65535)
			return 0;
	}
	if (!complete)
		return 1;
	if (n == 0)
		return 0;
	*(in_port_t *)out = htons((in_port_t)port);
	return 1;
}

static const struct {
	const char *name;	/* with the space that follows */
	int family;
	proxy_v1_check *check;
} proxy_v1_protocols[] = {
	{ "TCP4 ", AF_INET, proxy_v1_inet },
	{ "TCP6 ", AF_INET6, proxy_v1_inet6 },
	/* Ends at a space or at the CRLF, so none is included. */
	{ "UNKNOWN", AF_UNSPEC, NULL },
};

/*
 * Matches the literal lit at buf[*pos..n).  Returns 1 and moves *pos past
 * it, 0 if the buffer ends in a prefix of it, -1 on a mismatch.
 */
static int
proxy_v1_literal(const char *buf, size_t n, size_t *pos, const char *lit)
{
	size_t litlen = strlen(lit), have = n - *pos;

	if (have < litlen)
		return memcmp(buf + *pos, lit, have) == 0 ? 0 : -1;
	if (memcmp(buf + *pos, lit, litlen) != 0)
		return -1;
	*pos += litlen;
	return 1;
}

/*
 * The field at buf[*pos..n) that ends at the byte stop: 1 with *pos past
 * the stop byte, 0 if the buffer ends in a field that can still become
 * valid, -1 if it cannot.
 */
static int
proxy_v1_field(const char *buf, size_t n, size_t *pos, char stop,
    proxy_v1_check *check, void *out)
{
	size_t end;

	for (end = *pos; end < n && buf[end] != stop; end++)
		;
	if (end == n)
		return check(buf + *pos, n - *pos, 0, out) ? 0 : -1;
	if (!check(buf + *pos, end - *pos, 1, out))
		return -1;
	*pos = end + 1;
	return 1;
}

/*
 * What follows "UNKNOWN": the CRLF at once, or a space and anything up
 * to the CRLF, which section 2.1 says the receiver must ignore.  The
 * line must still fit in PROXY_V1_MAX_LEN, so this is where the limit
 * bites: a TCP4 or TCP6 line cannot exceed it.
 */
static int
proxy_v1_unknown(const char *buf, size_t n, size_t pos)
{
	if (pos < n && buf[pos] != ' ' && buf[pos] != '\r')
		return -1;
	for (; pos < n; pos++) {
		if (buf[pos] == '\n')
			return -1;
		if (buf[pos] != '\r')
			continue;
		if (pos + 1 == n)
			return n < PROXY_V1_MAX_LEN ? 0 : -1;
		if (buf[pos + 1] != '\n')
			return -1;
		return (int)(pos + 2);
	}
	/* The CRLF still has to fit. */
	return n + 2 <= PROXY_V1_MAX_LEN ? 0 : -1;
}

static int
proxy_v1(const char *buf, size_t len, struct sockaddr_storage *src,
    socklen_t *srclen)
{
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} saddr, daddr;
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	proxy_v1_check *check;
	in_port_t sport, dport;
	size_t i, n, pos = 0;
	int family, rv;

	/* Nothing past the limit can be part of a valid line. */
	n = len < PROXY_V1_MAX_LEN ? len : PROXY_V1_MAX_LEN;

	if ((rv = proxy_v1_literal(buf, n, &pos, "PROXY ")) != 1)
		return rv;
	rv = -1;
	for (i = 0; i < nitems(proxy_v1_protocols); i++) {
		int r = proxy_v1_literal(buf, n, &pos,
		    proxy_v1_protocols[i].name);

		if (r == 1)
			break;
		if (r == 0)
			rv = 0;
	}
	if (i == nitems(proxy_v1_protocols))
		return rv;
	family = proxy_v1_protocols[i].family;
	check = proxy_v1_protocols[i].check;

	if (family == AF_UNSPEC) {
		if ((rv = proxy_v1_unknown(buf, n, pos)) > 0) {
			memset(src, 0, sizeof(*src));
			src->ss_family = AF_UNSPEC;
			*srclen = 0;
		}
		return rv;
	}

	if ((rv = proxy_v1_field(buf, n, &pos, ' ', check, &saddr)) != 1 ||
	    (rv = proxy_v1_field(buf, n, &pos, ' ', check, &daddr)) != 1 ||
	    (rv = proxy_v1_field(buf, n, &pos, ' ', proxy_v1_port,
	    &sport)) != 1 ||
	    (rv = proxy_v1_field(buf, n, &pos, '\r', proxy_v1_port,
	    &dport)) != 1 ||
	    (rv = proxy_v1_literal(buf, n, &pos, "\n")) != 1)
		return rv;

	memset(src, 0, sizeof(*src));
	if (family == AF_INET) {
		sin = (struct sockaddr_in *)src;
		sin->sin_family = AF_INET;
		sin->sin_addr = saddr.v4;
		sin->sin_port = sport;
		*srclen = sizeof(*sin);
	} else {
		sin6 = (struct sockaddr_in6 *)src;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = saddr.v6;
		sin6->sin6_port = sport;
		*srclen = sizeof(*sin6);
	}
	return (int)pos;
}

/*
 * The address block's size for the fam byte, or 0 when the spec gives
 * none (the UNSPEC combinations).  Section 2.2, "In practice".
 */
static size_t
proxy_v2_address_len(unsigned char fam)
{
	switch (fam) {
	case 0x11:	/* TCP over IPv4 */
	case 0x12:	/* UDP over IPv4 */
		return 2 * 4 + 2 * 2;
	case 0x21:	/* TCP over IPv6 */
	case 0x22:	/* UDP over IPv6 */
		return 2 * 16 + 2 * 2;
	case 0x31:	/* UNIX stream */
	case 0x32:	/* UNIX datagram */
		return 2 * 108;
	default:
		return 0;
	}
}

static int
proxy_v2(const unsigned char *p, size_t len, struct sockaddr_storage *src,
    socklen_t *srclen)
{
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	size_t addrlen, off, tlvlen, total;
	unsigned char cmd, fam;

	if (memcmp(p, proxy_v2_signature,
	    len < sizeof(proxy_v2_signature) ? len :
	    sizeof(proxy_v2_signature)) != 0)
		return -1;
	if (len < 13)
		return 0;
	/* The version must be 2; other commands "must" be dropped. */
	cmd = p[12] & 0x0f;
	if ((p[12] & 0xf0) != 0x20 ||
	    (cmd != PROXY_V2_CMD_LOCAL && cmd != PROXY_V2_CMD_PROXY))
		return -1;
	if (len < 14)
		return 0;
	/* Families 0-3 and transports 0-2; others "must be rejected". */
	fam = p[13];
	if ((fam >> 4) > 0x3 || (fam & 0x0f) > 0x2)
		return -1;
	if (len < PROXY_V2_FIXED_LEN)
		return 0;
	total = PROXY_V2_FIXED_LEN + ((size_t)p[14] << 8 | p[15]);
	if (total > PROXY_V2_MAX_LEN)
		return -1;

	/*
	 * LOCAL discards the block, family and all (section 2.2), so only
	 * PROXY is held to its address length and TLV framing.  Each TLV
	 * length is checked as soon as its three bytes are in.
	 */
	addrlen = cmd == PROXY_V2_CMD_PROXY ? proxy_v2_address_len(fam) : 0;
	if (addrlen > 0) {
		if (total < PROXY_V2_FIXED_LEN + addrlen)
			return -1;
		off = PROXY_V2_FIXED_LEN + addrlen;
		while (off < total) {
			if (total - off < PROXY_V2_TLV_HEAD_LEN)
				return -1;
			if (len < off + PROXY_V2_TLV_HEAD_LEN)
				return 0;
			tlvlen = (size_t)p[off + 1] << 8 | p[off + 2];
			off += PROXY_V2_TLV_HEAD_LEN;
			if (tlvlen > total - off)
				return -1;
			off += tlvlen;
		}
	}
	if (len < total)
		return 0;

	memset(src, 0, sizeof(*src));
	if (cmd == PROXY_V2_CMD_PROXY && fam == 0x11) {
		sin = (struct sockaddr_in *)src;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, p + 16, 4);
		memcpy(&sin->sin_port, p + 24, 2);
		*srclen = sizeof(*sin);
	} else if (cmd == PROXY_V2_CMD_PROXY && fam == 0x21) {
		sin6 = (struct sockaddr_in6 *)src;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, p + 16, 16);
		memcpy(&sin6->sin6_port, p + 48, 2);
		*srclen = sizeof(*sin6);
	} else {
		src->ss_family = AF_UNSPEC;
		*srclen = 0;
	}
	return (int)total;
}

int
proxy_parse(const char *buf, size_t len, struct sockaddr_storage *src,
    socklen_t *srclen)
{
	if (len == 0)
		return 0;
	/* Section 2.2 tells the versions apart by their first bytes. */
	switch (buf[0]) {
	case 'P':
		return proxy_v1(buf, len, src, srclen);
	case '\r':
		return proxy_v2((const unsigned char *)buf, len, src, srclen);
	default:
		return -1;
	}
}
