/*
 * chat_flush.c: one write per chat client per loop pass, without the
 * event changes a bufferevent makes for it.
 *
 * Why.  A bufferevent that is sent a line while its output is empty
 * adds its write event (an epoll_ctl), waits for the socket to be
 * writable (one more epoll_wait result), writes, and, its output empty
 * again, deletes the event (another epoll_ctl): three system calls and a
 * trip through epoll for every line that a room delivers to every
 * client, when the socket could have taken the line at once.  Here a
 * plain TCP line client's bufferevent keeps EV_WRITE disabled: what it
 * is sent goes into its output buffer as before, the client goes on a
 * list, and one event, made active, runs after the callbacks of the
 * current pass and writes each listed client's output with one writev.
 * Lines said in the same pass to the same client still leave together.
 *
 * Only when the socket cannot take it all (the client reads slowly) is
 * EV_WRITE enabled, and libevent writes the rest when it can; once the
 * output is empty (the write callback), the client is back on this path.
 * A closing client, a WebSocket member and a TLS client use the
 * bufferevent as it is (chat_flush_release, or never adopted).  The
 * bound on what a client may have queued stays chat.c's (chat_send).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/log.h"
#include "worker/chat.h"
#include "worker/net/tls.h"

static struct event *chat_flush_event;
/* The clients with lines to write in this pass, first listed first. */
static struct chat_conn *chat_flush_head, **chat_flush_tail = &chat_flush_head;

static void
chat_flush_unlist(struct chat_conn *c)
{
	if (c->flush_pprev == NULL)
		return;
	*c->flush_pprev = c->flush_next;
	if (c->flush_next != NULL)
		c->flush_next->flush_pprev = c->flush_pprev;
	else
		chat_flush_tail = c->flush_pprev;
	c->flush_next = NULL;
	c->flush_pprev = NULL;
}

/* Hands what is left to libevent, which writes it when it can. */
static void
chat_flush_to_bufferevent(struct chat_conn *c)
{
	if (bufferevent_enable(c->bev, EV_WRITE) == -1)
		log_warnx("chat: cannot watch %s for writing", c->name);
}

static void
chat_flush_one(struct chat_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (bufferevent_get_enabled(c->bev) & EV_WRITE)
		return;		/* libevent has it until it is written */
	if (evbuffer_get_length(out) == 0)
		return;
	if (evbuffer_write(out, bufferevent_getfd(c->bev)) == -1 &&
	    errno != EAGAIN && errno != EINTR) {
		/* The bufferevent meets the error again, and its event
		 * callback ends the client: not here, in the list's walk. */
		log_debug("chat: writing to %s: %s", c->name, strerror(errno));
		chat_flush_to_bufferevent(c);
		return;
	}
	if (evbuffer_get_length(out) > 0)
		chat_flush_to_bufferevent(c);
}

static void
chat_flush_run(evutil_socket_t fd, short what, void *arg)
{
	struct chat_conn *c;

	(void)fd;
	(void)what;
	(void)arg;
	while ((c = chat_flush_head) != NULL) {
		chat_flush_unlist(c);
		chat_flush_one(c);
	}
}

int
chat_flush_init(struct event_base *base)
{
	chat_flush_event = event_new(base, -1, 0, chat_flush_run, NULL);
	if (chat_flush_event == NULL) {
		log_errorx("chat: cannot make the flush event");
		return -1;
	}
	return 0;
}

int
chat_flush_adopt(struct chat_conn *c)
{
	if (chat_flush_event == NULL || c->ws != NULL ||
	    net_tls_is_bufferevent(c->bev))
		return 0;
	if (bufferevent_disable(c->bev, EV_WRITE) == -1) {
		log_warnx("chat: cannot take over the writes of %s", c->name);
		return 0;
	}
	c->direct = 1;
	return 1;
}

void
chat_flush_later(struct chat_conn *c)
{
	if (!c->direct || c->closing || c->flush_pprev != NULL)
		return;
	c->flush_pprev = chat_flush_tail;
	*chat_flush_tail = c;
	chat_flush_tail = &c->flush_next;
	/* Active events run in the order they became so: this one after
	 * the callbacks of this pass that were already due. */
	event_active(chat_flush_event, EV_TIMEOUT, 0);
}

void
chat_flush_on_written(struct bufferevent *bev, void *arg)
{
	struct chat_conn *c = arg;

	/* Its output is out: lines go straight to the socket again. */
	if (c->direct && !c->closing)
		bufferevent_disable(bev, EV_WRITE);
}

void
chat_flush_release(struct chat_conn *c)
{
	chat_flush_unlist(c);
	if (!c->direct)
		return;
	c->direct = 0;
	chat_flush_to_bufferevent(c);
}

void
chat_flush_forget(struct chat_conn *c)
{
	chat_flush_unlist(c);
}
