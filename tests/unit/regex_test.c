/*
 * regex_test.c: unit tests for the regular expressions of forkloop.conf
 * (conf/regex.c) and what the parser makes of them: location kinds and
 * their order (conf/location.c), $1 and named groups in texts
 * (conf/value.c), server_name ~REGEX in the choice of block
 * (conf/vhosts.c), and the "FILE:LINE: message" of each mistake.
 */
#include "config.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/regex.h"
#include "conf/vhosts.h"
#include "tests/unit/tap.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static char err[CONF_ERR_LEN];

static struct conf *
load(const char *text)
{
	return conf_load_string("t.conf", text, "/base", err, sizeof(err));
}

static void
test_compile_and_match(void)
{
	struct conf_regex *re;
	uint32_t caps[2 * 4];
	char msg[256];
	int rc;

	re = conf_regex_compile("^/u/(?<user>[a-z]+)(/(\\d+))?$", 0, msg,
	    sizeof(msg));
	if (!ok(re != NULL, "a regex with a named group compiles"))
		return;
	is_int(conf_regex_groups(re), 3, "three groups");
	is_int(conf_regex_named(re, "user", 4), 1, "\"user\" is group 1");
	is_int(conf_regex_named(re, "nobody", 6), -1, "no group \"nobody\"");
	rc = conf_regex_match(re, "/u/bob", 6, caps, 4, msg, sizeof(msg));
	is_int(rc, 1, "/u/bob matches");
	ok(caps[2] == 3 && caps[3] == 6, "group 1 is \"bob\" (3..6)");
	ok(caps[4] == CONF_REGEX_UNSET && caps[6] == CONF_REGEX_UNSET,
	    "groups that took no part are unset");
	rc = conf_regex_match(re, "/u/bob/42", 9, caps, 4, msg, sizeof(msg));
	ok(rc == 1 && caps[6] == 7 && caps[7] == 9, "group 3 is \"42\"");
	is_int(conf_regex_match(re, "/U/bob", 6, caps, 4, msg, sizeof(msg)),
	    0, "case counts without ~*");
	is_int(conf_regex_match(re, "/u/b\0b", 6, caps, 4, msg, sizeof(msg)),
	    0, "a NUL in the subject is a byte like any other");
	conf_regex_free(re);

	re = conf_regex_compile("\\.PNG$", 1, msg, sizeof(msg));
	ok(re != NULL && conf_regex_match(re, "/a.png", 6, NULL, 0, msg,
	    sizeof(msg)) == 1, "caseless matches any case");
	conf_regex_free(re);

	re = conf_regex_compile("(a", 0, msg, sizeof(msg));
	ok(re == NULL && strstr(msg, "invalid regular expression \"(a\": ")
	    == msg && strstr(msg, "at offset 2") != NULL,
	    "a broken regex: PCRE2's message and offset: %s", msg);
}

/* "(a+)+b" on a long run of "a" backtracks without end: the match
 * limit stops it with an error, not a hang. */
static void
test_match_limit(void)
{
	struct conf_regex *re;
	char subject[4096], msg[256];
	int rc;

	/* PCRE2 fails at once when the "b" it needs is missing: the
	 * subject has one, after a "c" that no "a" can get past. */
	memset(subject, 'a', sizeof(subject) - 1);
	subject[sizeof(subject) - 3] = 'c';
	subject[sizeof(subject) - 2] = 'b';
	subject[sizeof(subject) - 1] = '\0';
	re = conf_regex_compile("^(a+)+b$", 0, msg, sizeof(msg));
	if (!ok(re != NULL, "the catastrophic regex compiles"))
		return;
	rc = conf_regex_match(re, subject, strlen(subject), NULL, 0, msg,
	    sizeof(msg));
	is_int(rc, -1, "it fails with an error: %s", rc == -1 ? msg : "");
	rc = conf_regex_match(re, "aaab", 4, NULL, 0, msg, sizeof(msg));
	is_int(rc, 1, "and still matches a short subject after");
	conf_regex_free(re);
}

static void
test_locations(void)
{
	const struct conf_location *loc;
	const struct conf_server *s;
	struct conf *conf;

	conf = load("http {\n listen 80;\n location /a/ { }\n"
	    " location ~ \\.php$ { }\n location ^~ /static/ { }\n"
	    " location =/x { }\n location ~*\\.JPG$ { return 200 $1; }\n"
	    " location ^~/s2/ { }\n}\n");
	if (!ok(conf != NULL, "every kind of location parses: %s", err))
		return;
	s = &conf->servers[0];
	is_int(s->nlocations, 6, "six locations");
	is_int(s->nregex_locations, 2, "two of them regexes");
	ok(s->locations[1].regex != NULL &&
	    strcmp(conf_regex_source(s->locations[1].regex), "\\.php$") == 0,
	    "the regex is kept as written");
	ok(s->locations[2].no_regex && !s->locations[2].exact,
	    "^~ is a prefix with no regex pass");
	ok(s->locations[3].exact && strcmp(s->locations[3].path, "/x") == 0,
	    "\"=/x\" glued is exact /x");
	ok(s->locations[4].regex != NULL &&
	    strcmp(conf_regex_source(s->locations[4].regex), "\\.JPG$") == 0,
	    "\"~*\\.JPG$\" glued is a caseless regex");
	ok(s->locations[5].no_regex &&
	    strcmp(s->locations[5].path, "/s2/") == 0, "\"^~/s2/\" glued");
	loc = conf_location_find(s, "/a/b.php", 8);
	ok(loc == &s->locations[0], "the prefix search skips regexes");
	loc = conf_location_find(s, "/x", 2);
	ok(loc == &s->locations[3], "exact wins");
	ok(s->locations[4].conf->return_text != NULL &&
	    s->locations[4].conf->return_text->nparts == 1 &&
	    s->locations[4].conf->return_text->parts[0].var ==
	    CONF_VAR_CAPTURE &&
	    s->locations[4].conf->return_text->parts[0].len == 1,
	    "$1 is group 1");
	conf_free(conf);
}

static void
test_texts(void)
{
	const struct conf_server *l;
	const struct conf_text *t;
	struct conf *conf;

	conf = load("http {\n listen 80;\n return 200 \"[$1$10]\";\n"
	    " location ~ ^/(?<a>\\w)(?<Name_2>\\w)$ {\n"
	    "  return 200 \"$Name_2${a}x\";\n  add_header X-A $a;\n }\n"
	    " location ~ ^/img/(.+)$ { alias /srv/pics/$1; }\n"
	    " location ~ ^/f$ { alias /srv/f.ico; }\n}\n");
	if (!ok(conf != NULL, "texts with groups parse: %s", err))
		return;
	t = conf->servers[0].return_text;
	ok(t->nparts == 4 && t->parts[1].var == CONF_VAR_CAPTURE &&
	    t->parts[1].len == 1 && t->parts[2].var == CONF_VAR_CAPTURE &&
	    t->parts[3].var == CONF_VAR_LITERAL &&
	    strcmp(t->parts[3].literal, "0]") == 0,
	    "$1 outside a regex location is accepted (empty, as nginx); $10 "
	    "is $1 and \"0\"");
	l = conf->servers[0].locations[0].conf;
	t = l->return_text;
	ok(t->nparts == 3 && t->parts[0].var == CONF_VAR_CAPTURE &&
	    t->parts[0].len == 2 && t->parts[1].len == 1,
	    "named groups by their numbers, ${a} too");
	ok(l->nadd_headers == 1 && l->add_headers[0].text != NULL,
	    "add_header with a variable has a text");
	l = conf->servers[0].locations[1].conf;
	ok(strcmp(l->root, "/srv/pics") == 0 && l->alias_file != NULL &&
	    l->alias_file->nparts == 2 &&
	    strcmp(l->alias_file->parts[0].literal, "/") == 0,
	    "a regex alias: the folder before $1, then \"/$1\"");
	l = conf->servers[0].locations[2].conf;
	ok(strcmp(l->root, "/srv") == 0 && l->alias_file != NULL &&
	    strcmp(l->alias_file->parts[0].literal, "/f.ico") == 0,
	    "a regex alias without variables names one file");
	conf_free(conf);
}

static void
test_server_names(void)
{
	const struct conf_vhosts *v;
	struct conf *conf;

	conf = load("http { listen 127.0.0.1:80; server_name a.example; }\n"
	    "http { listen 127.0.0.1:80; server_name ~^(www\\.)?b\\. "
	    "~^[a-z]+\\.example$; }\n"
	    "http { listen 127.0.0.1:80; server_name ~^[a-z]+\\.example$; }\n"
	    "http { listen 127.0.0.1:80; server_name *.example; }\n"
	    "http { listen 127.0.0.1:80; server_name B.*; }\n");
	if (!ok(conf != NULL, "regex server names parse: %s", err))
		return;
	v = conf->servers[0].listens[0].vhosts;
	ok(conf_vhosts_find(v, "a.example", 9) == &conf->servers[0],
	    "an exact name before a regex");
	ok(conf_vhosts_find(v, "x.example", 9) == &conf->servers[3],
	    "a leading wildcard before a regex");
	ok(conf_vhosts_find(v, "b.org", 5) == &conf->servers[4],
	    "a trailing wildcard before a regex");
	ok(conf_vhosts_find(v, "WWW.B.org:8080", 14) == &conf->servers[1],
	    "a regex, without case, port ignored");
	ok(conf_vhosts_find(v, "zz.org", 6) == NULL, "no regex matches");
	is_str(conf->servers[1].server_names[0], "~^(www\\.)?b\\.",
	    "a regex name is kept as written");
	conf_free(conf);

	conf = load("http { listen 127.0.0.1:80; server_name x; }\n"
	    "http { listen 127.0.0.1:80; server_name ~^a ~^ab; }\n"
	    "http { listen 127.0.0.1:80; server_name ~^ab; }\n");
	if (!ok(conf != NULL, "two blocks with one regex: %s", err))
		return;
	v = conf->servers[0].listens[0].vhosts;
	ok(conf_vhosts_find(v, "abc", 3) == &conf->servers[1],
	    "the first regex in the file wins");
	conf_free(conf);
}

struct error_case {
	const char *text;
	const char *want;
};

static const struct error_case error_cases[] = {
	{ "http {\n listen 80;\n location ~\n (\\.php$ { }\n}",
	    "t.conf:4: invalid regular expression \"(\\.php$\": missing "
	    "closing parenthesis at offset 7" },
	{ "http {\n listen 80;\n location ~* [z-a] { }\n}",
	    "t.conf:3: invalid regular expression \"[z-a]\": range out of "
	    "order in character class at offset 3" },
	{ "http {\n listen 80;\n location / {\n  location ~ x { }\n }\n}",
	    "t.conf:4: \"location\" directive is not allowed here" },
	{ "http {\n listen 80;\n location ~ ^/(x)$ {\n"
	    "  proxy_pass http://127.0.0.1:9/a/;\n }\n}",
	    "t.conf:4: \"proxy_pass\" cannot have a URI part in a location "
	    "given by a regular expression" },
	{ "http {\n listen 80;\n location ~ ^/(x)$ {\n"
	    "  return 200 \"$nosuch\";\n }\n}",
	    "t.conf:4: unknown variable \"$nosuch\"" },
	{ "http {\n listen 80;\n server_name a ~(b;\n}",
	    "t.conf:3: server_name: invalid regular expression \"(b\": "
	    "missing closing parenthesis at offset 2" },
	{ "http {\n listen 80;\n server_name ~;\n}",
	    "t.conf:3: invalid server name \"~\"" },
	{ "http {\n listen 80;\n location ~ \"\" { }\n}",
	    "t.conf:3: an empty regular expression" },
	{ "http {\n listen 80;\n location ~~ /a { }\n}",
	    "t.conf:3: invalid location modifier \"~~\"" },
	{ "http {\n listen 80;\n location\n ~* { }\n}",
	    "t.conf:4: a location needs a path after \"~*\"" },
};

static void
test_errors(void)
{
	struct conf *conf;
	size_t i;

	for (i = 0; i < nitems(error_cases); i++) {
		strcpy(err, "(untouched)");
		conf = conf_load_string("t.conf", error_cases[i].text, NULL,
		    err, sizeof(err));
		if (conf != NULL) {
			ok(0, "error %zu fails: %s", i, error_cases[i].want);
			conf_free(conf);
			continue;
		}
		is_str(err, error_cases[i].want, "error %zu", i);
	}
}

int
main(void)
{
	test_compile_and_match();
	test_match_limit();
	test_locations();
	test_texts();
	test_server_names();
	test_errors();
	return done_testing();
}
