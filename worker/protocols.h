/*
 * protocols.h: the services a worker's listeners hand connections to,
 * each with its start and end per worker; worker.c wires them in.
 */
#ifndef FORKLOOP_WORKER_PROTOCOLS_H
#define FORKLOOP_WORKER_PROTOCOLS_H

#include <sys/socket.h>

#include "conf/conf.h"

struct worker;

/* http/h1.c: HTTP/1.1 */
void http_conn_new(int fd, struct conf_server *server,
    const struct conf_listen *listen, const struct sockaddr_storage *peer,
    socklen_t peerlen);
int http_worker_init(struct worker *w);
void http_worker_exit(void);

/* echo.c: the TCP echo service */
void echo_conn_new(int fd, struct conf_server *server,
    const struct conf_listen *listen, const struct sockaddr_storage *peer,
    socklen_t peerlen);

/* chat_tcp.c: a line client of the group chat service (chat.c) */
void chat_tcp_conn_new(int fd, struct conf_server *server,
    const struct conf_listen *listen, const struct sockaddr_storage *peer,
    socklen_t peerlen);
/* chat.c: the group chat's rooms in this worker */
int chat_worker_init(struct worker *w, int master_fd);
int chat_worker_flush_pending(struct worker *w);

#endif
