/*
 * chat_history.c: a chat room's last lines (chat_history N), oldest
 * first, in a ring in each worker, replayed by chat.c to a client that
 * joins.  The same lines are kept in Redis, in a list capped at N
 * (chat_redis.c pushes each line this worker sends), whose key is the
 * room's channel with ":history": a worker reads it when its publisher
 * connects, so the history survives a restart of every host.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "common/log.h"
#include "common/stats.h"
#include "conf/conf.h"
#include "worker/chat_frame.h"
#include "worker/chat_history.h"

static void
chat_history_entry_free(struct chat_history_entry *e)
{
	free(e->text);
	e->text = NULL;
}

static int
chat_history_entry_set(struct chat_history_entry *e,
    const struct chat_line *line)
{
	e->text = malloc(line->len);
	if (e->text == NULL) {
		log_error("chat: keeping a line of history");
		return -1;
	}
	memcpy(e->text, line->text, line->len);
	e->len = line->len;
	e->worker = line->worker;
	e->seq = line->seq;
	return 0;
}

void
chat_history_add(struct chat_room *room, const struct chat_line *line)
{
	size_t cap = (size_t)room->server->chat_history;
	struct chat_history_entry *e;

	if (cap == 0 || room->history == NULL || line->kind != CHAT_KIND_LINE)
		return;
	if (room->history_count == cap) {
		chat_history_entry_free(&room->history[room->history_first]);
		room->history_first = (room->history_first + 1) % cap;
		room->history_count--;
	}
	e = &room->history[(room->history_first + room->history_count) % cap];
	if (chat_history_entry_set(e, line) == -1)
		return;
	room->history_count++;
	room->history_added++;
}

static int
chat_history_has(const struct chat_history_entry *list, size_t n,
    const struct chat_history_entry *e)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i].worker == e->worker && list[i].seq == e->seq)
			return 1;
	return 0;
}

/*
 * Redis's list becomes the room's history, followed by the lines this
 * worker added after it asked (they may or may not be in the answer:
 * the senders' numbers tell).
 */
void
chat_history_seed(struct chat_room *room, const redisReply *reply)
{
	size_t cap = (size_t)room->server->chat_history;
	size_t max = room->server->max_line + CHAT_NAME_MAX + 64;
	uint64_t first_index = room->history_added - room->history_count;
	struct chat_history_entry *next;
	size_t i, n = 0, start;

	next = calloc(reply->elements + room->history_count + 1,
	    sizeof(*next));
	if (next == NULL) {
		log_error("chat: reading the history of %s", room->name);
		return;
	}
	for (i = 0; i < reply->elements; i++) {
		const redisReply *el = reply->element[i];
		struct chat_line line;

		if (el->type != REDIS_REPLY_STRING ||
		    chat_frame_parse(el->str, (size_t)el->len, max, &line) !=
		    NULL || line.kind != CHAT_KIND_LINE)
			continue;
		if (chat_history_entry_set(&next[n], &line) == 0)
			n++;
	}
	for (i = 0; i < room->history_count; i++) {
		struct chat_history_entry *e =
		    &room->history[(room->history_first + i) % cap];

		if (first_index + i >= room->history_mark &&
		    !chat_history_has(next, n, e))
			next[n++] = *e;
		else
			chat_history_entry_free(e);
	}
	start = n > cap ? n - cap : 0;
	for (i = 0; i < start; i++)
		chat_history_entry_free(&next[i]);
	for (i = start; i < n; i++)
		room->history[i - start] = next[i];
	free(next);
	room->history_first = 0;
	room->history_count = n - start;
	if (room->stats != NULL)
		room->stats->history = (int64_t)reply->elements;
}
