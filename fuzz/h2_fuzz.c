/*
 * h2_fuzz.c: libFuzzer harness for HTTP/2 frames through forkloop's glue:
 * the input, after the connection preface, is what a client sends on an
 * h2c connection (worker/http/h2.c, h2_stream.c).  libnghttp2 frames and
 * decodes it; the glue makes requests of the streams and the real
 * handlers answer them (static files from a temporary root, a folder
 * listing, hello, echo, delay, status), over a socket pair, in a real
 * event loop, until the client's end closes and the connection is gone.
 *
 * Checked: no crash, leak or undefined behaviour (the sanitizers), and
 * that every connection and stream is freed when the client goes.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/stats.h"
#include "conf/conf.h"
#include "worker/conns.h"
#include "worker/http/access_log.h"
#include "worker/http/h2_conn.h"
#include "worker/chat_ws.h"
#include "fuzz/fuzz.h"

static struct conf *fuzz_conf;

/*
 * A WebSocket is refused over HTTP/2 (worker/http/websocket.c), so no
 * stream ever joins a chat room: the chat is not linked in.
 */
int
chat_ws_start(struct bufferevent *bev, struct conf_server *chat,
    struct evbuffer *unread)
{
	(void)bev;
	(void)chat;
	(void)unread;
	abort();
}
static struct worker fuzz_worker;

static void
fuzz_write_file(const char *dir, const char *name, size_t size)
{
	char path[512];
	FILE *fp;
	size_t i;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	FUZZ_CHECK(fp != NULL);
	for (i = 0; i < size; i++)
		fputc('a' + (int)(i % 26), fp);
	fclose(fp);
}

static void
fuzz_init(void)
{
	static char dir[] = "/tmp/forkloop-h2-fuzz.XXXXXX";
	char text[1024], list[512], err[CONF_ERR_LEN];

	FUZZ_CHECK(mkdtemp(dir) != NULL);
	fuzz_write_file(dir, "index.html", 612);
	fuzz_write_file(dir, "big.bin", 100000);
	/* A folder without an index file, listed (autoindex.c). */
	snprintf(list, sizeof(list), "%s/list", dir);
	FUZZ_CHECK(mkdir(list, 0755) == 0);
	fuzz_write_file(list, "a <b>.txt", 10);
	fuzz_write_file(list, "b.txt", 3);
	snprintf(text, sizeof(text), "http {\n listen 127.0.0.1:1;\n"
	    " root %s;\n route /hello/ hello;\n route /echo echo;\n"
	    " route /delay/ delay;\n route /status status;\n"
	    " max_body_size 64k;\n http2_max_concurrent_streams 16;\n"
	    " autoindex on;\n location /json/ {\n  alias %s/list/;\n"
	    "  autoindex_format json;\n }\n}\n", dir, dir);
	fuzz_conf = conf_load_string("fuzz.conf", text, NULL, err,
	    sizeof(err));
	if (fuzz_conf == NULL) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	fuzz_worker.base = event_base_new();
	FUZZ_CHECK(fuzz_worker.base != NULL);
	fuzz_worker.conf = fuzz_conf;
	fuzz_worker.conns.next = fuzz_worker.conns.prev = &fuzz_worker.conns;
	worker_self = &fuzz_worker;
	FUZZ_CHECK(access_log_init(&fuzz_worker) == 0);
}

/* Reads and drops what the server sent, so it never blocks for long. */
static void
fuzz_drain(int fd)
{
	char buf[65536];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct conf_server *s;
	struct net_conn net;
	struct sockaddr_in peer;
	char *in;
	int fds[2], i;

	if (!ready) {
		fuzz_init();
		ready = 1;
	}
	s = &fuzz_conf->servers[0];
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    fds) == 0);
	memset(&peer, 0, sizeof(peer));
	peer.sin_family = AF_INET;
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	in = malloc(H2_PREFACE_LEN + size);
	FUZZ_CHECK(in != NULL);
	memcpy(in, H2_PREFACE, H2_PREFACE_LEN);
	if (size > 0)
		memcpy(in + H2_PREFACE_LEN, data, size);
	net_conn_init_plain(&net, fds[0]);
	h2_conn_new(&net, &s->listens[0], s, (struct sockaddr *)&peer,
	    sizeof(peer), in, H2_PREFACE_LEN + size);
	free(in);
	for (i = 0; i < 8 && fuzz_worker.nconns > 0; i++) {
		fuzz_drain(fds[1]);
		event_base_loop(fuzz_worker.base, EVLOOP_NONBLOCK);
	}
	/* The client goes: the connection must follow, with its streams. */
	close(fds[1]);
	for (i = 0; i < 100 && fuzz_worker.nconns > 0; i++)
		event_base_loop(fuzz_worker.base, EVLOOP_ONCE);
	FUZZ_CHECK(fuzz_worker.nconns == 0);
	return 0;
}
