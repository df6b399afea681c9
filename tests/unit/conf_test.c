/*
 * conf_test.c: unit tests for the configuration tokenizer (conf/lex.c)
 * and parser (conf/parse.c).
 *
 * Good configurations are checked field by field against what was
 * written; bad ones must fail with the exact "FILE:LINE: message", since
 * a wrong line number is a bug a user pays for.  Files go to a temporary
 * directory to test path resolution and the errors of opening them.
 */
#include "config.h"

#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/lex.h"
#include "conf/vhosts.h"
#include "tests/unit/tap.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static char err[CONF_ERR_LEN];

static struct conf *
load(const char *text)
{
	return conf_load_string("t.conf", text, "/base", err, sizeof(err));
}

/* One http block with one directive set, for checking a value form. */
static struct conf *
load_http(const char *directive, const char *value)
{
	char text[512];
	struct conf *conf;

	snprintf(text, sizeof(text), "http {\n listen 80;\n %s %s;\n}\n",
	    directive, value);
	conf = load(text);
	if (conf == NULL)
		ok(0, "%s %s parses: %s", directive, value, err);
	return conf;
}

static int
expected_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > 1024 ? 1024 : (int)n;
}

struct token_case {
	enum lex_type type;
	const char *text;
	int line;
};

static void
check_tokens(const char *name, const char *text, size_t len,
    const struct token_case *want, size_t n)
{
	struct lex lex;
	struct lex_token tok;
	size_t i;
	int pass = 1;

	lex_init(&lex, text, len);
	for (i = 0; i < n && pass; i++) {
		lex_next(&lex, &tok);
		pass = tok.type == want[i].type && tok.line == want[i].line &&
		    (want[i].text == NULL ||
		    strcmp(tok.text, want[i].text) == 0);
		if (!pass)
			diag("token %zu: got type %d line %d \"%s\", want type "
			    "%d line %d \"%s\"", i, tok.type, tok.line,
			    tok.text, want[i].type, want[i].line,
			    want[i].text ? want[i].text : "");
	}
	lex_free(&lex);
	ok(pass, "lex: %s", name);
}

static void
test_lex(void)
{
	static const struct token_case mixed[] = {
		{ LEX_WORD, "a", 1 }, { LEX_WORD, "b c", 1 },
		{ LEX_SEMICOLON, ";", 1 }, { LEX_OPEN, "{", 1 },
		{ LEX_CLOSE, "}", 1 }, { LEX_WORD, "", 2 },
		{ LEX_WORD, "x\"\\\n\ty", 2 }, { LEX_WORD, "a#b", 3 },
		{ LEX_WORD, "x", 4 }, { LEX_SEMICOLON, ";", 4 },
		{ LEX_WORD, "y", 4 }, { LEX_OPEN, "{", 4 },
		{ LEX_WORD, "two\nlines", 5 }, { LEX_WORD, "z", 7 },
		{ LEX_EOF, NULL, 7 }, { LEX_EOF, NULL, 7 },
	};
	static const struct token_case unterminated[] = {
		{ LEX_WORD, "a", 1 },
		{ LEX_ERROR, "unterminated quoted string", 2 },
		{ LEX_ERROR, "unterminated quoted string", 2 },
	};
	static const struct token_case escape[] = {
		{ LEX_ERROR, "invalid escape \"\\q\" in quoted string", 1 },
	};
	static const struct token_case glued[] = {
		{ LEX_ERROR, "expecting space, \";\", \"{\" or \"}\" after "
		    "quoted string", 1 },
	};
	static const struct token_case inner_quote[] = {
		{ LEX_ERROR, "unexpected quote inside a word", 1 },
	};
	static const struct token_case nul[] = {
		{ LEX_WORD, "a", 1 }, { LEX_ERROR, "unexpected NUL byte", 2 },
	};
	static const struct token_case empty[] = { { LEX_EOF, NULL, 1 } };
	static const struct token_case blank_tail[] = {
		{ LEX_WORD, "a", 1 }, { LEX_EOF, NULL, 3 },
	};
	const char *text;

	text = "a \"b c\" ;{}# comment ; {\n\"\" \"x\\\"\\\\\\n\\ty\"\n"
	    "a#b #c\nx;y{\n\"two\nlines\"\n  z # end";
	check_tokens("words, quotes, escapes, comments, lines", text,
	    strlen(text), mixed, nitems(mixed));
	text = "a\n\"bc\nd";
	check_tokens("unterminated string, at its first line, sticky", text,
	    strlen(text), unterminated, nitems(unterminated));
	text = "\"a\\q\"";
	check_tokens("unknown escape", text, strlen(text), escape,
	    nitems(escape));
	text = "\"a\"b";
	check_tokens("quoted string glued to a word", text, strlen(text),
	    glued, nitems(glued));
	text = "ab\"c\"";
	check_tokens("quote inside a word", text, strlen(text), inner_quote,
	    nitems(inner_quote));
	check_tokens("NUL byte", "a\n\0b", 4, nul, nitems(nul));
	check_tokens("empty text", "", 0, empty, nitems(empty));
	text = "a\n\n\n";
	check_tokens("end of file on the last line, not after it", text,
	    strlen(text), blank_tail, nitems(blank_tail));
}

static void
test_default(void)
{
	struct conf *conf;
	const struct conf_server *http, *echo, *chat;

	conf = conf_load_string("(built-in)", conf_default_text, NULL, err,
	    sizeof(err));
	if (!ok(conf != NULL, "built-in default parses: %s", err)) {
		skip(20, "no default configuration");
		return;
	}
	is_str(conf->file, "(built-in)", "file name kept");
	is_int(conf->workers, expected_workers(), "workers auto");
	ok(conf->pid_file != NULL && conf->pid_file[0] == '/' &&
	    strstr(conf->pid_file, "/run/forkloop/forkloop.pid") != NULL,
	    "pid file is absolute: %s", conf->pid_file);
	ok(conf->error_log == NULL, "error log on stderr");
	is_int(conf->worker_connections, 10000, "worker_connections");
	is_int(conf->shutdown_timeout_ms, 30000, "shutdown_timeout");
	if (!is_int(conf->nservers, 3, "three servers")) {
		skip(13, "servers missing");
		conf_free(conf);
		return;
	}
	http = &conf->servers[0];
	echo = &conf->servers[1];
	is_int(http->kind, CONF_SERVER_HTTP, "first is http");
	is_str(http->nlistens ? http->listens[0].text : NULL,
	    "127.0.0.1:8080", "http listens on 8080");
	ok(http->root[0] == '/' && strstr(http->root, "/www") != NULL,
	    "root is absolute: %s", http->root);
	ok(http->access_log != NULL && http->access_log[0] == '/',
	    "access log is absolute");
	is_int(http->nroutes, 4, "four routes");
	ok(http->nroutes == 4 && http->routes[3].handler == CONF_ROUTE_STATUS,
	    "the fourth is the status page");
	ok(http->nlocations == 1 && http->locations[0].conf->naccess == 3,
	    "its location lets in the loopback addresses only");
	is_int(echo->kind, CONF_SERVER_ECHO, "second is echo");
	is_str(echo->nlistens ? echo->listens[0].text : NULL,
	    "127.0.0.1:7007", "echo listens on 7007");
	chat = &conf->servers[2];
	is_int(chat->kind, CONF_SERVER_CHAT, "third is chat");
	is_str(chat->nlistens ? chat->listens[0].text : NULL,
	    "127.0.0.1:7070", "chat listens on 7070");
	is_int(http->nwebsockets, 1, "one websocket");
	ok(http->nwebsockets == 1 && http->websockets[0].chat == chat &&
	    strcmp(http->websockets[0].path, "/chat") == 0,
	    "websocket /chat is the chat block's room");
	conf_free(conf);
}

static const char full_text[] =
	"# every directive once\n"
	"workers 3;\n"
	"pid run/fl.pid;\n"
	"error_log /var/log/fl.log warn;\n"
	"user www staff;\n"
	"daemon on;\n"
	"worker_connections 512;\n"
	"worker_rlimit_nofile 4096;\n"
	"worker_cpu_affinity auto;\n"
	"shutdown_timeout 2m;\n"
	"http {\n"
	"    listen 127.0.0.1:8080;\n"
	"    listen [::1]:8081 proxy_protocol;\n"
	"    root \"/srv/my site/\";\n"
	"    index index.htm \"home page.html\";\n"
	"    access_log logs/access.log;\n"
	"    default_type text/plain;\n"
	"    follow_symlinks on;\n"
	"    keepalive_timeout 500ms;\n"
	"    header_timeout 3;\n"
	"    body_timeout 1h;\n"
	"    max_body_size 2M;\n"
	"    max_header_size 8k;\n"
	"    route /hello/ hello;\n"
	"    route /delay/ delay;\n"
	"    route /echo echo;\n"
	"    route /status status;\n"
	"}\n"
	"echo{listen 7007;idle_timeout 1d;}\n"
	"chat {\n"
	"    listen *:7008;\n"
	"    idle_timeout 90s;\n"
	"    max_line 1K;\n"
	"    queue 1g;\n"
	"}\n";

static void
check_full_main(const struct conf *conf)
{
	is_int(conf->workers, 3, "workers");
	is_str(conf->pid_file, "/base/run/fl.pid", "relative pid resolved");
	is_str(conf->error_log, "/var/log/fl.log", "error_log path");
	is_int(conf->error_log_level, CONF_LOG_WARN, "error_log level");
	is_str(conf->user, "www", "user");
	is_str(conf->group, "staff", "group");
	is_int(conf->daemon, 1, "daemon on");
	is_int(conf->worker_connections, 512, "worker_connections");
	is_int(conf->worker_rlimit_nofile, 4096, "worker_rlimit_nofile");
	is_int(conf->worker_cpu_affinity, 1, "worker_cpu_affinity auto");
	is_int(conf->shutdown_timeout_ms, 120000, "shutdown_timeout 2m");
}

static void
check_full_http(const struct conf_server *s)
{
	static const char *const prefixes[] = {
		"/hello/", "/delay/", "/echo", "/status",
	};
	static const enum conf_route_handler handlers[] = {
		CONF_ROUTE_HELLO, CONF_ROUTE_DELAY, CONF_ROUTE_ECHO,
		CONF_ROUTE_STATUS,
	};
	size_t i;

	is_int(s->kind, CONF_SERVER_HTTP, "http kind");
	is_int(s->line, 11, "http block line");
	is_int(s->nlistens, 2, "two listens");
	is_str(s->listens[0].text, "127.0.0.1:8080", "listen v4");
	is_int(s->listens[0].proxy_protocol, 0, "no proxy_protocol");
	is_int(s->listens[0].line, 12, "listen line");
	is_str(s->listens[1].text, "[::1]:8081", "listen v6");
	is_int(s->listens[1].proxy_protocol, 1, "proxy_protocol");
	is_str(s->root, "/srv/my site", "quoted root, slash stripped");
	is_int(s->nindex, 2, "two index names");
	is_str(s->index[0], "index.htm", "index 1");
	is_str(s->index[1], "home page.html", "index 2");
	is_str(s->access_log, "/base/logs/access.log", "access_log");
	is_str(s->default_type, "text/plain", "default_type");
	is_int(s->follow_symlinks, 1, "follow_symlinks");
	is_int(s->keepalive_timeout_ms, 500, "keepalive_timeout 500ms");
	is_int(s->header_timeout_ms, 3000, "header_timeout 3");
	is_int(s->body_timeout_ms, 3600000, "body_timeout 1h");
	is_int(s->max_body_size, 2 * 1024 * 1024, "max_body_size 2M");
	is_int(s->max_header_size, 8 * 1024, "max_header_size 8k");
	if (!is_int(s->nroutes, 4, "four routes"))
		return;
	for (i = 0; i < 4; i++) {
		is_str(s->routes[i].prefix, prefixes[i], "route %zu prefix", i);
		is_int(s->routes[i].prefix_len, strlen(prefixes[i]),
		    "route %zu length", i);
		is_int(s->routes[i].handler, handlers[i], "route %zu handler",
		    i);
	}
}

static void
test_full(void)
{
	struct conf *conf;
	const struct conf_server *s;

	conf = load(full_text);
	if (!ok(conf != NULL, "every directive: %s", err))
		return;
	is_str(err, "", "err cleared on success");
	is_str(conf->file, "t.conf", "file name");
	check_full_main(conf);
	if (is_int(conf->nservers, 3, "three servers")) {
		check_full_http(&conf->servers[0]);
		s = &conf->servers[1];
		is_int(s->kind, CONF_SERVER_ECHO, "echo kind");
		is_int(s->line, 29, "echo block line");
		is_str(s->listens[0].text, "0.0.0.0:7007", "echo listen");
		is_int(s->idle_timeout_ms, 86400000, "echo idle_timeout 1d");
		s = &conf->servers[2];
		is_int(s->kind, CONF_SERVER_CHAT, "chat kind");
		is_str(s->listens[0].text, "0.0.0.0:7008", "chat listen");
		is_int(s->idle_timeout_ms, 90000, "chat idle_timeout 90s");
		is_int(s->max_line, 1024, "max_line 1K");
		is_int(s->queue, 1024LL * 1024 * 1024, "queue 1g");
	}
	conf_free(conf);
}

static void
test_defaults(void)
{
	struct conf *conf;
	const struct conf_server *s;

	conf = load("http { listen 80; } echo { listen 81; }\n"
	    "chat { listen 82; }");
	if (!ok(conf != NULL, "minimal blocks: %s", err))
		return;
	is_int(conf->workers, expected_workers(), "workers default auto");
	ok(conf->pid_file == NULL && conf->error_log == NULL &&
	    conf->user == NULL && conf->group == NULL,
	    "pid, error_log, user, group default unset");
	is_int(conf->error_log_level, CONF_LOG_INFO, "log level info");
	ok(conf->daemon == 0 && conf->worker_rlimit_nofile == 0 &&
	    conf->worker_cpu_affinity == 0, "daemon, rlimit, affinity off");
	is_int(conf->worker_connections, 10000, "worker_connections");
	is_int(conf->shutdown_timeout_ms, 30000, "shutdown_timeout");
	s = &conf->servers[0];
	is_str(s->root, "/srv/www", "root default");
	ok(s->nindex == 1 && strcmp(s->index[0], "index.html") == 0,
	    "index default");
	ok(s->access_log == NULL, "access_log default off");
	is_str(s->default_type, "application/octet-stream", "default_type");
	is_int(s->follow_symlinks, 0, "follow_symlinks off");
	is_int(s->defer_accept, 1, "defer_accept on");
	is_int(s->keepalive_timeout_ms, 75000, "keepalive_timeout 75s");
	is_int(s->header_timeout_ms, 10000, "header_timeout 10s");
	is_int(s->body_timeout_ms, 60000, "body_timeout 60s");
	is_int(s->max_body_size, 1024 * 1024, "max_body_size 1m");
	is_int(s->max_header_size, 16 * 1024, "max_header_size 16k");
	is_int(s->nroutes, 0, "no routes");
	is_int(conf->servers[1].idle_timeout_ms, 300000, "echo idle 5m");
	s = &conf->servers[2];
	is_int(s->idle_timeout_ms, 300000, "chat idle 5m");
	is_int(s->max_line, 4096, "chat max_line 4k");
	is_int(s->queue, 256 * 1024, "chat queue 256k");
	conf_free(conf);
}

/* The chat block's Redis directives (conf/chat.c). */
static void
test_chat_redis(void)
{
	struct conf *conf;
	const struct conf_server *s;

	conf = load("chat { listen 0.0.0.0:82; }");
	if (ok(conf != NULL, "chat without redis: %s", err)) {
		s = &conf->servers[0];
		ok(s->redis == NULL && s->redis_channel == NULL &&
		    s->chat_history == 0 && s->redis_db == 0,
		    "no redis, no channel, no history by default");
		conf_free(conf);
	}
	conf = load("chat {\n listen 0.0.0.0:82;\n redis 127.0.0.1:6379;\n}\n"
	    "chat {\n listen 83;\n redis [::1]:6380;\n redis_db 3;\n"
	    " redis_password s3cret;\n chat_history 50;\n}\n"
	    "chat {\n listen 84;\n redis unix:/run/redis/redis.sock;\n"
	    " redis_channel lobby;\n redis_password bob \"pa ss\";\n}\n");
	if (!ok(conf != NULL, "three redis rooms: %s", err))
		return;
	s = &conf->servers[0];
	is_str(s->redis, "127.0.0.1:6379", "redis as written");
	is_str(s->redis_host, "127.0.0.1", "its host");
	is_int(s->redis_port, 6379, "its port");
	is_str(s->redis_channel, "forkloop:chat:0.0.0.0:82",
	    "the channel defaults to forkloop:chat:ROOM");
	ok(s->redis_password == NULL && s->redis_user == NULL, "no AUTH");
	s = &conf->servers[1];
	is_str(s->redis_host, "::1", "an IPv6 host without brackets");
	is_int(s->redis_port, 6380, "its port");
	is_int(s->redis_db, 3, "redis_db 3");
	is_str(s->redis_password, "s3cret", "redis_password");
	is_int(s->chat_history, 50, "chat_history 50");
	s = &conf->servers[2];
	is_str(s->redis_host, "/run/redis/redis.sock", "a unix socket's path");
	is_int(s->redis_port, 0, "port 0 for a unix socket");
	is_str(s->redis_channel, "lobby", "redis_channel");
	is_str(s->redis_user, "bob", "redis_password USER PASSWORD: the user");
	is_str(s->redis_password, "pa ss", "and the password");
	conf_free(conf);
}

/* TLS directives, their defaults, and two ssl blocks on one address. */
static void
test_tls(void)
{
	struct conf *conf;
	const struct conf_server *a, *b;

	conf = load("ssl_session_ticket_rotate 30m;\n"
	    "http { listen 127.0.0.1:443 ssl; server_name A.example. "
	    "*.b.example;\n ssl_certificate /e.pem; ssl_certificate_key /ek;"
	    "\n ssl_certificate /r.pem; ssl_certificate_key /rk;\n"
	    " access_log /a.log combined_ssl; }\n"
	    "http { listen 127.0.0.1:443 ssl; listen 80; server_name c;\n"
	    " ssl_certificate /c.pem; ssl_certificate_key /ck;\n"
	    " ssl_protocols TLSv1.3; ssl_ciphers HIGH; ssl_ecdh_curve P-256;\n"
	    " ssl_prefer_server_ciphers on; ssl_session_tickets off;\n"
	    " ssl_session_timeout 1h; ssl_handshake_timeout 3s; ssl_ktls off; }"
	    "\necho { listen 7443 ssl; ssl_certificate /c.pem; "
	    "ssl_certificate_key /ck; }");
	if (!ok(conf != NULL, "TLS directives parse: %s", err))
		return;
	is_int(conf->ssl_session_ticket_rotate_ms, 30 * 60 * 1000,
	    "ssl_session_ticket_rotate 30m");
	a = &conf->servers[0];
	b = &conf->servers[1];
	ok(a->has_ssl && a->listens[0].ssl && !a->listens[0].repeat,
	    "the first block binds the ssl address");
	ok(b->listens[0].ssl && b->listens[0].repeat && !b->listens[1].ssl,
	    "the second block shares it (a repeat), and has a plain one");
	ok(a->nserver_names == 2 &&
	    strcmp(a->server_names[0], "a.example") == 0 &&
	    strcmp(a->server_names[1], "*.b.example") == 0,
	    "server names in lower case, without a trailing dot");
	ok(a->ncerts == 2 && strcmp(a->certs[1].cert, "/r.pem") == 0 &&
	    strcmp(a->certs[1].key, "/rk") == 0 && a->certs[1].key_line == 4,
	    "two certificate pairs, with their lines");
	is_int(a->access_format, CONF_ACCESS_COMBINED_SSL, "combined_ssl");
	is_int(a->ssl_protocols, CONF_TLS_1_2 | CONF_TLS_1_3,
	    "ssl_protocols default TLSv1.2 TLSv1.3");
	ok(a->ssl_session_tickets && a->ssl_ktls &&
	    !a->ssl_prefer_server_ciphers && a->ssl_ciphers == NULL &&
	    a->ssl_ecdh_curve == NULL, "TLS defaults");
	is_int(a->ssl_session_timeout_ms, 300000, "ssl_session_timeout 5m");
	is_int(a->ssl_handshake_timeout_ms, 10000, "ssl_handshake_timeout 10s");
	is_int(b->ssl_protocols, CONF_TLS_1_3, "ssl_protocols TLSv1.3");
	ok(!b->ssl_session_tickets && !b->ssl_ktls &&
	    b->ssl_prefer_server_ciphers && strcmp(b->ssl_ciphers, "HIGH") == 0
	    && strcmp(b->ssl_ecdh_curve, "P-256") == 0 &&
	    b->ssl_ciphers_line == 8, "TLS settings stored");
	ok(b->ssl_session_timeout_ms == 3600000 &&
	    b->ssl_handshake_timeout_ms == 3000, "TLS times");
	ok(conf->servers[2].has_ssl && conf->servers[2].ncerts == 1,
	    "echo over TLS");
	conf_free(conf);
}

/* Blocks sharing a plain address, chosen by Host. */
static void
test_vhosts(void)
{
	struct conf *conf;
	const struct conf_vhosts *v;

	conf = load("http { listen 127.0.0.1:80; server_name a.example; }\n"
	    "http { listen 127.0.0.1:80 default_server; listen 81;\n"
	    " server_name b.example *.b.example www.c.*; }\n"
	    "http { listen 127.0.0.1:80; server_name *.example; }");
	if (!ok(conf != NULL, "three blocks on one address: %s", err))
		return;
	v = conf->servers[0].listens[0].vhosts;
	ok(v != NULL && v->nservers == 3 && !conf->servers[0].listens[0].repeat
	    && conf->servers[1].listens[0].repeat &&
	    conf->servers[1].listens[0].vhosts == v, "one table, two repeats");
	ok(v->dflt == &conf->servers[1], "default_server is the default");
	ok(conf_vhosts_find(v, "A.Example.", 10) == &conf->servers[0],
	    "exact name, any case, trailing dot");
	ok(conf_vhosts_find(v, "a.example:8080", 14) == &conf->servers[0],
	    "a port is ignored");
	ok(conf_vhosts_find(v, "x.b.example", 11) == &conf->servers[1],
	    "the longest leading wildcard wins");
	ok(conf_vhosts_find(v, "x.example", 9) == &conf->servers[2],
	    "a shorter leading wildcard");
	ok(conf_vhosts_find(v, "www.c.org", 9) == &conf->servers[1],
	    "a trailing wildcard");
	ok(conf_vhosts_find(v, "example", 7) == NULL &&
	    conf_vhosts_find(v, "[::1]:80", 8) == NULL &&
	    conf_vhosts_find(v, ".example", 8) == NULL,
	    "no match: the default is the caller's");
	ok(conf->servers[1].listens[1].vhosts != NULL &&
	    conf->servers[1].listens[1].vhosts->nservers == 1,
	    "an address of its own has a table of one");
	conf_free(conf);
}

/* Exact name k (1..VHOST_NAMES) of the test below: k bytes, each its own. */
#define VHOST_NAMES 40

static void
vhost_name(char *out, size_t k)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t i;

	for (i = 0; i < k; i++)
		out[i] = set[(i * 7 + k) % 36];
	out[k] = '\0';
}

static int
vhost_fold(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* The block named q[0..len) by a byte loop, as the lookup must agree. */
static const struct conf_server *
vhost_expected(const struct conf *conf, const char *q, size_t len)
{
	size_t k, i;

	for (k = 0; k < conf->nservers; k++) {
		const char *n = conf->servers[k].server_names[0];

		if (strlen(n) != len)
			continue;
		for (i = 0; i < len && n[i] == vhost_fold((unsigned char)q[i]);
		    i++)
			;
		if (i == len)
			return &conf->servers[k];
	}
	return NULL;
}

/*
 * Exact names of every length up to 40 (the lookup reads them eight bytes
 * at a time, the last word overlapping): each found in any case, and a
 * name with any one byte changed to any other (but the ':' of a port, a
 * '.' and a '[') found only where the byte differs in ASCII case alone:
 * not a non-ASCII byte whose low seven bits are the letter's, nor '@',
 * '[', '`' or '{' for their neighbours.
 */
static void
test_vhosts_exact(void)
{
	char text[VHOST_NAMES * 80], name[VHOST_NAMES + 1], q[VHOST_NAMES + 1];
	const struct conf_vhosts *v;
	struct conf *conf;
	size_t k, i, pos = 0, wrong = 0;
	int b;

	for (k = 1; k <= VHOST_NAMES; k++) {
		vhost_name(name, k);
		pos += (size_t)snprintf(text + pos, sizeof(text) - pos,
		    "http { listen 127.0.0.1:80; server_name %s; }\n", name);
	}
	/* Not ASCII: 0xc1 is no upper case of 0xe1 (nor 'A' of 'a'). */
	snprintf(text + pos, sizeof(text) - pos, "http { listen 127.0.0.1:80;"
	    " server_name \xe1\xe1\xe1\xe1\xe1\xe1.example; }\n");
	conf = load(text);
	if (!ok(conf != NULL, "%d blocks, a name of each length: %s",
	    VHOST_NAMES + 1, err))
		return;
	v = conf->servers[0].listens[0].vhosts;
	for (k = 1; k <= VHOST_NAMES; k++) {
		vhost_name(name, k);
		memcpy(q, name, k + 1);
		for (i = 0; i < k; i += 2)
			if (q[i] >= 'a' && q[i] <= 'z')
				q[i] = (char)(q[i] - 'a' + 'A');
		if (conf_vhosts_find(v, name, k) != &conf->servers[k - 1] ||
		    conf_vhosts_find(v, q, k) != &conf->servers[k - 1])
			wrong++;
		for (i = 0; i < k; i++)
			for (b = 1; b < 256; b++) {
				if (b == ':' || b == '.' || b == '[')
					continue;
				memcpy(q, name, k + 1);
				q[i] = (char)b;
				if (conf_vhosts_find(v, q, k) !=
				    vhost_expected(conf, q, k))
					wrong++;
			}
	}
	ok(wrong == 0, "each name in any case, no other byte matches "
	    "(%zu wrong)", wrong);
	ok(conf_vhosts_find(v, "\xe1\xe1\xe1\xe1\xe1\xe1.example", 14) ==
	    &conf->servers[VHOST_NAMES] &&
	    conf_vhosts_find(v, "\xc1\xe1\xe1\xe1\xe1\xe1.example", 14) == NULL &&
	    conf_vhosts_find(v, "\xe1\xe1\xe1\xe1\xe1\xe1.examplE", 14) ==
	    &conf->servers[VHOST_NAMES], "a byte above 0x7f is not folded");
	conf_free(conf);
}

static void
test_sizes(void)
{
	static const struct {
		const char *text;
		long long want;
	} cases[] = {
		{ "0", INT64_MAX }, { "10", 10 }, { "007", 7 }, { "1k", 1024 },
		{ "1K", 1024 }, { "3m", 3LL << 20 }, { "3M", 3LL << 20 },
		{ "2g", 2LL << 30 }, { "2G", 2LL << 30 },
	};
	struct conf *conf;
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		conf = load_http("max_body_size", cases[i].text);
		if (conf == NULL)
			continue;
		is_int(conf->servers[0].max_body_size, cases[i].want,
		    "size %s", cases[i].text);
		conf_free(conf);
	}
}

static void
test_times(void)
{
	static const struct {
		const char *text;
		long long want;
	} cases[] = {
		{ "0", 0 }, { "250ms", 250 }, { "7", 7000 }, { "7s", 7000 },
		{ "2m", 120000 }, { "1h", 3600000 }, { "1d", 86400000 },
		{ "24d", 2073600000 }, { "2147483647ms", INT_MAX },
		{ "2147483s", 2147483000 },
		/* nginx's compound times, largest unit first. */
		{ "1m30s", 90000 }, { "1h30m", 5400000 }, { "2s500ms", 2500 },
		{ "1d12h", 129600000 }, { "1w", 604800000 },
		{ "1h1m1s1ms", 3661001 },
	};
	/* expires: lifetimes past the timeouts' 24 days, in seconds. */
	static const struct {
		const char *text;
		long long want;
	} lifetimes[] = {
		{ "30d", 2592000 }, { "1M", 2592000 }, { "1y", 31536000 },
		{ "365d", 31536000 }, { "10y", 315360000 }, { "1h", 3600 },
		{ "90", 90 }, { "1500ms", 1 },
	};
	struct conf *conf;
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		conf = load_http("keepalive_timeout", cases[i].text);
		if (conf == NULL)
			continue;
		is_int(conf->servers[0].keepalive_timeout_ms, cases[i].want,
		    "time %s", cases[i].text);
		conf_free(conf);
	}
	for (i = 0; i < nitems(lifetimes); i++) {
		conf = load_http("expires", lifetimes[i].text);
		if (conf == NULL)
			continue;
		is_int(conf->servers[0].expires_sec, lifetimes[i].want,
		    "expires %s", lifetimes[i].text);
		conf_free(conf);
	}
}

static void
test_flags_and_workers(void)
{
	struct conf *conf;

	conf = load_http("follow_symlinks", "off");
	if (conf != NULL)
		is_int(conf->servers[0].follow_symlinks, 0, "flag off");
	conf_free(conf);
	conf = load_http("defer_accept", "off");
	if (conf != NULL)
		is_int(conf->servers[0].defer_accept, 0, "defer_accept off");
	conf_free(conf);
	conf = load("workers auto; daemon off; worker_cpu_affinity off;\n"
	    "http { listen 80; }");
	if (ok(conf != NULL, "workers auto parses: %s", err)) {
		is_int(conf->workers, expected_workers(), "workers auto");
		ok(conf->daemon == 0 && conf->worker_cpu_affinity == 0,
		    "daemon off, affinity off");
	}
	conf_free(conf);
	conf = load("workers 1024; error_log stderr debug; pid off;\n"
	    "http { listen 80; }");
	if (ok(conf != NULL, "workers 1024 parses: %s", err)) {
		is_int(conf->workers, 1024, "workers 1024");
		ok(conf->error_log == NULL && conf->pid_file == NULL,
		    "stderr and pid off leave NULL");
		is_int(conf->error_log_level, CONF_LOG_DEBUG, "level debug");
	}
	conf_free(conf);
}

struct listen_case {
	const char *text;
	const char *canonical;
	int family;
	int port;
};

static void
check_listen(const struct listen_case *c, const struct conf_listen *l)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&l->addr;
	const struct sockaddr_in6 *sin6 =
	    (const struct sockaddr_in6 *)&l->addr;
	char buf[INET6_ADDRSTRLEN] = "";
	int port;

	if (c->family == AF_INET) {
		port = ntohs(sin->sin_port);
		inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
	} else {
		port = ntohs(sin6->sin6_port);
		inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
	}
	is_str(l->text, c->canonical, "listen %s text", c->text);
	ok(l->addr.ss_family == c->family && port == c->port &&
	    l->addrlen == (c->family == AF_INET ? sizeof(*sin) :
	    sizeof(*sin6)) && strstr(c->canonical, buf) != NULL,
	    "listen %s address (%s port %d)", c->text, buf, port);
}

static void
test_listen_forms(void)
{
	static const struct listen_case cases[] = {
		{ "127.0.0.1:8080", "127.0.0.1:8080", AF_INET, 8080 },
		{ "[::1]:8080", "[::1]:8080", AF_INET6, 8080 },
		{ "*:8080", "0.0.0.0:8080", AF_INET, 8080 },
		{ ":8080", "0.0.0.0:8080", AF_INET, 8080 },
		{ "8080", "0.0.0.0:8080", AF_INET, 8080 },
		{ "[::]:8080", "[::]:8080", AF_INET6, 8080 },
		{ "localhost:8080", "127.0.0.1:8080", AF_INET, 8080 },
		{ "10.1.2.3:1", "10.1.2.3:1", AF_INET, 1 },
		{ "0.0.0.0:65535", "0.0.0.0:65535", AF_INET, 65535 },
		{ "[2001:DB8:0::1]:443", "[2001:db8::1]:443", AF_INET6, 443 },
	};
	struct conf *conf;
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		conf = load_http("listen", cases[i].text);
		if (conf == NULL)
			continue;
		/* load_http puts "listen 80" first; ours is second. */
		if (conf->servers[0].nlistens == 2)
			check_listen(&cases[i], &conf->servers[0].listens[1]);
		else if (conf->servers[0].nlistens == 1)
			/* None of the cases is port 80: a bug. */
			ok(0, "listen %s kept", cases[i].text);
		conf_free(conf);
	}
}

static void
test_many_words(void)
{
	char text[1024], root[301];
	struct conf *conf;

	memset(root, 'r', sizeof(root) - 1);
	root[0] = '/';
	root[sizeof(root) - 1] = '\0';
	snprintf(text, sizeof(text), "http {\n listen 80;\n index a b c d e f "
	    "g h i j k;\n root %s;\n}\nhttp { listen 81; }\n", root);
	conf = load(text);
	if (!ok(conf != NULL, "eleven index names, long root: %s", err))
		return;
	ok(conf->servers[0].nindex == 11 &&
	    strcmp(conf->servers[0].index[10], "k") == 0, "all index names");
	is_str(conf->servers[0].root, root, "300-byte root");
	ok(conf->nservers == 2 && conf->servers[1].kind == CONF_SERVER_HTTP &&
	    strcmp(conf->servers[1].listens[0].text, "0.0.0.0:81") == 0,
	    "second http block kept in order");
	conf_free(conf);
}

static void
test_basedir(void)
{
	struct conf *conf;

	conf = conf_load_string("b.conf", "http {\n listen 80;\n root ./www/"
	    ";\n access_log ../log//a.log;\n}\n", "/etc/fl/", err,
	    sizeof(err));
	if (!ok(conf != NULL, "relative paths with a basedir: %s", err))
		return;
	is_str(conf->servers[0].root, "/etc/fl/www", "root resolved");
	is_str(conf->servers[0].access_log, "/etc/fl/../log/a.log",
	    "access_log resolved, .. kept");
	conf_free(conf);
	conf = conf_load_string("b.conf", "http {\n listen 80;\n root /;\n}\n",
	    NULL, err, sizeof(err));
	if (ok(conf != NULL, "root / parses: %s", err))
		is_str(conf->servers[0].root, "/", "root / stays /");
	conf_free(conf);
}

struct error_case {
	const char *text;
	const char *want;
};

/* Parsed without a basedir, so relative paths are errors too. */
static const struct error_case error_cases[] = {
	{ "", "t.conf:1: no http, echo or chat block" },
	{ "workers 2;\n# only a comment\n",
	    "t.conf:2: no http, echo or chat block" },
	{ "foo bar;\nhttp { listen 80; }",
	    "t.conf:1: unknown directive \"foo\"" },
	{ "http {\n listen 80;\n bogus on;\n}",
	    "t.conf:3: unknown directive \"bogus\"" },
	{ "http {\n  listen 1 2 3 4 5 6 7;\n}",
	    "t.conf:2: \"listen\" takes 1 to 6 arguments" },
	{ "http {\n  listen 1 ssl\n 3;\n}",
	    "t.conf:3: invalid listen parameter \"3\"" },
	{ "http {\n listen;\n}",
	    "t.conf:2: \"listen\" takes 1 to 6 arguments" },
	{ "\nworkers;\n", "t.conf:2: \"workers\" takes 1 argument" },
	{ "http {\n listen 80;\n route /x;\n}",
	    "t.conf:3: \"route\" takes 2 arguments" },
	{ "http {\n listen 80;\n index;\n}",
	    "t.conf:3: \"index\" takes at least 1 argument" },
	{ "http foo {\n listen 80;\n}",
	    "t.conf:1: \"http\" takes no arguments" },
	{ "error_log a b c;",
	    "t.conf:1: \"error_log\" takes 1 or 2 arguments" },
	{ "user a b c;", "t.conf:1: \"user\" takes 1 or 2 arguments" },
	{ "http {\n listen 80;\n max_body_size 12q;\n}",
	    "t.conf:3: invalid size \"12q\"" },
	{ "http {\n listen 80;\n max_body_size k;\n}",
	    "t.conf:3: invalid size \"k\"" },
	{ "http {\n listen 80;\n max_body_size -1;\n}",
	    "t.conf:3: invalid size \"-1\"" },
	{ "http {\n listen 80;\n max_body_size 17179869184g;\n}",
	    "t.conf:3: size \"17179869184g\" is too large" },
	{ "http {\n listen 80;\n max_body_size 99999999999999999999999;\n}",
	    "t.conf:3: size \"99999999999999999999999\" is too large" },
	{ "http {\n listen 80;\n max_header_size 1023;\n}",
	    "t.conf:3: \"max_header_size\" must be at least 1k" },
	{ "http {\n listen 80;\n keepalive_timeout 10x;\n}",
	    "t.conf:3: invalid time \"10x\"" },
	{ "http {\n listen 80;\n keepalive_timeout 1.5s;\n}",
	    "t.conf:3: invalid time \"1.5s\"" },
	{ "http {\n listen 80;\n keepalive_timeout 30s1m;\n}",
	    "t.conf:3: invalid time \"30s1m\"" },
	{ "http {\n listen 80;\n keepalive_timeout 1m1m;\n}",
	    "t.conf:3: invalid time \"1m1m\"" },
	{ "http {\n listen 80;\n keepalive_timeout 1m30;\n}",
	    "t.conf:3: invalid time \"1m30\"" },
	{ "http {\n listen 80;\n keepalive_timeout 4w;\n}",
	    "t.conf:3: time \"4w\" is too large" },
	{ "http {\n listen 80;\n header_timeout 25d;\n}",
	    "t.conf:3: time \"25d\" is too large" },
	{ "shutdown_timeout 2147484s;",
	    "t.conf:1: time \"2147484s\" is too large" },
	{ "\n\nworker_connections abc;", "t.conf:3: invalid number \"abc\"" },
	{ "worker_connections 0;", "t.conf:1: invalid number \"0\"" },
	{ "worker_connections 2147483648;",
	    "t.conf:1: number \"2147483648\" is too large" },
	{ "worker_rlimit_nofile 12k;", "t.conf:1: invalid number \"12k\"" },
	{ "workers 0;", "t.conf:1: invalid value \"0\" for \"workers\", "
	    "expecting \"auto\" or 1 to 1024" },
	{ "workers 1025;", "t.conf:1: invalid value \"1025\" for \"workers\", "
	    "expecting \"auto\" or 1 to 1024" },
	{ "daemon yes;", "t.conf:1: invalid value \"yes\" for \"daemon\", "
	    "expecting \"on\" or \"off\"" },
	{ "echo {\n listen 7;\n defer_accept off;\n}",
	    "t.conf:3: \"defer_accept\" directive is not allowed here" },
	{ "http {\n listen 80;\n header_timeout 0;\n}",
	    "t.conf:3: \"header_timeout\" must not be 0" },
	{ "http {\n listen 80;\n body_timeout 0s;\n}",
	    "t.conf:3: \"body_timeout\" must not be 0" },
	{ "http {\n listen 80;\n follow_symlinks 1;\n}",
	    "t.conf:3: invalid value \"1\" for \"follow_symlinks\", "
	    "expecting \"on\" or \"off\"" },
	{ "worker_cpu_affinity on;", "t.conf:1: invalid value \"on\" for "
	    "\"worker_cpu_affinity\", expecting \"auto\" or \"off\"" },
	{ "error_log stderr\n loud;", "t.conf:2: invalid log level \"loud\", "
	    "expecting debug, info, warn or error" },
	{ "http {\n listen 80;\n}\n}", "t.conf:4: unexpected \"}\"" },
	{ "}", "t.conf:1: unexpected \"}\"" },
	{ "http {\n listen 80;\n",
	    "t.conf:2: unexpected end of file, expecting \"}\"" },
	{ "http {\n listen 80;\n\n\n",
	    "t.conf:4: unexpected end of file, expecting \"}\"" },
	{ "http {\n listen 80\n}", "t.conf:3: unexpected \"}\"" },
	{ "http {\n listen 80; }\nworkers 2",
	    "t.conf:3: unexpected end of file, expecting \";\"" },
	{ "http {\n listen 80;\n}\nhttp",
	    "t.conf:4: unexpected end of file, expecting \"{\"" },
	{ ";\n", "t.conf:1: unexpected \";\"" },
	{ "http {\n listen 80;\n ;\n}", "t.conf:3: unexpected \";\"" },
	{ "{\n}", "t.conf:1: unexpected \"{\"" },
	{ "http;", "t.conf:1: \"http\" directive has no opening \"{\"" },
	{ "echo\n;", "t.conf:2: \"echo\" directive has no opening \"{\"" },
	{ "http {\n listen 80;\n root /x\n {\n }\n}",
	    "t.conf:4: \"root\" directive does not take a block" },
	{ "workers 2;\nworkers 3;\nhttp { listen 80; }",
	    "t.conf:2: duplicate \"workers\" directive" },
	{ "http {\n listen 80;\n root /a;\n root /b;\n}",
	    "t.conf:4: duplicate \"root\" directive" },
	{ "http {\n listen 80;\n index a;\n index b;\n}",
	    "t.conf:4: duplicate \"index\" directive" },
	{ "pid off;\npid off;", "t.conf:2: duplicate \"pid\" directive" },
	{ "http {\n listen 127.0.0.1:8080;\n}\necho {\n listen "
	    "localhost:8080;\n}", "t.conf:5: duplicate listen address "
	    "127.0.0.1:8080 (first at line 2); only http blocks share an "
	    "address" },
	{ "http {\n listen 8080;\n listen *:8080;\n}",
	    "t.conf:3: duplicate listen address 0.0.0.0:8080 "
	    "(first at line 2); only http blocks share an address" },
	{ "http {\n listen [::1]:1;\n}\nchat {\n listen 2;\n listen\n "
	    "[0::1]:1;\n}", "t.conf:7: duplicate listen address [::1]:1 "
	    "(first at line 2); only http blocks share an address" },
	{ "http {\n root /x;\n}",
	    "t.conf:1: \"http\" block has no \"listen\"" },
	{ "chat {\n}\n", "t.conf:1: \"chat\" block has no \"listen\"" },
	{ "echo {\n listen 81;\n}\n\nhttp {\n}\n",
	    "t.conf:5: \"http\" block has no \"listen\"" },
	{ "http {\n listen 80;\n workers 2;\n}",
	    "t.conf:3: \"workers\" directive is not allowed here" },
	{ "listen 80;", "t.conf:1: \"listen\" directive is not allowed here" },
	{ "echo {\n listen 80;\n root /x;\n}",
	    "t.conf:3: \"root\" directive is not allowed here" },
	{ "echo {\n listen 80;\n max_line 1k;\n}",
	    "t.conf:3: \"max_line\" directive is not allowed here" },
	{ "http {\n listen 80;\n idle_timeout 1s;\n}",
	    "t.conf:3: \"idle_timeout\" directive is not allowed here" },
	{ "http {\n listen 80;\n http {\n }\n}",
	    "t.conf:3: \"http\" directive is not allowed here" },
	{ "http {\n listen\n\n 127.0.0.1:0;\n}",
	    "t.conf:4: invalid listen address \"127.0.0.1:0\"" },
	{ "http {\n listen 65536;\n}",
	    "t.conf:2: invalid listen address \"65536\"" },
	{ "http {\n listen 1.2.3.4:;\n}",
	    "t.conf:2: invalid listen address \"1.2.3.4:\"" },
	{ "http {\n listen 1.2.3:80;\n}",
	    "t.conf:2: invalid listen address \"1.2.3:80\"" },
	{ "http {\n listen ::1:80;\n}",
	    "t.conf:2: invalid listen address \"::1:80\"" },
	{ "http {\n listen [::1];\n}",
	    "t.conf:2: invalid listen address \"[::1]\"" },
	{ "http {\n listen [::1]80;\n}",
	    "t.conf:2: invalid listen address \"[::1]80\"" },
	{ "http {\n listen [1.2.3.4]:80;\n}",
	    "t.conf:2: invalid listen address \"[1.2.3.4]:80\"" },
	{ "http {\n listen example.com:80;\n}",
	    "t.conf:2: invalid listen address \"example.com:80\"" },
	{ "http {\n listen 80x;\n}",
	    "t.conf:2: invalid listen address \"80x\"" },
	{ "http {\n listen +80;\n}",
	    "t.conf:2: invalid listen address \"+80\"" },
	{ "http {\n listen \"\";\n}", "t.conf:2: invalid listen address \"\"" },
	{ "http {\n listen 80\n tls;\n}",
	    "t.conf:3: invalid listen parameter \"tls\"" },
	{ "http {\n listen 80\n ssl;\n}",
	    "t.conf:2: no \"ssl_certificate\" for \"listen 0.0.0.0:80 ssl\"" },
	{ "http {\n listen 80 ssl;\n ssl_certificate /tmp/c.pem;\n}",
	    "t.conf:3: ssl_certificate \"/tmp/c.pem\" has no "
	    "\"ssl_certificate_key\"" },
	{ "http {\n listen 80 ssl;\n ssl_certificate_key /tmp/k.pem;\n}",
	    "t.conf:3: \"ssl_certificate_key\" without an \"ssl_certificate\" "
	    "before it" },
	{ "http {\n listen 80 ssl;\n ssl_protocols TLSv1.2\n TLSv1.1;\n}",
	    "t.conf:4: TLSv1.1 is insecure and not supported (RFC 8996); use "
	    "TLSv1.2 and TLSv1.3" },
	{ "http {\n listen 80 ssl;\n ssl_protocols TLSv2;\n}",
	    "t.conf:3: unknown protocol \"TLSv2\" (TLSv1.2 or TLSv1.3)" },
	{ "http {\n listen 80 ssl;\n ssl_certificate /c;\n ssl_certificate_key"
	    " /k;\n}\nhttp {\n listen 80;\n}",
	    "t.conf:7: listen 0.0.0.0:80: \"ssl\" differs from line 2" },
	{ "http {\n listen 80;\n server_name a.example b.example;\n}\n"
	    "http {\n listen 80;\n server_name c.example\n B.example.;\n}",
	    "t.conf:8: server name \"b.example\" on 0.0.0.0:80 is also the "
	    "block's at line 1" },
	{ "http {\n listen 80 default_server;\n}\nhttp {\n listen 80\n "
	    "default_server;\n}", "t.conf:5: a second default_server for "
	    "0.0.0.0:80 (the first at line 2)" },
	{ "echo {\n listen 80\n default_server;\n}",
	    "t.conf:3: default_server is only for http listeners" },
	{ "http {\n listen 80 ssl proxy_protocol;\n ssl_certificate /c;\n "
	    "ssl_certificate_key /k;\n}\nhttp {\n listen 80 ssl;\n}",
	    "t.conf:7: listen 0.0.0.0:80: proxy_protocol differs from line 2" },
	{ "http {\n listen 80;\n access_log /a.log json;\n}",
	    "t.conf:3: unknown log_format \"json\"" },
	{ "http {\n listen 80;\n route hello hello;\n}",
	    "t.conf:3: route prefix \"hello\" must start with \"/\"" },
	{ "http {\n listen 80;\n route /x nope;\n}",
	    "t.conf:3: unknown route handler \"nope\"" },
	{ "http {\n listen 80;\n route /x hello;\n route /x echo;\n}",
	    "t.conf:4: duplicate route \"/x\"" },
	{ "http {\n listen 80;\n root www;\n}",
	    "t.conf:3: path \"www\" must be an absolute path" },
	{ "error_log rel.log;",
	    "t.conf:1: path \"rel.log\" must be an absolute path" },
	{ "pid \"\";", "t.conf:1: invalid path \"\"" },
	{ "http {\n listen 80;\n default_type \"\";\n}",
	    "t.conf:3: empty value for \"default_type\"" },
	{ "http {\n listen 80;\n index a\n \"\";\n}",
	    "t.conf:4: invalid index \"\"" },
	{ "user \"\";", "t.conf:1: invalid user \"\"" },
	{ "user a \"\";", "t.conf:1: invalid group \"\"" },
	{ "chat {\n listen 80;\n max_line 0;\n}",
	    "t.conf:3: \"max_line\" must not be 0" },
	{ "chat {\n listen 80;\n queue 0k;\n}",
	    "t.conf:3: \"queue\" must not be 0" },
	{ "chat {\n listen 80;\n idle_timeout soon;\n}",
	    "t.conf:3: invalid time \"soon\"" },
	{ "chat {\n listen 80;\n chat_history 5;\n}",
	    "t.conf:3: \"chat_history\" needs \"redis\"" },
	{ "chat {\n listen 80;\n redis_db 1;\n}",
	    "t.conf:1: redis_channel, redis_password and redis_db need "
	    "\"redis\"" },
	{ "chat {\n listen 80;\n redis 127.0.0.1;\n}",
	    "t.conf:3: invalid redis address \"127.0.0.1\" (HOST:PORT or "
	    "unix:PATH)" },
	{ "chat {\n listen 80;\n redis 127.0.0.1:99999;\n}",
	    "t.conf:3: invalid port in redis address \"127.0.0.1:99999\"" },
	{ "chat {\n listen 80;\n redis unix:rel;\n}",
	    "t.conf:3: invalid redis address \"unix:rel\" (unix:/absolute/path)" },
	{ "chat {\n listen 80;\n redis 1.2.3.4:1;\n redis_db x;\n}",
	    "t.conf:4: invalid \"redis_db\" value \"x\" (0 to 65535)" },
	{ "chat {\n listen 80;\n redis 1.2.3.4:1;\n}\nchat {\n listen 81;\n"
	    " redis 1.2.3.4:1;\n redis_channel forkloop:chat:0.0.0.0:80;\n}",
	    "t.conf:7: redis channel \"forkloop:chat:0.0.0.0:80\" is already "
	    "the one of the chat block at line 1" },
	{ "http {\n listen 80;\n redis 1.2.3.4:1;\n}",
	    "t.conf:3: \"redis\" directive is not allowed here" },
	{ "\"unterminated\nhttp {", "t.conf:1: unterminated quoted string" },
	{ "http {\n listen 80;\n root \"/a\\q\";\n}",
	    "t.conf:3: invalid escape \"\\q\" in quoted string" },
	{ "http {\n listen 80;\n root \"/a\"b;\n}", "t.conf:3: expecting "
	    "space, \";\", \"{\" or \"}\" after quoted string" },
	{ "http {\n listen 80;\n root /a\"b\";\n}",
	    "t.conf:3: unexpected quote inside a word" },
};

/* nginx's spellings: the same directive, its duplicate checks too. */
static void
test_nginx_words(void)
{
	static const char *const hinted[] = {
		"client_body_buffer_size",
		"client_header_buffer_size", "events",
		"keepalive_requests", "large_client_header_buffers",
		"open_file_cache", "rewrite", "sendfile",
		"ssl_dhparam", "ssl_session_cache",
		"ssl_stapling", "tcp_nodelay", "tcp_nopush", "types",
		/* proxying nginx has and forkloop does not */
		"fastcgi_pass", "grpc_pass", "hash", "ip_hash",
		"proxy_buffer_size", "proxy_buffers", "proxy_cache",
		"proxy_cache_path", "proxy_next_upstream",
		"proxy_request_buffering", "proxy_ssl_certificate",
		"proxy_ssl_verify", "proxy_temp_path", "scgi_pass", "sticky",
		"uwsgi_pass",
		/* auth nginx has and forkloop does not */
		"auth_request", "satisfy",
	};
	struct conf *conf;
	char text[256], want[128];
	size_t i;

	conf = load("worker_processes 3;\nworker_shutdown_timeout 1m30s;\n"
	    "http {\n listen 80;\n client_max_body_size 2m;\n"
	    " client_body_timeout 7s;\n client_header_timeout 8s;\n}\n");
	if (conf != NULL) {
		is_int(conf->workers, 3, "worker_processes is workers");
		is_int(conf->shutdown_timeout_ms, 90000,
		    "worker_shutdown_timeout is shutdown_timeout");
		is_int(conf->servers[0].max_body_size, 2 * 1024 * 1024,
		    "client_max_body_size is max_body_size");
		is_int(conf->servers[0].body_timeout_ms, 7000,
		    "client_body_timeout is body_timeout");
		is_int(conf->servers[0].header_timeout_ms, 8000,
		    "client_header_timeout is header_timeout");
		conf_free(conf);
	}
	conf = conf_load_string("t.conf", "workers 2;\nworker_processes 3;\n"
	    "http { listen 80; }\n", NULL, err, sizeof(err));
	ok(conf == NULL && strcmp(err, "t.conf:2: duplicate \"workers\" "
	    "directive") == 0, "workers and worker_processes: duplicate (%s)",
	    err);
	conf_free(conf);
	/* Every hint is found: the table is sorted for its bsearch. */
	for (i = 0; i < nitems(hinted); i++) {
		snprintf(text, sizeof(text), "http {\n listen 80;\n %s x;\n}\n",
		    hinted[i]);
		snprintf(want, sizeof(want), "t.conf:3: \"%s\" is nginx's; "
		    "forkloop ", hinted[i]);
		conf = conf_load_string("t.conf", text, NULL, err, sizeof(err));
		ok(conf == NULL && strncmp(err, want, strlen(want)) == 0,
		    "%s: %s", hinted[i], err);
		conf_free(conf);
	}
	/* "server" is an upstream's directive: elsewhere, the advice. */
	conf = conf_load_string("t.conf", "http {\n listen 80;\n server x;\n}\n",
	    NULL, err, sizeof(err));
	ok(conf == NULL && strncmp(err, "t.conf:3: \"server\" is not allowed "
	    "here: forkloop calls a site \"http { ... }\"", 59) == 0,
	    "server outside an upstream: %s", err);
	conf_free(conf);
}

/* upstream blocks, proxy_pass and what a location inherits of them. */
static void
test_upstreams(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "upstream a {\n}\nhttp { listen 80; }\n",
		    "t.conf:1: no servers are inside upstream \"a\"" },
		{ "upstream a { server 127.0.0.1:1; }\nupstream a {\n server "
		    "127.0.0.1:2; }\nhttp { listen 80; }\n",
		    "t.conf:2: duplicate upstream \"a\"" },
		{ "upstream a {\n server 127.0.0.1:1 weight=0;\n}\n"
		    "http { listen 80; }\n", "t.conf:2: " },
		{ "upstream a {\n server 127.0.0.1:1 down=1;\n}\n"
		    "http { listen 80; }\n",
		    "t.conf:2: invalid parameter \"down=1\"" },
		{ "upstream a {\n server 127.0.0.1:99999;\n}\n"
		    "http { listen 80; }\n",
		    "t.conf:2: invalid upstream address \"127.0.0.1:99999\"" },
		{ "upstream a {\n server unix:rel.sock;\n}\n"
		    "http { listen 80; }\n",
		    "t.conf:2: invalid unix socket path \"rel.sock\"" },
		{ "http {\n listen 80;\n proxy_pass https://127.0.0.1:1;\n}\n",
		    "t.conf:3: proxy_pass to https is not supported" },
		{ "http {\n listen 80;\n proxy_pass 127.0.0.1:1;\n}\n",
		    "t.conf:3: invalid URL prefix" },
		{ "http {\n listen 80;\n proxy_http_version 1.0;\n}\n",
		    "t.conf:3: proxy_http_version \"1.0\"" },
		{ "http {\n listen 80;\n proxy_redirect http://a/ /;\n}\n",
		    "t.conf:3: \"proxy_redirect\" takes 1 argument" },
		{ "http {\n listen 80;\n proxy_set_header \"X A\" b;\n}\n",
		    "t.conf:3: invalid header name \"X A\"" },
		{ "http {\n listen 80;\n least_conn;\n}\n",
		    "t.conf:3: \"least_conn\" directive is not allowed here" },
	};
	const struct conf_upstream *u;
	const struct conf_server *s, *loc;
	struct conf *conf;
	size_t i;

	conf = load("upstream app {\n server 127.0.0.1:8001 weight=3 "
	    "max_fails=2 fail_timeout=5s;\n server [::1]:8002 backup;\n"
	    " server unix:/run/app.sock;\n least_conn;\n keepalive 16;\n"
	    " keepalive_timeout 30s;\n}\n"
	    "http {\n listen 80;\n keepalive_timeout 5s;\n"
	    " proxy_set_header Host $host;\n proxy_pass http://app;\n"
	    " location /x/ {\n  proxy_pass http://127.0.0.1:9000/y/;\n"
	    "  proxy_set_header X-A $http_user_agent;\n"
	    "  proxy_read_timeout 5s;\n }\n"
	    " location /u/ { proxy_pass http://unix:/run/b.sock:/; }\n}\n");
	ok(conf != NULL, "an upstream block and proxy_pass forms: %s", err);
	if (conf == NULL)
		return;
	s = &conf->servers[0];
	u = s->proxy_upstream;
	ok(u != NULL && strcmp(u->name, "app") == 0 && !u->implicit,
	    "proxy_pass http://app names the upstream block");
	is_int(conf->nupstreams, 3, "one block, two addresses of proxy_pass");
	if (u != NULL && u->nservers == 3) {
		is_str(u->servers[0].text, "127.0.0.1:8001", "server text");
		is_int(u->servers[0].weight, 3, "weight=3");
		is_int(u->servers[0].max_fails, 2, "max_fails=2");
		is_int(u->servers[0].fail_timeout_ms, 5000, "fail_timeout=5s");
		is_str(u->servers[1].text, "[::1]:8002", "an IPv6 server");
		is_int(u->servers[1].backup, 1, "backup");
		is_str(u->servers[2].text, "unix:/run/app.sock", "unix:");
		is_int(u->least_conn, 1, "least_conn");
		is_int(u->keepalive, 16, "keepalive 16");
		is_int(u->keepalive_timeout_ms, 30000, "the upstream's "
		    "keepalive_timeout");
	} else {
		ok(0, "three servers in the upstream");
	}
	is_int(s->keepalive_timeout_ms, 5000, "the block's keepalive_timeout "
	    "is its own");
	is_str(s->proxy_host, "app", "$proxy_host of an upstream block");
	ok(s->proxy_uri == NULL, "no URI part");
	is_int(s->proxy_read_timeout_ms, 60000, "proxy_read_timeout default");
	is_int(s->proxy_redirect, 1, "proxy_redirect default");
	is_int(s->proxy_buffering, 1, "proxy_buffering default");
	loc = s->nlocations == 2 ? s->locations[0].conf : NULL;
	if (loc != NULL) {
		is_str(loc->proxy_upstream->name, "127.0.0.1:9000",
		    "an address makes an upstream of its own");
		ok(loc->proxy_upstream->implicit, "that is implicit");
		is_int(loc->proxy_upstream->keepalive, 32, "keepalive default");
		is_str(loc->proxy_uri, "/y/", "the URI part");
		is_str(loc->proxy_host, "127.0.0.1:9000", "its $proxy_host");
		is_int(loc->nproxy_headers, 1, "a location's proxy_set_header "
		    "replaces the block's");
		is_int(loc->proxy_read_timeout_ms, 5000, "its own timeout");
		loc = s->locations[1].conf;
		is_str(loc->proxy_upstream->servers[0].text, "unix:/run/b.sock",
		    "proxy_pass http://unix:/path:/");
		is_str(loc->proxy_uri, "/", "with its URI part");
		is_str(loc->proxy_host, "localhost", "Host for a socket");
		is_int(loc->nproxy_headers, 1, "a location inherits the "
		    "block's proxy_set_header");
	} else {
		ok(0, "two locations");
	}
	conf_free(conf);
	for (i = 0; i < nitems(bad); i++) {
		conf = conf_load_string("t.conf", bad[i].text, NULL, err,
		    sizeof(err));
		ok(conf == NULL && strncmp(err, bad[i].want,
		    strlen(bad[i].want)) == 0, "%s", err);
		conf_free(conf);
	}
}

static void
test_errors(void)
{
	struct conf *conf;
	size_t i;

	for (i = 0; i < nitems(error_cases); i++) {
		strcpy(err, "(untouched)");
		conf = conf_load_string("t.conf", error_cases[i].text, NULL,
		    err, sizeof(err));
		if (conf != NULL) {
			ok(0, "error %zu fails: %s", i, error_cases[i].want);
			conf_free(conf);
			continue;
		}
		is_str(err, error_cases[i].want, "error %zu: %s", i,
		    error_cases[i].want);
	}
}

static void
test_small_err_buffer(void)
{
	char small[8];
	struct conf *conf;

	conf = conf_load_string("t.conf", "foo;", NULL, small, sizeof(small));
	ok(conf == NULL && strcmp(small, "t.conf:") == 0,
	    "error truncated to a small buffer: %s", small);
	conf = conf_load_string("t.conf", "foo;", NULL, NULL, 0);
	ok(conf == NULL, "no error buffer at all");
}

static int
write_file(const char *path, const char *text, size_t len)
{
	FILE *fp;
	int rc;

	fp = fopen(path, "w");
	if (fp == NULL)
		return -1;
	rc = fwrite(text, 1, len, fp) == len ? 0 : -1;
	if (fclose(fp) != 0)
		rc = -1;
	return rc;
}

/* mkstemp gives the name; the text then goes in through write_file. */
static int
temp_file(const char *dir, const char *text, size_t len, char *path,
    size_t pathlen)
{
	int fd;

	snprintf(path, pathlen, "%s/t.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd == -1)
		return -1;
	close(fd);
	return write_file(path, text, len);
}

static void
test_file_relative(const char *dir)
{
	static const char text[] = "pid run/fl.pid;\nerror_log ./logs/e.log;"
	    "\nhttp {\n listen 80;\n root www/;\n access_log .;\n}\n";
	char path[PATH_MAX], want[PATH_MAX + 32];
	struct conf *conf;

	if (temp_file(dir, text, strlen(text), path, sizeof(path)) == -1) {
		skip(6, "cannot write a temporary file");
		return;
	}
	conf = conf_load_file(path, err, sizeof(err));
	if (!ok(conf != NULL, "file loads: %s", err)) {
		skip(5, "file did not load");
		unlink(path);
		return;
	}
	is_str(conf->file, path, "conf->file is the path");
	snprintf(want, sizeof(want), "%s/run/fl.pid", dir);
	is_str(conf->pid_file, want, "pid next to the file");
	snprintf(want, sizeof(want), "%s/logs/e.log", dir);
	is_str(conf->error_log, want, "error_log next to the file");
	snprintf(want, sizeof(want), "%s/www", dir);
	is_str(conf->servers[0].root, want, "root next to the file");
	is_str(conf->servers[0].access_log, dir, "\".\" is the directory");
	conf_free(conf);
	unlink(path);
}

/* A relative file name resolves against the current directory. */
static void
test_file_cwd(const char *dir)
{
	static const char text[] = "http {\n listen 80;\n root www;\n}\n";
	char path[PATH_MAX], cwd[PATH_MAX], old[PATH_MAX], want[PATH_MAX * 2];
	struct conf *conf = NULL;

	snprintf(path, sizeof(path), "%s/sub", dir);
	if (getcwd(old, sizeof(old)) == NULL || mkdir(path, 0700) == -1 ||
	    chdir(dir) == -1 || getcwd(cwd, sizeof(cwd)) == NULL ||
	    write_file("sub/s.conf", text, strlen(text)) == -1) {
		skip(3, "cannot set up a relative path");
		return;
	}
	conf = conf_load_file("sub/s.conf", err, sizeof(err));
	if (ok(conf != NULL, "relative file name loads: %s", err)) {
		is_str(conf->file, "sub/s.conf", "conf->file as given");
		snprintf(want, sizeof(want), "%s/sub/www", cwd);
		is_str(conf->servers[0].root, want, "root is absolute");
	}
	conf_free(conf);
	unlink("sub/s.conf");
	rmdir("sub");
	if (chdir(old) == -1)
		diag("cannot return to %s", old);
}

static void
test_file_errors(const char *dir)
{
	static const char bad[] = "http {\n listen 80;\n nope;\n}\n";
	static const char nul[] = "workers 1;\n\0";
	char path[PATH_MAX], want[PATH_MAX + 64];
	struct conf *conf;

	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	conf = conf_load_file(path, err, sizeof(err));
	snprintf(want, sizeof(want), "%s: cannot open: %s", path,
	    strerror(ENOENT));
	ok(conf == NULL, "missing file fails");
	is_str(err, want, "missing file message");

	conf = conf_load_file(dir, err, sizeof(err));
	snprintf(want, sizeof(want), "%s: cannot read: %s", dir,
	    strerror(EISDIR));
	ok(conf == NULL && strcmp(err, want) == 0, "directory: %s", err);

	if (temp_file(dir, bad, strlen(bad), path, sizeof(path)) == 0) {
		conf = conf_load_file(path, err, sizeof(err));
		snprintf(want, sizeof(want), "%s:3: unknown directive \"nope\"",
		    path);
		ok(conf == NULL && strcmp(err, want) == 0,
		    "error names the file: %s", err);
		if (geteuid() == 0) {
			skip(1, "root reads unreadable files");
		} else {
			chmod(path, 0);
			conf = conf_load_file(path, err, sizeof(err));
			snprintf(want, sizeof(want), "%s: cannot open: %s",
			    path, strerror(EACCES));
			ok(conf == NULL && strcmp(err, want) == 0,
			    "unreadable file: %s", err);
		}
		unlink(path);
	} else {
		skip(2, "cannot write a temporary file");
	}

	if (temp_file(dir, nul, sizeof(nul) - 1, path, sizeof(path)) == 0) {
		conf = conf_load_file(path, err, sizeof(err));
		snprintf(want, sizeof(want), "%s:2: unexpected NUL byte", path);
		ok(conf == NULL && strcmp(err, want) == 0, "NUL in file: %s",
		    err);
		unlink(path);
	} else {
		skip(1, "cannot write a temporary file");
	}
}

static void
test_files(void)
{
	char dir[] = "/tmp/conf_test.XXXXXX";

	if (mkdtemp(dir) == NULL) {
		skip(15, "cannot make a temporary directory");
		return;
	}
	test_file_relative(dir);
	test_file_cwd(dir);
	test_file_errors(dir);
	if (rmdir(dir) == -1)
		diag("%s left behind: %s", dir, strerror(errno));
}

/* The files the include tests read, under a temporary directory. */
static const struct {
	const char *name;
	const char *text;
} include_files[] = {
	{ "one.conf", "workers 3;\n" },
	{ "sites/b.conf", "http {\n listen 8082;\n server_name b;\n}\n" },
	{ "sites/a.conf", "http {\n listen 8081;\n server_name a;\n}\n" },
	{ "sites/README", "not a config\n" },
	{ "block.conf", "root www;\n\nindex i.html;\n" },
	{ "loc.conf", "root /l;\n" },
	{ "nest1.conf", "# the first of two\ninclude nest2.conf;\n" },
	{ "nest2.conf", "worker_connections 77;\n" },
	{ "bad.conf", "\n# a mistake below\nbogus on;\n" },
	{ "deep.conf", "workers 2;\ninclude bad.conf;\n" },
	{ "loop.conf", "include loop.conf;\n" },
	{ "open.conf", "http {\n listen 80;\n" },
	{ "close.conf", "}\n" },
	{ "empty.conf", "" },
	{ "dup/a.conf", "http {\n listen 80;\n server_name same;\n}\n" },
	{ "dup/b.conf", "http {\n listen 80;\n\n server_name same;\n}\n" },
	{ "echo.conf", "echo {\n listen 7;\n}\n" },
};

static int
include_setup(const char *dir)
{
	char path[PATH_MAX], *slash;
	size_t i;

	for (i = 0; i < nitems(include_files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir,
		    include_files[i].name);
		slash = strrchr(path, '/');
		*slash = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST)
			return -1;
		*slash = '/';
		if (write_file(path, include_files[i].text,
		    strlen(include_files[i].text)) == -1)
			return -1;
	}
	return 0;
}

static void
include_cleanup(const char *dir)
{
	static const char *const dirs[] = { "sites", "dup", "" };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < nitems(include_files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir,
		    include_files[i].name);
		unlink(path);
	}
	for (i = 0; i < nitems(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, dirs[i]);
		if (rmdir(path) == -1)
			diag("%s left behind: %s", path, strerror(errno));
	}
}

/* text, read with dir as its folder, must fail with want ("%s" is dir). */
static void
include_fails(const char *dir, const char *name, const char *text,
    const char *want_fmt)
{
	char want[CONF_ERR_LEN];
	struct conf *conf;

	snprintf(want, sizeof(want), want_fmt, dir, dir);
	strcpy(err, "(untouched)");
	conf = conf_load_string("t.conf", text, dir, err, sizeof(err));
	if (conf != NULL) {
		ok(0, "include: %s fails", name);
		conf_free(conf);
		return;
	}
	is_str(err, want, "include: %s", name);
}

static struct conf *
include_loads(const char *dir, const char *name, const char *text)
{
	struct conf *conf;

	conf = conf_load_string("t.conf", text, dir, err, sizeof(err));
	ok(conf != NULL, "include: %s loads: %s", name, err);
	return conf;
}

static void
test_include_reads(const char *dir)
{
	char want[PATH_MAX + 32];
	struct conf *conf;
	int line;

	conf = include_loads(dir, "one file", "include one.conf;\n"
	    "http { listen 80; }\n");
	if (conf != NULL)
		is_int(conf->workers, 3, "include: its statement is read");
	conf_free(conf);
	conf = include_loads(dir, "a glob", "include sites/*.conf;\n");
	if (conf != NULL && is_int((int)conf->nservers, 2,
	    "include: a glob reads both sites, not the README")) {
		is_str(conf->servers[0].server_names[0], "a",
		    "include: sorted, a.conf first");
		is_str(conf->servers[1].server_names[0], "b",
		    "include: sorted, b.conf second");
		snprintf(want, sizeof(want), "%s/sites/b.conf", dir);
		is_str(conf_where(conf, conf->servers[1].listens[0].line,
		    &line), want, "include: a listen knows its file");
		is_int(line, 2, "include: and its line there");
	}
	conf_free(conf);
	conf = include_loads(dir, "inside an http block", "http {\n"
	    " listen 80;\n include block.conf;\n}\n");
	if (conf != NULL) {
		snprintf(want, sizeof(want), "%s/www", dir);
		is_str(conf->servers[0].root, want,
		    "include: a relative root is from the main file's folder");
		is_str(conf->servers[0].index[0], "i.html",
		    "include: the block gets the file's index");
	}
	conf_free(conf);
	conf = include_loads(dir, "inside a location", "http {\n listen 80;\n"
	    " location /x/ {\n  include loc.conf;\n }\n}\n");
	if (conf != NULL)
		is_str(conf->servers[0].locations[0].conf->root, "/l",
		    "include: the location gets the file's root");
	conf_free(conf);
	conf = include_loads(dir, "nested", "include nest1.conf;\n"
	    "include empty.conf;\nhttp { listen 80; }\n");
	if (conf != NULL)
		is_int(conf->worker_connections, 77,
		    "include: a file included by an included file");
	conf_free(conf);
	conf = include_loads(dir, "globs matching nothing", "include "
	    "sites/*.none;\ninclude nowhere/*.conf;\nhttp { listen 80; }\n");
	conf_free(conf);
}

static void
test_include_errors(const char *dir)
{
	include_fails(dir, "a missing file: the include line",
	    "workers 1;\n\ninclude nope.conf;\nhttp { listen 80; }\n",
	    "t.conf:3: include \"%s/nope.conf\": cannot open: "
	    "No such file or directory");
	include_fails(dir, "a folder named as a file",
	    "include sites;\nhttp { listen 80; }\n",
	    "t.conf:1: include \"%s/sites\": not a regular file");
	include_fails(dir, "an error inside the included file",
	    "http {\n listen 80;\n}\ninclude bad.conf;\n",
	    "%s/bad.conf:3: unknown directive \"bogus\"");
	include_fails(dir, "an error two files down",
	    "include deep.conf;\nhttp { listen 80; }\n",
	    "%s/bad.conf:3: unknown directive \"bogus\"");
	include_fails(dir, "the main file's lines after an include",
	    "include nest1.conf;\n\nbogus;\n",
	    "t.conf:3: unknown directive \"bogus\"");
	include_fails(dir, "a loop",
	    "include loop.conf;\nhttp { listen 80; }\n",
	    "%s/loop.conf:1: include nested too deeply (over 16 levels: "
	    "does a file include itself?)");
	include_fails(dir, "a duplicate across files, as if written there",
	    "workers 2;\ninclude one.conf;\nhttp { listen 80; }\n",
	    "%s/one.conf:1: duplicate \"workers\" directive");
	include_fails(dir, "a block must close in its file",
	    "include open.conf;\n}\n",
	    "%s/open.conf:2: unexpected end of file, expecting \"}\"");
	include_fails(dir, "nor close one of the including file",
	    "http {\n listen 80;\n include close.conf;\n}\n",
	    "%s/close.conf:1: unexpected \"}\"");
	include_fails(dir, "not allowed in the file's place",
	    "http {\n listen 80;\n include one.conf;\n}\n",
	    "%s/one.conf:1: \"workers\" directive is not allowed here");
	include_fails(dir, "one argument", "include a b;\n",
	    "t.conf:1: \"include\" takes 1 argument");
	include_fails(dir, "the main file's end after an include",
	    "include one.conf;\n\n", "t.conf:2: no http, echo or chat block");
}

/* Errors found once the whole tree is read name the included file too. */
static void
test_include_later_errors(const char *dir)
{
	include_fails(dir, "a server name twice, in two files",
	    "include dup/*.conf;\n",
	    "%s/dup/b.conf:4: server name \"same\" on 0.0.0.0:80 is also "
	    "the block's at %s/dup/a.conf:1");
	include_fails(dir, "a listen twice, in two files",
	    "echo {\n listen 7;\n}\ninclude echo.conf;\n",
	    "%s/echo.conf:2: duplicate listen address 0.0.0.0:7 (first at "
	    "t.conf:2); only http blocks share an address");
}

/* Without a basedir, a relative include is from the current directory. */
static void
test_include_cwd(const char *dir)
{
	char old[PATH_MAX];
	struct conf *conf;

	if (getcwd(old, sizeof(old)) == NULL || chdir(dir) == -1) {
		skip(2, "cannot change to the temporary directory");
		return;
	}
	conf = conf_load_string("t.conf", "include one.conf;\n"
	    "http { listen 80; }\n", NULL, err, sizeof(err));
	if (ok(conf != NULL, "include: no basedir, from the current "
	    "directory: %s", err))
		is_int(conf->workers, 3, "include: its statement is read");
	conf_free(conf);
	if (chdir(old) == -1)
		diag("cannot return to %s", old);
}

/* A folder a glob cannot read is an error, not "no sites". */
static void
test_include_unreadable(const char *dir)
{
	char path[PATH_MAX];

	if (geteuid() == 0) {
		skip(1, "root reads unreadable folders");
		return;
	}
	snprintf(path, sizeof(path), "%s/sites", dir);
	if (chmod(path, 0) == -1) {
		skip(1, "cannot chmod the folder");
		return;
	}
	include_fails(dir, "an unreadable folder: the include line",
	    "workers 1;\ninclude sites/*.conf;\n",
	    "t.conf:2: include \"%s/sites/*.conf\": cannot read the folder "
	    "\"%s/sites\": Permission denied");
	if (chmod(path, 0700) == -1)
		diag("cannot chmod %s back: %s", path, strerror(errno));
}

static void
test_includes(void)
{
	char dir[] = "/tmp/conf_include.XXXXXX";

	if (mkdtemp(dir) == NULL || include_setup(dir) == -1) {
		skip(1, "cannot write the files to include");
		return;
	}
	test_include_reads(dir);
	test_include_errors(dir);
	test_include_later_errors(dir);
	test_include_cwd(dir);
	test_include_unreadable(dir);
	include_cleanup(dir);
}

int
main(void)
{
	test_lex();
	test_default();
	test_full();
	test_defaults();
	test_chat_redis();
	test_tls();
	test_vhosts();
	test_vhosts_exact();
	test_sizes();
	test_times();
	test_flags_and_workers();
	test_listen_forms();
	test_many_words();
	test_basedir();
	test_errors();
	test_nginx_words();
	test_small_err_buffer();
	test_files();
	test_includes();
	test_upstreams();
	conf_free(NULL);
	return done_testing();
}
