/*
 * conf_check.c: what a start or a reload would meet in a config that
 * parses, checked before any port is bound or worker started, so that
 * `forkloop -t` finds it too and says it with FILE:LINE: the user and
 * group exist, and every log file can be written where it is named.
 * (Certificates and keys are read by tls_conf_load() the same way.)
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "master/master.h"

static int conf_check_err(const struct conf *conf, int line, char *err,
    size_t errlen, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
conf_check_err(const struct conf *conf, int line, char *err, size_t errlen,
    const char *fmt, ...)
{
	char msg[CONF_ERR_LEN];
	const char *file;
	int file_line;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	file = conf_where(conf, line, &file_line);
	snprintf(err, errlen, "%s:%d: %s", file, file_line, msg);
	return -1;
}

static int
conf_check_user(const struct conf *conf, char *err, size_t errlen)
{
	if (conf->user != NULL && getpwnam(conf->user) == NULL)
		return conf_check_err(conf, conf->user_line, err, errlen,
		    "unknown user \"%s\"", conf->user);
	if (conf->group != NULL && getgrnam(conf->group) == NULL)
		return conf_check_err(conf, conf->group_line, err, errlen,
		    "unknown group \"%s\"", conf->group);
	return 0;
}

/*
 * A log file that exists must be a file we may write; one that does not
 * must have a folder we may create it in.  Not opened: -t writes nothing.
 */
static int
conf_check_log(const struct conf *conf, const char *path, int line,
    const char *what, char *err, size_t errlen)
{
	char dir[4096];
	struct stat st;

	if (path == NULL)
		return 0;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return conf_check_err(conf, line, err, errlen,
			    "%s \"%s\" is a folder", what, path);
		if (access(path, W_OK) == -1)
			return conf_check_err(conf, line, err, errlen,
			    "cannot write %s \"%s\": %s", what, path,
			    strerror(errno));
		return 0;
	}
	if (errno != ENOENT)
		return conf_check_err(conf, line, err, errlen, "%s \"%s\": %s",
		    what, path, strerror(errno));
	snprintf(dir, sizeof(dir), "%s", path);
	if (stat(dirname(dir), &st) == -1 || !S_ISDIR(st.st_mode))
		return conf_check_err(conf, line, err, errlen, "%s \"%s\": no "
		    "folder %s", what, path, dir);
	if (access(dir, W_OK | X_OK) == -1)
		return conf_check_err(conf, line, err, errlen, "%s \"%s\": "
		    "cannot create it in %s: %s", what, path, dir,
		    strerror(errno));
	return 0;
}

int
master_check_conf(const struct conf *conf, char *err, size_t errlen)
{
	size_t i, j;

	if (conf_check_user(conf, err, errlen) == -1 ||
	    conf_check_log(conf, conf->error_log, conf->error_log_line,
	    "error_log", err, errlen) == -1)
		return -1;
	for (i = 0; i < conf->nservers; i++) {
		const struct conf_server *s = &conf->servers[i];

		if (conf_check_log(conf, s->access_log, s->access_log_line,
		    "access_log", err, errlen) == -1)
			return -1;
		for (j = 0; j < s->nlocations; j++) {
			const struct conf_server *l = s->locations[j].conf;

			if (l->access_log != s->access_log &&
			    conf_check_log(conf, l->access_log,
			    l->access_log_line, "access_log", err,
			    errlen) == -1)
				return -1;
		}
	}
	return 0;
}
