/*
 * tls.h: TLS on a worker's connections, over OpenSSL: the handshake, the
 * TLS net_ops, what the access log and stats want to know of a session,
 * and bufferevents for echo and chat.  The contexts come from tls/.
 */
#ifndef FORKLOOP_NET_TLS_H
#define FORKLOOP_NET_TLS_H

#include "worker/net/conn.h"

struct conf;
struct conf_listen;
struct conf_server;
struct bufferevent;

/* Once per worker: the contexts' callbacks that count into its stats. */
void net_tls_worker_init(struct conf *conf);

/* Puts TLS on n, as a server, for a connection on listen; 0 or -1.
 * head, len: what was read from the socket already (may be 0), which
 * the handshake reads first. */
int net_tls_start(struct net_conn *n, const struct conf_listen *listen,
    const void *head, size_t len);
/* 1: done; 0: wait for the event n->want_write names; -1: failed (the
 * reason is counted and logged at info). */
int net_tls_handshake(struct net_conn *n);
/* The block SNI chose (the address's default when it chose none), and
 * whether the client's SNI named a block at all. */
struct conf_server *net_tls_server(struct net_conn *n);
int net_tls_sni_matched(const struct net_conn *n);
int net_tls_alpn_h2(const struct net_conn *n);
/* Decrypted bytes wait inside OpenSSL: no read event will say so. */
int net_tls_pending(struct net_conn *n);
/* A handshake that did not finish in time. */
void net_tls_count_timeout(void);

void net_tls_close_notify(struct net_conn *n);
size_t net_tls_batch_pending(const struct net_conn *n);
void net_tls_free(struct net_conn *n);

/* For the access log: "TLSv1.3", the cipher's name, 1 if resumed. */
const char *net_tls_protocol(const struct net_conn *n);
const char *net_tls_cipher(const struct net_conn *n);
int net_tls_reused(const struct net_conn *n);

struct bufferevent *net_tls_bufferevent_new(int fd,
    const struct conf_listen *listen);
int net_tls_is_bufferevent(struct bufferevent *bev);
struct bufferevent *net_tls_bufferevent_from(struct net_conn *n);
int net_tls_bufferevent_open(struct bufferevent *bev);
void net_tls_bufferevent_opened(struct bufferevent *bev);
void net_tls_bufferevent_failed(struct bufferevent *bev, short what);

#endif
