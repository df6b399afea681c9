/*
 * conf_fuzz.c: libFuzzer harness for the configuration parser,
 * conf_load_string() in conf/parse.c with conf/lex.c and conf/value.c.
 *
 * The input is the text of a forkloop.conf (cut at its first NUL, as a C
 * string is).  Whatever it holds, the parser must not crash or leak; a
 * refused file must be reported as "fuzz:LINE: message" with LINE a line
 * of the text, and an accepted one must make a tree that holds together
 * and that conf_free() takes apart.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "fuzz/fuzz.h"

#define FUZZ_NAME	"fuzz"

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

static void
check_error(const char *err, const char *text)
{
	const char *p = err + strlen(FUZZ_NAME ":");
	char *end;
	long line;

	FUZZ_CHECK(strncmp(err, FUZZ_NAME ":", strlen(FUZZ_NAME ":")) == 0);
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
	conf = conf_load_string(FUZZ_NAME, text, "/tmp", err, sizeof(err));
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
