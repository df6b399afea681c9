/*
 * response.c: answering a request: its head, built in one flat buffer
 * and handed to the protocol in one piece, and its body.  What a block
 * adds to every answer (add_header, expires) is added here, so it holds
 * for every handler.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "common/log.h"
#include "worker/http/decimal.h"
#include "worker/http/response.h"
#include "worker/http/vars.h"

/* Room for a Location of the longest path and query, plus the rest. */
#define HTTP_HEAD_MAX (3 * HTTP_PATH_MAX)
/* An add_header value with variables is cut at this. */
#define HTTP_ADD_HEADER_MAX (8 * 1024)

static char http_head[HTTP_HEAD_MAX];
static size_t http_head_len;
/* The head was full: the field being added, and all after it, left out. */
static int http_head_full;

static const struct {
	int status;
	const char *text;
} http_statuses[] = {
	{ 100, "Continue" },
	{ 101, "Switching Protocols" },
	{ 200, "OK" },
	{ 201, "Created" },
	{ 202, "Accepted" },
	{ 203, "Non-Authoritative Information" },
	{ 204, "No Content" },
	{ 205, "Reset Content" },
	{ 206, "Partial Content" },
	{ 207, "Multi-Status" },
	{ 300, "Multiple Choices" },
	{ 301, "Moved Permanently" },
	{ 302, "Found" },
	{ 303, "See Other" },
	{ 304, "Not Modified" },
	{ 307, "Temporary Redirect" },
	{ 308, "Permanent Redirect" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 402, "Payment Required" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 406, "Not Acceptable" },
	{ 407, "Proxy Authentication Required" },
	{ 408, "Request Timeout" },
	{ 409, "Conflict" },
	{ 410, "Gone" },
	{ 411, "Length Required" },
	{ 412, "Precondition Failed" },
	{ 413, "Content Too Large" },
	{ 414, "URI Too Long" },
	{ 415, "Unsupported Media Type" },
	{ 416, "Range Not Satisfiable" },
	{ 417, "Expectation Failed" },
	{ 421, "Misdirected Request" },
	{ 422, "Unprocessable Content" },
	{ 425, "Too Early" },
	{ 426, "Upgrade Required" },
	{ 428, "Precondition Required" },
	{ 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 451, "Unavailable For Legal Reasons" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
	{ 505, "HTTP Version Not Supported" },
};

const char *
http_status_text(int status)
{
	size_t i;

	for (i = 0; i < sizeof(http_statuses) / sizeof(http_statuses[0]); i++)
		if (http_statuses[i].status == status)
			return http_statuses[i].text;
	return "Unknown";
}

static void
http_head_add(const char *s, size_t len)
{
	if (http_head_full)
		return;
	/*
	 * Heads are built from bounded parts, but add_header values with
	 * variables (8 KiB each) can add up: the head then ends at the last
	 * whole field, so it stays well-formed; http_response_end_head()
	 * logs it.
	 */
	if (http_head_len + len > sizeof(http_head)) {
		http_head_full = 1;
		while (http_head_len > 0 && http_head[http_head_len - 1] != '\n')
			http_head_len--;
		return;
	}
	memcpy(http_head + http_head_len, s, len);
	http_head_len += len;
}

static void
http_head_adds(const char *s)
{
	http_head_add(s, strlen(s));
}

static void
http_head_add_uint(uint64_t v)
{
	char digits[20];

	http_head_add(digits, http_decimal(digits, v));
}

void
http_response_start(struct http_req *r, int status,
    const char *content_type, int64_t content_length)
{
	r->status = status;
	http_head_len = 0;
	http_head_full = 0;
	http_head_add("HTTP/1.1 ", 9);
	http_head_add_uint((uint64_t)status);
	http_head_add(" ", 1);
	http_head_adds(http_status_text(status));
	/* server_tokens, as nginx: the version unless it is off. */
	http_head_adds(r->server->server_tokens ?
	    "\r\nServer: forkloop/" PACKAGE_VERSION "\r\nDate: " :
	    "\r\nServer: forkloop\r\nDate: ");
	http_head_adds(http_date_now());
	http_head_add("\r\n", 2);
	if (content_type != NULL) {
		http_head_adds("Content-Type: ");
		http_head_adds(content_type);
		http_head_add("\r\n", 2);
	}
	if (content_length >= 0) {
		http_head_add("Content-Length: ", 16);
		http_head_add_uint((uint64_t)content_length);
		http_head_add("\r\n", 2);
	}
}

void
http_response_header(struct http_req *r, const char *name, const char *value)
{
	(void)r;
	http_head_adds(name);
	http_head_add(": ", 2);
	http_head_adds(value);
	http_head_add("\r\n", 2);
}

/* Adds ready-made header lines, each ending in CRLF. */
void
http_response_raw(struct http_req *r, const char *lines, size_t len)
{
	(void)r;
	http_head_add(lines, len);
}

/* nginx adds headers and expiry to these unless "always" is given. */
static int
http_response_cacheable(int status)
{
	switch (status) {
	case 200: case 201: case 204: case 206:
	case 301: case 302: case 303: case 304: case 307: case 308:
		return 1;
	default:
		return 0;
	}
}

/* expires: Expires and Cache-Control, as nginx writes them. */
static void
http_response_expires(const struct conf_server *s)
{
	char date[30], age[48];

	switch (s->expires) {
	case CONF_EXPIRES_OFF:
		return;
	case CONF_EXPIRES_EPOCH:
		http_head_adds("Expires: Thu, 01 Jan 1970 00:00:01 GMT\r\n"
		    "Cache-Control: no-cache\r\n");
		return;
	case CONF_EXPIRES_MAX:
		http_head_adds("Expires: Thu, 31 Dec 2037 23:55:55 GMT\r\n"
		    "Cache-Control: max-age=315360000\r\n");
		return;
	case CONF_EXPIRES_TIME:
		http_format_date(time(NULL) + (time_t)s->expires_sec, date);
		snprintf(age, sizeof(age), "max-age=%lld", s->expires_sec);
		http_response_header(NULL, "Expires", date);
		http_response_header(NULL, "Cache-Control", age);
		return;
	}
}

/* An add_header with variables; not sent when it comes out empty, as
 * nginx's. */
static void
http_response_add_text(struct http_req *r, const struct conf_header *h)
{
	static char value[HTTP_ADD_HEADER_MAX];

	if (http_vars_expand_field(r, h->text, value, sizeof(value)) > 0)
		http_response_header(r, h->name, value);
}

/* What the block adds to its answers: add_header and expires. */
static void
http_response_block_headers(struct http_req *r)
{
	const struct conf_server *s = r->server;
	int ok = http_response_cacheable(r->status);
	size_t i;

	if (ok)
		http_response_expires(s);
	for (i = 0; i < s->nadd_headers; i++) {
		const struct conf_header *h = &s->add_headers[i];

		if (!ok && !h->always)
			continue;
		if (h->text != NULL)
			http_response_add_text(r, h);
		else
			http_response_header(r, h->name, h->value);
	}
}

/* The protocol could not take all of the answer: it ends broken. */
static void
http_response_broken(struct http_req *r, const char *what)
{
	log_warnx("cannot queue a response %s", what);
	r->close = 1;
}

void
http_response_end_head(struct http_req *r)
{
	if (r->server->nadd_headers > 0 ||
	    r->server->expires != CONF_EXPIRES_OFF)
		http_response_block_headers(r);
	r->head_sent = 1;
	if (http_head_full)
		log_warnx("the head of an answer to \"%.*s\" is over %zu "
		    "bytes: the fields past that were left out", (int)
		    (r->path_len < 200 ? r->path_len : 200), r->path,
		    sizeof(http_head));
	if (r->proto->head(r, http_head, http_head_len) == -1)
		http_response_broken(r, "head");
}

void
http_response_body(struct http_req *r, const void *data, size_t len)
{
	if (http_req_is_head(r) || len == 0)
		return;
	if (r->proto->data(r, data, len) == -1) {
		http_response_broken(r, "body");
		return;
	}
	r->sent_body += len;
}

/* Moves all of buf into the answer (and empties it for a HEAD). */
void
http_response_buffer(struct http_req *r, struct evbuffer *buf)
{
	size_t len = evbuffer_get_length(buf);

	if (http_req_is_head(r) || len == 0) {
		evbuffer_drain(buf, len);
		return;
	}
	if (r->proto->buffer(r, buf) == -1) {
		http_response_broken(r, "body");
		return;
	}
	r->sent_body += len;
}

void
http_response_file(struct http_req *r, struct file_cache_entry *e,
    off_t start, off_t len)
{
	if (http_req_is_head(r) || len == 0)
		return;
	if (r->proto->file(r, e, start, len) == -1) {
		http_response_broken(r, "file");
		return;
	}
	r->sent_body += (uint64_t)len;
}

/* The answer is queued; r belongs to its protocol again, which may
 * free it at once. */
void
http_request_done(struct http_req *r)
{
	r->proto->done(r);
}

/* The handler answers later, from an event of its own. */
void
http_request_wait(struct http_req *r)
{
	r->waiting = 1;
}

void
http_respond_simple(struct http_req *r, int status, const char *content_type,
    const char *body, size_t len)
{
	http_response_start(r, status, content_type, (int64_t)len);
	http_response_end_head(r);
	http_response_body(r, body, len);
	http_request_done(r);
}

void
http_response_stream(struct http_req *r, int length_known)
{
	r->live_out = 1;
	r->stream_out = !length_known;
}

size_t
http_response_pending(struct http_req *r)
{
	return r->proto->pending(r);
}

void
http_response_flush(struct http_req *r)
{
	r->proto->flush(r);
}

void
http_request_body_resume(struct http_req *r)
{
	r->proto->body_resume(r);
}
