/*
 * master.c: the master's life: start, reload on HUP, stop on QUIT/TERM,
 * reopen logs on USR1.  Signals arrive through signals.c; forking and
 * reaping live in process.c; sockets in listen.c.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/stats.h"
#include "master/master.h"
#include "tls/tls.h"

/* Extra time a graceful stop gives workers beyond shutdown_timeout. */
#define MASTER_STOP_GRACE_MS 5000
/* How long a fast stop waits for workers before SIGKILL. */
#define MASTER_FAST_STOP_MS 3000

/* The config alone: enough to find the pid file of "-s". */
struct conf *
master_load_conf_file(const char *path, char *err, size_t errlen)
{
	if (path != NULL)
		return conf_load_file(path, err, errlen);
	return conf_load_string("(built-in)", conf_default_text, NULL, err,
	    errlen);
}

/* The config with its TLS contexts: certificates are read here, by
 * the master, before any privilege is dropped, and users and log files
 * checked (conf_check.c), before any port is bound. */
struct conf *
master_load_conf(const char *path, char *err, size_t errlen)
{
	struct conf *conf = master_load_conf_file(path, err, errlen);

	if (conf != NULL && (master_check_conf(conf, err, errlen) == -1 ||
	    tls_conf_load(conf, err, errlen) == -1)) {
		conf_free(conf);
		return NULL;
	}
	return conf;
}

static void
master_on_ticket_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	tls_tickets_rotate();
}

/* (Re)starts the ticket key rotation with the config's period. */
static void
master_arm_ticket_timer(struct master *m)
{
	int ms = m->conf->ssl_session_ticket_rotate_ms;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (m->ticket_timer == NULL)
		m->ticket_timer = event_new(m->base, -1, EV_PERSIST,
		    master_on_ticket_timer, m);
	if (m->ticket_timer == NULL) {
		log_errorx("cannot create the ticket key timer");
		return;
	}
	if (m->ticket_period_ms == ms && evtimer_pending(m->ticket_timer,
	    NULL))
		return;
	m->ticket_period_ms = ms;
	evtimer_add(m->ticket_timer, &tv);
}

int
master_open_logs(struct conf *conf)
{
	if (log_open(conf->error_log, (enum log_level)conf->error_log_level)
	    == -1) {
		fprintf(stderr, "forkloop: cannot open error log %s: %s\n",
		    conf->error_log, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Creates a log file the workers will open, owned by the worker user, so
 * workers that are no longer root can open it again on USR1.
 */
static int
master_prepare_log_file(const char *path, const struct conf *conf)
{
	uid_t uid;
	gid_t gid;
	int fd;

	if (path == NULL)
		return 0;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_error("opening log file %s", path);
		return -1;
	}
	if (process_prepare_user(conf, &uid, &gid) == 1 &&
	    fchown(fd, uid, gid) == -1)
		log_warn("changing the owner of %s", path);
	close(fd);
	return 0;
}

/* Workers open these; a file that cannot be opened stops a start. */
int
master_prepare_log_files(const struct conf *conf)
{
	size_t i;

	if (master_prepare_log_file(conf->error_log, conf) == -1)
		return -1;
	for (i = 0; i < conf->nservers; i++) {
		const struct conf_server *s = &conf->servers[i];
		size_t j;

		if (master_prepare_log_file(s->access_log, conf) == -1)
			return -1;
		for (j = 0; j < s->nlocations; j++)
			if (master_prepare_log_file(
			    s->locations[j].conf->access_log, conf) == -1)
				return -1;
	}
	return 0;
}

static int
master_resize_slots(struct master *m, size_t nslots)
{
	size_t i;

	for (i = 0; i < m->nslots; i++)
		event_free(m->respawn_timers[i]);
	free(m->respawn_timers);
	free(m->respawn_delay_ms);
	m->nslots = 0;
	m->respawn_timers = calloc(nslots, sizeof(*m->respawn_timers));
	m->respawn_delay_ms = calloc(nslots, sizeof(*m->respawn_delay_ms));
	if (m->respawn_timers == NULL || m->respawn_delay_ms == NULL) {
		log_error("allocating respawn timers");
		return -1;
	}
	for (i = 0; i < nslots; i++) {
		m->respawn_timers[i] = evtimer_new(m->base,
		    process_on_respawn_timer, m);
		if (m->respawn_timers[i] == NULL) {
			log_errorx("creating respawn timer");
			return -1;
		}
		m->nslots = i + 1;
	}
	return 0;
}

static int
master_start_generation(struct master *m)
{
	size_t i;
	int started = 0;

	if (master_resize_slots(m, (size_t)m->conf->workers) == -1)
		return -1;
	for (i = 0; i < m->nslots; i++)
		if (process_spawn(m, (int)i) == 0)
			started++;
	return started > 0 ? 0 : -1;
}

static void
master_log_listeners(const struct master *m)
{
	size_t i;

	for (i = 0; i < m->nlisteners; i++)
		log_info("listening on %s with %zu sockets",
		    m->listeners[i].text, m->listeners[i].nfds);
}

void
master_reload(struct master *m)
{
	char err[CONF_ERR_LEN];
	struct conf *conf, *old;
	int started;
	uid_t uid;
	gid_t gid;
	size_t i;

	if (m->stop != MASTER_RUNNING)
		return;
	notify_reloading(m);
	m->reload_seq++;
	conf = master_load_conf(m->conf_path, err, sizeof(err));
	if (conf == NULL) {
		log_errorx("reload failed, the running workers stay: %s", err);
		reload_status_write(m->pid_file, m->reload_seq, 0, 0, err);
		notify_ready(m);
		return;
	}
	if (process_prepare_user(conf, &uid, &gid) == -1 ||
	    master_prepare_log_files(conf) == -1 ||
	    listen_reconcile(m, conf) == -1 ||
	    limits_attach(conf, m->conf) == -1) {
		log_errorx("reload failed, the running workers stay");
		reload_status_write(m->pid_file, m->reload_seq, 0, 0,
		    "the user, a log file, a listen address or a limit zone; "
		    "see the error log");
		listen_rollback(m);
		conf_free(conf);
		notify_ready(m);
		return;
	}
	if (conf->error_log == NULL || m->conf->error_log == NULL ||
	    strcmp(conf->error_log, m->conf->error_log) != 0 ||
	    conf->error_log_level != m->conf->error_log_level) {
		if (master_open_logs(conf) == -1)
			log_warnx("keeping the old error log");
	}

	old = m->conf;
	m->conf = conf;
	m->generation++;
	if (m->stats != NULL) {
		m->stats->reloads++;
		m->stats->generation = m->generation;
	}
	log_info("reloading: generation %u with %d workers (was %d)",
	    m->generation, conf->workers, old->workers);
	steer_apply(m);
	started = master_start_generation(m) == 0;
	if (started)
		m->workers_stopped = 0;
	if (!started)
		log_errorx("no worker of generation %u started; the older "
		    "workers stay", m->generation);
	reload_status_write(m->pid_file, m->reload_seq, started,
	    m->generation, "no worker of the new generation started; see "
	    "the error log");
	listen_commit(m);
	/* Every older generation, including one still stopping, finishes. */
	for (i = 0; started && i < m->nworkers; i++)
		if (m->workers[i].generation != m->generation &&
		    m->workers[i].state == MASTER_WORKER_RUNNING) {
			if (kill(m->workers[i].pid, SIGQUIT) == -1 &&
			    errno != ESRCH)
				log_warn("signalling worker %ld",
				    (long)m->workers[i].pid);
			m->workers[i].state = MASTER_WORKER_STOPPING;
		}
	listen_close_unwanted(m);
	master_log_listeners(m);
	master_arm_ticket_timer(m);
	limits_release(old);
	conf_free(old);
	notify_ready(m);
}

/* A new generation with the config in hand (after WINCH and a failed
 * upgrade): no file is read, so nothing can fail on a config error. */
void
master_restart_workers(struct master *m)
{
	if (m->stop != MASTER_RUNNING)
		return;
	m->generation++;
	if (m->stats != NULL)
		m->stats->generation = m->generation;
	log_info("starting workers again: generation %u", m->generation);
	if (master_start_generation(m) == -1)
		log_errorx("no worker of generation %u started", m->generation);
	listen_commit(m);
}

void
master_reopen_logs(struct master *m)
{
	if (log_reopen() == -1)
		log_warn("reopening error log %s", log_path());
	if (master_prepare_log_files(m->conf) == -1)
		log_warnx("workers keep writing to the log files they have");
	process_signal_all(m, SIGUSR1);
}

static void
master_on_stop_timer(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;

	(void)fd;
	(void)what;
	log_warnx("%zu workers still running after the stop timeout; "
	    "killing them", m->nworkers);
	process_signal_all(m, SIGKILL);
}

void
master_begin_stop(struct master *m, enum master_stop how)
{
	struct timeval tv;
	size_t i;
	int ms;

	if (m->stop == MASTER_STOP_FAST ||
	    (m->stop == MASTER_STOP_GRACEFUL && how == MASTER_STOP_GRACEFUL))
		return;
	m->stop = how;
	notify_stopping();
	for (i = 0; i < m->nslots; i++)
		evtimer_del(m->respawn_timers[i]);
	process_signal_all(m, how == MASTER_STOP_FAST ? SIGTERM : SIGQUIT);
	/*
	 * The workers close their copies of the listening sockets as they
	 * stop accepting; once the master's go too, the kernel refuses new
	 * connections at once, as nginx's do, instead of queueing them for
	 * nobody until the master exits and resets them.
	 */
	listen_close_all(m);
	ms = how == MASTER_STOP_FAST ? MASTER_FAST_STOP_MS :
	    m->conf->shutdown_timeout_ms + MASTER_STOP_GRACE_MS;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (m->stop_timer == NULL)
		m->stop_timer = evtimer_new(m->base, master_on_stop_timer, m);
	if (m->stop_timer == NULL || evtimer_add(m->stop_timer, &tv) == -1)
		log_warnx("cannot arm the stop timer");
	if (m->nworkers == 0)
		event_base_loopbreak(m->base);
}

static int
master_check_running(const struct conf *conf)
{
	char err[256];
	pid_t pid;

	if (conf->pid_file == NULL)
		return 0;
	pid = pidfile_read(conf->pid_file, err, sizeof(err));
	if (pid <= 0 || pid == getpid())
		return 0;
	if (kill(pid, 0) == -1 && errno == ESRCH)
		return 0;
	if (pidfile_is_forkloop(pid) == 0) {
		log_warnx("pid file %s names pid %ld, which is not forkloop: "
		    "a stale file; taking it over", conf->pid_file, (long)pid);
		return 0;
	}
	log_errorx("forkloop is already running as pid %ld (pid file %s)",
	    (long)pid, conf->pid_file);
	return -1;
}

static int
master_daemonize(void)
{
	int fd;

	switch (fork()) {
	case -1:
		log_error("fork to become a daemon");
		return -1;
	case 0:
		break;
	default:
		_exit(0);
	}
	if (setsid() == -1) {
		log_error("setsid");
		return -1;
	}
	fd = open("/dev/null", O_RDWR);
	if (fd == -1) {
		log_error("opening /dev/null");
		return -1;
	}
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	if (log_fd() != STDERR_FILENO)
		dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}

static void
master_cleanup(struct master *m)
{
	size_t i;

	/*
	 * Once signals_free() below drops libevent's handlers, a signal has
	 * its default action again: a second QUIT or TERM from an impatient
	 * operator or script would kill the exiting master (status 131, a
	 * core) instead of being a no-op.  Blocked, it stays pending and
	 * dies with the process.
	 */
	signals_block(NULL);
	if (m->pid_file != NULL) {
		reload_status_remove(m->pid_file);
		pidfile_remove(m->pid_file);
		free(m->pid_file);
	}
	for (i = 0; i < m->nslots; i++)
		event_free(m->respawn_timers[i]);
	free(m->respawn_timers);
	free(m->respawn_delay_ms);
	if (m->stop_timer != NULL)
		event_free(m->stop_timer);
	if (m->ticket_timer != NULL)
		event_free(m->ticket_timer);
	signals_free();
	listen_close_all(m);
	steer_close(m);
	free(m->workers);
	if (m->base != NULL)
		event_base_free(m->base);
	limits_release(m->conf);
	conf_free(m->conf);
}

int
master_run(struct conf *conf, const char *conf_path, char **argv)
{
	struct master m;
	int rc = 1;

	memset(&m, 0, sizeof(m));
	m.conf = conf;
	m.conf_path = conf_path;
	m.generation = 1;
	m.steer_loads_fd = -1;
	upgrade_init(argv);
	if (getenv("FORKLOOP_LISTEN_FDS") == NULL &&
	    master_check_running(conf) == -1)
		goto done;
	if (master_prepare_log_files(conf) == -1 ||
	    listen_inherit_systemd(&m, conf) == -1 ||
	    listen_inherit_upgrade(&m, conf) == -1 ||
	    listen_reconcile(&m, conf) == -1)
		goto done;
	listen_commit(&m);
	/* A new binary started by USR2 stays the old master's child, which
	 * watches it; it must not fork away (see upgrade.c). */
	if (conf->daemon && getenv("FORKLOOP_LISTEN_FDS") == NULL &&
	    master_daemonize() == -1)
		goto done;
	m.base = event_base_new();
	if (m.base == NULL) {
		log_errorx("cannot create the event loop");
		goto done;
	}
	if (signals_init(&m) == -1)
		goto done;
	m.stats = stats_map();
	if (m.stats != NULL)
		m.stats->generation = m.generation;
	if (tls_tickets_init() == -1 || limits_attach(conf, NULL) == -1)
		goto done;
	master_arm_ticket_timer(&m);
	steer_apply(&m);
	if (master_start_generation(&m) == -1)
		goto done;
	if (conf->pid_file != NULL) {
		if (pidfile_write(conf->pid_file) == -1)
			goto stop;
		m.pid_file = strdup(conf->pid_file);
		if (m.pid_file == NULL) {
			pidfile_remove(conf->pid_file);
			goto stop;
		}
	}
	log_copy_to_stderr(0);
	notify_ready(&m);
	log_info("forkloop %s started with %d workers", PACKAGE_VERSION,
	    conf->workers);
	master_log_listeners(&m);
	if (event_base_dispatch(m.base) == -1)
		log_errorx("the event loop failed");
	rc = 0;
	log_info("forkloop stopped");
	goto done;
stop:
	master_begin_stop(&m, MASTER_STOP_FAST);
	event_base_dispatch(m.base);
done:
	master_cleanup(&m);
	return rc;
}
