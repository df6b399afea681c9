/*
 * chat_frame.c: the text frame a chat line crosses hosts in (through
 * Redis, and in a redis room through the master relay too), and the
 * numbers it names its sender by: this host's id and this worker's.
 * Not to be confused with common/chat_frame.h, the length-prefixed
 * envelope the master relay puts around whatever a worker sends it.
 *
 * What is published is text, one line per message:
 *
 *	"fl1 " HOST " " WORKER " " SEQ " " KIND "\n" LINE
 *
 * HOST is the master's random id (16 hex digits, common/stats.h), WORKER
 * the worker's, drawn when it starts (16 hex digits), SEQ the worker's
 * count of lines in that room (decimal, from 1), KIND "L" for a client's
 * line or "N" for a notice, LINE the line as clients get it, ending in
 * its only "\n".  What receivers do with them (dropping their own host's
 * frames and repeats, counting gaps) is in chat_redis.c.
 */
#include "config.h"

#include <sys/random.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/stats.h"
#include "worker/chat_frame.h"
#include "worker/conns.h"

#define CHAT_FRAME_MAGIC	"fl1 "
#define CHAT_FRAME_HEAD_MAX	64

uint64_t chat_host_id, chat_worker_id;

void
chat_frame_ids_init(void)
{
	if (getrandom(&chat_worker_id, sizeof(chat_worker_id), 0) !=
	    (ssize_t)sizeof(chat_worker_id)) {
		log_warn("getrandom for the chat worker id");
		chat_worker_id = (uint64_t)time(NULL) << 32 ^ (uint64_t)getpid();
	}
	if (worker_stats_all != NULL)
		chat_host_id = worker_stats_all->chat_host_id;
	else
		chat_host_id = (uint64_t)getppid() * 0x9e3779b97f4a7c15ULL;
}

size_t
chat_frame_format(const struct chat_line *line, char *buf, size_t size)
{
	char head[CHAT_FRAME_HEAD_MAX];
	int n = snprintf(head, sizeof(head), CHAT_FRAME_MAGIC "%016" PRIx64
	    " %016" PRIx64 " %" PRIu64 " %c\n", line->host, line->worker,
	    line->seq, line->kind);

	if (n < 0)
		return 0;
	if (buf != NULL && (size_t)n + line->len <= size) {
		memcpy(buf, head, (size_t)n);
		memcpy(buf + n, line->text, line->len);
	}
	return (size_t)n + line->len;
}

/* 16 hex digits, then a space. */
static int
chat_frame_hex(const char **p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	int i;

	if (end - *p < 17 || (*p)[16] != ' ')
		return -1;
	for (i = 0; i < 16; i++) {
		char c = (*p)[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return -1;
	}
	*p += 17;
	*out = v;
	return 0;
}

/* 1 to 19 decimal digits (no overflow), then a space. */
static int
chat_frame_dec(const char **p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	const char *q = *p;

	while (q < end && *q >= '0' && *q <= '9' && q - *p < 19)
		v = v * 10 + (uint64_t)(*q++ - '0');
	if (q == *p || q >= end || *q != ' ')
		return -1;
	*p = q + 1;
	*out = v;
	return 0;
}

const char *
chat_frame_parse(const char *frame, size_t len, size_t max,
    struct chat_line *line)
{
	const char *p = frame, *end = frame + len;

	if (len < 4 || memcmp(frame, CHAT_FRAME_MAGIC, 4) != 0)
		return "not a forkloop chat frame";
	p += 4;
	if (chat_frame_hex(&p, end, &line->host) == -1 ||
	    chat_frame_hex(&p, end, &line->worker) == -1 ||
	    chat_frame_dec(&p, end, &line->seq) == -1 || line->seq == 0)
		return "bad header";
	if (end - p < 2 || (p[0] != CHAT_KIND_LINE &&
	    p[0] != CHAT_KIND_NOTICE) || p[1] != '\n')
		return "bad kind";
	line->kind = p[0];
	p += 2;
	line->text = p;
	line->len = (size_t)(end - p);
	if (line->len < 2)
		return "no line";
	if (line->len > max)
		return "line too long";
	if (memchr(p, '\n', line->len) != end - 1)
		return "not one line";
	return NULL;
}
