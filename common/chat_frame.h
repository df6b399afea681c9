/*
 * chat_frame.h: how chat lines travel between a worker and the master
 * (see worker/chat.c for the design).  A frame is a 4-byte big-endian
 * length, then that many bytes: a 1-byte room-name length, the room name
 * (the chat block's first listen address), and one complete line.
 */
#ifndef FORKLOOP_CHAT_FRAME_H
#define FORKLOOP_CHAT_FRAME_H

#define CHAT_FRAME_HEADER 4
/* The largest frame: bounds a broken peer, well above any max_line. */
#define CHAT_FRAME_MAX (1024 * 1024)

#endif
