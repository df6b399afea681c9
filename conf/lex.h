/*
 * lex.h: splits configuration text into words and the punctuation ; { }.
 *
 * The parser (conf/parse.c) asks for one token at a time.  A word's text
 * lives in the lexer's buffer and is valid until the next lex_next(), so
 * the parser copies the words it keeps.
 */
#ifndef FORKLOOP_LEX_H
#define FORKLOOP_LEX_H

#include <stddef.h>

enum lex_type {
	LEX_WORD,
	LEX_SEMICOLON,
	LEX_OPEN,		/* { */
	LEX_CLOSE,		/* } */
	LEX_EOF,
	LEX_ERROR,
};

struct lex_token {
	enum lex_type type;
	int line;		/* where the token starts */
	const char *text;	/* WORD: unescaped; ERROR: the message */
	size_t len;
	int quoted;		/* WORD: it was written "like this" */
};

struct lex {
	const char *start;
	const char *pos;
	const char *end;
	int line;		/* of pos: lex_init() starts at 1; a caller
				 * may number on from elsewhere */
	char *word;
	size_t wordlen;
	size_t wordcap;
	int failed;		/* errors are sticky: returned again */
	int error_line;
	char error[128];
};

/* text need not end in a NUL; a NUL inside it is an error. */
void lex_init(struct lex *lex, const char *text, size_t len);
enum lex_type lex_next(struct lex *lex, struct lex_token *tok);
void lex_free(struct lex *lex);

#endif
