/*
 * value.c: reads the values of forkloop.conf's directives.
 *
 * Sizes, times, counts, on/off switches, names from a fixed list, listen
 * addresses and paths: each is one word, and each function here turns
 * one word into its value or into an error message that names it.  None
 * of them know which directive or line the word came from; conf/parse.c
 * does, and adds that to the message.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/regex.h"
#include "conf/value.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define MAX_WORKERS	1024

struct unit {
	const char *suffix;
	unsigned long long scale;
};

static const struct unit size_units[] = {
	{ "", 1 },
	{ "k", 1024ULL }, { "K", 1024ULL },
	{ "m", 1024ULL * 1024 }, { "M", 1024ULL * 1024 },
	{ "g", 1024ULL * 1024 * 1024 }, { "G", 1024ULL * 1024 * 1024 },
	{ NULL, 0 },
};

/* In milliseconds; a bare number is seconds, as people mostly mean. */
static const char *const log_levels[] = {
	[CONF_LOG_DEBUG] = "debug",
	[CONF_LOG_INFO] = "info",
	[CONF_LOG_WARN] = "warn",
	[CONF_LOG_ERROR] = "error",
};

static const char *const route_handlers[] = {
	[CONF_ROUTE_HELLO] = "hello",
	[CONF_ROUTE_DELAY] = "delay",
	[CONF_ROUTE_ECHO] = "echo",
	[CONF_ROUTE_STATUS] = "status",
};

static int value_err(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Puts the message in err, when there is room for one; returns -1. */
static int
value_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
find_name(const char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

/*
 * Reads the decimal digits at s and returns where they stop: s itself
 * when there are none.  A value too big for the type saturates at
 * ULLONG_MAX, which every caller takes as too large.
 */
static const char *
read_digits(const char *s, unsigned long long *val)
{
	unsigned long long v = 0;
	unsigned int digit;

	for (; *s >= '0' && *s <= '9'; s++) {
		digit = (unsigned int)(*s - '0');
		if (v > (ULLONG_MAX - digit) / 10)
			v = ULLONG_MAX;
		else
			v = v * 10 + digit;
	}
	*val = v;
	return s;
}

/* "12k" is 12 and 1024; -1 unless it is digits and a known suffix. */
static int
read_scaled(const char *text, const struct unit *units,
    unsigned long long *val, unsigned long long *scale)
{
	const char *end;

	end = read_digits(text, val);
	if (end == text)
		return -1;
	for (; units->suffix != NULL; units++) {
		if (strcmp(end, units->suffix) == 0) {
			*scale = units->scale;
			return 0;
		}
	}
	return -1;
}

int
value_size(const char *text, size_t *size, char *err, size_t errlen)
{
	unsigned long long val, scale;

	if (read_scaled(text, size_units, &val, &scale) == -1)
		return value_err(err, errlen, "invalid size \"%s\"", text);
	if (val == ULLONG_MAX || val > SIZE_MAX / scale)
		return value_err(err, errlen, "size \"%s\" is too large",
		    text);
	*size = (size_t)(val * scale);
	return 0;
}

/*
 * A time as nginx writes it: a bare number of seconds, or one or more
 * NUMBER UNIT parts with units from the largest down, each at most once
 * ("1h30m", "1m30s", "2s500ms"); units are y (365 days), M (30 days),
 * w, d, h, m, s and ms, as nginx's.
 */
static int
value_time_upto(const char *text, unsigned long long max,
    unsigned long long *ms, char *err, size_t errlen)
{
	static const struct unit parts[] = {
		{ "y", 365ULL * 24 * 60 * 60 * 1000 },	/* as nginx */
		{ "M", 30ULL * 24 * 60 * 60 * 1000 },
		{ "w", 7ULL * 24 * 60 * 60 * 1000 },
		{ "d", 24ULL * 60 * 60 * 1000 },
		{ "h", 60ULL * 60 * 1000 },
		{ "ms", 1 },	/* before "m": the longer suffix first */
		{ "m", 60ULL * 1000 },
		{ "s", 1000 },
		{ NULL, 0 },
	};
	unsigned long long total = 0, val, last = ~0ULL;
	const char *p = text, *end;

	end = read_digits(p, &val);
	if (end == p)
		return value_err(err, errlen, "invalid time \"%s\"", text);
	if (*end == '\0') {
		/* A bare number is seconds. */
		if (val > max / 1000)
			return value_err(err, errlen, "time \"%s\" is too "
			    "large", text);
		*ms = val * 1000;
		return 0;
	}
	while (*p != '\0') {
		const struct unit *u;

		end = read_digits(p, &val);
		if (end == p)
			return value_err(err, errlen, "invalid time \"%s\"",
			    text);
		for (u = parts; u->suffix != NULL; u++)
			if (strncmp(end, u->suffix, strlen(u->suffix)) == 0)
				break;
		if (u->suffix == NULL || u->scale >= last)
			return value_err(err, errlen, "invalid time \"%s\"",
			    text);
		last = u->scale;
		if (val > max / u->scale || total + val * u->scale > max)
			return value_err(err, errlen, "time \"%s\" is too "
			    "large", text);
		total += val * u->scale;
		p = end + strlen(u->suffix);
	}
	*ms = total;
	return 0;
}

/* Timeouts and intervals: up to INT_MAX ms (24 days). */
int
value_time(const char *text, int *ms, char *err, size_t errlen)
{
	unsigned long long v;

	if (value_time_upto(text, INT_MAX, &v, err, errlen) == -1)
		return -1;
	*ms = (int)v;
	return 0;
}

/* Lifetimes (expires 1y as 365d): whole seconds, up to 100 years. */
int
value_time_sec(const char *text, long long *sec, char *err, size_t errlen)
{
	unsigned long long v;

	if (value_time_upto(text, 100ULL * 365 * 24 * 60 * 60 * 1000, &v,
	    err, errlen) == -1)
		return -1;
	*sec = (long long)(v / 1000);
	return 0;
}

/* A positive int; zero is refused since no count here means "none". */
int
value_number(const char *text, int *num, char *err, size_t errlen)
{
	unsigned long long val;
	const char *end;

	end = read_digits(text, &val);
	if (end == text || *end != '\0' || val == 0)
		return value_err(err, errlen, "invalid number \"%s\"", text);
	if (val > INT_MAX)
		return value_err(err, errlen, "number \"%s\" is too large",
		    text);
	*num = (int)val;
	return 0;
}

int
value_switch(const char *name, const char *text, const char *on,
    int *flag, char *err, size_t errlen)
{
	if (strcmp(text, on) == 0)
		*flag = 1;
	else if (strcmp(text, "off") == 0)
		*flag = 0;
	else
		return value_err(err, errlen, "invalid value \"%s\" for "
		    "\"%s\", expecting \"%s\" or \"off\"", text, name, on);
	return 0;
}

int
value_cpu_count(void)
{
	long n;

	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > MAX_WORKERS ? MAX_WORKERS : (int)n;
}

int
value_workers(const char *text, int *workers, char *err, size_t errlen)
{
	unsigned long long n;
	const char *end;

	if (strcmp(text, "auto") == 0) {
		*workers = value_cpu_count();
		return 0;
	}
	end = read_digits(text, &n);
	if (end == text || *end != '\0' || n < 1 || n > MAX_WORKERS)
		return value_err(err, errlen, "invalid value \"%s\" for "
		    "\"workers\", expecting \"auto\" or 1 to %d", text,
		    MAX_WORKERS);
	*workers = (int)n;
	return 0;
}

int
value_log_level(const char *text, enum conf_log_level *level, char *err,
    size_t errlen)
{
	int i;

	i = find_name(log_levels, nitems(log_levels), text);
	if (i == -1)
		return value_err(err, errlen, "invalid log level \"%s\", "
		    "expecting debug, info, warn or error", text);
	*level = (enum conf_log_level)i;
	return 0;
}

int
value_route_handler(const char *text, enum conf_route_handler *handler,
    char *err, size_t errlen)
{
	int i;

	i = find_name(route_handlers, nitems(route_handlers), text);
	if (i == -1)
		return value_err(err, errlen, "unknown route handler \"%s\"",
		    text);
	*handler = (enum conf_route_handler)i;
	return 0;
}

static const char *const text_vars[] = {
	[CONF_VAR_LITERAL] = "",
	[CONF_VAR_SCHEME] = "scheme",
	[CONF_VAR_HOST] = "host",
	[CONF_VAR_REQUEST_URI] = "request_uri",
	[CONF_VAR_URI] = "uri",
	[CONF_VAR_ARGS] = "args",
	[CONF_VAR_SERVER_NAME] = "server_name",
	[CONF_VAR_REMOTE_ADDR] = "remote_addr",
	[CONF_VAR_PROXY_HOST] = "proxy_host",
	[CONF_VAR_PROXY_ADD_XFF] = "proxy_add_x_forwarded_for",
	[CONF_VAR_HTTP_FIELD] = "http_",
};
/* The variables known by name: all but a regex's groups. */
#define TEXT_NAMED	CONF_VAR_CAPTURE

void
conf_text_free(struct conf_text *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nparts; i++)
		free(t->parts[i].literal);
	free(t->parts);
	free(t);
}

static int
text_add(struct conf_text *t, enum conf_var var, const char *s, size_t len)
{
	struct conf_text_part *p;

	p = realloc(t->parts, (t->nparts + 1) * sizeof(*p));
	if (p == NULL)
		return -1;
	t->parts = p;
	p = &t->parts[t->nparts];
	memset(p, 0, sizeof(*p));
	p->var = var;
	if (var == CONF_VAR_LITERAL) {
		if ((p->literal = malloc(len + 1)) == NULL)
			return -1;
		memcpy(p->literal, s, len);
		p->literal[len] = '\0';
		p->len = len;
	}
	t->nparts++;
	return 0;
}

static int
text_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/*
 * The variable at s ("$name" or "${name}"); its length in *used, and for
 * a regex's group its number in *group.  "$1" to "$9" are one digit, as
 * nginx's ("$10" is $1 and a "0"); a name that is no variable of ours
 * may be a named group of re.
 */
static int
text_var(const char *s, const struct conf_regex *re, size_t *used,
    int *group, char *err, size_t errlen)
{
	size_t start = s[1] == '{' ? 2 : 1, n = start;
	size_t i;

	if (s[n] >= '1' && s[n] <= '9')
		n++;
	else
		while (text_name_char(s[n]))
			n++;
	for (i = 1; i < TEXT_NAMED; i++)
		if (n - start == strlen(text_vars[i]) &&
		    strncmp(s + start, text_vars[i], n - start) == 0)
			break;
	/* $http_NAME: a request field, "_" standing for "-" (nginx's). */
	if (i == TEXT_NAMED && n - start > 5 &&
	    strncmp(s + start, "http_", 5) == 0)
		i = CONF_VAR_HTTP_FIELD;
	if (start == 2 && s[n] != '}')
		return value_err(err, errlen, "unclosed \"${\" in \"%s\"", s);
	*used = n + (start == 2);
	if (i < TEXT_NAMED)
		return (int)i;
	/* Outside a regex location, $1 stays empty, as in nginx. */
	*group = s[start] >= '1' && s[start] <= '9' ? s[start] - '0' :
	    re != NULL ? conf_regex_named(re, s + start, n - start) : -1;
	if (*group >= CONF_REGEX_GROUPS)
		return value_err(err, errlen, "the group of \"$%.*s\" is "
		    "number %d; forkloop keeps groups up to %d",
		    (int)(n - start), s + start, *group, CONF_REGEX_GROUPS - 1);
	if (*group > 0)
		return CONF_VAR_CAPTURE;
	return value_err(err, errlen, "unknown variable \"$%.*s\"",
	    (int)(n - start), s + start);
}

struct conf_text *
value_text(const char *text, const struct conf_regex *re, char *err,
    size_t errlen)
{
	struct conf_text *t = calloc(1, sizeof(*t));
	const char *s = text, *lit = text;
	size_t used = 0;
	int var, group = 0;

	if (t == NULL)
		goto nomem;
	while (*s != '\0') {
		if (*s != '$') {
			s++;
			continue;
		}
		if (s > lit && text_add(t, CONF_VAR_LITERAL, lit,
		    (size_t)(s - lit)) == -1)
			goto nomem;
		if ((var = text_var(s, re, &used, &group, err, errlen)) ==
		    -1) {
			conf_text_free(t);
			return NULL;
		}
		if (var == CONF_VAR_HTTP_FIELD) {
			/* The field's name: after "$http_" or "${http_". */
			const char *name = s + (s[1] == '{' ? 7 : 6);
			size_t len = (size_t)(s + used - name) -
			    (s[1] == '{'), k;

			if (text_add(t, CONF_VAR_LITERAL, name, len) == -1)
				goto nomem;
			t->parts[t->nparts - 1].var = CONF_VAR_HTTP_FIELD;
			for (k = 0; k < len; k++)
				if (t->parts[t->nparts - 1].literal[k] == '_')
					t->parts[t->nparts - 1].literal[k] =
					    '-';
		} else if (text_add(t, (enum conf_var)var, NULL, 0) == -1)
			goto nomem;
		if (var == CONF_VAR_CAPTURE)
			t->parts[t->nparts - 1].len = (size_t)group;
		s += used;
		lit = s;
	}
	if (s > lit && text_add(t, CONF_VAR_LITERAL, lit, (size_t)(s - lit))
	    == -1)
		goto nomem;
	return t;
nomem:
	conf_text_free(t);
	value_err(err, errlen, "out of memory");
	return NULL;
}

/* Ports are 1 to 65535, digits only: no service names, no signs. */
static int
read_port(const char *text, unsigned int *port)
{
	unsigned long long val;
	const char *end;

	end = read_digits(text, &val);
	if (end == text || *end != '\0' || val < 1 || val > 65535)
		return -1;
	*port = (unsigned int)val;
	return 0;
}

static int
listen_set_ipv4(struct conf_listen *l, const char *host, unsigned int port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&l->addr;
	char buf[INET_ADDRSTRLEN];

	/* No resolver here: "localhost" is the one name people write. */
	if (host[0] == '\0' || strcmp(host, "*") == 0)
		host = "0.0.0.0";
	else if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	l->addrlen = sizeof(*sin);
	inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
	snprintf(l->text, sizeof(l->text), "%s:%u", buf, port);
	return 0;
}

static int
listen_set_ipv6(struct conf_listen *l, const char *host, unsigned int port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l->addr;
	char buf[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
		return -1;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	l->addrlen = sizeof(*sin6);
	inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
	snprintf(l->text, sizeof(l->text), "[%s]:%u", buf, port);
	return 0;
}

/* An IPv6 address without brackets lands in the IPv4 branch and fails. */
static int
listen_parse(const char *text, struct conf_listen *l)
{
	char host[INET6_ADDRSTRLEN];
	const char *port, *close, *colon;
	size_t hostlen = 0;
	unsigned int portnum;
	int ipv6 = 0;

	if (text[0] == '[') {
		close = strchr(text, ']');
		if (close == NULL || close[1] != ':')
			return -1;
		ipv6 = 1;
		text++;
		hostlen = (size_t)(close - text);
		port = close + 2;
	} else if ((colon = strrchr(text, ':')) != NULL) {
		hostlen = (size_t)(colon - text);
		port = colon + 1;
	} else {
		port = text;
	}
	if (hostlen >= sizeof(host))
		return -1;
	memcpy(host, text, hostlen);
	host[hostlen] = '\0';
	if (read_port(port, &portnum) == -1)
		return -1;
	if (ipv6)
		return listen_set_ipv6(l, host, portnum);
	return listen_set_ipv4(l, host, portnum);
}

int
value_listen(const char *text, struct conf_listen *l, char *err,
    size_t errlen)
{
	if (listen_parse(text, l) == -1)
		return value_err(err, errlen, "invalid listen address \"%s\"",
		    text);
	return 0;
}

/*
 * Drops empty and "." components and a trailing slash: "/a//./b/" is
 * "/a/b".  ".." is left alone, since with symbolic links it does not
 * simply cancel the component before it.
 */
static void
path_tidy(char *path)
{
	char *r = path, *w = path;

	while (*r != '\0') {
		if (r[0] == '/' && r[1] == '/') {
			r++;
			continue;
		}
		if (r[0] == '/' && r[1] == '.' &&
		    (r[2] == '/' || r[2] == '\0')) {
			r += 2;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
	if (w > path + 1 && w[-1] == '/')
		w[-1] = '\0';
	if (path[0] == '\0')
		strcpy(path, "/");
}

char *
value_path(const char *basedir, const char *path, char *err, size_t errlen)
{
	char *full;
	size_t len;

	if (path[0] == '\0') {
		value_err(err, errlen, "invalid path \"\"");
		return NULL;
	}
	if (path[0] != '/' && basedir == NULL) {
		value_err(err, errlen, "path \"%s\" must be an absolute path",
		    path);
		return NULL;
	}
	if (path[0] == '/') {
		full = strdup(path);
	} else {
		len = strlen(basedir) + strlen(path) + 2;
		full = malloc(len);
		if (full != NULL)
			snprintf(full, len, "%s/%s", basedir, path);
	}
	if (full == NULL) {
		value_err(err, errlen, "out of memory");
		return NULL;
	}
	path_tidy(full);
	return full;
}

char *
value_dir_of(const char *path)
{
	char cwd[PATH_MAX];
	const char *slash;
	size_t dirlen, len;
	char *dir;

	slash = strrchr(path, '/');
	dirlen = slash == NULL ? 0 : (size_t)(slash - path);
	if (path[0] == '/') {
		dir = strndup(path, dirlen == 0 ? 1 : dirlen);
	} else {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return NULL;
		len = strlen(cwd) + dirlen + 2;
		dir = malloc(len);
		if (dir != NULL)
			snprintf(dir, len, "%s/%.*s", cwd, (int)dirlen, path);
	}
	if (dir != NULL)
		path_tidy(dir);
	return dir;
}
