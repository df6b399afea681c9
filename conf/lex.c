/*
 * lex.c: the tokenizer for forkloop.conf.
 *
 * Words are separated by white space; ; { and } are tokens of their own
 * and also end a word, so "listen 80;" and "http{" need no spaces.  A #
 * where a token could start begins a comment to the end of the line; in
 * the middle of a word it is part of the word, as in nginx, so a path
 * may hold one.  A "quoted string" (or, as nginx allows, a 'quoted
 * string') is one word whatever it contains, may be empty, and knows the
 * escapes \" \' \\ \n and \t; any other escape is an error rather than a
 * guess.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/lex.h"

void
lex_init(struct lex *lex, const char *text, size_t len)
{
	memset(lex, 0, sizeof(*lex));
	lex->start = text;
	lex->pos = text;
	lex->end = text + len;
	lex->line = 1;
}

void
lex_free(struct lex *lex)
{
	free(lex->word);
	lex->word = NULL;
	lex->wordlen = 0;
	lex->wordcap = 0;
}

static int
lex_is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\f' || c == '\v';
}

static int
lex_ends_word(int c)
{
	return lex_is_space(c) || c == ';' || c == '{' || c == '}';
}

static enum lex_type
lex_fail(struct lex *lex, struct lex_token *tok, int line, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lex->error, sizeof(lex->error), fmt, ap);
	va_end(ap);
	lex->failed = 1;
	lex->error_line = line;
	tok->type = LEX_ERROR;
	tok->line = line;
	tok->text = lex->error;
	tok->len = strlen(lex->error);
	return LEX_ERROR;
}

/* Appends one byte to the word being read; -1 when memory runs out. */
static int
lex_push(struct lex *lex, char c)
{
	size_t cap;
	char *word;

	if (lex->wordlen + 1 >= lex->wordcap) {
		cap = lex->wordcap == 0 ? 64 : lex->wordcap * 2;
		word = realloc(lex->word, cap);
		if (word == NULL)
			return -1;
		lex->word = word;
		lex->wordcap = cap;
	}
	lex->word[lex->wordlen++] = c;
	lex->word[lex->wordlen] = '\0';
	return 0;
}

static void
lex_skip_blanks(struct lex *lex)
{
	while (lex->pos < lex->end) {
		if (*lex->pos == '#') {
			while (lex->pos < lex->end && *lex->pos != '\n')
				lex->pos++;
			continue;
		}
		if (!lex_is_space((unsigned char)*lex->pos))
			return;
		if (*lex->pos == '\n')
			lex->line++;
		lex->pos++;
	}
}

static enum lex_type
lex_word_done(struct lex *lex, struct lex_token *tok, int quoted)
{
	tok->type = LEX_WORD;
	tok->text = lex->word != NULL ? lex->word : "";
	tok->len = lex->wordlen;
	tok->quoted = quoted;
	return LEX_WORD;
}

/* The character an escape stands for, or -1 when there is no such escape. */
static int
lex_unescape(int c)
{
	switch (c) {
	case '"':
	case '\'':
	case '\\':
		return c;
	case 'n':
		return '\n';
	case 't':
		return '\t';
	}
	return -1;
}

static enum lex_type
lex_bad_escape(struct lex *lex, struct lex_token *tok, int c)
{
	if (isprint(c))
		return lex_fail(lex, tok, lex->line,
		    "invalid escape \"\\%c\" in quoted string", c);
	return lex_fail(lex, tok, lex->line,
	    "invalid escape in quoted string");
}

/* A word in double or, as nginx allows, single quotes. */
static enum lex_type
lex_quoted(struct lex *lex, struct lex_token *tok)
{
	int first = lex->line;
	int quote = (unsigned char)*lex->pos;
	int c;

	lex->pos++;
	for (;;) {
		if (lex->pos == lex->end)
			return lex_fail(lex, tok, first,
			    "unterminated quoted string");
		c = (unsigned char)*lex->pos++;
		if (c == quote)
			break;
		if (c == '\0')
			return lex_fail(lex, tok, lex->line,
			    "unexpected NUL byte");
		if (c == '\n')
			lex->line++;
		if (c == '\\') {
			if (lex->pos == lex->end)
				return lex_fail(lex, tok, first,
				    "unterminated quoted string");
			c = lex_unescape((unsigned char)*lex->pos);
			if (c == -1)
				return lex_bad_escape(lex, tok,
				    (unsigned char)*lex->pos);
			lex->pos++;
		}
		if (lex_push(lex, (char)c) == -1)
			return lex_fail(lex, tok, first, "out of memory");
	}
	/* "a"b would otherwise quietly become two words. */
	if (lex->pos < lex->end && !lex_ends_word((unsigned char)*lex->pos))
		return lex_fail(lex, tok, lex->line,
		    "expecting space, \";\", \"{\" or \"}\" after "
		    "quoted string");
	return lex_word_done(lex, tok, 1);
}

static enum lex_type
lex_bare(struct lex *lex, struct lex_token *tok)
{
	int c;

	while (lex->pos < lex->end) {
		c = (unsigned char)*lex->pos;
		if (lex_ends_word(c))
			break;
		if (c == '"')
			return lex_fail(lex, tok, lex->line,
			    "unexpected quote inside a word");
		if (c == '\0')
			return lex_fail(lex, tok, lex->line,
			    "unexpected NUL byte");
		if (lex_push(lex, (char)c) == -1)
			return lex_fail(lex, tok, lex->line, "out of memory");
		lex->pos++;
	}
	return lex_word_done(lex, tok, 0);
}

static enum lex_type
lex_punct(struct lex *lex, struct lex_token *tok, enum lex_type type)
{
	static const char *const texts[] = {
		[LEX_SEMICOLON] = ";",
		[LEX_OPEN] = "{",
		[LEX_CLOSE] = "}",
	};

	lex->pos++;
	tok->type = type;
	tok->text = texts[type];
	tok->len = 1;
	return type;
}

/*
 * End of file is reported on the last line that has something on it, not
 * on the empty "line" after the final newline, which no editor shows.
 */
static enum lex_type
lex_eof(struct lex *lex, struct lex_token *tok)
{
	tok->type = LEX_EOF;
	tok->line = lex->line;
	if (lex->end > lex->start && lex->end[-1] == '\n')
		tok->line--;
	tok->text = "end of file";
	tok->len = strlen(tok->text);
	return LEX_EOF;
}

enum lex_type
lex_next(struct lex *lex, struct lex_token *tok)
{
	memset(tok, 0, sizeof(*tok));
	if (lex->failed) {
		tok->type = LEX_ERROR;
		tok->line = lex->error_line;
		tok->text = lex->error;
		tok->len = strlen(lex->error);
		return LEX_ERROR;
	}
	lex_skip_blanks(lex);
	lex->wordlen = 0;
	if (lex->word != NULL)
		lex->word[0] = '\0';
	tok->line = lex->line;
	if (lex->pos == lex->end)
		return lex_eof(lex, tok);
	switch (*lex->pos) {
	case ';':
		return lex_punct(lex, tok, LEX_SEMICOLON);
	case '{':
		return lex_punct(lex, tok, LEX_OPEN);
	case '}':
		return lex_punct(lex, tok, LEX_CLOSE);
	case '"':
	case '\'':
		return lex_quoted(lex, tok);
	}
	return lex_bare(lex, tok);
}
