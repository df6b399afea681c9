/*
 * chat_frame.h: the text frame a chat line crosses hosts in, and the ids
 * it names its sender by (chat_frame.c).
 */
#ifndef FORKLOOP_WORKER_CHAT_FRAME_H
#define FORKLOOP_WORKER_CHAT_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "worker/chat_types.h"

/* This host's id and this worker's, as frames name them. */
extern uint64_t chat_host_id, chat_worker_id;
/* Draws this worker's id and reads the host's (once, at start). */
void chat_frame_ids_init(void);
/* The frame of a line: header and text, into buf (NULL: the length). */
size_t chat_frame_format(const struct chat_line *line, char *buf,
    size_t size);
/* NULL and line filled (text points into frame), or why it is not a
 * whole valid frame with at most max bytes of text. */
const char *chat_frame_parse(const char *frame, size_t len, size_t max,
    struct chat_line *line);

#endif
