/*
 * policy_cache - the per-message `instance` cache of one policy session
 * (reference §6): what the first recipient of a message got, so later
 * recipients get one header per message and replayed rejects.  The
 * Python server kept every instance for the life of the process; a
 * session here keeps the last POLICY_CACHE_MAX instances (Postfix asks
 * about one message at a time per connection, so only the newest matters).
 */
#ifndef POLICYD_POLICY_CACHE_H
#define POLICYD_POLICY_CACHE_H

#include <stddef.h>

#define POLICY_CACHE_MAX 100
#define PC_FIELDS 6

/* spf_engine's record: [result, reason, identity, action, text, last_action];
 * a NULL field is Python's None. */
struct pc_record {
	char *f[PC_FIELDS];
	size_t n;
};

struct policy_cache;

struct policy_cache *pcache_new(size_t max);
void pcache_free(struct policy_cache *pc);
/* The record is valid until the next pcache_put. */
const struct pc_record *pcache_get(const struct policy_cache *pc, const char *instance);
/* Copy the record in (replacing one for the same instance). 0 or -1. */
int pcache_put(struct policy_cache *pc, const char *instance, const char *const *f, size_t n);
size_t pcache_count(const struct policy_cache *pc);

#endif
