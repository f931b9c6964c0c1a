/*
 * dns - asynchronous DNS lookups for the SPF engine, over c-ares.
 *
 * One dns_ctx per event loop owns one c-ares channel, a TTL cache
 * (positive and negative, bounded in bytes) and the table of queries in
 * flight, so two checks asking for the same (name, type) at once share one
 * query.  The module does not know about libevent: the loop that drives it
 * registers a socket callback and asks for the next timeout (see
 * dns_set_io_cb, dns_next_timeout, dns_process).
 *
 * Answers are parsed from the raw message by dnsmsg.c (c-ares 1.18's TXT
 * and MX helpers drop TTLs).  CNAME chains inside one answer are followed
 * (a chain leading out of an authoritative-only answer is asked for again);
 * queries offer EDNS0 (1232 bytes) and fall back without it on FORMERR;
 * truncated UDP answers are retried over TCP by c-ares itself.
 *
 * Status mapping: NOERROR with records of the type -> OK; NOERROR without
 * -> NODATA; NXDOMAIN -> NXDOMAIN; SERVFAIL, REFUSED, any other rcode, an
 * unparsable answer or a CNAME loop -> SERVFAIL (a SERVFAIL answer is final,
 * the next server is not asked); no answer within timeout_ms x tries ->
 * TIMEOUT.  Names with empty labels, labels over 63 octets or more than 253
 * octets (after one trailing dot is stripped) -> ERROR without a query.
 *
 * Cache: positive answers for their smallest TTL (at most a day), NXDOMAIN
 * and NODATA for the SOA's negative TTL (300 s without one, at most an
 * hour), failures never; TTL 0 is not cached.  A hit has from_cache set and
 * the TTL reduced by the entry's age.
 */
#ifndef POLICYD_DNS_H
#define POLICYD_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#define DNS_T_A     1
#define DNS_T_NS    2
#define DNS_T_CNAME 5
#define DNS_T_PTR   12
#define DNS_T_MX    15
#define DNS_T_TXT   16
#define DNS_T_AAAA  28

/* Outcome of one lookup, as the SPF engine needs to tell them apart. */
enum dns_status {
	DNS_S_OK = 0,     /* at least one record of the asked type */
	DNS_S_NODATA,     /* name exists, no record of that type */
	DNS_S_NXDOMAIN,   /* name does not exist */
	DNS_S_SERVFAIL,   /* SERVFAIL, REFUSED, other rcode, bad answer */
	DNS_S_TIMEOUT,    /* no answer from any server in time */
	DNS_S_ERROR,      /* local error: bad name, no servers, out of memory */
	DNS_S_TCPFAIL,    /* an error rcode (or a bad answer) over TCP after a
			   * truncated UDP answer: unlike a UDP SERVFAIL, pydns
			   * raises there, so pyspf has a temperror (rcode says
			   * which) */
};

/*
 * One resource record of the asked type, after CNAMEs were followed.
 * A/AAAA: data holds 4 or 16 address bytes.
 * TXT: data holds the character-strings joined with no separator
 *      (NUL-terminated as well, len excludes it); first_len is the length
 *      of the first character-string; nstrings the count.
 * MX: pref, and data holds the exchange name (NUL-terminated, no trailing dot).
 * PTR/CNAME: data holds the name (NUL-terminated, no trailing dot).
 */
struct dns_rr {
	uint16_t type;
	uint16_t pref;
	uint32_t ttl;
	size_t len;
	size_t first_len;
	unsigned nstrings;
	unsigned char *data;
};

struct dnsmsg_result;
struct dns_ctx;

struct dns_answer {
	enum dns_status status;
	int rcode;             /* the answer's RCODE (0 when there was no answer) */
	uint32_t ttl;          /* how long this answer may be cached */
	bool from_cache;
	const char *canon;     /* final name after CNAMEs (== asked name if none) */
	size_t n;
	const struct dns_rr *rr;
	/* The shared parsed answer rr points into (NULL when n is 0): a
	 * callback that needs the records later takes a reference with
	 * dns_answer_hold instead of copying them. */
	struct dnsmsg_result *res;
};

/* A reference that keeps ans->rr valid after the callback (NULL when
 * there are no records); release with dns_answer_release. */
struct dnsmsg_result *dns_answer_hold(const struct dns_answer *ans);
void dns_answer_release(struct dnsmsg_result *held);
/*
 * Attach what the caller derived from a held answer (see dnsmsg_result's
 * aux); it is freed with the answer, and the cache entry holding the answer
 * is charged bytes for it, so the cache's byte bound still holds.  The
 * caller must hold its own reference (the charge may evict the entry).
 */
void dns_answer_attach(struct dns_ctx *ctx, struct dnsmsg_result *held, void *aux,
		       void (*aux_free)(void *), size_t bytes);

struct dns_ctx;
struct dns_query;

/* Called exactly once per dns_query() unless cancelled.  The answer is
 * only valid during the call.  The callback may start and cancel queries
 * and timers, but must not free the dns_ctx. */
typedef void dns_cb(void *arg, const struct dns_answer *ans);

struct dns_opts {
	const char *const *servers;  /* "host[:port]" list, NULL-terminated; NULL = /etc/resolv.conf */
	int timeout_ms;              /* per try; 0 = default (2000) */
	int tries;                   /* 0 = default (2) */
	size_t cache_bytes;          /* 0 = no cache */
	int max_inflight;            /* wire queries out at once, more wait in
				      * line; 0 = default (256) */
};

/* Loop integration: called when c-ares wants a socket watched (or not). */
typedef void dns_io_cb(void *arg, int fd, bool want_read, bool want_write);

int dns_ctx_new(struct dns_ctx **out, const struct dns_opts *opts, char *err, size_t errlen);
/* Queries still pending are dropped without calling back; their handles die. */
void dns_ctx_free(struct dns_ctx *ctx);
void dns_set_io_cb(struct dns_ctx *ctx, dns_io_cb *cb, void *arg);
/*
 * Called when the next timeout may have moved earlier (a query was sent or
 * a timer started outside the loop's own callbacks), so the loop re-reads
 * dns_next_timeout() before it sleeps again.  Optional.
 */
typedef void dns_wake_cb(void *arg);
void dns_set_wake_cb(struct dns_ctx *ctx, dns_wake_cb *cb, void *arg);
/* Drive c-ares: fd readable/writable (or -1), or a timeout expired (both -1). */
void dns_process(struct dns_ctx *ctx, int read_fd, int write_fd);
/* Time until c-ares next needs dns_process(ctx, -1, -1); NULL if nothing pending. */
struct timeval *dns_next_timeout(struct dns_ctx *ctx, struct timeval *tv);

/*
 * Start a lookup.  Returns NULL when the answer was delivered already
 * (cache hit or immediate error: cb was called before return), else a
 * handle usable with dns_cancel until cb runs.  Callers must cope with
 * both.
 */
struct dns_query *dns_query(struct dns_ctx *ctx, const char *name, int type,
			    dns_cb *cb, void *arg);
/*
 * dns_query for a name already in key form: lower case, no trailing dot,
 * usable as dnsmsg_check_name says, len bytes, and hash its
 * dns_key_hash (the SPF engine normalises and checks its names in one pass
 * anyway, so none of it is done again).
 */
struct dns_query *dns_query_key(struct dns_ctx *ctx, const char *key, size_t len, uint32_t hash,
				int type, dns_cb *cb, void *arg);
/* The key hash (FNV-1a over the type, then the key's bytes), step by step. */
#define DNS_KEY_HASH_INIT(type) (2166136261u ^ (uint32_t)(type))
#define DNS_KEY_HASH_STEP(h, ch) (((h) ^ (unsigned char)(ch)) * 16777619u)
void dns_cancel(struct dns_query *q);

/*
 * Timers on the same clock and loop as c-ares, so the engine and the
 * policy can hold deadlines without knowing the loop.  Expired timers run
 * from dns_process(ctx, -1, -1); dns_next_timeout() accounts for them.
 */
struct dns_timer;
typedef void dns_timer_cb(void *arg);
/* NULL when out of memory.  The timer is freed when it fires. */
struct dns_timer *dns_timer_start(struct dns_ctx *ctx, long ms, dns_timer_cb *cb, void *arg);
void dns_timer_stop(struct dns_timer *t);   /* NULL is fine; not after it fired */
/* Monotonic milliseconds, the clock timers use. */
long long dns_now_ms(void);

/* Counters, for --trace, logs and the benchmark. */
struct dns_stats {
	unsigned long queries_sent, cache_hits, shared, cache_entries;
	size_t cache_bytes;
	unsigned long in_flight;     /* wire queries outstanding now */
	unsigned long waiting;       /* queries in line for a free slot now */
};
void dns_get_stats(const struct dns_ctx *ctx, struct dns_stats *st);
const char *dns_status_str(enum dns_status st);

#endif
