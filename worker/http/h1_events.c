/*
 * h1_events.c: an HTTP/1.1 connection's read event: registered only while
 * the connection waits for input, woken from the loop when an answer
 * or output comes from outside the connection's own callbacks.  The
 * parts below h1.c (the request's answer, the output) wake a connection
 * through here, never through h1.c.
 *
 * Also the end of the loop pass: a connection that read a request
 * writes its answer only after every connection that was readable in
 * the same pass has read, processed and queued its own.  The client (on
 * this machine, wrk) then finds its answers ready together, more of them
 * per epoll_wait and fewer wake-ups each.  The answers wait in h1_out.c's
 * arena, so this costs no allocation.
 */
#include "config.h"

#include <errno.h>

#include <event2/event.h>

#include "worker/http/h1_conn.h"
#include "worker/net/tls.h"

/*
 * The read event is registered with epoll only when the connection has
 * to wait for input: a connection whose request was already there at
 * accept and that closes after its answer never costs an epoll_ctl.
 */
void
http_conn_arm_read(struct http_conn *c)
{
	if (c->read_eof || c->state == HTTP_LINGER)
		return;
	if (!c->read_armed && event_add(&c->ev_read, NULL) == 0)
		c->read_armed = 1;
	/* Bytes OpenSSL has decrypted already raise no event of their own. */
	if (c->net.ssl != NULL && net_tls_pending(&c->net))
		event_active(&c->ev_read, EV_READ, 0);
}

void
http_conn_wake(struct http_conn *c)
{
	/*
	 * Registered first: libevent does not register an event that is
	 * active when it is added, so a wake before the first arming (a
	 * request answered from its first read) would leave the
	 * connection deaf.
	 */
	http_conn_arm_read(c);
	c->wake = 1;
	event_active(&c->ev_read, EV_READ, 0);
}

void
http_conn_disarm_read(struct http_conn *c)
{
	if (!c->read_armed)
		return;
	event_del(&c->ev_read);
	c->read_armed = 0;
}

/*
 * libevent runs the callbacks of one priority in the order they became
 * active, and one made active while they run goes to the end of that
 * queue: so the pass event, made active by the first connection that
 * waits, runs after every read callback epoll_wait gave this pass.
 */
static TAILQ_HEAD(, http_conn) http_waiting =
    TAILQ_HEAD_INITIALIZER(http_waiting);
static struct event http_pass_end;
static int http_pass_end_set;

static void
http_on_pass_end(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c;

	(void)fd;
	(void)what;
	(void)arg;
	while ((c = TAILQ_FIRST(&http_waiting)) != NULL)
		http_conn_flush(c);	/* which takes c off the list */
}

void
http_conn_flush_later(struct http_conn *c)
{
	if (c->is_waiting)
		return;
	if (!http_pass_end_set) {
		event_assign(&http_pass_end, worker_self->base, -1, 0,
		    http_on_pass_end, NULL);
		http_pass_end_set = 1;
	}
	if (TAILQ_EMPTY(&http_waiting))
		event_active(&http_pass_end, EV_TIMEOUT, 0);
	TAILQ_INSERT_TAIL(&http_waiting, c, waiting);
	c->is_waiting = 1;
}

void
http_conn_unwait(struct http_conn *c)
{
	if (!c->is_waiting)
		return;
	TAILQ_REMOVE(&http_waiting, c, waiting);
	c->is_waiting = 0;
}

void
http_conn_write_waiting(void)
{
	struct http_conn *c;

	/* Only the bytes: each connection goes on (or closes) at the end
	 * of the pass, from http_on_pass_end(). */
	TAILQ_FOREACH(c, &http_waiting, waiting)
		if (!c->write_failed && http_out_write(c) == -1)
			c->write_failed = 1;
}
