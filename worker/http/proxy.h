/*
 * proxy.h: the reverse proxy's parts: proxy.c runs a proxied request
 * (its upstream connection, retries, streaming both ways); proxy_head.c
 * writes the request head sent upstream and reads the answer's head;
 * tunnel.c carries an upgraded connection (WebSocket) both ways.
 */
#ifndef FORKLOOP_HTTP_PROXY_H
#define FORKLOOP_HTTP_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "worker/http/parse.h"

struct evbuffer;
struct http_req;

/* The answer's head from an upstream, parsed (RFC 9112). */
struct proxy_field {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

#define PROXY_CONNECTION_TOKENS 16

struct proxy_response {
	int status;
	int version;			/* 10 or 11 */
	struct proxy_field fields[HTTP_MAX_HEADERS];
	size_t nfields;
	int64_t content_length;		/* -1: none */
	/* Field names that Connection lists: not passed on. */
	struct proxy_field connection[PROXY_CONNECTION_TOKENS];
	size_t nconnection;
	unsigned chunked:1;
	unsigned close:1;		/* Connection: close, or HTTP/1.0 */
	const char *error;		/* why it is refused, for the log */
};

/*
 * The length of a whole head at the start of buf (its empty line
 * included), or 0 when it is not all there.
 */
size_t proxy_head_length(const char *buf, size_t len);

/* Parses a whole head; -1 with resp->error set when it is refused. */
int proxy_response_parse(const char *buf, size_t len,
    struct proxy_response *resp);

/*
 * The request head for the upstream, into out: method, target (the
 * proxy_pass URI part in place of the location's prefix), Host, the
 * client's fields without hop-by-hop ones, X-Forwarded-For, X-Real-IP,
 * X-Forwarded-Proto, Forwarded, proxy_set_header's, and the body's
 * framing: body_len bytes (-1: chunked, 0: none).  upgrade: ask for
 * the client's Upgrade.  -1 when out of memory.
 */
int proxy_request_head(struct http_req *r, struct evbuffer *out,
    int64_t body_len, int upgrade);

/* Whether the client asked to upgrade the connection (WebSocket). */
int proxy_wants_upgrade(const struct http_req *r);

/*
 * The answer's head to the client: status, the upstream's fields less
 * hop-by-hop ones and proxy_hide_header's, Location rewritten as
 * proxy_redirect says, and length (-1: unknown).  stream: a body
 * follows, sent as it comes.
 */
void proxy_response_head(struct http_req *r, const struct proxy_response *resp,
    int64_t length, int stream);

/* The 101 answer to the client, for a tunnel. */
int proxy_switch_head(const struct proxy_response *resp, struct evbuffer *out);

#endif
