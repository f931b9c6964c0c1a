/*
 * policy_cache - bounded per-session instance cache (see policy_cache.h).
 * A small array searched linearly: it holds at most POLICY_CACHE_MAX
 * entries and a session looks up one instance per request.
 */
#include <stdlib.h>
#include <string.h>

#include "policy_cache.h"

struct pc_entry {
	char *instance;
	unsigned long hash;       /* of instance: a miss compares no strings */
	struct pc_record rec;
	unsigned long seq;        /* insertion order, for eviction */
};

struct policy_cache {
	struct pc_entry *e;
	size_t n, max;
	unsigned long seq;
};

static void rec_clear(struct pc_record *r)
{
	for (size_t i = 0; i < PC_FIELDS; i++) {
		free(r->f[i]);
		r->f[i] = NULL;
	}
	r->n = 0;
}

struct policy_cache *pcache_new(size_t max)
{
	struct policy_cache *pc = calloc(1, sizeof *pc);

	if (!pc)
		return NULL;
	pc->max = max ? max : POLICY_CACHE_MAX;
	if (!(pc->e = calloc(pc->max, sizeof *pc->e))) {
		free(pc);
		return NULL;
	}
	return pc;
}

void pcache_free(struct policy_cache *pc)
{
	if (!pc)
		return;
	for (size_t i = 0; i < pc->n; i++) {
		free(pc->e[i].instance);
		rec_clear(&pc->e[i].rec);
	}
	free(pc->e);
	free(pc);
}

static unsigned long hash_str(const char *s)
{
	unsigned long h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

/* Called on every request with up to POLICY_CACHE_MAX entries: compare hashes first. */
static struct pc_entry *find(const struct policy_cache *pc, const char *instance,
			     unsigned long h)
{
	for (size_t i = 0; i < pc->n; i++)
		if (pc->e[i].hash == h && strcmp(pc->e[i].instance, instance) == 0)
			return &pc->e[i];
	return NULL;
}

const struct pc_record *pcache_get(const struct policy_cache *pc, const char *instance)
{
	struct pc_entry *e = pc && instance ? find(pc, instance, hash_str(instance)) : NULL;

	return e ? &e->rec : NULL;
}

int pcache_put(struct policy_cache *pc, const char *instance, const char *const *f, size_t n)
{
	struct pc_record nr = { { NULL }, 0 };
	struct pc_entry *e;
	unsigned long h;

	if (!pc || !instance)
		return -1;
	h = hash_str(instance);
	if (n > PC_FIELDS)
		n = PC_FIELDS;
	for (size_t i = 0; i < n; i++)
		if (f[i] && !(nr.f[i] = strdup(f[i]))) {
			rec_clear(&nr);
			return -1;
		}
	nr.n = n;
	if (!(e = find(pc, instance, h))) {
		if (pc->n < pc->max) {
			e = &pc->e[pc->n++];
		} else {
			e = &pc->e[0];
			for (size_t i = 1; i < pc->n; i++)
				if (pc->e[i].seq < e->seq)
					e = &pc->e[i];
			free(e->instance);
			rec_clear(&e->rec);
		}
		if (!(e->instance = strdup(instance))) {
			rec_clear(&nr);
			/* drop the slot */
			*e = pc->e[--pc->n];
			return -1;
		}
	} else {
		rec_clear(&e->rec);
	}
	e->rec = nr;
	e->hash = h;
	e->seq = ++pc->seq;
	return 0;
}

size_t pcache_count(const struct policy_cache *pc)
{
	return pc ? pc->n : 0;
}
