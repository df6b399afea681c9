/*
 * conf_fuzz.c: libFuzzer harness for the configuration parser,
 * conf_load_string() in conf/parse.c with conf/lex.c and conf/value.c.
 *
 * The input is the text of a forkloop.conf (cut at its first NUL, as a C
 * string is).  Whatever it holds, the parser must not crash or leak; a
 * refused file must be reported as "fuzz:LINE: message" with LINE a line
 * of the text, or, for a mistake in a file it includes, as "/PATH:LINE:
 * message", and an accepted one must make a tree that holds together
 * and that conf_free() takes apart.  Its folder is one of the harness's
 * own, holding a few files to include (fuzz_files), so that what a
 * relative "include" reads does not depend on what else is in /tmp.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "fuzz/fuzz.h"

#define FUZZ_NAME	"fuzz"

/* The files an input may include, by a name or a pattern. */
static const struct {
	const char *name;
	const char *text;
} fuzz_files[] = {
	{ "a.conf", "workers 2;\n" },
	{ "b.conf", "listen 8080;\nroot www;\n" },
	{ "bad.conf", "\nbogus;\n" },
	{ "loop.conf", "include loop.conf;\n" },
	{ "open.conf", "http {\n" },
};

static char fuzz_dir[] = "/tmp/conf_fuzz.XXXXXX";

static void
fuzz_cleanup(void)
{
	char path[sizeof(fuzz_dir) + 32];
	size_t i;

	for (i = 0; i < sizeof(fuzz_files) / sizeof(fuzz_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir,
		    fuzz_files[i].name);
		unlink(path);
	}
	rmdir(fuzz_dir);
}

/* The folder of the fuzzed config, made at the first input. */
static const char *
fuzz_basedir(void)
{
	static int made;
	char path[sizeof(fuzz_dir) + 32];
	size_t i;
	FILE *fp;

	if (made)
		return fuzz_dir;
	FUZZ_CHECK(mkdtemp(fuzz_dir) != NULL);
	for (i = 0; i < sizeof(fuzz_files) / sizeof(fuzz_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir,
		    fuzz_files[i].name);
		fp = fopen(path, "w");
		FUZZ_CHECK(fp != NULL);
		FUZZ_CHECK(fputs(fuzz_files[i].text, fp) >= 0);
		FUZZ_CHECK(fclose(fp) == 0);
	}
	atexit(fuzz_cleanup);
	made = 1;
	return fuzz_dir;
}

/* The lines of text: one more than its newlines. */
static long
count_lines(const char *text)
{
	long n = 1;

	for (; *text != '\0'; text++)
		if (*text == '\n')
			n++;
	return n;
}

/* "/PATH:LINE: message": an included file's, LINE at least 1. */
static void
check_included_error(const char *err)
{
	const char *p = err;
	char *end;
	long line;

	FUZZ_CHECK(err[0] == '/');
	for (;;) {
		p = strchr(p + 1, ':');
		FUZZ_CHECK(p != NULL);
		if (!isdigit((unsigned char)p[1]))
			continue;
		line = strtol(p + 1, &end, 10);
		if (end[0] == ':' && end[1] == ' ')
			break;
	}
	FUZZ_CHECK(line >= 1 && end[2] != '\0');
}

static void
check_error(const char *err, const char *text)
{
	const char *p = err + strlen(FUZZ_NAME ":");
	char *end;
	long line;

	if (strncmp(err, FUZZ_NAME ":", strlen(FUZZ_NAME ":")) != 0) {
		check_included_error(err);
		return;
	}
	FUZZ_CHECK(isdigit((unsigned char)*p));
	line = strtol(p, &end, 10);
	FUZZ_CHECK(*end == ':');
	FUZZ_CHECK(line >= 1 && line <= count_lines(text));
	FUZZ_CHECK(end[1] == ' ' && end[2] != '\0');
}

static void
check_conf(const struct conf *conf)
{
	const struct conf_server *srv;
	size_t i, j;

	FUZZ_CHECK(conf->file != NULL && strcmp(conf->file, FUZZ_NAME) == 0);
	FUZZ_CHECK(conf->workers >= 1);
	FUZZ_CHECK(conf->nservers >= 1 && conf->servers != NULL);
	for (i = 0; i < conf->nservers; i++) {
		srv = &conf->servers[i];
		FUZZ_CHECK(srv->nlistens >= 1);
		for (j = 0; j < srv->nlistens; j++)
			FUZZ_CHECK(srv->listens[j].text[0] != '\0');
		if (srv->kind != CONF_SERVER_HTTP)
			continue;
		FUZZ_CHECK(srv->root != NULL && srv->root[0] == '/');
		FUZZ_CHECK(srv->default_type != NULL);
		FUZZ_CHECK(srv->nindex >= 1 && srv->index != NULL);
		for (j = 0; j < srv->nindex; j++)
			FUZZ_CHECK(srv->index[j] != NULL &&
			    srv->index[j][0] != '\0');
		for (j = 0; j < srv->nroutes; j++)
			FUZZ_CHECK(srv->routes[j].prefix[0] == '/' &&
			    srv->routes[j].prefix_len ==
			    strlen(srv->routes[j].prefix));
		if (srv->access_log != NULL)
			FUZZ_CHECK(srv->access_log[0] == '/');
	}
	if (conf->pid_file != NULL)
		FUZZ_CHECK(conf->pid_file[0] == '/');
	if (conf->error_log != NULL)
		FUZZ_CHECK(conf->error_log[0] == '/');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[CONF_ERR_LEN];
	struct conf *conf;
	char *text;

	text = malloc(size + 1);
	FUZZ_CHECK(text != NULL);
	if (size > 0)
		memcpy(text, data, size);
	text[size] = '\0';
	memset(err, 'x', sizeof(err) - 1);
	err[sizeof(err) - 1] = '\0';
	conf = conf_load_string(FUZZ_NAME, text, fuzz_basedir(), err,
	    sizeof(err));
	if (conf == NULL) {
		check_error(err, text);
	} else {
		FUZZ_CHECK(err[0] == '\0');
		check_conf(conf);
		conf_free(conf);
	}
	free(text);
	return 0;
}
