/*
 * dns - the dns_ctx of dns.h: one c-ares channel, the table of queries in
 * flight, the answer cache and the timers, driven by whatever loop calls
 * dns_process().
 *
 * A "flight" is one wire query; every dns_query() for the same (name,
 * type) while it is out becomes a waiter on it.  Names c-ares 1.20+ would
 * refuse go out through dnsdirect.c instead, on every c-ares version, and
 * come back through the same on_answer().  c-ares 1.18 cannot cancel
 * one query, so the c-ares callback always points at the flight, and the
 * flight lives until c-ares calls back, even when every waiter is gone.
 */
#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asan.h"
#include "dns.h"
#include "dnscache.h"
#include "dnsdirect.h"
#include "dnsmsg.h"

#define FLIGHT_BUCKETS   4096
#define MAX_SERVERS      16
#define MAX_CHASE        8        /* re-queries of a CNAME target */
#define TTL_CAP          86400    /* positive answers: one day at most */
#define NEG_TTL_DEFAULT  300      /* negative answer without an SOA */
#define NEG_TTL_CAP      3600
#define MAX_INFLIGHT     256      /* default cap of wire queries out at once */
#define SOCK_RCVBUF      (1 << 20) /* room for a burst of answers */
/* spare query and timer objects kept (not under ASan: it should see
 * every use of a handle after its end) */
#if PSPF_ASAN
#define FREE_KEEP        0
#else
#define FREE_KEEP        64
#endif

struct flight;

struct dns_query {
	struct flight *f;
	struct dns_query *prev, *next;
	dns_cb *cb;
	void *arg;
};

struct flight {
	struct dns_ctx *ctx;
	struct flight *hnext;
	struct dns_query *head, *tail;
	struct flight *lnext;        /* in line for a slot (ctx->line) */
	uint32_t hash;
	uint32_t chain_ttl;          /* min TTL of CNAMEs met before a chase */
	uint16_t type;
	unsigned nwait, chases;
	bool in_table, delivering, in_line;
	bool no_edns;                /* the server choked on EDNS0 */
	bool tcp;                    /* dnsdirect's UDP answer was truncated: over TCP now */
	char key[DNSMSG_NAME_MAX + 1];      /* lower-cased, the table key */
	char qname[DNSMSG_NAME_MAX + 1];    /* the name on the wire now */
};

struct dns_timer {
	struct dns_ctx *ctx;
	struct dns_timer *fnext;     /* on ctx->tfree */
	long long when;
	unsigned long seq;
	size_t idx;
	dns_timer_cb *cb;
	void *arg;
};

struct dns_ctx {
	ares_channel ch;
	struct dnsdirect *direct;    /* names c-ares >= 1.20 refuses */
	dns_io_cb *io_cb;
	void *io_arg;
	dns_wake_cb *wake_cb;
	void *wake_arg;
	struct dnscache *cache;
	struct flight *table[FLIGHT_BUCKETS];
	struct dns_timer **heap;
	size_t nheap, heapcap;
	unsigned long timer_seq;
	bool destroying;
	/* Past max_inflight, new wire queries wait here in order, so a burst
	 * does not overflow the socket buffers of the server or our own. */
	struct flight *line, *line_tail;
	unsigned long max_inflight;
	struct dns_query *issuing;   /* the waiter dns_query() is sending for */
	bool issuing_done;           /* ... and it was answered already */
	/* Spare objects: a check starts a timer and most requests one, so
	 * reuse them rather than go through malloc each time. */
	struct dns_query *qfree;
	struct dns_timer *tfree;
	int nqfree, ntfree;
	struct dns_stats st;
	unsigned char *tcpfd;        /* by fd: c-ares opened it as TCP */
	size_t ntcpfd;
	bool reading_tcp;            /* ares_process_fd is reading a TCP socket */
};

long long dns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *dns_status_str(enum dns_status st)
{
	switch (st) {
	case DNS_S_OK: return "OK";
	case DNS_S_NODATA: return "NODATA";
	case DNS_S_NXDOMAIN: return "NXDOMAIN";
	case DNS_S_SERVFAIL: return "SERVFAIL";
	case DNS_S_TCPFAIL: return "TCP-FAIL";
	case DNS_S_TIMEOUT: return "TIMEOUT";
	case DNS_S_ERROR: return "ERROR";
	}
	return "?";
}

/* ---- timers: a binary min-heap on (when, seq) ---- */

static bool timer_before(const struct dns_timer *a, const struct dns_timer *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void heap_set(struct dns_ctx *ctx, size_t i, struct dns_timer *t)
{
	ctx->heap[i] = t;
	t->idx = i;
}

static void heap_up(struct dns_ctx *ctx, size_t i)
{
	struct dns_timer *t = ctx->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!timer_before(t, ctx->heap[p]))
			break;
		heap_set(ctx, i, ctx->heap[p]);
		i = p;
	}
	heap_set(ctx, i, t);
}

static void heap_down(struct dns_ctx *ctx, size_t i)
{
	struct dns_timer *t = ctx->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= ctx->nheap)
			break;
		if (c + 1 < ctx->nheap && timer_before(ctx->heap[c + 1], ctx->heap[c]))
			c++;
		if (!timer_before(ctx->heap[c], t))
			break;
		heap_set(ctx, i, ctx->heap[c]);
		i = c;
	}
	heap_set(ctx, i, t);
}

static void heap_remove(struct dns_ctx *ctx, struct dns_timer *t)
{
	size_t i = t->idx;
	struct dns_timer *last = ctx->heap[--ctx->nheap];

	if (i == ctx->nheap)
		return;
	heap_set(ctx, i, last);
	heap_down(ctx, i);
	heap_up(ctx, last->idx);
}

struct dns_timer *dns_timer_start(struct dns_ctx *ctx, long ms, dns_timer_cb *cb, void *arg)
{
	struct dns_timer *t;

	if (ctx->nheap == ctx->heapcap) {
		size_t ncap = ctx->heapcap ? ctx->heapcap * 2 : 64;
		struct dns_timer **nh = realloc(ctx->heap, ncap * sizeof *nh);
		if (!nh)
			return NULL;
		ctx->heap = nh;
		ctx->heapcap = ncap;
	}
	if (ctx->tfree) {
		t = ctx->tfree;
		ctx->tfree = t->fnext;
		ctx->ntfree--;
	} else if (!(t = malloc(sizeof *t))) {
		return NULL;
	}
	t->ctx = ctx;
	t->when = dns_now_ms() + (ms > 0 ? ms : 0);
	t->seq = ++ctx->timer_seq;
	t->cb = cb;
	t->arg = arg;
	heap_set(ctx, ctx->nheap++, t);
	heap_up(ctx, t->idx);
	if (ctx->wake_cb)
		ctx->wake_cb(ctx->wake_arg);
	return t;
}

static void timer_free(struct dns_ctx *ctx, struct dns_timer *t)
{
	if (ctx->ntfree >= FREE_KEEP) {
		free(t);
		return;
	}
	t->fnext = ctx->tfree;
	ctx->tfree = t;
	ctx->ntfree++;
}

void dns_timer_stop(struct dns_timer *t)
{
	if (!t)
		return;
	heap_remove(t->ctx, t);
	timer_free(t->ctx, t);
}

/* Fire what is due; timers started by a callback wait for the next round. */
static void timers_run(struct dns_ctx *ctx)
{
	long long now = dns_now_ms();
	unsigned long last = ctx->timer_seq;

	while (ctx->nheap && ctx->heap[0]->when <= now && ctx->heap[0]->seq <= last) {
		struct dns_timer *t = ctx->heap[0];
		dns_timer_cb *cb = t->cb;
		void *arg = t->arg;
		heap_remove(ctx, t);
		timer_free(ctx, t);
		cb(arg);
	}
}

/* ---- the flight table ---- */

static struct dns_query *query_alloc(struct dns_ctx *ctx)
{
	struct dns_query *q = ctx->qfree;

	if (!q)
		return malloc(sizeof *q);
	ctx->qfree = q->next;
	ctx->nqfree--;
	return q;
}

static void query_free(struct dns_ctx *ctx, struct dns_query *q)
{
	if (ctx->nqfree >= FREE_KEEP) {
		free(q);
		return;
	}
	q->next = ctx->qfree;
	ctx->qfree = q;
	ctx->nqfree++;
}

static struct flight *table_find(struct dns_ctx *ctx, const char *key, uint16_t type, uint32_t h)
{
	struct flight *f = ctx->table[h % FLIGHT_BUCKETS];

	for (; f; f = f->hnext)
		if (f->hash == h && f->type == type && strcmp(f->key, key) == 0)
			return f;
	return NULL;
}

static void table_remove(struct dns_ctx *ctx, struct flight *f)
{
	struct flight **pp = &ctx->table[f->hash % FLIGHT_BUCKETS];

	if (!f->in_table)
		return;
	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
	f->in_table = false;
}

static void waiter_unlink(struct flight *f, struct dns_query *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		f->head = q->next;
	if (q->next)
		q->next->prev = q->prev;
	else
		f->tail = q->prev;
	f->nwait--;
}

/* ---- answers ---- */

static uint32_t cache_ttl(const struct dnsmsg_result *r)
{
	uint32_t ttl;

	switch (r->status) {
	case DNS_S_OK:
		return r->ttl < TTL_CAP ? r->ttl : TTL_CAP;
	case DNS_S_NODATA:
	case DNS_S_NXDOMAIN:
		ttl = r->ttl;
		if (!r->neg_ttl_known) {
			ttl = NEG_TTL_DEFAULT;
			if (r->chain && r->ttl < ttl)
				ttl = r->ttl;
		}
		return ttl < NEG_TTL_CAP ? ttl : NEG_TTL_CAP;
	default:
		return 0;     /* failures are retried, not remembered */
	}
}

static enum dns_status map_ares(int status)
{
	switch (status) {
	case ARES_ENODATA: return DNS_S_NODATA;
	case ARES_ENOTFOUND: return DNS_S_NXDOMAIN;
	case ARES_ETIMEOUT:
	case ARES_ECONNREFUSED: return DNS_S_TIMEOUT;
	case ARES_ENOMEM:
	case ARES_EBADNAME:
	case ARES_EBADFLAGS:
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION: return DNS_S_ERROR;
	default: return DNS_S_SERVFAIL;
	}
}

static void deliver(struct dns_ctx *ctx, struct dns_query *q, const struct dnsmsg_result *r,
		    uint32_t ttl, bool from_cache)
{
	struct dns_answer ans = {
		.status = r->status, .rcode = r->rcode, .ttl = ttl, .from_cache = from_cache,
		.canon = r->canon, .n = r->n, .rr = r->rr,
		.res = r->n ? (struct dnsmsg_result *)r : NULL,
	};
	dns_cb *cb = q->cb;
	void *arg = q->arg;

	if (q == ctx->issuing)
		ctx->issuing_done = true;
	query_free(ctx, q);
	cb(arg, &ans);
}

static void flight_free(struct flight *f)
{
	struct dns_query *q;

	while ((q = f->head)) {
		waiter_unlink(f, q);
		query_free(f->ctx, q);
	}
	free(f);
}

static int flight_send(struct flight *f);

/* Answer every waiter of f, then free it.  Waiters' callbacks may start
 * and cancel queries, including other waiters of f. */
static void fan_out(struct dns_ctx *ctx, struct flight *f, const struct dnsmsg_result *r,
		    uint32_t ttl)
{
	struct dns_query *q;

	table_remove(ctx, f);
	f->delivering = true;
	while ((q = f->head)) {
		waiter_unlink(f, q);
		deliver(ctx, q, r, ttl, false);
	}
	free(f);
}

/* Out of memory: the waiters still get an answer. */
static void fan_out_error(struct dns_ctx *ctx, struct flight *f)
{
	struct dnsmsg_result err = { .refs = 1, .status = DNS_S_ERROR, .canon = f->qname };

	fan_out(ctx, f, &err, 0);
}

/* Send f again for the reason given; false if that failed. */
static bool resend(struct flight *f)
{
	return flight_send(f) == 0;
}

static void line_push(struct dns_ctx *ctx, struct flight *f)
{
	f->in_line = true;
	f->lnext = NULL;
	if (ctx->line_tail)
		ctx->line_tail->lnext = f;
	else
		ctx->line = f;
	ctx->line_tail = f;
	ctx->st.waiting++;
}

static void line_remove(struct dns_ctx *ctx, struct flight *f)
{
	struct flight **pp = &ctx->line, *prev = NULL;

	while (*pp && *pp != f) {
		prev = *pp;
		pp = &(*pp)->lnext;
	}
	if (!*pp)
		return;
	*pp = f->lnext;
	if (ctx->line_tail == f)
		ctx->line_tail = prev;
	f->in_line = false;
	ctx->st.waiting--;
}

/* Send what waits in line while there are free slots. */
static void line_drain(struct dns_ctx *ctx)
{
	while (ctx->line && ctx->st.in_flight < ctx->max_inflight) {
		struct flight *f = ctx->line;
		line_remove(ctx, f);
		if (flight_send(f) < 0)
			fan_out_error(ctx, f);
	}
}

static void answer(struct flight *f, int status, unsigned char *abuf, int alen);

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct flight *f = arg;
	struct dns_ctx *ctx = f->ctx;

	(void)timeouts;
	ctx->st.in_flight--;
	if (status == ARES_EDESTRUCTION || ctx->destroying) {
		flight_free(f);
		return;
	}
	answer(f, status, abuf, alen);
	line_drain(ctx);
}

static void answer(struct flight *f, int status, unsigned char *abuf, int alen)
{
	struct dns_ctx *ctx = f->ctx;
	struct dnsmsg_result *r = NULL;

	/* Abandoned by its last waiter: the answer still goes to the cache. */
	bool abandoned = !f->in_table && f->nwait == 0;
	/*
	 * pydns, whose results we follow, reads an error rcode over UDP as an
	 * empty answer but raises on one over TCP after a truncated UDP
	 * answer, so the transport of an answer matters.  c-ares retries over
	 * TCP inside and says which socket it reads (ctx->reading_tcp);
	 * dnsdirect hands truncated answers back (IGNTC) and the TCP retry
	 * is made here.
	 */
	if (abuf && alen >= 12 && (abuf[2] & 0x02) && !f->tcp) {
		f->tcp = true;
		if (!resend(f))
			fan_out_error(ctx, f);
		return;
	}
	if (abuf && alen > 0) {
		if (dnsmsg_parse(abuf, (size_t)alen, f->qname, f->type, &r) != DNSMSG_OK)
			r = NULL;
		if (!r)
			r = dnsmsg_result_status(DNS_S_SERVFAIL, f->qname);
	} else {
		r = dnsmsg_result_status(map_ares(status), f->qname);
	}
	if (!r) {
		fan_out_error(ctx, f);
		return;
	}
	if (r->rcode == DNSMSG_RCODE_FORMERR && !f->no_edns && !abandoned) {
		/* An old server that does not know EDNS0 (RFC 6891 7). */
		f->no_edns = true;
		dnsmsg_result_unref(r);
		if (!resend(f))
			fan_out_error(ctx, f);
		return;
	}
	if (r->chase && !abandoned && f->chases < MAX_CHASE) {
		/* An authoritative-only server gave the CNAME but not its target. */
		if (r->ttl < f->chain_ttl)
			f->chain_ttl = r->ttl;
		f->chases++;
		f->tcp = false;
		snprintf(f->qname, sizeof f->qname, "%s", r->canon);
		dnsmsg_result_unref(r);
		if (!resend(f))
			fan_out_error(ctx, f);
		return;
	}
	if (r->ttl > f->chain_ttl)
		r->ttl = f->chain_ttl;
	if ((f->tcp || ctx->reading_tcp) && r->status == DNS_S_SERVFAIL && abuf && alen > 0)
		r->status = DNS_S_TCPFAIL;

	/* A chain not followed to its end proves nothing worth keeping. */
	uint32_t ttl = r->chase ? 0 : cache_ttl(r);
	if (ctx->cache && ttl > 0)
		dnscache_put(ctx->cache, f->key, f->type, r, ttl, dns_now_ms());
	fan_out(ctx, f, r, ttl);
	dnsmsg_result_unref(r);
}

static int flight_send(struct flight *f)
{
	unsigned char buf[DNSMSG_QUERY_MAX];
	int len = dnsmsg_build_query(buf, sizeof buf, f->qname, f->type, 0,
				     f->no_edns ? 0 : DNSMSG_EDNS_SIZE);
	struct dns_ctx *ctx = f->ctx;   /* f may be gone when ares_send returns */

	if (len < 0)
		return -1;
	ctx->st.queries_sent++;
	ctx->st.in_flight++;
	if (f->tcp || dnsdirect_wants(f->qname)) {     /* its timers wake the loop */
		if (dnsdirect_send(ctx->direct, buf, len,
				   f->tcp ? DNSDIRECT_TCP : DNSDIRECT_IGNTC, on_answer, f) < 0) {
			ctx->st.in_flight--;
			return -1;
		}
		return 0;
	}
	/* ares_send has its replacement only from 1.28 on (ares_send_dnsrec),
	 * and Debian 12 has 1.18: keep the one call that works on both. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	ares_send(ctx->ch, buf, len, on_answer, f);
#pragma GCC diagnostic pop
	if (ctx->wake_cb)
		ctx->wake_cb(ctx->wake_arg);
	return 0;
}

static void answer_now(struct dns_ctx *ctx, enum dns_status st, const char *name,
		       dns_cb *cb, void *arg)
{
	struct dns_answer ans = { .status = st, .canon = name };

	(void)ctx;
	cb(arg, &ans);
}

/* Both entry points: key is name in lower case, len bytes, checked; h its hash. */
static struct dns_query *query(struct dns_ctx *ctx, const char *name, const char *key,
			       size_t len, uint32_t h, uint16_t type, dns_cb *cb, void *arg)
{
	if (ctx->cache) {
		uint32_t left;
		struct dnsmsg_result *r = dnscache_get_h(ctx->cache, key, type, h,
							 dns_now_ms(), &left);
		if (r) {
			struct dns_answer ans = {
				.status = r->status, .ttl = left, .from_cache = true,
				.canon = r->canon, .n = r->n, .rr = r->rr,
				.res = r->n ? r : NULL,
			};
			ctx->st.cache_hits++;
			r->refs++;      /* the callback may evict it */
			cb(arg, &ans);
			dnsmsg_result_unref(r);
			return NULL;
		}
	}

	struct dns_query *q = query_alloc(ctx);
	if (!q) {
		answer_now(ctx, DNS_S_ERROR, name, cb, arg);
		return NULL;
	}
	q->cb = cb;
	q->arg = arg;
	q->prev = q->next = NULL;

	struct flight *f = table_find(ctx, key, type, h);
	if (f) {
		ctx->st.shared++;
		q->f = f;
		q->prev = f->tail;
		if (f->tail)
			f->tail->next = q;
		else
			f->head = q;
		f->tail = q;
		f->nwait++;
		return q;
	}

	f = calloc(1, sizeof *f);
	if (!f) {
		query_free(ctx, q);
		answer_now(ctx, DNS_S_ERROR, name, cb, arg);
		return NULL;
	}
	f->ctx = ctx;
	f->hash = h;
	f->type = type;
	f->chain_ttl = UINT32_MAX;
	memcpy(f->key, key, len);
	f->key[len] = 0;
	memcpy(f->qname, name, len);
	f->qname[len] = 0;
	f->head = f->tail = q;
	f->nwait = 1;
	q->f = f;
	f->hnext = ctx->table[h % FLIGHT_BUCKETS];
	ctx->table[h % FLIGHT_BUCKETS] = f;
	f->in_table = true;

	/* c-ares may answer before ares_send returns (no servers, no memory). */
	struct dns_query *saved = ctx->issuing;
	bool saved_done = ctx->issuing_done;
	ctx->issuing = q;
	ctx->issuing_done = false;
	if (ctx->st.in_flight >= ctx->max_inflight)
		line_push(ctx, f);
	else if (flight_send(f) < 0)
		fan_out_error(ctx, f);
	bool done = ctx->issuing_done;
	ctx->issuing = saved;
	ctx->issuing_done = saved_done;
	return done ? NULL : q;
}

struct dns_query *dns_query(struct dns_ctx *ctx, const char *name, int type,
			    dns_cb *cb, void *arg)
{
	char key[DNSMSG_NAME_MAX + 2];
	size_t len = strlen(name);

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (type <= 0 || type > 0xffff || dnsmsg_check_name(name, len) < 0) {
		answer_now(ctx, DNS_S_ERROR, name, cb, arg);
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		key[i] = c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
	}
	key[len] = 0;
	return query(ctx, name, key, len, dnscache_hash(key, len, (uint16_t)type), (uint16_t)type,
		     cb, arg);
}

struct dns_query *dns_query_key(struct dns_ctx *ctx, const char *key, size_t len, uint32_t hash,
				int type, dns_cb *cb, void *arg)
{
	/* the bounds the copies into a flight rely on are checked all the same */
	if (len == 0 || len > DNSMSG_NAME_MAX || key[len - 1] == '.' || type <= 0 || type > 0xffff)
		return dns_query(ctx, key, type, cb, arg);
	return query(ctx, key, key, len, hash, (uint16_t)type, cb, arg);
}

struct dnsmsg_result *dns_answer_hold(const struct dns_answer *ans)
{
	if (!ans->res)
		return NULL;
	ans->res->refs++;
	return ans->res;
}

void dns_answer_release(struct dnsmsg_result *held)
{
	dnsmsg_result_unref(held);
}

void dns_answer_attach(struct dns_ctx *ctx, struct dnsmsg_result *held, void *aux,
		       void (*aux_free)(void *), size_t bytes)
{
	long delta = dnsmsg_result_set_aux(held, aux, aux_free, bytes);

	if (ctx->cache)
		dnscache_charge(ctx->cache, held, delta);
}

void dns_cancel(struct dns_query *q)
{
	struct flight *f;

	if (!q)
		return;
	f = q->f;
	waiter_unlink(f, q);
	query_free(f->ctx, q);
	/* The last waiter gone: a new query for this name must not join a
	 * flight nobody waits for; c-ares still holds f and frees it later. */
	if (f->nwait == 0 && !f->delivering) {
		table_remove(f->ctx, f);
		if (f->in_line) {       /* never sent: nobody else holds it */
			line_remove(f->ctx, f);
			free(f);
		}
	}
}

/* ---- the channel ---- */

static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_ctx *ctx = data;

	if (ctx->io_cb)
		ctx->io_cb(ctx->io_arg, (int)fd, readable != 0, writable != 0);
}

/* "host[:port]", "[v6]:port" or a bare v6 literal -> "[v6]:port" / "v4:port". */
static int server_norm(const char *s, char *out, size_t outlen)
{
	char host[64];
	const char *port = NULL;
	unsigned char addr[16];
	size_t hl;
	bool v6;

	if (s[0] == '[') {
		const char *e = strchr(s, ']');
		if (!e)
			return -1;
		hl = (size_t)(e - s - 1);
		if (hl >= sizeof host)
			return -1;
		memcpy(host, s + 1, hl);
		if (e[1] == ':')
			port = e + 2;
		else if (e[1])
			return -1;
	} else {
		const char *c = strchr(s, ':');
		if (c && strchr(c + 1, ':'))
			c = NULL;       /* bare IPv6 */
		hl = c ? (size_t)(c - s) : strlen(s);
		if (hl >= sizeof host)
			return -1;
		memcpy(host, s, hl);
		if (c)
			port = c + 1;
	}
	host[hl] = 0;
	v6 = inet_pton(AF_INET6, host, addr) == 1;
	if (!v6 && inet_pton(AF_INET, host, addr) != 1)
		return -1;
	long p = 53;
	if (port) {
		char *end;
		errno = 0;
		p = strtol(port, &end, 10);
		if (errno || *end || end == port || p < 1 || p > 65535)
			return -1;
	}
	int n = snprintf(out, outlen, v6 ? "[%s]:%ld" : "%s:%ld", host, p);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static int set_servers(struct dns_ctx *ctx, const char *const *servers, char *err, size_t errlen)
{
	char csv[MAX_SERVERS * 64];
	size_t o = 0;
	int i, rc;

	for (i = 0; servers[i]; i++) {
		char one[64];
		if (i >= MAX_SERVERS) {
			snprintf(err, errlen, "more than %d DNS servers", MAX_SERVERS);
			return -1;
		}
		if (server_norm(servers[i], one, sizeof one) < 0) {
			snprintf(err, errlen, "DNS server '%s': want an IP address, optionally "
				 "with :port ([v6]:port for IPv6)", servers[i]);
			return -1;
		}
		o += (size_t)snprintf(csv + o, sizeof csv - o, "%s%s", i ? "," : "", one);
	}
	if (i == 0) {
		snprintf(err, errlen, "empty DNS server list");
		return -1;
	}
	rc = ares_set_servers_ports_csv(ctx->ch, csv);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "DNS servers '%s': %s", csv, ares_strerror(rc));
		return -1;
	}
	return 0;
}

/* c-ares tells the type of each socket it opens: the TCP ones are noted,
 * so that answer() knows an answer read from one came over TCP. */
static int sock_created(ares_socket_t fd, int type, void *arg)
{
	struct dns_ctx *ctx = arg;
	size_t i = (size_t)fd;

	if (fd < 0)
		return ARES_SUCCESS;
	if (i >= ctx->ntcpfd) {
		size_t n = ctx->ntcpfd ? ctx->ntcpfd : 64;
		unsigned char *t;

		while (n <= i)
			n *= 2;
		if (!(t = realloc(ctx->tcpfd, n))) /* unknown: read as UDP */
			return ARES_SUCCESS;
		memset(t + ctx->ntcpfd, 0, n - ctx->ntcpfd);
		ctx->tcpfd = t;
		ctx->ntcpfd = n;
	}
	ctx->tcpfd[i] = type == SOCK_STREAM;
	return ARES_SUCCESS;
}

int dns_ctx_new(struct dns_ctx **out, const struct dns_opts *opts, char *err, size_t errlen)
{
	struct dns_ctx *ctx;
	struct ares_options ao;
	int mask, rc;

	*out = NULL;
	rc = ares_library_init(ARES_LIB_INIT_ALL);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		return -1;
	}
	ctx = calloc(1, sizeof *ctx);
	if (!ctx) {
		ares_library_cleanup();
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(&ao, 0, sizeof ao);
	ao.timeout = opts && opts->timeout_ms > 0 ? opts->timeout_ms : 2000;
	ao.tries = opts && opts->tries > 0 ? opts->tries : 2;
	ao.sock_state_cb = sock_state;
	ao.sock_state_cb_data = ctx;
	/* NOCHECKRESP: c-ares 1.18 reports a SERVFAIL or REFUSED answer as
	 * ECONNREFUSED, the same as an unreachable server; we want the rcode. */
	ao.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP;
	ao.socket_receive_buffer_size = SOCK_RCVBUF;
	mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB | ARES_OPT_FLAGS |
	       ARES_OPT_SOCK_RCVBUF;
#ifdef ARES_OPT_QUERY_CACHE
	/* c-ares >= 1.23 caches by itself; ours is the one that is bounded
	 * and shared with the trace, so keep answers coming from the wire. */
	ao.qcache_max_ttl = 0;
	mask |= ARES_OPT_QUERY_CACHE;
#endif
#ifdef ARES_OPT_MAXTIMEOUTMS
	/* c-ares >= 1.27 adapts the timeout to measured latency; the
	 * configured one stays the ceiling. */
	ao.maxtimeout = ao.timeout;
	mask |= ARES_OPT_MAXTIMEOUTMS;
#endif
	rc = ares_init_options(&ctx->ch, &ao, mask);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares init: %s", ares_strerror(rc));
		free(ctx);
		ares_library_cleanup();
		return -1;
	}
	if (opts && opts->servers && set_servers(ctx, opts->servers, err, errlen) < 0) {
		ares_destroy(ctx->ch);
		free(ctx);
		ares_library_cleanup();
		return -1;
	}
	ares_set_socket_callback(ctx->ch, sock_created, ctx);
	ctx->direct = dnsdirect_new(ctx, ctx->ch, ao.timeout, ao.tries, sock_state, ctx);
	if (!ctx->direct) {
		snprintf(err, errlen, "out of memory");
		ares_destroy(ctx->ch);
		free(ctx);
		ares_library_cleanup();
		return -1;
	}
	ctx->max_inflight = opts && opts->max_inflight > 0 ? (unsigned long)opts->max_inflight
							   : MAX_INFLIGHT;
	if (opts && opts->cache_bytes) {
		ctx->cache = dnscache_new(opts->cache_bytes);
		if (!ctx->cache) {
			snprintf(err, errlen, "out of memory");
			dnsdirect_free(ctx->direct);
			ares_destroy(ctx->ch);
			free(ctx);
			ares_library_cleanup();
			return -1;
		}
	}
	*out = ctx;
	return 0;
}

void dns_ctx_free(struct dns_ctx *ctx)
{
	if (!ctx)
		return;
	/* Pending waiters are dropped without a call: their owners are going
	 * away with the loop. */
	ctx->destroying = true;
	dnsdirect_free(ctx->direct);
	ares_destroy(ctx->ch);
	while (ctx->line) {
		struct flight *f = ctx->line;
		line_remove(ctx, f);
		flight_free(f);
	}
	for (size_t i = 0; i < ctx->nheap; i++)
		free(ctx->heap[i]);
	free(ctx->heap);
	free(ctx->tcpfd);
	while (ctx->qfree) {
		struct dns_query *q = ctx->qfree;
		ctx->qfree = q->next;
		free(q);
	}
	while (ctx->tfree) {
		struct dns_timer *t = ctx->tfree;
		ctx->tfree = t->fnext;
		free(t);
	}
	dnscache_free(ctx->cache);
	free(ctx);
	ares_library_cleanup();
}

void dns_set_io_cb(struct dns_ctx *ctx, dns_io_cb *cb, void *arg)
{
	ctx->io_cb = cb;
	ctx->io_arg = arg;
}

void dns_set_wake_cb(struct dns_ctx *ctx, dns_wake_cb *cb, void *arg)
{
	ctx->wake_cb = cb;
	ctx->wake_arg = arg;
}

void dns_process(struct dns_ctx *ctx, int read_fd, int write_fd)
{
	if (!dnsdirect_process(ctx->direct, read_fd, write_fd)) {
		ctx->reading_tcp = read_fd >= 0 && (size_t)read_fd < ctx->ntcpfd &&
				   ctx->tcpfd[read_fd];
		ares_process_fd(ctx->ch, read_fd >= 0 ? (ares_socket_t)read_fd : ARES_SOCKET_BAD,
				write_fd >= 0 ? (ares_socket_t)write_fd : ARES_SOCKET_BAD);
		ctx->reading_tcp = false;
	}
	timers_run(ctx);
}

struct timeval *dns_next_timeout(struct dns_ctx *ctx, struct timeval *tv)
{
	struct timeval maxtv, tmp, *mp = NULL, *r;

	if (ctx->nheap) {
		long long d = ctx->heap[0]->when - dns_now_ms();
		if (d < 0)
			d = 0;
		maxtv.tv_sec = (time_t)(d / 1000);
		maxtv.tv_usec = (suseconds_t)((d % 1000) * 1000);
		mp = &maxtv;
	}
	r = ares_timeout(ctx->ch, mp, &tmp);
	if (!r)
		return NULL;
	*tv = *r;
	return tv;
}

void dns_get_stats(const struct dns_ctx *ctx, struct dns_stats *st)
{
	*st = ctx->st;
	dnscache_stats(ctx->cache, &st->cache_entries, &st->cache_bytes);
}
