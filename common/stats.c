/*
 * stats.c: mapping the shared counters and handing out worker entries
 * (see stats.h).  Used by the master; workers only write their entry.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/random.h>

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/stats.h"

struct stats_shared *
stats_map(void)
{
	struct stats_shared *s;

	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED) {
		log_error("mapping the shared statistics");
		return NULL;
	}
	memset(s, 0, sizeof(*s));
	s->master_pid = getpid();
	s->started = time(NULL);
	if (getrandom(&s->chat_host_id, sizeof(s->chat_host_id), 0) !=
	    (ssize_t)sizeof(s->chat_host_id)) {
		log_warn("getrandom for the chat host id");
		s->chat_host_id = (uint64_t)s->started << 32 ^
		    (uint64_t)s->master_pid;
	}
	return s;
}

struct stats_worker *
stats_claim(struct stats_shared *s, pid_t pid, int slot, unsigned generation)
{
	size_t i;

	for (i = 0; i < STATS_MAX_WORKERS; i++) {
		struct stats_worker *w = &s->workers[i];

		if (w->pid != 0)
			continue;
		memset((void *)w, 0, sizeof(*w));
		w->slot = slot;
		w->generation = generation;
		w->started = time(NULL);
		w->pid = pid;
		return w;
	}
	return NULL;
}

void
stats_release(struct stats_shared *s, pid_t pid)
{
	size_t i;

	for (i = 0; i < STATS_MAX_WORKERS; i++)
		if (s->workers[i].pid == pid)
			s->workers[i].pid = 0;
}
