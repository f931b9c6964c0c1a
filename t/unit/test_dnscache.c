/*
 * test_dnscache - the answer cache on a clock the test sets: expiry, TTL
 * reduced by age, LRU eviction under the byte bound, replacement, and that
 * the cache's references keep answers alive exactly as long as needed.
 */
#include <stdio.h>
#include <string.h>

#include "dnscache.h"
#include "tap.h"

static struct dnsmsg_result *res(enum dns_status st, const char *canon)
{
	return dnsmsg_result_status(st, canon);
}

static void test_expiry(void)
{
	struct dnscache *c = dnscache_new(100000);
	struct dnsmsg_result *r = res(DNS_S_OK, "a.example");
	uint32_t left = 0;

	dnscache_put(c, "a.example", DNS_T_A, r, 10, 1000);
	is_int(r->refs, 2, "the cache holds a reference");
	ok(dnscache_get(c, "a.example", DNS_T_A, 1000, &left) == r && left == 10, "hit at once, full TTL");
	ok(dnscache_get(c, "a.example", DNS_T_A, 4999, &left) == r && left == 7,
	   "hit after 3.999 s: TTL 10 - 3");
	ok(dnscache_get(c, "a.example", DNS_T_TXT, 1000, &left) == NULL, "other type: miss");
	ok(dnscache_get(c, "b.example", DNS_T_A, 1000, &left) == NULL, "other name: miss");
	ok(dnscache_get(c, "a.example", DNS_T_A, 10999, &left) != NULL, "hit 1 ms before expiry");
	ok(dnscache_get(c, "a.example", DNS_T_A, 11000, &left) == NULL, "miss at expiry");
	is_int(r->refs, 1, "expired entry dropped its reference");

	unsigned long n;
	size_t bytes;
	dnscache_stats(c, &n, &bytes);
	ok(n == 0 && bytes == 0, "empty after expiry");

	dnscache_put(c, "a.example", DNS_T_A, r, 0, 1000);
	ok(dnscache_get(c, "a.example", DNS_T_A, 1000, &left) == NULL, "TTL 0: not stored");
	dnscache_put(c, "a.example", DNS_T_A, r, 60, 1000);
	struct dnsmsg_result *r2 = res(DNS_S_NXDOMAIN, "a.example");
	dnscache_put(c, "a.example", DNS_T_A, r2, 30, 2000);
	ok(dnscache_get(c, "a.example", DNS_T_A, 2000, &left) == r2 && left == 30, "put replaces");
	is_int(r->refs, 1, "replaced entry dropped its reference");
	dnscache_stats(c, &n, &bytes);
	is_int(n, 1, "one entry after replacement");
	dnsmsg_result_unref(r);
	dnsmsg_result_unref(r2);
	dnscache_free(c);
}

static void test_bound(void)
{
	const size_t bound = 4000;
	struct dnscache *c = dnscache_new(bound);
	char name[64];
	uint32_t left;
	unsigned long n;
	size_t bytes, max = 0;
	int kept = 0;

	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof name, "n%d.example", i);
		struct dnsmsg_result *r = res(DNS_S_OK, name);
		dnscache_put(c, name, DNS_T_TXT, r, 300, 0);
		dnsmsg_result_unref(r);
		dnscache_stats(c, &n, &bytes);
		if (bytes > max)
			max = bytes;
		/* Keep n0 recent: it must survive the churn. */
		if (dnscache_get(c, "n0.example", DNS_T_TXT, 0, &left))
			kept++;
	}
	ok(max <= bound && max > bound / 2, "bytes never above the bound, and the bound is used");
	dnscache_stats(c, &n, &bytes);
	ok(n > 5 && n < 500, "entries evicted");
	is_int(kept, 500, "the entry used all along is never evicted (LRU)");
	ok(dnscache_get(c, "n1.example", DNS_T_TXT, 0, &left) == NULL, "an old unused entry is gone");
	ok(dnscache_get(c, "n499.example", DNS_T_TXT, 0, &left) != NULL, "the newest is there");

	/* An entry larger than the whole bound is not stored, and evicts nothing. */
	char big[5000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	struct dnsmsg_result *r = res(DNS_S_OK, big);
	unsigned long before = n;
	dnscache_put(c, "big.example", DNS_T_TXT, r, 300, 0);
	dnscache_stats(c, &n, &bytes);
	ok(n == before && dnscache_get(c, "big.example", DNS_T_TXT, 0, &left) == NULL,
	   "an answer over the bound is not cached");
	dnsmsg_result_unref(r);
	dnscache_free(c);
}

static int aux_freed;

static void aux_free(void *p)
{
	aux_freed++;
	(void)p;
}

/* What a user attaches to a cached answer is charged to its entry and
 * freed with the answer. */
static void test_aux(void)
{
	const size_t bound = 4000;
	struct dnscache *c = dnscache_new(bound);
	struct dnsmsg_result *r = res(DNS_S_OK, "a.example"), *r2 = res(DNS_S_OK, "b.example");
	unsigned long n;
	size_t bytes0, bytes;
	uint32_t left;
	static int token;

	dnscache_put(c, "a.example", DNS_T_TXT, r, 300, 0);
	dnscache_put(c, "b.example", DNS_T_TXT, r2, 300, 0);
	dnscache_stats(c, &n, &bytes0);
	dnscache_charge(c, r, dnsmsg_result_set_aux(r, &token, aux_free, 100));
	dnscache_stats(c, &n, &bytes);
	is_int((long)(bytes - bytes0), 100, "the entry is charged for its aux");
	dnscache_charge(c, r, dnsmsg_result_set_aux(r, &token, aux_free, 40));
	dnscache_stats(c, &n, &bytes);
	is_int((long)(bytes - bytes0), 40, "replacing the aux charges the difference");
	is_int(aux_freed, 1, "the replaced aux was freed");
	/* b is the least recently used: a charge past the bound evicts it */
	dnscache_get(c, "a.example", DNS_T_TXT, 0, &left);
	dnscache_charge(c, r, dnsmsg_result_set_aux(r, &token, aux_free, bound - bytes0 + 1));
	dnscache_stats(c, &n, &bytes);
	ok(bytes <= bound && n == 1 && dnscache_get(c, "b.example", DNS_T_TXT, 0, &left) == NULL,
	   "a charge over the bound evicts the least recently used");
	dnscache_charge(c, r, dnsmsg_result_set_aux(r, &token, aux_free, bound + 1));
	dnscache_stats(c, &n, &bytes);
	ok(n == 0 && bytes == 0 && r->cache_entry == NULL, "an entry charged past the bound itself goes");
	is_int(r->refs, 1, "... and drops its reference");
	dnsmsg_result_unref(r);
	is_int(aux_freed, 4, "the aux is freed with its answer");
	dnsmsg_result_unref(r2);
	dnscache_free(c);
}

int main(void)
{
	test_expiry();
	test_bound();
	test_aux();
	return tap_done();
}
