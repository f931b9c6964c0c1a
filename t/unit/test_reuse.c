/*
 * test_reuse - the buffers reused between requests (the policy arena, the
 * request arena, the instance cache's records) keep their contents right,
 * and in an ASan build (make asan) step aside, so that a pointer kept past
 * its request's end is a reported use after free rather than a silent read
 * of the next request's bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asan.h"
#include "attr.h"
#include "policy_cache.h"
#include "policy_fmt.h"
#include "tap.h"

#if PSPF_ASAN
#include <sanitizer/asan_interface.h>
#define POISONED(p) __asan_address_is_poisoned(p)
#else
#define POISONED(p) 0
#endif

/* In an ASan build: p must be poisoned.  Otherwise nothing to see. */
static void gone(const void *p, const char *what)
{
	char name[128];

	snprintf(name, sizeof(name), "%s: %s", PSPF_ASAN ? "ASan build, poisoned" : "plain build, reused (ASan checks it)", what);
	ok(PSPF_ASAN ? POISONED(p) : p != NULL, name);
}

int main(void)
{
	printf("# PSPF_ASAN=%d\n", PSPF_ASAN);

	/* policy arena: a string from the last request */
	struct pf_arena a = { NULL };
	char *s = pf_strndup(&a, "hello", 5);
	is_str(s, "hello", "pf_strndup");
	gone(s + 6, "the byte past a 6-byte arena string");
	pf_arena_reset(&a);
	gone(s, "an arena string after pf_arena_reset");
	char *t = pf_strndup(&a, "world", 5);
	is_str(t, "world", "arena usable after reset");
	pf_arena_free(&a);

	/* request arena: a value of the last request */
	struct attr_req r;
	const char *err = NULL;
	attr_req_init(&r);
	is_int(attr_req_add_line(&r, "sender=A@B.example", 18, &err), ATTR_OK, "line added");
	const char *v = attr_get(&r, "sender");
	is_str(v, "a@b.example", "value lower-cased");
	attr_req_reset(&r);
	gone(v, "a request value after attr_req_reset");
	is_int(attr_req_add_line(&r, "sender=c@d", 10, &err), ATTR_OK, "line added after reset");
	is_str(attr_get(&r, "sender"), "c@d", "value after reset");
	attr_req_clear(&r);

	/* instance cache: a record handed out before the next store */
	struct policy_cache *pc = pcache_new(4);
	ok(pc != NULL, "pcache_new");
	pcache_put(pc, "inst1", (const char *[]){ "a", "b" }, 2);
	const struct pc_record *rec = pcache_get(pc, "inst1");
	ok(rec && rec->n == 2 && strcmp(rec->f[0], "a") == 0, "record stored");
	const char *old = rec ? rec->f[0] : NULL;
	pcache_put(pc, "inst1", (const char *[]){ "c", "d" }, 2);
	rec = pcache_get(pc, "inst1");
	ok(rec && strcmp(rec->f[0], "c") == 0 && strcmp(rec->f[1], "d") == 0, "record replaced");
	gone(old, "a field of a replaced cache record");
	pcache_free(pc);

	return tap_done();
}
