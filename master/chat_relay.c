/*
 * chat_relay.c: the master's part of the chat service: it relays chat
 * frames from each worker to every other live worker, of any generation.
 *
 * Each worker gets one end of a socketpair at fork; the master keeps the
 * other end in a bufferevent.  Frames are forwarded whole, in the order
 * they arrive, so every receiver sees each sender's lines in order.  The
 * master does not parse lines; it only reads the length prefix.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/chat_frame.h"
#include "common/log.h"
#include "master/master.h"

static void
chat_relay_forward(struct master *m, const struct master_worker *from,
    const unsigned char *frame, size_t len)
{
	size_t i;

	for (i = 0; i < m->nworkers; i++) {
		struct master_worker *w = &m->workers[i];

		if (w == from || w->chat == NULL)
			continue;
		if (bufferevent_write(w->chat, frame, len) == -1)
			log_warnx("cannot queue a chat line for worker %ld",
			    (long)w->pid);
	}
}

static void chat_relay_drop(struct master *, struct bufferevent *);

/* Forwards the whole frames in bev's input; -1 when bev was dropped. */
static int
chat_relay_take(struct master *m, struct bufferevent *bev)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	const struct master_worker *from = NULL;
	size_t i;

	for (i = 0; i < m->nworkers; i++)
		if (m->workers[i].chat == bev)
			from = &m->workers[i];
	for (;;) {
		unsigned char *frame;
		uint32_t len;

		if (evbuffer_copyout(in, &len, sizeof(len)) < (ssize_t)sizeof(len))
			return 0;
		len = ntohl(len);
		if (len > CHAT_FRAME_MAX) {
			log_warnx("dropping a chat channel: frame of %u bytes",
			    len);
			chat_relay_drop(m, bev);
			return -1;
		}
		if (evbuffer_get_length(in) < CHAT_FRAME_HEADER + len)
			return 0;
		frame = evbuffer_pullup(in, CHAT_FRAME_HEADER + len);
		if (frame != NULL)
			chat_relay_forward(m, from, frame,
			    CHAT_FRAME_HEADER + len);
		evbuffer_drain(in, CHAT_FRAME_HEADER + len);
	}
}

static void
chat_relay_on_read(struct bufferevent *bev, void *arg)
{
	(void)chat_relay_take(arg, bev);
}

/* Forgets a worker's channel. */
static void
chat_relay_drop(struct master *m, struct bufferevent *bev)
{
	size_t i;

	for (i = 0; i < m->nworkers; i++)
		if (m->workers[i].chat == bev)
			m->workers[i].chat = NULL;
	bufferevent_free(bev);
}

/* Relays what is still unread in a worker's channel; -1 if dropped. */
static int
chat_relay_read_rest(struct master *m, struct bufferevent *bev)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	int fd = bufferevent_getfd(bev);

	/*
	 * A bufferevent keeps the end of its input frozen: only its own
	 * read callback may add.  Unfrozen for this read, or evbuffer_read
	 * fails at once and the bytes stay in the socket, lost.
	 */
	evbuffer_unfreeze(in, 0);
	while (evbuffer_read(in, fd, -1) > 0)
		;
	evbuffer_freeze(in, 0);
	return chat_relay_take(m, bev);
}

/*
 * The channel ended (the worker is gone; process_reap logs why), or
 * failed, often on a write: forwarding another worker's line to one that
 * just exited gives EPIPE.  What that worker wrote before it exited is
 * still unread in the socket; relay it before letting go, or its
 * clients' last lines and leave notices are lost.
 */
static void
chat_relay_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct master *m = arg;

	(void)what;
	if (chat_relay_read_rest(m, bev) == 0)
		chat_relay_drop(m, bev);
}

/* Makes the socketpair for a worker about to be forked. */
int
chat_relay_pair(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    fds) == -1) {
		log_error("socketpair for the chat channel");
		return -1;
	}
	return 0;
}

/* The master's end, once the worker is forked. */
int
chat_relay_attach(struct master *m, struct master_worker *w, int fd)
{
	w->chat = bufferevent_socket_new(m->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (w->chat == NULL) {
		log_errorx("cannot watch the chat channel of worker %ld",
		    (long)w->pid);
		close(fd);
		return -1;
	}
	bufferevent_setcb(w->chat, chat_relay_on_read, NULL,
	    chat_relay_on_event, m);
	return bufferevent_enable(w->chat, EV_READ | EV_WRITE);
}

/*
 * The worker exited.  Its last lines may still sit in the socket, unread
 * because SIGCHLD came first: relay them before letting go.
 */
void
chat_relay_detach(struct master *m, struct master_worker *w)
{
	if (w->chat == NULL)
		return;
	if (chat_relay_read_rest(m, w->chat) == 0)
		bufferevent_free(w->chat);
	w->chat = NULL;
}

/* In a new child: close the master's ends of every worker's channel. */
void
chat_relay_close_all(struct master *m)
{
	size_t i;

	for (i = 0; i < m->nworkers; i++)
		if (m->workers[i].chat != NULL)
			close(bufferevent_getfd(m->workers[i].chat));
}
