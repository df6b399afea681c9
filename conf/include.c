/*
 * include.c: the files a config is read from.  The main file is read
 * whole here; "include FILE_OR_GLOB;" reads more files in the middle of
 * it, as in nginx: each file a name or a glob(3) pattern matches, in
 * sorted order, is read as if its statements were written where the
 * include stands, so a folder of sites, one file each, can make the
 * blocks of a server, and a snippet can be shared by several blocks.
 *
 * Every file read is a source of the tree (struct conf_source), and its
 * lines are numbered on from those of the files read before it; a line
 * number kept in the tree (a block's, a listen's) so still says which
 * file it is in, and conf_where() turns it back into that file and its
 * line for a message, however long after the parse.  The main file
 * comes first and its numbers are its own lines.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/lex.h"
#include "conf/parser.h"
#include "conf/value.h"

/* Files inside files: more is surely a file that includes itself. */
#define INCLUDE_DEPTH_MAX	16

/* The whole of fp, as a new buffer of *lenp bytes (no NUL added). */
static char *
read_all(FILE *fp, size_t *lenp, char *why, size_t whylen)
{
	char *text = NULL, *bigger;
	size_t len = 0, cap = 0, n;

	for (;;) {
		if (len == cap) {
			cap = cap == 0 ? 8192 : cap * 2;
			bigger = realloc(text, cap);
			if (bigger == NULL) {
				snprintf(why, whylen, "out of memory");
				free(text);
				return NULL;
			}
			text = bigger;
		}
		n = fread(text + len, 1, cap - len, fp);
		if (n == 0)
			break;
		len += n;
	}
	if (ferror(fp)) {
		snprintf(why, whylen, "cannot read: %s", strerror(errno));
		free(text);
		return NULL;
	}
	*lenp = len;
	return text;
}

/*
 * The whole file at path; NULL with why saying what failed ("cannot
 * open: ...").  regular: refuse anything but a regular file, so that a
 * glob matching a device or a FIFO cannot read forever.
 */
char *
conf_read_file(const char *path, int regular, size_t *lenp, char *why,
    size_t whylen)
{
	struct stat sb;
	char *text = NULL;
	FILE *fp;

	fp = fopen(path, "re");
	if (fp == NULL) {
		snprintf(why, whylen, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (regular && fstat(fileno(fp), &sb) == -1)
		snprintf(why, whylen, "cannot stat: %s", strerror(errno));
	else if (regular && !S_ISREG(sb.st_mode))
		snprintf(why, whylen, "not a regular file");
	else
		text = read_all(fp, lenp, why, whylen);
	fclose(fp);
	return text;
}

static int
count_lines(const char *text, size_t len)
{
	size_t n = 1;
	const char *nl;

	while ((nl = memchr(text, '\n', len)) != NULL && n < INT_MAX) {
		n++;
		len -= (size_t)(nl + 1 - text);
		text = nl + 1;
	}
	return (int)n;
}

/*
 * Adds the file whose text is about to be read to the tree's sources;
 * returns the number its line 1 has less 1, or -1 with the error at line.
 */
int
conf_source_add(struct parser *p, const char *name, const char *text,
    size_t len, int line)
{
	struct conf *conf = p->conf;
	struct conf_source *src;
	int first = 0, nlines = count_lines(text, len);

	if (conf->nsources > 0) {
		src = &conf->sources[conf->nsources - 1];
		first = src->first + src->nlines;
	}
	if (nlines >= INT_MAX - first)
		return conf_perr(p, line, "too many lines in the included "
		    "files");
	src = realloc(conf->sources, (conf->nsources + 1) * sizeof(*src));
	if (src == NULL)
		return conf_perr(p, line, "out of memory");
	conf->sources = src;
	src = &src[conf->nsources];
	src->name = conf_pstrdup(p, line, name);
	if (src->name == NULL)
		return -1;
	src->first = first;
	src->nlines = nlines;
	conf->nsources++;
	return first;
}

void
conf_sources_free(struct conf *conf)
{
	size_t i;

	for (i = 0; i < conf->nsources; i++)
		free(conf->sources[i].name);
	free(conf->sources);
	conf->sources = NULL;
	conf->nsources = 0;
}

const char *
conf_where(const struct conf *conf, int line, int *file_line)
{
	const struct conf_source *src;
	size_t i;

	for (i = 0; i < conf->nsources; i++) {
		src = &conf->sources[i];
		if (line > src->first && line - src->first <= src->nlines) {
			*file_line = line - src->first;
			return src->name;
		}
	}
	*file_line = line;
	return conf->file;
}

const char *
conf_line_ref(const struct conf *conf, int line, int from, char *buf,
    size_t len)
{
	const char *file, *from_file;
	int n, m;

	file = conf_where(conf, line, &n);
	from_file = conf_where(conf, from, &m);
	if (file == from_file)
		snprintf(buf, len, "line %d", n);
	else
		snprintf(buf, len, "%s:%d", file, n);
	return buf;
}

/*
 * Reads the statements of the file at path into the body being read, as
 * if they stood at line; the file must end where a statement may end.
 */
static int
include_file(struct parser *p, const char *path, int line)
{
	struct lex outer = p->lex;
	int last_line = p->last_line, first, rc;
	size_t len;
	char *text;

	text = conf_read_file(path, 1, &len, p->msg, sizeof(p->msg));
	if (text == NULL)
		return conf_perr(p, line, "include \"%s\": %s", path, p->msg);
	first = conf_source_add(p, path, text, len, line);
	if (first == -1) {
		free(text);
		return -1;
	}
	lex_init(&p->lex, text, len);
	p->lex.line = first + 1;
	p->depth++;
	rc = conf_parse_stmts(p, 0);
	p->depth--;
	lex_free(&p->lex);
	p->lex = outer;
	p->last_line = last_line;
	free(text);
	return rc;
}

/*
 * glob(3) gives its callback no argument of the caller's, so the folder
 * it could not read is kept here for the message; parsing is one thread.
 */
static int glob_errno;
static char glob_folder[PATH_MAX];

/* A folder that is not there matches nothing, as in nginx; a folder
 * that cannot be read is an error, not a silent "no sites". */
static int
include_glob_error(const char *folder, int error)
{
	if (error == ENOENT || error == ENOTDIR)
		return 0;
	glob_errno = error;
	snprintf(glob_folder, sizeof(glob_folder), "%s", folder);
	return 1;
}

/* Each file the pattern matches, in glob(3)'s sorted order; none is no
 * error, as in nginx. */
static int
include_glob(struct parser *p, const char *pattern, int line)
{
	glob_t g;
	size_t i;
	int rc;

	memset(&g, 0, sizeof(g));
	glob_errno = 0;
	switch (glob(pattern, 0, include_glob_error, &g)) {
	case 0:
		rc = 0;
		for (i = 0; i < g.gl_pathc && rc == 0; i++)
			rc = include_file(p, g.gl_pathv[i], line);
		break;
	case GLOB_NOMATCH:
		rc = 0;
		break;
	case GLOB_NOSPACE:
		rc = conf_perr(p, line, "include \"%s\": out of memory",
		    pattern);
		break;
	case GLOB_ABORTED:
		rc = conf_perr(p, line, "include \"%s\": cannot read the "
		    "folder \"%s\": %s", pattern, glob_folder,
		    strerror(glob_errno));
		break;
	default:
		rc = conf_perr(p, line, "include \"%s\": glob failed",
		    pattern);
	}
	globfree(&g);
	return rc;
}

/* The argument as a path: from the main file's folder, if relative
 * (without a folder, as conf_load_string() may be, from the current
 * one). */
static char *
include_path(struct parser *p, const char *arg, int line)
{
	char *path;

	if (arg[0] != '/' && arg[0] != '\0' && p->basedir == NULL)
		return conf_pstrdup(p, line, arg);
	path = value_path(p->basedir, arg, p->msg, sizeof(p->msg));
	if (path == NULL)
		conf_perr(p, line, "%s", p->msg);
	return path;
}

/*
 * include FILE_OR_GLOB: a name with none of * ? [ is a file that must be
 * there; a pattern may match any number of files, none included.
 */
int
conf_set_include(struct parser *p, struct stmt *st, void *field)
{
	char *path;
	int rc;

	(void)field;
	if (p->depth >= INCLUDE_DEPTH_MAX)
		return conf_perr(p, st->lines[0], "include nested too deeply "
		    "(over %d levels: does a file include itself?)",
		    INCLUDE_DEPTH_MAX);
	path = include_path(p, st->argv[1], st->lines[1]);
	if (path == NULL)
		return -1;
	if (strpbrk(path, "*?[") != NULL)
		rc = include_glob(p, path, st->lines[1]);
	else
		rc = include_file(p, path, st->lines[1]);
	free(path);
	return rc;
}
