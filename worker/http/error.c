/*
 * error.c: the answer to an error.  The block's own page, if it has one
 * for the status (error_page): a file under its root, from the
 * open-file cache, sent with the error's status (as nginx's "error_page
 * 404 /404.html;").  Else, or if that file is not there, the built-in
 * page: one level, never a loop.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "worker/http/file_cache.h"
#include "worker/http/response.h"

static const char *
http_error_page_uri(const struct conf_server *s, int status)
{
	size_t i;

	for (i = 0; i < s->nerror_pages; i++)
		if (s->error_pages[i].code == status)
			return s->error_pages[i].uri;
	return NULL;
}

/* 1 when the block's page answered, 0 when the built-in one must. */
static int
http_error_page(struct http_req *r, int status, const char *name,
    const char *value)
{
	static char path[HTTP_PATH_MAX + 1 + 256];
	const char *uri = http_error_page_uri(r->server, status);
	struct file_cache_entry *e;
	size_t len;

	if (uri == NULL || (len = strlen(uri)) > HTTP_PATH_MAX)
		return 0;
	memcpy(path, uri, len + 1);
	e = file_cache_get(r->server, path, len);
	if (e == NULL || !S_ISREG(e->st.st_mode)) {
		log_debug("error_page %s for %d: not a file", uri, status);
		return 0;
	}
	http_response_start(r, status, mime_type_for(uri, len,
	    r->server->default_type), (int64_t)e->st.st_size);
	if (name != NULL)
		http_response_header(r, name, value);
	http_response_end_head(r);
	http_response_file(r, e, 0, e->st.st_size);
	http_request_done(r);
	return 1;
}

void
http_respond_error_with(struct http_req *r, int status, const char *name,
    const char *value)
{
	char page[512];
	const char *text = http_status_text(status);
	int n;

	if (r->server->nerror_pages > 0 &&
	    http_error_page(r, status, name, value))
		return;
	n = snprintf(page, sizeof(page), "<!DOCTYPE html>\n<html><head>"
	    "<title>%d %s</title></head>\n<body><h1>%d %s</h1>"
	    "<p>%s</p></body></html>\n", status, text, status, text,
	    r->server->server_tokens ? "forkloop/" PACKAGE_VERSION :
	    "forkloop");
	http_response_start(r, status, "text/html; charset=utf-8", n);
	if (name != NULL)
		http_response_header(r, name, value);
	http_response_end_head(r);
	http_response_body(r, page, (size_t)n);
	http_request_done(r);
}

void
http_respond_error(struct http_req *r, int status)
{
	http_respond_error_with(r, status, NULL, NULL);
}
