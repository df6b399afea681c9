/*
 * conf.h: the parsed configuration of forkloop.
 *
 * The master parses the file (conf/parse.c) and forks the workers, which
 * inherit the parsed tree; so master and worker both read these structs,
 * and nothing in them points into the master's own state.
 */
#ifndef FORKLOOP_CONF_H
#define FORKLOOP_CONF_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

struct conf_vhosts;
struct tls_server;

#define CONF_ERR_LEN 512

enum conf_server_kind {
	CONF_SERVER_HTTP,
	CONF_SERVER_ECHO,
	CONF_SERVER_CHAT,
};
#define CONF_SERVER_KINDS 3

enum conf_route_handler {
	CONF_ROUTE_HELLO,
	CONF_ROUTE_DELAY,
	CONF_ROUTE_ECHO,
	CONF_ROUTE_STATUS,
};

enum conf_log_level {
	CONF_LOG_DEBUG,
	CONF_LOG_INFO,
	CONF_LOG_WARN,
	CONF_LOG_ERROR,
};

struct conf_listen {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char text[80];		/* canonical form for logs: 127.0.0.1:8080, [::1]:8080 */
	int proxy_protocol;	/* "listen ADDR proxy_protocol;" */
	int ssl;		/* "listen ADDR ssl;" */
	int line;		/* where it was written: see conf_where() */
	int default_server;	/* "listen ADDR default_server;" */
	/*
	 * Several http blocks may share one address; the request's Host (and
	 * SNI for TLS) then chooses among them.  Only the first listen of an
	 * address is bound (repeat 0); vhosts lists every block on it.
	 */
	int repeat;
	struct conf_vhosts *vhosts;	/* conf/vhosts.c */
};

/* TLS versions, for ssl_protocols. */
#define CONF_TLS_1_2	0x01
#define CONF_TLS_1_3	0x02

/* One ssl_certificate with its ssl_certificate_key. */
struct conf_regex;

struct conf_tls_cert {
	char *cert;
	char *key;		/* NULL until its ssl_certificate_key */
	int cert_line;
	int key_line;
};

/* The variables a text may hold (return), with nginx's names. */
enum conf_var {
	CONF_VAR_LITERAL,	/* no variable: the part's text */
	CONF_VAR_SCHEME,	/* $scheme: http or https */
	CONF_VAR_HOST,		/* $host: the request's host, lower case */
	CONF_VAR_REQUEST_URI,	/* $request_uri: path and query, as sent */
	CONF_VAR_URI,		/* $uri: the decoded, normalised path */
	CONF_VAR_ARGS,		/* $args: the query, without "?" */
	CONF_VAR_SERVER_NAME,	/* $server_name: the block's first name */
	CONF_VAR_REMOTE_ADDR,	/* $remote_addr: the client's address */
	CONF_VAR_PROXY_HOST,	/* $proxy_host: proxy_pass's host[:port] */
	CONF_VAR_PROXY_ADD_XFF,	/* $proxy_add_x_forwarded_for */
	CONF_VAR_HTTP_FIELD,	/* $http_NAME: literal holds NAME */
	CONF_VAR_CAPTURE,	/* $1..$9, or a named group: len holds the
				 * group's number (conf/regex.h) */
};

/* The codes whose "return" text is a Location. */
static inline int
conf_return_is_redirect(int code)
{
	return code == 301 || code == 302 || code == 303 || code == 307 ||
	    code == 308;
}

/* A text with variables, as parts in order. */
struct conf_text_part {
	enum conf_var var;
	char *literal;		/* CONF_VAR_LITERAL only */
	size_t len;
};

struct conf_text {
	struct conf_text_part *parts;
	size_t nparts;
};

/* add_header NAME VALUE [always] */
struct conf_header {
	char *name;
	char *value;
	struct conf_text *text;	/* value with variables, or NULL */
	int always;		/* on every status, not only the successful */
};

/* error_page CODE ... URI: one entry per code. */
struct conf_error_page {
	int code;
	char *uri;		/* a path under the block's root */
};

enum conf_expires {
	CONF_EXPIRES_OFF,
	CONF_EXPIRES_TIME,	/* now + expires_sec, max-age */
	CONF_EXPIRES_EPOCH,	/* 1970, no-cache */
	CONF_EXPIRES_MAX,	/* 2037, ten years */
};

/* autoindex_format: what a folder listing is written in. */
enum conf_autoindex_format {
	CONF_AUTOINDEX_HTML,
	CONF_AUTOINDEX_JSON,
};

enum conf_access_format {
	CONF_ACCESS_COMBINED,
	CONF_ACCESS_COMBINED_SSL,	/* combined, then protocol, cipher, reuse */
};

struct conf_route {
	char *prefix;		/* "/hello/" */
	size_t prefix_len;
	enum conf_route_handler handler;
};

struct conf_server;

/* log_format NAME [escape=...] STRING ...; (log_format.c) */
enum conf_log_var {
	CONF_LOG_LITERAL,
	CONF_LOG_REMOTE_ADDR,
	CONF_LOG_REMOTE_USER,
	CONF_LOG_TIME_LOCAL,
	CONF_LOG_TIME_ISO8601,
	CONF_LOG_MSEC,
	CONF_LOG_REQUEST,
	CONF_LOG_REQUEST_METHOD,
	CONF_LOG_REQUEST_URI,
	CONF_LOG_URI,
	CONF_LOG_ARGS,
	CONF_LOG_STATUS,
	CONF_LOG_BODY_BYTES_SENT,
	CONF_LOG_REQUEST_TIME,
	CONF_LOG_HOST,
	CONF_LOG_SERVER_NAME,
	CONF_LOG_SERVER_PROTOCOL,
	CONF_LOG_SCHEME,
	CONF_LOG_SSL_PROTOCOL,
	CONF_LOG_SSL_CIPHER,
	CONF_LOG_SSL_SESSION_REUSED,
	CONF_LOG_PID,
	CONF_LOG_UPSTREAM_ADDR,
	CONF_LOG_UPSTREAM_STATUS,
	CONF_LOG_UPSTREAM_RESPONSE_TIME,
	CONF_LOG_HTTP_FIELD,	/* $http_NAME: text is the field's name */
};

enum conf_log_escape {
	CONF_LOG_ESCAPE_DEFAULT,	/* \xHH for ", \ and control bytes */
	CONF_LOG_ESCAPE_JSON,
	CONF_LOG_ESCAPE_NONE,
};

struct conf_log_part {
	enum conf_log_var var;
	char *text;		/* a literal, or a field's name */
	size_t len;
};

struct conf_log_format {
	char *name;
	struct conf_log_part *parts;
	size_t nparts;
	enum conf_log_escape escape;
};

/* allow / deny ADDRESS[/PREFIX] | all (access.c). */
struct conf_access {
	int family;		/* AF_INET, AF_INET6, or 0 for "all" */
	unsigned char addr[16];	/* masked to prefix */
	int prefix;
	uint32_t v4_net, v4_mask;	/* AF_INET: addr and the prefix's
					 * mask as words, in network order */
	int allow;
};

/* auth_basic_user_file: the users of an htpasswd file (conf/auth.c). */
struct conf_htpasswd_user {
	char *name;
	char *hash;
	int kind;		/* enum password_kind (common/password.h) */
	int line;		/* in the file */
};

struct conf_htpasswd {
	char *file;		/* absolute */
	struct conf_htpasswd_user *users;	/* sorted by name */
	size_t nusers;
};

/*
 * limit_req_zone and limit_conn_zone (conf/limit.c): a table of states
 * per client address in memory shared by the workers, mapped by the
 * master (master/limits.c, common/limit_zone.h) before it forks them.
 */
enum conf_limit_kind {
	CONF_LIMIT_REQ,
	CONF_LIMIT_CONN,
};

struct limit_zone;

struct conf_limit_zone {
	char *name;
	enum conf_limit_kind kind;
	size_t size;
	uint64_t rate;		/* limit_req: thousandths of a request a second */
	int line;
	struct limit_zone *shm;	/* NULL until the master maps it */
};

/* limit_req zone=NAME [burst=N] [nodelay|delay=N] */
struct conf_limit_req {
	char *zone_name;
	int line;
	const struct conf_limit_zone *zone;	/* resolved at the end */
	uint64_t burst;		/* thousandths of a request */
	uint64_t delay;		/* thousandths; UINT64_MAX: nodelay */
};

/* limit_conn NAME N */
struct conf_limit_conn {
	char *zone_name;
	int line;
	const struct conf_limit_zone *zone;
	unsigned max;
};

/*
 * upstream NAME { server ADDRESS [weight=N] ...; } and the address of a
 * proxy_pass (conf/upstream.c): the servers a proxied request goes to.
 */
struct conf_upstream_server {
	struct sockaddr_storage addr;	/* AF_INET, AF_INET6 or AF_UNIX */
	socklen_t addrlen;
	char text[112];		/* 127.0.0.1:8000, [::1]:8000, unix:/path */
	int weight;
	int max_fails;		/* 0: never marked down */
	int fail_timeout_ms;
	int backup;		/* only when every other server is down */
	int line;
};

struct conf_upstream {
	char *name;		/* the block's, or the proxy_pass address */
	int line;
	int implicit;		/* made for a proxy_pass to an address */
	struct conf_upstream_server *servers;
	size_t nservers;
	int least_conn;		/* else weighted round robin */
	int keepalive;		/* idle connections kept, per worker */
	int keepalive_timeout_ms;
};

/* proxy_set_header NAME VALUE (conf/upstream.c). */
struct conf_proxy_header {
	char *name;
	struct conf_text *value;	/* empty: the field is not sent */
};

/*
 * websocket PATH ROOM in an http block (conf/chat.c): a WebSocket opened
 * at PATH joins the chat room of the chat block that listens on ROOM.
 */
struct conf_websocket {
	char *path;		/* matched whole, before the query */
	size_t path_len;
	char *room;		/* as written, for errors */
	int line;
	struct conf_server *chat;	/* resolved when the file is read */
};

/* location [=|^~|~|~*] PATH { ... } in an http block (location.c). */
struct conf_location {
	char *path;		/* or the regular expression, as written */
	size_t len;
	int exact;		/* "location = PATH" */
	int no_regex;		/* "location ^~ PATH": no regex pass after */
	struct conf_regex *regex;	/* "location ~ RE", "~* RE"; else NULL */
	int line;
	uint64_t owns;		/* what it set itself (location.c) */
	struct conf_server *conf;	/* the block's settings with its own */
};

/* One http, echo or chat block. */
/* gzip_static, brotli_static: off, on (when accepted), always. */
enum conf_static_coding {
	CONF_STATIC_OFF,
	CONF_STATIC_ON,
	CONF_STATIC_ALWAYS,
};

struct conf_server {
	enum conf_server_kind kind;
	int line;
	struct conf_listen *listens;
	size_t nlistens;

	/* http */
	char *root;		/* absolute, no trailing slash (except "/") */
	char **index;		/* index file names, in order */
	size_t nindex;
	char *access_log;	/* NULL: off */
	int access_log_line;
	char *access_format_name;	/* a log_format's, or NULL */
	int access_format_line;
	int access_custom;	/* its index in conf->log_formats, or -1 */
	size_t access_buffer;	/* buffer=, 0: the default */
	int access_flush_ms;	/* flush=, 0: the default */
	enum conf_access_format access_format;
	char *default_type;
	int follow_symlinks;
	int hidden_files;	/* serve names that start with "." */
	int server_tokens;	/* the version in Server: and error pages */
	int autoindex;		/* list a folder that has no index file */
	enum conf_autoindex_format autoindex_format;
	int defer_accept;	/* TCP_DEFER_ACCEPT on its listeners */
	int keepalive_timeout_ms;
	int header_timeout_ms;
	int body_timeout_ms;
	size_t max_body_size;
	size_t max_header_size;
	struct conf_route *routes;
	size_t nroutes;
	struct conf_websocket *websockets;
	size_t nwebsockets;
	struct conf_header *add_headers;
	size_t nadd_headers;
	struct conf_error_page *error_pages;
	size_t nerror_pages;
	enum conf_expires expires;
	long long expires_sec;
	/* Compression of static files (worker/http/compress.c). */
	int gzip;
	int gzip_comp_level;
	size_t gzip_min_length;
	char **gzip_types;	/* besides text/html, which is always */
	size_t ngzip_types;
	int gzip_vary;
	int brotli;
	int brotli_comp_level;
	/* FILE.gz and FILE.br sent for FILE (worker/http/precompressed.c) */
	enum conf_static_coding gzip_static, brotli_static;
	int http2;		/* ALPN h2 on ssl, the h2c preface on plain */
	int http2_max_concurrent_streams;
	size_t http2_initial_window_size;
	size_t http2_max_header_size;	/* 0: max_header_size */
	struct conf_location *locations;	/* in file order */
	size_t nlocations;
	size_t nregex_locations;	/* of those, "~" and "~*" ones */
	/* A location's settings: which location, and its alias (the
	 * folder its prefix stands for, also in root); NULL for a block. */
	const struct conf_location *location;
	char *alias;
	/* A regex location's alias: alias holds its folder, up to the "/"
	 * before its first variable, and this what follows ("/$1"), the
	 * file's path under it, expanded per request; else NULL. */
	struct conf_text *alias_file;
	struct conf_access *access;	/* allow and deny, in order */
	size_t naccess;
	/* auth_basic (conf/auth.c, worker/http/auth.c) */
	char *auth_challenge;	/* WWW-Authenticate's value; NULL: off */
	int auth_basic_line;
	struct conf_htpasswd *auth_users;	/* auth_basic_user_file */
	int auth_users_line;
	char **try_files;	/* try_files: paths with $uri, then the last */
	size_t ntry_files;
	int log_id;		/* blocks, then locations: the access log's */

	/* limit_req and limit_conn (conf/limit.c, worker/http/limit.c) */
	struct conf_limit_req *limit_reqs;
	size_t nlimit_reqs;
	int limit_req_status;
	enum conf_log_level limit_req_log_level;	/* delays: a level lower */
	struct conf_limit_conn *limit_conns;
	size_t nlimit_conns;
	int limit_conn_status;
	enum conf_log_level limit_conn_log_level;

	/*
	 * The real client address behind trusted proxies (conf/real_ip.c):
	 * set in the block, or else at the top level (struct conf's).
	 */
	struct conf_access *real_ip_from;	/* allow rules: the trusted */
	size_t nreal_ip_from;
	char *real_ip_header;	/* lower case; NULL: x-real-ip */
	int real_ip_recursive;	/* -1 until set */
	unsigned real_ip_shared:3;	/* fields that are the top level's */
	int return_code;	/* "return": 0 none, else every request's */
	struct conf_text *return_text;	/* its URL or body, or NULL */

	/* The reverse proxy (conf/upstream.c, worker/http/proxy*.c). */
	char *proxy_pass;	/* the upstream's name or address, as written */
	int proxy_pass_line;
	const struct conf_upstream *proxy_upstream;	/* resolved */
	char *proxy_host;	/* $proxy_host, the Host sent by default */
	char *proxy_uri;	/* the URI part of proxy_pass, or NULL */
	struct conf_proxy_header *proxy_headers;
	size_t nproxy_headers;
	char **proxy_hide_headers;	/* lower case */
	size_t nproxy_hide_headers;
	int proxy_redirect;	/* rewrite the upstream's own Location */
	int proxy_buffering;
	int proxy_connect_timeout_ms;
	int proxy_read_timeout_ms;
	int proxy_send_timeout_ms;

	/* TLS, for a block with an ssl listener (tls/context.c) */
	char **server_names;	/* lower case, for Host and SNI */
	int *server_name_lines;
	struct conf_regex **server_name_regexes;	/* "~RE", else NULL */
	size_t nserver_names;
	struct conf_tls_cert *certs;
	size_t ncerts;
	int ssl_protocols;	/* CONF_TLS_ bits */
	char *ssl_ciphers;	/* NULL: the default list */
	int ssl_ciphers_line;
	char *ssl_ecdh_curve;	/* NULL: the default groups */
	int ssl_ecdh_curve_line;
	int ssl_prefer_server_ciphers;
	int ssl_session_tickets;
	int ssl_session_timeout_ms;
	int ssl_handshake_timeout_ms;
	int ssl_ktls;
	int has_ssl;		/* one of its listeners is ssl */
	struct tls_server *tls;	/* its SSL_CTX, built by tls_conf_load() */

	/* echo and chat */
	int idle_timeout_ms;

	/* chat */
	size_t max_line;
	size_t queue;
	/* chat across hosts through Redis (conf/chat.c) */
	char *redis;		/* as written, for logs; NULL: one host */
	char *redis_host;	/* numeric address, or a unix socket's path */
	int redis_port;		/* 0: redis_host is a unix socket */
	int redis_line;
	char *redis_user;	/* redis_password USER PASSWORD, or NULL */
	char *redis_password;	/* NULL: no AUTH */
	int redis_db;
	char *redis_channel;	/* default: forkloop:chat:ROOM */
	int chat_history;	/* lines kept in Redis and replayed; 0: off */
	int chat_history_line;
};

#define CONF_CHAT_HISTORY_MAX	10000

/*
 * A file the config was read from: the main one, then each that an
 * "include" read (conf/include.c).  Line numbers in the tree count on
 * from file to file: the file's own line N is number first + N, so a
 * stored line also says which file it is in (conf_where()).  The main
 * file's first is 0: its numbers are its lines.
 */
struct conf_source {
	char *name;
	int first;
	int nlines;
};

struct conf {
	char *file;		/* path it was read from, or "(built-in)" */
	struct conf_source *sources;	/* the main file, then the included */
	size_t nsources;
	int workers;		/* resolved: "auto" becomes the online CPU count */
	char *pid_file;		/* NULL: none */
	char *error_log;	/* NULL: stderr */
	enum conf_log_level error_log_level;
	char *user;		/* NULL: keep the starting user */
	char *group;
	int user_line, group_line, error_log_line;
	int daemon;
	int worker_connections;
	int nlog_ids;		/* conf_server.log_id: blocks and locations */
	struct conf_log_format *log_formats;
	size_t nlog_formats;
	int worker_rlimit_nofile;	/* 0: leave as is */
	int worker_cpu_affinity;	/* 0 off, 1 auto */
	int reuseport_steering;		/* 1 cpu (master/steer.c), 0 off */
	int shutdown_timeout_ms;
	int ssl_session_ticket_rotate_ms;
	struct conf_server *servers;
	size_t nservers;
	struct conf_upstream **upstreams;	/* blocks, then proxy_pass's */
	size_t nupstreams;
	struct conf_limit_zone **limit_zones;	/* limit_req_zone, _conn_zone */
	size_t nlimit_zones;
	/* set_real_ip_from, real_ip_header, real_ip_recursive at the top
	 * level: what blocks without their own use. */
	struct conf_access *real_ip_from;
	size_t nreal_ip_from;
	char *real_ip_header;
	int real_ip_recursive;
	/* Set by tls_conf_load(), so conf_free() frees what TLS built
	 * without conf/ knowing OpenSSL. */
	void (*tls_free)(struct conf *);
};

/* access.c */
struct sockaddr;
int conf_access_allows(const struct conf_server *s,
    const struct sockaddr *sa);

/* Whether a CIDR rule (a struct conf_access) holds address sa. */
int conf_cidr_match(const struct conf_access *rules, size_t n,
    const struct sockaddr *sa);
/* auth.c */
const struct conf_htpasswd_user *conf_htpasswd_find(
    const struct conf_htpasswd *users, const char *name);

/* location.c */
const struct conf_location *conf_location_find(const struct conf_server *srv,
    const char *path, size_t len);
void conf_location_free(struct conf_location *loc);

/*
 * Both return a new tree, or NULL with "FILE:LINE: what is wrong" in err,
 * FILE being the included file the mistake is in, if it is in one.
 * Relative paths in the file and in the files it includes are resolved
 * against the main file's directory (for a string: basedir, and without
 * one, a relative include against the current directory).
 */
struct conf *conf_load_file(const char *path, char *err, size_t errlen);
struct conf *conf_load_string(const char *name, const char *text,
    const char *basedir, char *err, size_t errlen);
void conf_free(struct conf *conf);

/*
 * The file and that file's line of a line number stored in the tree (a
 * block's, a listen's), for a "FILE:LINE: " message.
 */
const char *conf_where(const struct conf *conf, int line, int *file_line);

/*
 * "line N" when line is in the same file as from, else "FILE:N": how a
 * message at from names another place.  Written to buf; returns it.
 */
const char *conf_line_ref(const struct conf *conf, int line, int from,
    char *buf, size_t len);

/* The configuration compiled into the binary (conf/forkloop.conf). */
extern const char conf_default_text[];

#endif
