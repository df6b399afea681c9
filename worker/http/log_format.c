/*
 * log_format.c: a request's access-log line in a log_format of the
 * config's (conf/log_format.c made its parts): each variable filled in
 * from the request, escaped as the format says (nginx's default \xHH for
 * '"', '\' and bytes outside printable ASCII, json, or none).  The line
 * is made when the answer is queued; $body_bytes_sent, known only once
 * the answer has gone, is left a gap that access_log.c fills in.
 */
#include "config.h"

#include <sys/time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/vhosts.h"
#include "worker/http/access_log.h"
#include "worker/http/date.h"
#include "worker/http/decimal.h"
#include "worker/http/req.h"
#include "worker/net/tls.h"

struct log_out {
	char *buf;
	size_t len, max;
	enum conf_log_escape escape;
};

/* Printable ASCII but '"' and '\\': what nginx's escaping leaves
 * alone (one row of the table per 16 byte values). */
static const unsigned char http_log_plain[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/*
 * Appends s[0..len), escaped as nginx's default does (\xHH for '"', '\'
 * and bytes outside printable ASCII), to out; returns the new length.
 * The combined format (access_log.c) and log_format lines both use it.
 */
size_t
http_log_escape(char *out, size_t o, size_t max, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0;

	while (i < len && o + 4 < max) {
		size_t run = 0, limit = max - 4 - o;
		unsigned char ch;

		/* A run of bytes that go as they are, copied at once. */
		if (limit > len - i)
			limit = len - i;
		while (run < limit && http_log_plain[(unsigned char)s[i + run]])
			run++;
		memcpy(out + o, s + i, run);
		o += run;
		i += run;
		if (i == len || o + 4 >= max)
			break;
		ch = (unsigned char)s[i++];
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[ch >> 4];
		out[o++] = hex[ch & 15];
	}
	return o;
}

/* $time_local, formatted once a second, not once a line. */
const char *
http_log_time_local(void)
{
	static char text[40];
	static time_t last;
	time_t now = time(NULL);
	struct tm tm;

	if (now != last) {
		last = now;
		localtime_r(&now, &tm);
		strftime(text, sizeof(text), "%d/%b/%Y:%H:%M:%S %z", &tm);
	}
	return text;
}

/* $remote_addr: the client's address, the PROXY source if one came. */
void
http_log_peer(const struct http_req *r, char *out, size_t len)
{
	const struct sockaddr *sa = r->peer;
	const void *addr;

	if (sa->sa_family == AF_INET && len >= INET_ADDRSTRLEN) {
		/* By hand: glibc's inet_ntop goes through sprintf. */
		const unsigned char *b = (const unsigned char *)
		    &((const struct sockaddr_in *)sa)->sin_addr;
		size_t o = 0;

		for (int i = 0; i < 4; i++) {
			if (i > 0)
				out[o++] = '.';
			o += http_decimal(out + o, b[i]);
		}
		out[o] = '\0';
		return;
	}
	if (sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	else
		addr = &((const struct sockaddr_in *)sa)->sin_addr;
	if (inet_ntop(sa->sa_family, addr, out, (socklen_t)len) == NULL)
		snprintf(out, len, "-");
}

static void
log_put_raw(struct log_out *o, const char *s, size_t len)
{
	if (len > o->max - o->len)
		len = o->max - o->len;
	memcpy(o->buf + o->len, s, len);
	o->len += len;
}

/* A value from the request: escaped as the format says. */
static void
log_put(struct log_out *o, const char *s, size_t len)
{
	size_t i;

	if (o->escape == CONF_LOG_ESCAPE_NONE) {
		log_put_raw(o, s, len);
		return;
	}
	if (o->escape == CONF_LOG_ESCAPE_DEFAULT) {
		o->len = http_log_escape(o->buf, o->len, o->max, s, len);
		return;
	}
	for (i = 0; i < len && o->len + 6 < o->max; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			o->buf[o->len++] = '\\';
			o->buf[o->len++] = (char)ch;
		} else if (ch < 0x20) {
			o->len += (size_t)snprintf(o->buf + o->len, 7,
			    "\\u%04x", ch);
		} else {
			o->buf[o->len++] = (char)ch;
		}
	}
}

/* nginx's $host: lower case. */
static void
log_put_lower(struct log_out *o, const char *s, size_t len)
{
	char low[256];
	size_t i;

	if (len > sizeof(low))
		len = sizeof(low);
	for (i = 0; i < len; i++)
		low[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
	log_put(o, low, len);
}

static void
log_puts(struct log_out *o, const char *s)
{
	log_put(o, s, strlen(s));
}

/* "-" for a value that is not there, as nginx writes it. */
static void
log_put_or_dash(struct log_out *o, const char *s, size_t len)
{
	if (s == NULL || len == 0)
		log_put_raw(o, "-", 1);
	else
		log_put(o, s, len);
}

static void
log_put_field(struct log_out *o, const struct http_request *h,
    const struct conf_log_part *p)
{
	size_t i;

	for (i = 0; i < h->nheaders; i++)
		if (http_token_equal(h->headers[i].name,
		    h->headers[i].name_len, p->text)) {
			log_put_or_dash(o, h->headers[i].value,
			    h->headers[i].value_len);
			return;
		}
	log_put_raw(o, "-", 1);
}

static void
log_put_time(struct log_out *o, const char *fmt)
{
	char text[48];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	log_put_raw(o, text, strftime(text, sizeof(text), fmt, &tm));
}

static void
log_put_peer(struct log_out *o, const struct http_req *r)
{
	char text[INET6_ADDRSTRLEN];

	http_log_peer(r, text, sizeof(text));
	log_puts(o, text);
}

static void
log_put_request_uri(struct log_out *o, const struct http_request *h)
{
	size_t len;

	if (h->path == NULL) {
		log_put_or_dash(o, h->target, h->target_len);
		return;
	}
	len = h->path_len;
	if (h->query != NULL)
		len = (size_t)(h->query + h->query_len - h->path);
	log_put(o, h->path, len);
}

static void
log_put_number(struct log_out *o, const char *fmt, double v)
{
	char text[32];
	int n = snprintf(text, sizeof(text), fmt, v);

	if (n > 0)
		log_put_raw(o, text, (size_t)n);
}

/*
 * The proxy's figures, as nginx writes them: one per server tried,
 * joined by ", " ("10.0.0.1:80, 10.0.0.2:80"; "502, 200"); "-" for a
 * request no upstream saw, or a try without a status or a time.
 */
static void
log_put_upstream(struct log_out *o, const struct http_req *r, int var)
{
	unsigned k, n = r->upstream_tries;

	if (n == 0) {
		log_puts(o, "-");
		return;
	}
	if (n > HTTP_UPSTREAM_TRIES)
		n = HTTP_UPSTREAM_TRIES;
	for (k = 0; k < n; k++) {
		if (k > 0)
			log_put_raw(o, ", ", 2);
		if (var == CONF_LOG_UPSTREAM_ADDR)
			log_puts(o, r->upstream_addr[k]);
		else if (var == CONF_LOG_UPSTREAM_STATUS &&
		    r->upstream_status[k] > 0)
			log_put_number(o, "%.0f", (double)r->upstream_status[k]);
		else if (var == CONF_LOG_UPSTREAM_RESPONSE_TIME &&
		    r->upstream_ms[k] >= 0)
			log_put_number(o, "%.3f", r->upstream_ms[k] / 1000.0);
		else
			log_puts(o, "-");
	}
}

static void
log_put_var(struct log_out *o, const struct http_req *r,
    const struct conf_log_part *p, double started)
{
	const struct http_request *h = &r->head;
	int tls = http_req_is_tls(r);
	struct timeval tv;

	switch (p->var) {
	case CONF_LOG_LITERAL:
		log_put_raw(o, p->text, p->len);
		break;
	case CONF_LOG_REMOTE_ADDR:
		log_put_peer(o, r);
		break;
	case CONF_LOG_REMOTE_USER:
		/* auth_basic's user; the name is the user file's, yet
		 * escaped as any other value. */
		if (r->remote_user != NULL)
			log_put(o, r->remote_user,
			    strlen(r->remote_user));
		else
			log_put_raw(o, "-", 1);
		break;
	case CONF_LOG_TIME_LOCAL:
		log_puts(o, http_log_time_local());
		break;
	case CONF_LOG_TIME_ISO8601:
		log_put_time(o, "%Y-%m-%dT%H:%M:%S%z");
		break;
	case CONF_LOG_MSEC:
		gettimeofday(&tv, NULL);
		log_put_number(o, "%.3f", (double)tv.tv_sec +
		    (double)tv.tv_usec / 1e6);
		break;
	case CONF_LOG_REQUEST:
		log_put_or_dash(o, h->request_line, h->request_line_len);
		break;
	case CONF_LOG_REQUEST_METHOD:
		log_put_or_dash(o, h->method_name, h->request_line != NULL ?
		    h->method_len : 0);
		break;
	case CONF_LOG_REQUEST_URI:
		log_put_request_uri(o, h);
		break;
	case CONF_LOG_URI:
		log_put_or_dash(o, r->has_path ? r->path : NULL, r->path_len);
		break;
	case CONF_LOG_ARGS:
		log_put_or_dash(o, h->query, h->query_len);
		break;
	case CONF_LOG_STATUS:
		log_put_number(o, "%.0f", (double)r->status);
		break;
	case CONF_LOG_BODY_BYTES_SENT:
		break;	/* the gap: access_log.c */
	case CONF_LOG_REQUEST_TIME:
		/* The clock of the start (request.c), never below 0. */
		log_put_number(o, "%.3f", http_clock() > started ?
		    http_clock() - started : 0);
		break;
	case CONF_LOG_HOST:
		if (h->host != NULL)
			log_put_lower(o, h->host, conf_host_len(h->host,
			    h->host_len));
		else if (r->server->nserver_names > 0)
			log_puts(o, r->server->server_names[0]);
		else
			log_put_raw(o, "-", 1);
		break;
	case CONF_LOG_SERVER_NAME:
		log_puts(o, r->server->nserver_names > 0 ?
		    r->server->server_names[0] : "");
		break;
	case CONF_LOG_SERVER_PROTOCOL:
		log_puts(o, h->version == 20 ? "HTTP/2.0" : h->version == 10 ?
		    "HTTP/1.0" : "HTTP/1.1");
		break;
	case CONF_LOG_SCHEME:
		log_puts(o, tls ? "https" : "http");
		break;
	case CONF_LOG_SSL_PROTOCOL:
		log_puts(o, tls ? net_tls_protocol(r->net) : "-");
		break;
	case CONF_LOG_SSL_CIPHER:
		log_puts(o, tls ? net_tls_cipher(r->net) : "-");
		break;
	case CONF_LOG_SSL_SESSION_REUSED:
		log_puts(o, !tls ? "-" : net_tls_reused(r->net) ? "r" : ".");
		break;
	case CONF_LOG_PID:
		log_put_number(o, "%.0f", (double)getpid());
		break;
	case CONF_LOG_UPSTREAM_ADDR:
	case CONF_LOG_UPSTREAM_STATUS:
	case CONF_LOG_UPSTREAM_RESPONSE_TIME:
		log_put_upstream(o, r, p->var);
		break;
	case CONF_LOG_HTTP_FIELD:
		log_put_field(o, h, p);
		break;
	}
}

/*
 * r's line in format f, ending in a newline, into line (max bytes).
 * *split is where $body_bytes_sent goes (its first use), or SIZE_MAX
 * when the format has none.  Returns the length.
 */
size_t
http_log_format(const struct http_req *r, const struct conf_log_format *f,
    char *line, size_t max, size_t *split)
{
	struct log_out o = { line, 0, max - 1, f->escape };
	size_t i;

	*split = SIZE_MAX;
	for (i = 0; i < f->nparts; i++) {
		if (f->parts[i].var == CONF_LOG_BODY_BYTES_SENT &&
		    *split == SIZE_MAX)
			*split = o.len;
		log_put_var(&o, r, &f->parts[i], r->started);
	}
	line[o.len++] = '\n';
	return o.len;
}
