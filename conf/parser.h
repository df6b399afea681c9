/*
 * parser.h: what the config parser (parse.c: statements, blocks, errors),
 * its directive table (directives.c: what each directive stores) and the
 * files it reads (include.c) share.  Not for use outside conf/.
 */
#ifndef FORKLOOP_CONF_PARSER_H
#define FORKLOOP_CONF_PARSER_H

#include <stddef.h>

#include "conf/conf.h"
#include "conf/lex.h"

/* Where a directive may appear. */
#define CTX_MAIN	0x01
#define CTX_HTTP	0x02
#define CTX_ECHO	0x04
#define CTX_CHAT	0x08
#define CTX_SERVER	(CTX_HTTP | CTX_ECHO | CTX_CHAT)
#define CTX_LOCATION	0x10	/* location { } inside http */
#define CTX_UPSTREAM	0x20	/* upstream NAME { } */

#define DIR_BLOCK	0x01	/* opens a { } block, no ; */
#define DIR_MULTI	0x02	/* may repeat in one block */

#define ARGS_ANY	-1

/* Where a directive's value goes: its field in struct conf or conf_server. */
#define IN_CONF(field)		offsetof(struct conf, field)
#define IN_SERVER(field)	offsetof(struct conf_server, field)
#define IN_UPSTREAM(field)	offsetof(struct conf_upstream, field)

struct stmt {
	char **argv;		/* argv[0] is the directive's name */
	int *lines;		/* the line of each word */
	size_t argc;
	size_t cap;
	enum lex_type end;	/* what ended it: ; { } or end of file */
	int end_line;
};

struct parser {
	struct lex lex;		/* of the file being read (include.c) */
	const char *basedir;	/* relative paths start here; or NULL */
	char *err;
	size_t errlen;
	int last_line;		/* of the end of file */
	int depth;		/* includes being read, one inside another */
	struct conf *conf;
	struct conf_server *server;	/* the block being read */
	int ctx;			/* the body being read: its CTX_ */
	unsigned char *seen;		/* and the directives it has had */
	int in_location;		/* reading a location's body */
	/* The regex of the location being read: its named groups are
	 * variables in its texts.  NULL elsewhere. */
	const struct conf_regex *regex;
	struct conf_upstream *upstream;	/* the upstream block being read */
	unsigned char *seen_out;	/* gets the body's "seen" flags */
	char msg[CONF_ERR_LEN];	/* a value_ function's error */
};

/* set() gets the field at offset inside struct conf (main) or the server. */
struct directive {
	const char *name;
	int where;
	int flags;
	int min_args;
	int max_args;
	int (*set)(struct parser *, struct stmt *, void *);
	size_t offset;
};

/* Room for the "seen" flags of one block; directives.c checks the count. */
#define DIRECTIVES_MAX	160

int conf_perr(struct parser *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
int conf_parse_body(struct parser *, int);
int conf_parse_stmts(struct parser *, int);
char *conf_pstrdup(struct parser *, int, const char *);

const struct directive *directive_find(const char *);
size_t directive_index(const struct directive *);
void *conf_grow(struct parser *, int, void *, size_t, size_t);
int conf_set_string(struct parser *, struct stmt *, void *);
int conf_set_path(struct parser *, struct stmt *, void *);
int conf_set_path_or_off(struct parser *, struct stmt *, void *);

/* server.c */
int conf_set_http(struct parser *, struct stmt *, void *);
int conf_set_echo(struct parser *, struct stmt *, void *);
int conf_set_chat(struct parser *, struct stmt *, void *);
int conf_set_listen(struct parser *, struct stmt *, void *);
int conf_set_server_name(struct parser *, struct stmt *, void *);
int conf_set_ssl_certificate(struct parser *, struct stmt *, void *);
int conf_set_ssl_certificate_key(struct parser *, struct stmt *, void *);
int conf_set_ssl_protocols(struct parser *, struct stmt *, void *);
int conf_set_ssl_ciphers(struct parser *, struct stmt *, void *);
int conf_set_ssl_ecdh_curve(struct parser *, struct stmt *, void *);

/* response.c */
int conf_set_add_header(struct parser *, struct stmt *, void *);
int conf_set_error_page(struct parser *, struct stmt *, void *);
int conf_set_expires(struct parser *, struct stmt *, void *);
int conf_set_return(struct parser *, struct stmt *, void *);

/* location.c */
int conf_set_location(struct parser *, struct stmt *, void *);
int conf_locations_finish(struct parser *, struct conf_server *);
int conf_set_try_files(struct parser *, struct stmt *, void *);
int conf_set_access(struct parser *, struct stmt *, void *);
int conf_set_log_format(struct parser *, struct stmt *, void *);
int conf_log_formats_resolve(struct parser *);
void conf_log_format_free(struct conf_log_format *);
void conf_try_files_free(struct conf_server *);
void conf_locations_number(struct conf *);

/* auth.c */
int conf_set_auth_basic(struct parser *, struct stmt *, void *);
int conf_set_auth_user_file(struct parser *, struct stmt *, void *);
int conf_auth_check(struct parser *, const struct conf_server *);
void conf_htpasswd_free(struct conf_htpasswd *);

/* upstream.c */
int conf_set_upstream(struct parser *, struct stmt *, void *);
int conf_set_upstream_server(struct parser *, struct stmt *, void *);
int conf_set_keepalive_timeout(struct parser *, struct stmt *, void *);
int conf_set_proxy_pass(struct parser *, struct stmt *, void *);
int conf_set_proxy_header(struct parser *, struct stmt *, void *);
int conf_set_proxy_hide_header(struct parser *, struct stmt *, void *);
int conf_set_proxy_redirect(struct parser *, struct stmt *, void *);
int conf_set_proxy_http_version(struct parser *, struct stmt *, void *);
int conf_upstreams_resolve(struct parser *);
void conf_upstreams_free(struct conf *);
/* What conf_proxy_free() frees: a block all, a location what it set. */
#define PROXY_OWN_PASS		0x01
#define PROXY_OWN_HEADERS	0x02
#define PROXY_OWN_HIDE		0x04
#define PROXY_OWN_ALL		0x07
void conf_proxy_free(struct conf_server *, unsigned);
/* chat.c */
int conf_set_redis(struct parser *, struct stmt *, void *);
int conf_set_redis_password(struct parser *, struct stmt *, void *);
int conf_set_redis_db(struct parser *, struct stmt *, void *);
int conf_set_redis_channel(struct parser *, struct stmt *, void *);
int conf_set_chat_history(struct parser *, struct stmt *, void *);
int conf_chat_finish(struct parser *, struct conf_server *);
void conf_chat_free(struct conf_server *);
int conf_set_websocket(struct parser *, struct stmt *, void *);
int conf_websockets_resolve(struct parser *);

/* limit.c */
int conf_set_limit_zone(struct parser *, struct stmt *, void *);
int conf_set_limit_req(struct parser *, struct stmt *, void *);
int conf_set_limit_conn(struct parser *, struct stmt *, void *);
int conf_set_limit_status(struct parser *, struct stmt *, void *);
int conf_limits_resolve(struct parser *);
void conf_limit_reqs_free(struct conf_server *);
void conf_limit_conns_free(struct conf_server *);
void conf_limit_zones_free(struct conf *);

/* real_ip.c, and the CIDR rules it shares with access.c */
int conf_cidr_parse(const char *, struct conf_access *);
int conf_set_real_ip_from(struct parser *, struct stmt *, void *);
int conf_set_real_ip_header(struct parser *, struct stmt *, void *);
int conf_set_real_ip_recursive(struct parser *, struct stmt *, void *);
void conf_real_ip_resolve(struct conf *);
void conf_real_ip_free(struct conf_server *);

/* include.c */
int conf_set_include(struct parser *, struct stmt *, void *);
int conf_source_add(struct parser *, const char *, const char *, size_t,
    int);
void conf_sources_free(struct conf *);
char *conf_read_file(const char *, int, size_t *, char *, size_t);

/* nginx.c */
const char *conf_nginx_alias(const char *);
const char *conf_nginx_hint(const char *);

#endif
