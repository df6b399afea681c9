/*
 * h1_events.c: an HTTP/1.1 connection's read event: registered only while
 * the connection waits for input, woken from the loop when an answer
 * or output comes from outside the connection's own callbacks.  The
 * parts below h1.c (the request's answer, the output) wake a connection
 * through here, never through h1.c.
 */
#include "config.h"

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
