/*
 * master.h: the master process: binds the listening sockets, forks and
 * supervises the workers, and acts on signals.  It never serves traffic.
 */
#ifndef FORKLOOP_MASTER_H
#define FORKLOOP_MASTER_H

#include <sys/types.h>
#include <sys/time.h>
#include <signal.h>
#include <stdint.h>

#include "conf/conf.h"

struct event_base;
struct event;
struct bufferevent;
struct stats_shared;

/* One listen address, with one SO_REUSEPORT socket per worker slot. */
struct master_listener {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char text[80];
	int *fds;
	size_t nfds;
	size_t committed;	/* sockets running workers were given */
	int shared;		/* one socket all workers accept on */
	int wanted;		/* still named by the current config */
	int steer_socks_fd;	/* steer.c: its sockets, by index; or -1 */
	size_t steer_inserted;	/* sockets put in that array */
	int steered;		/* the program is attached */
	int steer_refused;	/* said once that it could not be */
};

enum master_worker_state {
	MASTER_WORKER_RUNNING,
	MASTER_WORKER_STOPPING,	/* told to finish (reload or stop) */
};

struct master_worker {
	pid_t pid;
	int slot;
	unsigned generation;
	enum master_worker_state state;
	struct timeval started;
	struct bufferevent *chat;	/* the master's end of its chat channel */
};

enum master_stop {
	MASTER_RUNNING,
	MASTER_STOP_GRACEFUL,
	MASTER_STOP_FAST,
};

struct master {
	struct event_base *base;
	struct conf *conf;
	const char *conf_path;		/* NULL: the built-in config */
	char *pid_file;			/* as written at start, removed at exit */
	unsigned reload_seq;		/* reloads handled, for reload_status */

	struct master_listener *listeners;
	size_t nlisteners;

	struct master_worker *workers;
	size_t nworkers;
	size_t workers_cap;
	unsigned generation;

	/* Respawn back-off, one per slot of the current generation. */
	int *respawn_delay_ms;
	struct event **respawn_timers;
	size_t nslots;

	struct stats_shared *stats;	/* shared with every worker */
	uint32_t *steer_loads;		/* steer.c: connections per slot */
	int steer_loads_fd;
	pid_t upgrade_pid;		/* the new master during an upgrade */
	int workers_stopped;		/* by WINCH, until HUP */

	struct event *ticket_timer;	/* new session-ticket key */
	int ticket_period_ms;

	enum master_stop stop;
	struct event *stop_timer;
	int stop_escalation;
};

/* master.c */
int master_run(struct conf *conf, const char *conf_path, char **argv);
struct conf *master_load_conf(const char *path, char *err, size_t errlen);
struct conf *master_load_conf_file(const char *path, char *err,
    size_t errlen);
void master_reload(struct master *m);
void master_restart_workers(struct master *m);
void master_reopen_logs(struct master *m);
void master_begin_stop(struct master *m, enum master_stop how);
int master_open_logs(struct conf *conf);
int master_prepare_log_files(const struct conf *conf);

/* listen.c */
int listen_reconcile(struct master *m, const struct conf *conf);
void listen_close_unwanted(struct master *m);
void listen_commit(struct master *m);
int listen_inherit_systemd(struct master *m, const struct conf *conf);
int listen_inherit_upgrade(struct master *m, const struct conf *conf);
void listen_rollback(struct master *m);
void listen_close_all(struct master *m);
struct worker_socket;
int listen_worker_sockets(const struct master *m, const struct conf *conf,
    int slot, int nslots, struct worker_socket **sockets, size_t *n);

/* steer.c: reuseport_steering */
void steer_apply(struct master *m);
uint32_t *steer_load_cell(const struct master *m, int slot);
void steer_close_listener(struct master_listener *l);
void steer_release(struct master *m);
void steer_close_fds(struct master *m);
void steer_close(struct master *m);

/* process.c */
int process_spawn(struct master *m, int slot);
void process_signal_generation(struct master *m, unsigned generation,
    int signo);
void process_signal_all(struct master *m, int signo);
void process_reap(struct master *m);
void process_on_respawn_timer(int fd, short what, void *arg);
int process_drop_privileges(const struct conf *conf);
int process_prepare_user(const struct conf *conf, uid_t *uid, gid_t *gid);

/* signals.c */
int signals_init(struct master *m);
void signals_free(void);
void signals_block(sigset_t *saved);
void signals_restore(const sigset_t *saved);
void signals_reset_for_exec(const sigset_t *saved);

/* chat_relay.c */
int chat_relay_pair(int fds[2]);
int chat_relay_attach(struct master *m, struct master_worker *w, int fd);
void chat_relay_detach(struct master *m, struct master_worker *w);
void chat_relay_close_all(struct master *m);

/* notify.c: systemd's readiness protocol */
void notify_ready(const struct master *m);
void notify_reloading(const struct master *m);
void notify_stopping(void);

/* upgrade.c: binary upgrade on USR2 */
void upgrade_init(char **argv);
void upgrade_start(struct master *m);
void upgrade_failed(struct master *m, int status);
void upgrade_stop_workers(struct master *m);

/* pidfile.c */
int pidfile_write(const char *path);
void pidfile_remove(const char *path);
pid_t pidfile_read(const char *path, char *err, size_t errlen);
int pidfile_is_forkloop(pid_t pid);

/* conf_check.c */
int master_check_conf(const struct conf *conf, char *err, size_t errlen);

/* reload_status.c */
void reload_status_write(const char *pid_file, unsigned seq, int ok,
    unsigned generation, const char *reason);
void reload_status_remove(const char *pid_file);
int reload_status_request(const char *pid_file, pid_t pid);

/* limits.c: the limit zones' shared memory. */
int limits_attach(struct conf *conf, struct conf *old);
void limits_release(struct conf *conf);
void limits_forget_worker(struct conf *conf, unsigned lane);

#endif
