/*
 * policy_cache - bounded per-session instance cache (see policy_cache.h).
 * Every request looks an instance up and most store one, so both are
 * kept cheap: a small hash index over the entries, eviction order as a
 * list (oldest store first), and each entry's strings in one buffer that
 * is reused when the next record fits.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy_cache.h"
#include "asan.h"

#define NIL ((uint32_t)-1)

struct pc_entry {
	char *buf;                /* instance, then the fields, NUL-terminated */
	size_t cap;
	unsigned long hash;       /* of instance: a miss compares no strings */
	uint32_t hnext;           /* hash chain */
	uint32_t older, newer;    /* store order, for eviction */
	struct pc_record rec;
};

/* Entries grow by doubling up to max: most connections see few messages. */
#define PC_FIRST 8

struct policy_cache {
	struct pc_entry *e;
	uint32_t *bucket;
	size_t n, cap, max, nbucket;
	uint32_t oldest, newest;
};

struct policy_cache *pcache_new(size_t max)
{
	struct policy_cache *pc = calloc(1, sizeof *pc);

	if (!pc)
		return NULL;
	pc->max = max ? max : POLICY_CACHE_MAX;
	if (pc->max > UINT32_MAX / 4)
		pc->max = UINT32_MAX / 4;
	for (pc->nbucket = 8; pc->nbucket < 2 * pc->max; pc->nbucket *= 2)
		;
	pc->cap = pc->max < PC_FIRST ? pc->max : PC_FIRST;
	pc->e = malloc(pc->cap * sizeof *pc->e);
	pc->bucket = malloc(pc->nbucket * sizeof *pc->bucket);
	if (!pc->e || !pc->bucket) {
		free(pc->e);
		free(pc->bucket);
		free(pc);
		return NULL;
	}
	for (size_t i = 0; i < pc->nbucket; i++)
		pc->bucket[i] = NIL;
	pc->oldest = pc->newest = NIL;
	return pc;
}

void pcache_free(struct policy_cache *pc)
{
	if (!pc)
		return;
	for (size_t i = 0; i < pc->n; i++)
		free(pc->e[i].buf);
	free(pc->e);
	free(pc->bucket);
	free(pc);
}

/* Eight bytes a step: instances are 20-odd bytes, hashed twice a request. */
static unsigned long hash_str(const char *s, size_t *len)
{
	size_t n = strlen(s), i = 0;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	if (i < n) {
		w = 0;
		memcpy(&w, s + i, n - i);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	*len = n;
	return (unsigned long)(h ^ (h >> 29));
}

static uint32_t find(const struct policy_cache *pc, const char *instance, unsigned long h)
{
	for (uint32_t i = pc->bucket[h & (pc->nbucket - 1)]; i != NIL; i = pc->e[i].hnext)
		if (pc->e[i].hash == h && strcmp(pc->e[i].buf, instance) == 0)
			return i;
	return NIL;
}

const struct pc_record *pcache_get(const struct policy_cache *pc, const char *instance)
{
	size_t len;
	uint32_t i;

	if (!pc || !instance || pc->n == 0)
		return NULL;
	i = find(pc, instance, hash_str(instance, &len));
	return i == NIL ? NULL : &pc->e[i].rec;
}

static void unlink_order(struct policy_cache *pc, uint32_t i)
{
	struct pc_entry *e = &pc->e[i];

	if (e->older != NIL)
		pc->e[e->older].newer = e->newer;
	else
		pc->oldest = e->newer;
	if (e->newer != NIL)
		pc->e[e->newer].older = e->older;
	else
		pc->newest = e->older;
}

static void link_newest(struct policy_cache *pc, uint32_t i)
{
	struct pc_entry *e = &pc->e[i];

	e->older = pc->newest;
	e->newer = NIL;
	if (pc->newest != NIL)
		pc->e[pc->newest].newer = i;
	else
		pc->oldest = i;
	pc->newest = i;
}

static void unlink_hash(struct policy_cache *pc, uint32_t i)
{
	uint32_t *pp = &pc->bucket[pc->e[i].hash & (pc->nbucket - 1)];

	while (*pp != NIL && *pp != i)
		pp = &pc->e[*pp].hnext;
	if (*pp == i)
		*pp = pc->e[i].hnext;
}

static void link_hash(struct policy_cache *pc, uint32_t i)
{
	uint32_t *b = &pc->bucket[pc->e[i].hash & (pc->nbucket - 1)];

	pc->e[i].hnext = *b;
	*b = i;
}

static bool inside(const char *p, const char *buf, size_t cap)
{
	return p && buf && p >= buf && p < buf + cap;
}

int pcache_put(struct policy_cache *pc, const char *instance, const char *const *fin, size_t n)
{
	const char *f[PC_FIELDS];
	size_t ilen, flen[PC_FIELDS], need, cap = 0;
	unsigned long h;
	uint32_t i, target;
	struct pc_entry *e;
	char *old = NULL, *buf, *o;
	bool fresh;

	if (!pc || !instance)
		return -1;
	h = hash_str(instance, &ilen);
	if (n > PC_FIELDS)
		n = PC_FIELDS;
	/* fin may be a record of this cache, whose place can move below */
	memcpy(f, fin, n * sizeof *f);
	need = ilen + 1;
	for (size_t k = 0; k < n; k++)
		need += f[k] ? (flen[k] = strlen(f[k])) + 1 : 0;

	i = find(pc, instance, h);
	if (i == NIL && pc->n == pc->cap && pc->cap < pc->max) {
		/* records handed out by pcache_get move: callers use them before the next put */
		size_t ncap = pc->cap * 2 < pc->max ? pc->cap * 2 : pc->max;
		struct pc_entry *ne = realloc(pc->e, ncap * sizeof *ne);

		if (!ne)
			return -1;
		pc->e = ne;
		pc->cap = ncap;
	}
	target = i != NIL ? i : pc->n < pc->max ? (uint32_t)pc->n : pc->oldest;
	if (target < pc->n) {
		old = pc->e[target].buf;
		cap = pc->e[target].cap;
	}
	/* a new buffer when the record does not fit, or when its strings
	 * come from the buffer being replaced; out of memory leaves the
	 * cache as it was */
	bool alias = inside(instance, old, cap);
	for (size_t k = 0; k < n && !alias; k++)
		alias = inside(f[k], old, cap);
	buf = old;
	/* (under ASan always: a record handed out before must not be used now) */
	if (need > cap || alias || PSPF_ASAN) {
		size_t ncap = need < 128 ? 128 : need;

		if (!(buf = malloc(ncap)))
			return -1;
		cap = ncap;
	}

	fresh = i == NIL;
	if (fresh) {
		if (pc->n < pc->max) {
			i = (uint32_t)pc->n++;
			memset(&pc->e[i], 0, sizeof pc->e[i]);
		} else {
			i = pc->oldest;
			unlink_hash(pc, i);
			unlink_order(pc, i);
		}
		pc->e[i].hash = h;
		link_hash(pc, i);
	} else {
		unlink_order(pc, i);
	}
	e = &pc->e[i];
	o = buf;
	memmove(o, instance, ilen + 1);
	o += ilen + 1;
	for (size_t k = 0; k < PC_FIELDS; k++) {
		if (k < n && f[k]) {
			memcpy(o, f[k], flen[k] + 1);
			e->rec.f[k] = o;
			o += flen[k] + 1;
		} else {
			e->rec.f[k] = NULL;
		}
	}
	e->rec.n = n;
	if (buf != old)
		free(old);
	e->buf = buf;
	e->cap = cap;
	link_newest(pc, i);
	return 0;
}

size_t pcache_count(const struct policy_cache *pc)
{
	return pc ? pc->n : 0;
}
