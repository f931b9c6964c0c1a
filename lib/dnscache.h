/*
 * dnscache - TTL cache of parsed DNS answers, shared by all checks of one
 * dns_ctx.  Keyed by (lower-cased name, type); entries hold a reference to
 * the parsed answer (dnsmsg_result), expire by the dns_now_ms clock, and
 * the total (entries, keys and answers) stays under a byte bound by
 * evicting the least recently used.  A hit allocates nothing.
 */
#ifndef POLICYD_DNSCACHE_H
#define POLICYD_DNSCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "dnsmsg.h"

struct dnscache;

struct dnscache *dnscache_new(size_t max_bytes);
void dnscache_free(struct dnscache *c);

/*
 * The live entry for (key, type) or NULL.  The result is the cache's: take
 * a reference to keep it past the next dnscache_put.  *ttl_left is the
 * stored TTL reduced by the entry's age in whole seconds.
 */
struct dnsmsg_result *dnscache_get(struct dnscache *c, const char *key, uint16_t type,
				   long long now_ms, uint32_t *ttl_left);

/* The key hash (FNV-1a over key[0..len) and type), shared with dns.c's
 * table of queries in flight so a lookup hashes its name once. */
uint32_t dnscache_hash(const char *key, size_t len, uint16_t type);
/* dnscache_get with h = dnscache_hash(key, strlen(key), type). */
struct dnsmsg_result *dnscache_get_h(struct dnscache *c, const char *key, uint16_t type,
				     uint32_t h, long long now_ms, uint32_t *ttl_left);

/* Store r for ttl seconds (0: not stored); replaces an older entry. */
void dnscache_put(struct dnscache *c, const char *key, uint16_t type,
		  struct dnsmsg_result *r, uint32_t ttl, long long now_ms);

/*
 * r's aux_bytes changed by delta: the entry holding r (if any) is charged
 * for it, and the least recently used entries go until the total fits
 * again (r's own entry too, when it alone no longer fits).
 */
void dnscache_charge(struct dnscache *c, struct dnsmsg_result *r, long delta);

void dnscache_stats(const struct dnscache *c, unsigned long *entries, size_t *bytes);

#endif
