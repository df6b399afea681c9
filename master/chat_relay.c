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

static void chat_relay_on_event(struct bufferevent *, short, void *);

static void
chat_relay_on_read(struct bufferevent *bev, void *arg)
{
	struct master *m = arg;
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
			return;
		len = ntohl(len);
		if (len > CHAT_FRAME_MAX) {
			log_warnx("dropping a chat channel: frame of %u bytes",
			    len);
			chat_relay_on_event(bev, BEV_EVENT_ERROR, m);
			return;
		}
		if (evbuffer_get_length(in) < CHAT_FRAME_HEADER + len)
			return;
		frame = evbuffer_pullup(in, CHAT_FRAME_HEADER + len);
		if (frame != NULL)
			chat_relay_forward(m, from, frame,
			    CHAT_FRAME_HEADER + len);
		evbuffer_drain(in, CHAT_FRAME_HEADER + len);
	}
}

static void
chat_relay_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct master *m = arg;
	size_t i;

	(void)what;
	/* The worker is gone; process_reap logs why. */
	for (i = 0; i < m->nworkers; i++)
		if (m->workers[i].chat == bev)
			m->workers[i].chat = NULL;
	bufferevent_free(bev);
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
	struct bufferevent *bev = w->chat;
	struct evbuffer *in;
	int fd;

	if (bev == NULL)
		return;
	in = bufferevent_get_input(bev);
	fd = bufferevent_getfd(bev);
	while (evbuffer_read(in, fd, -1) > 0)
		;
	chat_relay_on_read(bev, m);
	if (w->chat != NULL)
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
