/*
 * listen.c: the master's listening sockets.
 *
 * Every listen address gets one SO_REUSEPORT socket per worker slot, so
 * the kernel spreads new connections over the workers without a shared
 * accept lock.  The sockets live in the master for as long as the config
 * names the address, across reloads: a connection waiting in an accept
 * queue is never lost because a worker generation ends.  When a reload
 * lowers the worker count, the extra sockets are kept and served by the
 * remaining workers (socket j goes to slot j % workers), since closing a
 * reuseport socket would drop the connections queued on it.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/vhosts.h"
#include "common/log.h"
#include "master/master.h"
#include "worker/worker.h"

static int
listen_open_socket(const struct master_listener *l)
{
	int fd, on = 1;

	fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_error("socket for %s", l->text);
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1) {
		log_error("setsockopt SO_REUSEPORT on %s", l->text);
		goto fail;
	}
	if (l->addr.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1) {
		log_error("setsockopt IPV6_V6ONLY on %s", l->text);
		goto fail;
	}
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) == -1) {
		log_error("bind %s", l->text);
		goto fail;
	}
	if (listen(fd, SOMAXCONN) == -1) {
		log_error("listen on %s", l->text);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static struct master_listener *
listen_find(const struct master *m, const struct conf_listen *cl)
{
	size_t i;

	for (i = 0; i < m->nlisteners; i++) {
		struct master_listener *l = &m->listeners[i];

		if (l->addrlen == cl->addrlen &&
		    memcmp(&l->addr, &cl->addr, cl->addrlen) == 0)
			return l;
	}
	return NULL;
}

/*
 * SO_REUSEPORT would let this master share a port with another server
 * of the same user without a word.  A probe bound without it fails with
 * EADDRINUSE when anybody else listens there, as nginx users expect.
 */
static int
listen_probe(const struct conf_listen *cl)
{
	int fd, on = 1, rc = 0;

	fd = socket(cl->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_error("socket for %s", cl->text);
		return -1;
	}
	if (cl->addr.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (const struct sockaddr *)&cl->addr, cl->addrlen) == -1) {
		log_error("bind %s", cl->text);
		rc = -1;
	}
	close(fd);
	return rc;
}

/* Port of an IPv4 or IPv6 socket address. */
static in_port_t
listen_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ((const struct sockaddr_in6 *)ss)->sin6_port;
	return ((const struct sockaddr_in *)ss)->sin_port;
}

/*
 * The probe would trip over our own sockets when the config names both
 * *:P and 127.0.0.1:P, or a reload swaps one for the other; where this
 * master already listens on the port, the kernel's own check on bind
 * (same user, SO_REUSEPORT) is left to judge.
 */
static int
listen_port_is_ours(const struct master *m, const struct conf_listen *cl)
{
	size_t i;

	for (i = 0; i < m->nlisteners; i++)
		if (m->listeners[i].addr.ss_family == cl->addr.ss_family &&
		    listen_port(&m->listeners[i].addr) == listen_port(&cl->addr))
			return 1;
	return 0;
}

/* A new listener for cl's address, with no socket yet, in the slot past
 * m's last (the caller counts it in). */
static struct master_listener *
listen_new(struct master *m, const struct conf_listen *cl)
{
	struct master_listener *grown, *l;

	grown = realloc(m->listeners, (m->nlisteners + 1) * sizeof(*grown));
	if (grown == NULL) {
		log_error("allocating listener %s", cl->text);
		return NULL;
	}
	m->listeners = grown;
	l = &m->listeners[m->nlisteners];
	memset(l, 0, sizeof(*l));
	l->steer_socks_fd = -1;
	memcpy(&l->addr, &cl->addr, cl->addrlen);
	l->addrlen = cl->addrlen;
	snprintf(l->text, sizeof(l->text), "%s", cl->text);
	return l;
}

static struct master_listener *
listen_add(struct master *m, const struct conf_listen *cl)
{
	struct master_listener *l;

	if (!listen_port_is_ours(m, cl) && listen_probe(cl) == -1)
		return NULL;

	l = listen_new(m, cl);
	if (l != NULL)
		m->nlisteners++;
	return l;
}

/* An inherited socket: made non-blocking and close-on-exec, shared. */
static struct master_listener *
listen_add_fd(struct master *m, const struct conf_listen *cl, int fd)
{
	struct master_listener *l;
	int flags;

	l = listen_new(m, cl);
	if (l == NULL)
		return NULL;
	l->fds = malloc(sizeof(*l->fds));
	if (l->fds == NULL) {
		log_error("allocating listener %s", cl->text);
		return NULL;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		log_warn("setting flags on inherited socket %s", cl->text);
	l->fds[0] = fd;
	l->nfds = l->committed = 1;
	l->shared = 1;
	l->wanted = 1;
	m->nlisteners++;
	return l;
}

/* Grows l to at least n sockets; never shrinks (see the file comment). */
static int
listen_grow(struct master_listener *l, size_t n)
{
	int *grown;

	if (l->nfds >= n || l->shared)
		return 0;
	grown = realloc(l->fds, n * sizeof(*grown));
	if (grown == NULL) {
		log_error("allocating sockets for %s", l->text);
		return -1;
	}
	l->fds = grown;
	while (l->nfds < n) {
		int fd = listen_open_socket(l);

		if (fd == -1)
			return -1;
		l->fds[l->nfds++] = fd;
	}
	return 0;
}

/*
 * HTTP clients speak first, so an http listener asks the kernel to hand
 * over a connection only once its first bytes are in (TCP_DEFER_ACCEPT,
 * as h2o does by default and nginx with "listen ... deferred"): the
 * worker then reads the request at once instead of registering the new
 * socket with epoll and coming back, which costs three system calls per
 * connection.  A client that stays silent is handed over after about a
 * second anyway, when the kernel's repeated SYN-ACK is acknowledged.
 * Echo and chat clients may wait for the server, so never there.
 */
static void
listen_set_defer(struct master_listener *l, const struct conf_server *s)
{
	int secs = s->kind == CONF_SERVER_HTTP && s->defer_accept ? 1 : 0;
	size_t i;

	for (i = 0; i < l->nfds; i++)
		if (setsockopt(l->fds[i], IPPROTO_TCP, TCP_DEFER_ACCEPT,
		    &secs, sizeof(secs)) == -1)
			log_warn("setsockopt TCP_DEFER_ACCEPT on %s", l->text);
}

/*
 * Makes the listeners match conf: opens what is new or short of sockets
 * and marks what conf still names.  Nothing is closed here, so a failed
 * reload leaves the old workers' sockets as they were.
 */
int
listen_reconcile(struct master *m, const struct conf *conf)
{
	size_t i, j;

	for (i = 0; i < m->nlisteners; i++)
		m->listeners[i].wanted = 0;
	for (i = 0; i < conf->nservers; i++) {
		const struct conf_server *s = &conf->servers[i];

		for (j = 0; j < s->nlistens; j++) {
			struct master_listener *l;

			/* A shared address is set up once, as its default
			 * block says. */
			if (s->listens[j].repeat)
				continue;
			l = listen_find(m, &s->listens[j]);
			if (l == NULL) {
				l = listen_add(m, &s->listens[j]);
				if (l != NULL)
					log_info("new listen address %s",
					    l->text);
			}
			if (l == NULL)
				return -1;
			if (listen_grow(l, (size_t)conf->workers) == -1)
				return -1;
			listen_set_defer(l, s->listens[j].vhosts != NULL ?
			    s->listens[j].vhosts->dflt : s);
			l->wanted = 1;
		}
	}
	return 0;
}

static void
listen_close_one(struct master_listener *l)
{
	size_t i;

	steer_close_listener(l);
	for (i = 0; i < l->nfds; i++)
		close(l->fds[i]);
	free(l->fds);
	l->fds = NULL;
	l->nfds = 0;
}

/*
 * Closes the master's copies of addresses the config no longer names.
 * Workers of the old generation still hold theirs until they exit, so
 * the socket itself goes only once no worker uses it.
 */
void
listen_close_unwanted(struct master *m)
{
	size_t i, kept = 0;

	for (i = 0; i < m->nlisteners; i++) {
		if (!m->listeners[i].wanted) {
			log_info("closing %s, no longer in the config",
			    m->listeners[i].text);
			listen_close_one(&m->listeners[i]);
			continue;
		}
		m->listeners[kept++] = m->listeners[i];
	}
	m->nlisteners = kept;
}

/* The listen line of conf that fd is bound to; -1 if none. */
static int
listen_conf_for_fd(const struct conf *conf, int fd, struct conf_listen *cl)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	size_t i, j;

	if (getsockname(fd, (struct sockaddr *)&addr, &len) == -1) {
		log_warn("getsockname on inherited fd %d", fd);
		return -1;
	}
	for (i = 0; i < conf->nservers; i++)
		for (j = 0; j < conf->servers[i].nlistens; j++) {
			const struct conf_listen *want =
			    &conf->servers[i].listens[j];

			if (want->addrlen == len &&
			    memcmp(&want->addr, &addr, len) == 0) {
				*cl = *want;
				return 0;
			}
		}
	return -1;
}

static int
listen_append_fd(struct master_listener *l, int fd)
{
	int *grown = realloc(l->fds, (l->nfds + 1) * sizeof(*grown));

	if (grown == NULL) {
		log_error("allocating sockets for %s", l->text);
		return -1;
	}
	l->fds = grown;
	l->fds[l->nfds++] = fd;
	l->committed = l->nfds;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		log_warn("setting close-on-exec on %s", l->text);
	return 0;
}

/*
 * Socket activation: systemd passes listening sockets as fds 3, 4, ...
 * with LISTEN_FDS and LISTEN_PID.  Each is used for the config address
 * it is bound to, as one socket that every worker accepts on (systemd
 * made one, not one per worker).  Returns how many were taken.
 */
int
listen_inherit_systemd(struct master *m, const struct conf *conf)
{
	const char *pid = getenv("LISTEN_PID"), *nfds = getenv("LISTEN_FDS");
	int i, n, taken = 0;

	if (pid == NULL || nfds == NULL || atol(pid) != (long)getpid())
		return 0;
	n = atoi(nfds);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	for (i = 0; i < n; i++) {
		struct conf_listen cl;
		struct master_listener *l;
		int fd = 3 + i;

		if (listen_conf_for_fd(conf, fd, &cl) == -1) {
			log_warnx("socket activation: fd %d matches no listen "
			    "line; closing it", fd);
			close(fd);
			continue;
		}
		l = listen_add_fd(m, &cl, fd);
		if (l == NULL)
			return -1;
		log_info("using %s from systemd (fd %d)", cl.text, fd);
		taken++;
	}
	return taken;
}

/*
 * Binary upgrade: the old master passed its sockets, fds listed in
 * FORKLOOP_LISTEN_FDS.  Each joins the listener of the address it is
 * bound to, keeping the old master's SO_REUSEPORT groups as they are;
 * sockets of addresses this config does not name are closed.
 */
int
listen_inherit_upgrade(struct master *m, const struct conf *conf)
{
	const char *list = getenv("FORKLOOP_LISTEN_FDS");
	char *copy, *tok, *save = NULL;
	int taken = 0;

	if (list == NULL)
		return 0;
	copy = strdup(list);
	unsetenv("FORKLOOP_LISTEN_FDS");
	if (copy == NULL)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		struct conf_listen cl;
		struct master_listener *l;
		int shared = tok[0] == 's';
		int fd = atoi(tok + shared);

		if (fd < 3 || listen_conf_for_fd(conf, fd, &cl) == -1) {
			if (fd >= 3)
				close(fd);
			continue;
		}
		l = listen_find(m, &cl);
		if (l == NULL) {
			l = listen_add_fd(m, &cl, fd);
			if (l == NULL)
				break;
			l->shared = shared;
		} else if (listen_append_fd(l, fd) == -1) {
			break;
		}
		taken++;
	}
	free(copy);
	log_info("upgrade: took %d sockets from the old master", taken);
	return taken;
}

/* The sockets opened by a reconcile are now handed to workers. */
void
listen_commit(struct master *m)
{
	size_t i;

	for (i = 0; i < m->nlisteners; i++)
		m->listeners[i].committed = m->listeners[i].nfds;
}

/*
 * Undoes a failed reconcile: closes the sockets no running worker holds,
 * which would otherwise take a share of new connections and never
 * answer them.
 */
void
listen_rollback(struct master *m)
{
	size_t i, kept = 0;

	for (i = 0; i < m->nlisteners; i++) {
		struct master_listener *l = &m->listeners[i];

		while (l->nfds > l->committed)
			close(l->fds[--l->nfds]);
		if (l->nfds == 0) {
			steer_close_listener(l);
			free(l->fds);
			continue;
		}
		l->wanted = 1;
		m->listeners[kept++] = *l;
	}
	m->nlisteners = kept;
}

void
listen_close_all(struct master *m)
{
	size_t i;

	for (i = 0; i < m->nlisteners; i++)
		listen_close_one(&m->listeners[i]);
	free(m->listeners);
	m->listeners = NULL;
	m->nlisteners = 0;
}

/*
 * The sockets worker `slot` of `nslots` serves, each with its block and
 * listen line.  A shared socket (one inherited from systemd) goes to
 * every worker.  The array is allocated; the caller frees it.
 */
int
listen_worker_sockets(const struct master *m, const struct conf *conf,
    int slot, int nslots, struct worker_socket **sockets, size_t *n)
{
	size_t i, j, k, count = 0, cap = 0;

	*sockets = NULL;
	for (i = 0; i < conf->nservers; i++) {
		struct conf_server *s = &conf->servers[i];

		for (j = 0; j < s->nlistens; j++) {
			const struct master_listener *l;

			/* A shared ssl address is served once, by the
			 * first block; SNI finds the others. */
			if (s->listens[j].repeat)
				continue;
			l = listen_find(m, &s->listens[j]);
			if (l == NULL)
				continue;
			for (k = 0; k < l->nfds; k++) {
				if (!l->shared && k % (size_t)nslots !=
				    (size_t)slot)
					continue;
				if (count == cap) {
					struct worker_socket *grown;

					cap = cap ? cap * 2 : 8;
					grown = realloc(*sockets,
					    cap * sizeof(*grown));
					if (grown == NULL)
						return -1;
					*sockets = grown;
				}
				(*sockets)[count].fd = l->fds[k];
				/* The address's default block, which
				 * default_server may name. */
				(*sockets)[count].server = s->listens[j].vhosts
				    != NULL ? s->listens[j].vhosts->dflt : s;
				(*sockets)[count].listen = &s->listens[j];
				count++;
			}
		}
	}
	*n = count;
	return 0;
}
