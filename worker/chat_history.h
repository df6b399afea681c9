/*
 * chat_history.h: a room's last lines in each worker (chat_history.c),
 * added to as lines pass and seeded from Redis.
 */
#ifndef FORKLOOP_WORKER_CHAT_HISTORY_H
#define FORKLOOP_WORKER_CHAT_HISTORY_H

#include "worker/chat_types.h"

struct redisReply;

/* A client's line joins the ring; the oldest goes when it is full. */
void chat_history_add(struct chat_room *room, const struct chat_line *line);
/* Redis's list (LRANGE) becomes the room's history. */
void chat_history_seed(struct chat_room *room, const struct redisReply *reply);

#endif
