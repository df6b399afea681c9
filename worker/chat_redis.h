/*
 * chat_redis.h: a chat room across hosts through Redis (chat_redis.c),
 * as the room (chat.c) drives it.
 */
#ifndef FORKLOOP_WORKER_CHAT_REDIS_H
#define FORKLOOP_WORKER_CHAT_REDIS_H

#include <stddef.h>

#include "worker/chat_types.h"

struct event_base;

/* What the room does with a line from another host (chat.c gives it):
 * hands it to this worker's clients of the room. */
typedef void chat_redis_deliver_fn(struct chat_room *room,
    const struct chat_line *line);
int chat_redis_init(struct event_base *base, struct chat_room *rooms,
    size_t nrooms, chat_redis_deliver_fn *deliver);
/* Publishes a frame this worker made (and keeps it in the history). */
void chat_redis_publish(struct chat_room *room, const struct chat_line *line,
    const char *frame, size_t len);
/* Writes what is queued for Redis before the worker exits (bounded). */
void chat_redis_flush(void);

#endif
