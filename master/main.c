/*
 * main.c: the command line.  Picks the config (-c, the installed default
 * path, or the built-in copy), checks it (-t), signals a running master
 * (-s), or starts the master.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "master/master.h"

static void
main_usage(FILE *out)
{
	fprintf(out,
	    "usage: forkloop [-c FILE] [-t] [-s reload|quit|stop|reopen] "
	    "[-V] [-h]\n"
	    "  -c FILE    configuration file (default %s,\n"
	    "             or the built-in one when that file is missing)\n"
	    "  -t         check the configuration and exit\n"
	    "  -s SIGNAL  send SIGNAL to the running master: reload (HUP),\n"
	    "             quit (QUIT), stop (TERM), reopen (USR1)\n"
	    "  -V         print the version and exit\n"
	    "  -h         print this help and exit\n", FORKLOOP_CONF_PATH);
}

static int
main_signal_number(const char *name)
{
	if (strcmp(name, "reload") == 0)
		return SIGHUP;
	if (strcmp(name, "quit") == 0)
		return SIGQUIT;
	if (strcmp(name, "stop") == 0)
		return SIGTERM;
	if (strcmp(name, "reopen") == 0)
		return SIGUSR1;
	return -1;
}

static int
main_send_signal(const struct conf *conf, const char *name, int signo)
{
	char err[512];
	pid_t pid;

	if (conf->pid_file == NULL) {
		fprintf(stderr, "forkloop: %s sets no pid file; cannot find "
		    "the master\n", conf->file);
		return 1;
	}
	pid = pidfile_read(conf->pid_file, err, sizeof(err));
	if (pid == -1) {
		fprintf(stderr, "forkloop: no master running? %s\n", err);
		return 1;
	}
	/* A reload is answered: wait for it, and say how it went. */
	if (signo == SIGHUP)
		return reload_status_request(conf->pid_file, pid);
	if (kill(pid, signo) == -1) {
		fprintf(stderr, "forkloop: cannot send %s to master %ld: %s\n",
		    name, (long)pid, errno == ESRCH ?
		    "no such process (stale pid file?)" : strerror(errno));
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *conf_path = NULL, *signal_name = NULL;
	char err[CONF_ERR_LEN];
	struct conf *conf;
	int ch, check_only = 0, signo = 0;

	while ((ch = getopt(argc, argv, "c:ts:Vh")) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 't':
			check_only = 1;
			break;
		case 's':
			signal_name = optarg;
			signo = main_signal_number(optarg);
			if (signo == -1) {
				fprintf(stderr, "forkloop: unknown signal "
				    "\"%s\"\n", optarg);
				main_usage(stderr);
				return 2;
			}
			break;
		case 'V':
			printf("forkloop %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			main_usage(stdout);
			return 0;
		default:
			main_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		main_usage(stderr);
		return 2;
	}
	if (conf_path == NULL && access(FORKLOOP_CONF_PATH, F_OK) == 0)
		conf_path = FORKLOOP_CONF_PATH;

	/* "-s" needs the pid file only: no certificate is read for it, so
	 * a user who may not read the keys can still send a signal. */
	if (signal_name != NULL)
		conf = master_load_conf_file(conf_path, err, sizeof(err));
	else
		conf = master_load_conf(conf_path, err, sizeof(err));
	if (conf == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check_only) {
		fprintf(stderr, "forkloop: configuration %s is ok\n",
		    conf->file);
		conf_free(conf);
		return 0;
	}
	if (signal_name != NULL) {
		int rc = main_send_signal(conf, signal_name, signo);

		conf_free(conf);
		return rc;
	}
	/* Until the master runs, errors also reach the terminal. */
	log_copy_to_stderr(1);
	if (master_open_logs(conf) == -1) {
		conf_free(conf);
		return 1;
	}
	return master_run(conf, conf_path, argv);
}
