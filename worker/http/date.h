/*
 * date.h: the time as HTTP writes it (date.c).
 */
#ifndef FORKLOOP_HTTP_DATE_H
#define FORKLOOP_HTTP_DATE_H

#include <time.h>

const char *http_date_now(void);
time_t http_time_now(void);
double http_clock(void);
void http_format_date(time_t t, char out[30]);

#endif
