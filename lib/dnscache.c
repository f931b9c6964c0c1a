/*
 * dnscache - bounded TTL cache of parsed answers (see dnscache.h).
 *
 * A chained hash table for lookup and one LRU list for eviction.  The
 * bucket array is sized once from the byte bound, so the cache never
 * rehashes under load.
 */
#include <stdlib.h>
#include <string.h>

#include "dnscache.h"

struct centry {
	struct centry *hnext;
	struct centry *prev, *next;     /* LRU: head is most recent */
	struct dnsmsg_result *r;
	long long stored_ms, expires_ms;
	size_t size;
	uint32_t hash, ttl;
	uint16_t type;
	char key[];
};

struct dnscache {
	struct centry **bucket;
	size_t nbucket;                 /* power of two */
	struct centry *head, *tail;
	size_t bytes, max_bytes;
	unsigned long entries;
};

uint32_t dnscache_hash(const char *key, size_t len, uint16_t type)
{
	uint32_t h = DNS_KEY_HASH_INIT(type);

	for (size_t i = 0; i < len; i++)
		h = DNS_KEY_HASH_STEP(h, key[i]);
	return h;
}

static uint32_t hash_key(const char *key, uint16_t type)
{
	return dnscache_hash(key, strlen(key), type);
}

struct dnscache *dnscache_new(size_t max_bytes)
{
	struct dnscache *c = calloc(1, sizeof *c);
	size_t want = max_bytes / 512, n = 64;

	if (!c)
		return NULL;
	while (n < want && n < ((size_t)1 << 20))
		n <<= 1;
	c->bucket = calloc(n, sizeof *c->bucket);
	if (!c->bucket) {
		free(c);
		return NULL;
	}
	c->nbucket = n;
	c->max_bytes = max_bytes;
	return c;
}

static void lru_unlink(struct dnscache *c, struct centry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push(struct dnscache *c, struct centry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	else
		c->tail = e;
	c->head = e;
}

static void entry_drop(struct dnscache *c, struct centry *e)
{
	struct centry **pp = &c->bucket[e->hash & (c->nbucket - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(c, e);
	c->bytes -= e->size;
	c->entries--;
	if (e->r->cache_entry == e)
		e->r->cache_entry = NULL;
	dnsmsg_result_unref(e->r);
	free(e);
}

void dnscache_free(struct dnscache *c)
{
	if (!c)
		return;
	while (c->head)
		entry_drop(c, c->head);
	free(c->bucket);
	free(c);
}

static struct centry *find(struct dnscache *c, const char *key, uint16_t type, uint32_t h)
{
	struct centry *e = c->bucket[h & (c->nbucket - 1)];

	for (; e; e = e->hnext)
		if (e->hash == h && e->type == type && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

struct dnsmsg_result *dnscache_get(struct dnscache *c, const char *key, uint16_t type,
				   long long now_ms, uint32_t *ttl_left)
{
	return dnscache_get_h(c, key, type, hash_key(key, type), now_ms, ttl_left);
}

struct dnsmsg_result *dnscache_get_h(struct dnscache *c, const char *key, uint16_t type,
				     uint32_t h, long long now_ms, uint32_t *ttl_left)
{
	struct centry *e = find(c, key, type, h);

	if (!e)
		return NULL;
	if (now_ms >= e->expires_ms) {
		entry_drop(c, e);
		return NULL;
	}
	long long age = (now_ms - e->stored_ms) / 1000;
	*ttl_left = age >= e->ttl ? 0 : e->ttl - (uint32_t)age;
	if (c->head != e) {
		lru_unlink(c, e);
		lru_push(c, e);
	}
	return e->r;
}

void dnscache_put(struct dnscache *c, const char *key, uint16_t type,
		  struct dnsmsg_result *r, uint32_t ttl, long long now_ms)
{
	uint32_t h = hash_key(key, type);
	struct centry *e = find(c, key, type, h);
	size_t klen = strlen(key) + 1;
	size_t size = sizeof *e + klen + r->size + r->aux_bytes;

	if (e)
		entry_drop(c, e);
	if (ttl == 0 || size > c->max_bytes)
		return;
	while (c->tail && c->bytes + size > c->max_bytes)
		entry_drop(c, c->tail);
	e = malloc(sizeof *e + klen);
	if (!e)
		return;
	memcpy(e->key, key, klen);
	e->hash = h;
	e->type = type;
	e->ttl = ttl;
	e->stored_ms = now_ms;
	e->expires_ms = now_ms + (long long)ttl * 1000;
	e->size = size;
	e->r = r;
	r->refs++;
	r->cache_entry = e;
	e->hnext = c->bucket[h & (c->nbucket - 1)];
	c->bucket[h & (c->nbucket - 1)] = e;
	lru_push(c, e);
	c->bytes += size;
	c->entries++;
}

void dnscache_charge(struct dnscache *c, struct dnsmsg_result *r, long delta)
{
	struct centry *e = r->cache_entry;

	if (!c || !e)
		return;
	e->size = (size_t)((long)e->size + delta);
	c->bytes = (size_t)((long)c->bytes + delta);
	while (c->tail && c->bytes > c->max_bytes)
		entry_drop(c, c->tail);
}

void dnscache_stats(const struct dnscache *c, unsigned long *entries, size_t *bytes)
{
	*entries = c ? c->entries : 0;
	*bytes = c ? c->bytes : 0;
}
