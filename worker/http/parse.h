/*
 * parse.h: the HTTP/1.1 request parser (RFC 9112), the chunked body
 * decoder, and the request-target path normaliser.  None of them
 * allocates: requests point into the caller's buffer.
 */
#ifndef FORKLOOP_HTTP_PARSE_H
#define FORKLOOP_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_MAX_HEADERS 100

enum http_method {
	HTTP_METHOD_UNKNOWN,
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_POST,
	HTTP_METHOD_PUT,
	HTTP_METHOD_DELETE,
	HTTP_METHOD_CONNECT,
	HTTP_METHOD_OPTIONS,
	HTTP_METHOD_TRACE,
	HTTP_METHOD_PATCH,
};

struct http_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

struct http_request {
	enum http_method method;
	const char *method_name;
	size_t method_len;
	const char *target;		/* as received */
	size_t target_len;
	const char *request_line;	/* for the access log */
	size_t request_line_len;
	const char *path;		/* absolute path, still percent-encoded */
	size_t path_len;		/* NULL for "*" and authority-form */
	const char *query;		/* after '?', NULL if none */
	size_t query_len;
	int version;			/* 10, 11, or 20 (HTTP/2) */

	struct http_header headers[HTTP_MAX_HEADERS];
	size_t nheaders;

	const char *host;		/* NULL if none */
	size_t host_len;
	size_t host_name_len;		/* host_len without the ":port" */
	int64_t content_length;		/* -1: none */
	unsigned chunked:1;
	unsigned keep_alive:1;
	unsigned expect_continue:1;
	/*
	 * Preconditions and Range: the first field line of each, later
	 * lines of the same name are found with http_header_next().
	 */
	const struct http_header *if_none_match;
	const struct http_header *if_modified_since;
	const struct http_header *range;
	const struct http_header *if_range;
	const struct http_header *if_match;
	const struct http_header *if_unmodified_since;
	/* For the access log: the last line of each. */
	const struct http_header *user_agent;
	const struct http_header *referer;

	int status;			/* the error status when parsing fails */
	const char *error;		/* and why, for the error log */
};

/*
 * The length of the request head at the start of buf, including the empty
 * line that ends it, or 0 if it is not all there yet.  *scanned remembers
 * how far earlier calls looked, so a head arriving a byte at a time is
 * not scanned again from the start.
 */
size_t http_head_length(const char *buf, size_t len, size_t *scanned);

/*
 * Whether the start of a head that is not all there yet can already be
 * refused: a method that is not a token (RFC 9112, 3: a TLS ClientHello,
 * say), or a whole request line without an HTTP-version (HTTP/0.9, which
 * is not served).  Such a client gets its 400 at once, not at the header
 * timeout.
 */
int http_head_hopeless(const char *buf, size_t len);

/* Empties req: no method, no request line, no fields (HTTP/1.1). */
void http_request_reset(struct http_request *req);

/*
 * Parses a complete head of len bytes (from http_head_length).  Returns 0,
 * or -1 with req->status (400, 417, 431, 501, 505) and req->error set.
 */
int http_parse_request(const char *buf, size_t len, struct http_request *req);

/* For HTTP/2, whose framing library parsed the fields (RFC 9113 8.3). */
int http_request_set_line(struct http_request *req, const char *method,
    size_t method_len, const char *target, size_t target_len, int version);
int http_request_add_field(struct http_request *req, const char *name,
    size_t name_len, const char *value, size_t value_len);
int http_request_set_authority(struct http_request *req, const char *host,
    size_t len);
/* Once the fields are in: -1 (400) when the target's host is empty. */
int http_request_check_host(struct http_request *req);

/* Chunked transfer coding, RFC 9112 section 7.1. */
struct http_chunked {
	int state;
	uint64_t remaining;	/* data bytes left in this chunk */
	size_t line_len;	/* bytes in the current size or trailer line */
	size_t trailer_len;
};

enum {
	HTTP_CHUNKED_MORE = 0,	/* consumed input, wants more */
	HTTP_CHUNKED_DONE = 1,	/* the last chunk and trailers are read */
	HTTP_CHUNKED_ERROR = -1,
};

/*
 * Decodes from in[0..len).  Sets *consumed, and *data and *data_len to the body
 * bytes found (pointing into in, possibly none).  Call again with the rest
 * until it returns DONE or ERROR.  Trailer fields are skipped.
 */
int http_chunked_decode(struct http_chunked *c, const char *in, size_t len,
    size_t *consumed, const char **data, size_t *data_len);

/*
 * Percent-decodes path[0..len) once and removes dot segments (RFC 3986
 * section 5.2.4), merging repeated slashes, into out (at least len + 1
 * bytes).  Returns the length written, or -1 when the path is malformed,
 * holds a NUL, or climbs above "/".
 */
ssize_t http_path_normalize(const char *path, size_t len, char *out);

/* Percent-decodes once; -1 on a bad escape or a NUL.  out: len + 1. */
ssize_t http_percent_decode(const char *in, size_t len, char *out);

int http_token_equal(const char *s, size_t len, const char *lower);
/* tchar (RFC 9110 5.6.2): a byte a token may hold. */
int http_is_tchar(unsigned char c);

/*
 * The next field line after h with the same name, or NULL.  The lines of
 * a list field are one list (RFC 9110 section 5.3); a singleton field
 * with a second line has an invalid value.
 */
const struct http_header *http_header_next(const struct http_request *req,
    const struct http_header *h);

#endif
