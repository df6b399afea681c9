/*
 * log.h: the error log shared by master and workers.
 *
 * Lines look like nginx's: "2026/11/24 05:40:00 [warn] 1234: func: text".
 * The _warn/_error forms append strerror(errno); the x forms do not.
 * fatal/fatalx are for start-up and "cannot happen" only.
 */
#ifndef FORKLOOP_LOG_H
#define FORKLOOP_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

int log_open(const char *path, enum log_level level);
int log_reopen(void);
void log_set_level(enum log_level level);
void log_copy_to_stderr(int on);
int log_fd(void);
const char *log_path(void);

void log_emit(enum log_level level, int errnum, const char *func,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void log_fatal(int errnum, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

#define log_debug(...) log_emit(LOG_LEVEL_DEBUG, 0, __func__, __VA_ARGS__)
#define log_info(...) log_emit(LOG_LEVEL_INFO, 0, __func__, __VA_ARGS__)
#define log_warn(...) log_emit(LOG_LEVEL_WARN, errno, __func__, __VA_ARGS__)
#define log_warnx(...) log_emit(LOG_LEVEL_WARN, 0, __func__, __VA_ARGS__)
#define log_error(...) log_emit(LOG_LEVEL_ERROR, errno, __func__, __VA_ARGS__)
#define log_errorx(...) log_emit(LOG_LEVEL_ERROR, 0, __func__, __VA_ARGS__)
#define fatal(...) log_fatal(errno, __func__, __VA_ARGS__)
#define fatalx(...) log_fatal(0, __func__, __VA_ARGS__)

#endif
