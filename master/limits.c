/*
 * limits.c: the master's side of limit_req_zone and limit_conn_zone:
 * it maps each zone's shared memory before it forks the workers (who
 * inherit the mapping), keeps a zone across a reload when its name,
 * kind and size are unchanged (so clients keep their state), and, when
 * a worker exits, takes back the in-flight counts it held (a worker that
 * crashed could not give them back itself).
 */
#include "config.h"

#include <string.h>

#include "common/limit_zone.h"
#include "common/log.h"
#include "master/master.h"

/* old's zone that z may keep, or NULL. */
static struct conf_limit_zone *
limits_same(const struct conf_limit_zone *z, struct conf *old)
{
	size_t i;

	for (i = 0; old != NULL && i < old->nlimit_zones; i++) {
		struct conf_limit_zone *o = old->limit_zones[i];

		if (o->shm != NULL && o->kind == z->kind &&
		    o->size == z->size && strcmp(o->name, z->name) == 0)
			return o;
	}
	return NULL;
}

/*
 * Gives conf's zones their memory: old's where it may be kept (old
 * loses it), else new.  Returns -1, with nothing changed, when a zone
 * cannot be mapped.
 */
int
limits_attach(struct conf *conf, struct conf *old)
{
	struct conf_limit_zone *z, *o;
	size_t i;

	/* What can fail first, so a failure leaves old as it was. */
	for (i = 0; i < conf->nlimit_zones; i++) {
		z = conf->limit_zones[i];
		if (limits_same(z, old) != NULL)
			continue;
		if ((z->shm = limit_zone_map(z->size)) == NULL) {
			log_errorx("cannot map zone \"%s\"", z->name);
			limits_release(conf);
			return -1;
		}
		log_debug("zone \"%s\": %zu entries", z->name,
		    limit_zone_capacity(z->shm));
	}
	for (i = 0; i < conf->nlimit_zones; i++) {
		z = conf->limit_zones[i];
		if (z->shm != NULL || (o = limits_same(z, old)) == NULL)
			continue;
		z->shm = o->shm;
		o->shm = NULL;
		log_info("zone \"%s\" kept across the reload", z->name);
	}
	return 0;
}

/* Unmaps the zones conf still holds (not those a newer conf took). */
void
limits_release(struct conf *conf)
{
	size_t i;

	for (i = 0; conf != NULL && i < conf->nlimit_zones; i++) {
		limit_zone_unmap(conf->limit_zones[i]->shm);
		conf->limit_zones[i]->shm = NULL;
	}
}

/* A worker exited: what it held in limit_conn zones is free again. */
void
limits_forget_worker(struct conf *conf, unsigned lane)
{
	size_t i;

	for (i = 0; conf != NULL && i < conf->nlimit_zones; i++)
		if (conf->limit_zones[i]->kind == CONF_LIMIT_CONN &&
		    conf->limit_zones[i]->shm != NULL)
			limit_zone_forget_lane(conf->limit_zones[i]->shm, lane);
}
