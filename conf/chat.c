/*
 * chat.c: the directives of a chat block that take its room across
 * hosts through Redis (worker/chat_redis.c): redis, redis_password,
 * redis_db, redis_channel and chat_history, and the checks made when
 * the block ends; and "websocket PATH ROOM" in an http block, which
 * lets browsers into a chat block's room (worker/http/websocket.c).
 *
 * A host name in "redis" is resolved here, when the config is read (as
 * nginx resolves an upstream's names), so a worker never waits on DNS
 * when it reconnects; a reload resolves it again.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/parser.h"
#include "conf/value.h"

/* Room for "forkloop:chat:" and a listen address. */
#define CHAT_CHANNEL_PREFIX	"forkloop:chat:"

static int
chat_set_string(struct parser *p, int line, char **field, const char *s)
{
	free(*field);
	*field = conf_pstrdup(p, line, s);
	return *field == NULL ? -1 : 0;
}

/* "host:port", "[v6]:port" or "unix:/path". */
int
conf_set_redis(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	const char *text = st->argv[1];
	char host[256], numeric[INET6_ADDRSTRLEN];
	const char *colon, *h = text, *port;
	struct addrinfo hints, *res;
	size_t hlen;
	long n;
	char *end;
	int rc;

	srv->redis_line = st->lines[1];
	if (chat_set_string(p, st->lines[1], &srv->redis, text) == -1)
		return -1;
	if (strncmp(text, "unix:", 5) == 0) {
		if (text[5] != '/' || strlen(text + 5) >=
		    sizeof(((struct sockaddr_un *)0)->sun_path))
			return conf_perr(p, st->lines[1], "invalid redis "
			    "address \"%s\" (unix:/absolute/path)", text);
		srv->redis_port = 0;
		return chat_set_string(p, st->lines[1], &srv->redis_host,
		    text + 5);
	}
	colon = strrchr(text, ':');
	if (colon == NULL || colon == text)
		return conf_perr(p, st->lines[1], "invalid redis address "
		    "\"%s\" (HOST:PORT or unix:PATH)", text);
	port = colon + 1;
	n = strtol(port, &end, 10);
	if (*port < '0' || *port > '9' || *end != '\0' || n < 1 || n > 65535)
		return conf_perr(p, st->lines[1], "invalid port in redis "
		    "address \"%s\"", text);
	hlen = (size_t)(colon - text);
	if (text[0] == '[' && colon[-1] == ']') {
		h = text + 1;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return conf_perr(p, st->lines[1], "invalid redis address "
		    "\"%s\"", text);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
#ifdef FORKLOOP_FUZZING
	/* The config fuzzer must not wait on DNS for the names it makes. */
	hints.ai_flags |= AI_NUMERICHOST;
#endif
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0)
		return conf_perr(p, st->lines[1], "cannot resolve redis host "
		    "\"%s\": %s", host, gai_strerror(rc));
	rc = getnameinfo(res->ai_addr, res->ai_addrlen, numeric,
	    sizeof(numeric), NULL, 0, NI_NUMERICHOST);
	freeaddrinfo(res);
	if (rc != 0)
		return conf_perr(p, st->lines[1], "cannot resolve redis host "
		    "\"%s\": %s", host, gai_strerror(rc));
	srv->redis_port = (int)n;
	return chat_set_string(p, st->lines[1], &srv->redis_host, numeric);
}

/* redis_password PASSWORD, or redis_password USER PASSWORD (ACLs). */
int
conf_set_redis_password(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;

	if (st->argc == 3 && chat_set_string(p, st->lines[1],
	    &srv->redis_user, st->argv[1]) == -1)
		return -1;
	return chat_set_string(p, st->lines[st->argc - 1],
	    &srv->redis_password, st->argv[st->argc - 1]);
}

/* A count from 0 to max. */
static int
chat_count(struct parser *p, struct stmt *st, int max, int *out)
{
	char *end;
	long n = strtol(st->argv[1], &end, 10);

	if (st->argv[1][0] < '0' || st->argv[1][0] > '9' || *end != '\0' ||
	    n > max)
		return conf_perr(p, st->lines[1], "invalid \"%s\" value \"%s\" "
		    "(0 to %d)", st->argv[0], st->argv[1], max);
	*out = (int)n;
	return 0;
}

int
conf_set_redis_db(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;

	return chat_count(p, st, 65535, &srv->redis_db);
}

int
conf_set_chat_history(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;

	srv->chat_history_line = st->lines[1];
	return chat_count(p, st, CONF_CHAT_HISTORY_MAX, &srv->chat_history);
}

int
conf_set_redis_channel(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;

	if (st->argv[1][0] == '\0' || strlen(st->argv[1]) > 200)
		return conf_perr(p, st->lines[1], "invalid redis_channel "
		    "(1 to 200 characters)");
	return chat_set_string(p, st->lines[1], &srv->redis_channel,
	    st->argv[1]);
}

/*
 * At the end of a chat block: the Redis settings need "redis", the
 * channel defaults to one named after the room, and no two blocks share
 * a channel of one Redis (their lines would mix).
 */
int
conf_chat_finish(struct parser *p, struct conf_server *srv)
{
	struct conf *conf = p->conf;
	size_t i, len;

	if (srv->redis == NULL) {
		if (srv->chat_history > 0)
			return conf_perr(p, srv->chat_history_line,
			    "\"chat_history\" needs \"redis\"");
		if (srv->redis_channel != NULL || srv->redis_password != NULL ||
		    srv->redis_db != 0)
			return conf_perr(p, srv->line, "redis_channel, "
			    "redis_password and redis_db need \"redis\"");
		return 0;
	}
	if (srv->redis_channel == NULL) {
		len = sizeof(CHAT_CHANNEL_PREFIX) + strlen(srv->listens[0].text);
		srv->redis_channel = malloc(len);
		if (srv->redis_channel == NULL)
			return conf_perr(p, srv->line, "out of memory");
		snprintf(srv->redis_channel, len, "%s%s", CHAT_CHANNEL_PREFIX,
		    srv->listens[0].text);
	}
	for (i = 0; i < conf->nservers; i++) {
		const struct conf_server *o = &conf->servers[i];
		char ref[64];

		if (o == srv || o->kind != CONF_SERVER_CHAT || o->redis == NULL)
			continue;
		if (strcmp(o->redis_host, srv->redis_host) == 0 &&
		    o->redis_port == srv->redis_port &&
		    strcmp(o->redis_channel, srv->redis_channel) == 0)
			return conf_perr(p, srv->redis_line, "redis channel "
			    "\"%s\" is already the one of the chat block at %s",
			    srv->redis_channel, conf_line_ref(conf, o->line,
			    srv->redis_line, ref, sizeof(ref)));
	}
	return 0;
}

/*
 * websocket PATH ROOM: PATH is matched whole against the request's
 * decoded path; ROOM names a chat block by one of its listen addresses,
 * as a chat room is named, resolved once the whole file is read (the
 * chat block may come after the http block).
 */
int
conf_set_websocket(struct parser *p, struct stmt *st, void *field)
{
	struct conf_server *srv = field;
	struct conf_websocket *ws;
	const char *path = st->argv[1];
	size_t i;

	if (path[0] != '/' || strpbrk(path, "?#%") != NULL ||
	    strstr(path, "//") != NULL || strstr(path, "/.") != NULL)
		return conf_perr(p, st->lines[1], "websocket path \"%s\" must "
		    "start with \"/\" and hold no \"?\", \"#\", \"%%\", "
		    "\"//\" or dot segment", path);
	for (i = 0; i < srv->nwebsockets; i++)
		if (strcmp(srv->websockets[i].path, path) == 0)
			return conf_perr(p, st->lines[1], "duplicate websocket "
			    "\"%s\"", path);
	ws = realloc(srv->websockets, (srv->nwebsockets + 1) * sizeof(*ws));
	if (ws == NULL)
		return conf_perr(p, st->lines[0], "out of memory");
	srv->websockets = ws;
	ws = &ws[srv->nwebsockets];
	memset(ws, 0, sizeof(*ws));
	ws->line = st->lines[2];
	if ((ws->path = conf_pstrdup(p, st->lines[1], path)) == NULL ||
	    (ws->room = conf_pstrdup(p, st->lines[2], st->argv[2])) == NULL) {
		free(ws->path);
		return -1;
	}
	ws->path_len = strlen(path);
	srv->nwebsockets++;
	return 0;
}

/* The chat block with a listen address written as text, or NULL. */
static struct conf_server *
chat_block_at(const struct conf *conf, const char *text)
{
	size_t i, j;

	for (i = 0; i < conf->nservers; i++) {
		struct conf_server *s = &conf->servers[i];

		if (s->kind != CONF_SERVER_CHAT)
			continue;
		for (j = 0; j < s->nlistens; j++)
			if (strcmp(s->listens[j].text, text) == 0)
				return s;
	}
	return NULL;
}

/* Every websocket names its chat block; called when the file is read. */
int
conf_websockets_resolve(struct parser *p)
{
	struct conf *conf = p->conf;
	struct conf_listen l;
	size_t i, k;

	for (i = 0; i < conf->nservers; i++) {
		struct conf_server *s = &conf->servers[i];

		for (k = 0; k < s->nwebsockets; k++) {
			struct conf_websocket *ws = &s->websockets[k];

			memset(&l, 0, sizeof(l));
			if (value_listen(ws->room, &l, p->msg,
			    sizeof(p->msg)) == -1)
				return conf_perr(p, ws->line, "websocket room: "
				    "%s", p->msg);
			ws->chat = chat_block_at(conf, l.text);
			if (ws->chat == NULL)
				return conf_perr(p, ws->line, "websocket room "
				    "\"%s\": no chat block listens on %s",
				    ws->room, l.text);
		}
	}
	return 0;
}

void
conf_chat_free(struct conf_server *srv)
{
	size_t i;

	for (i = 0; i < srv->nwebsockets; i++) {
		free(srv->websockets[i].path);
		free(srv->websockets[i].room);
	}
	free(srv->websockets);
	free(srv->redis);
	free(srv->redis_host);
	free(srv->redis_user);
	free(srv->redis_password);
	free(srv->redis_channel);
}
