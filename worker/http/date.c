/*
 * date.c: the time as HTTP writes it (IMF-fixdate, RFC 9110 5.6.7), from
 * the event loop's cached clock, formatted once a second rather than
 * once a response.
 */
#include "config.h"

#include <sys/time.h>

#include <time.h>

#include <event2/event.h>

#include "worker/http/date.h"
#include "worker/conns.h"

void
http_format_date(time_t t, char out[30])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 30, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* The loop's clock: what Date says and what preconditions compare. */
time_t
http_time_now(void)
{
	struct timeval tv;

	if (worker_self == NULL ||
	    event_base_gettimeofday_cached(worker_self->base, &tv) == -1)
		return time(NULL);
	return tv.tv_sec;
}

/* The same clock to the microsecond, for $request_time and the proxy's
 * timings: no system call per request. */
double
http_clock(void)
{
	struct timeval tv;

	if (worker_self == NULL ||
	    event_base_gettimeofday_cached(worker_self->base, &tv) == -1)
		gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

const char *
http_date_now(void)
{
	static char date[30];
	static time_t last;
	time_t now = http_time_now();

	if (now != last) {
		last = now;
		http_format_date(last, date);
	}
	return date;
}
