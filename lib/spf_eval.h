/*
 * spf_eval - internals of the check_host() state machine, shared by
 * spf_eval.c (frames, terms, driver), spf_lookup.c (DNS batches),
 * spf_exp.c (explanations) and spf_util.c (pure helpers).
 */
#ifndef POLICYD_SPF_EVAL_H
#define POLICYD_SPF_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "dnsmsg.h"
#include "spf.h"
#include "spf_record.h"

/* Client address in every form the macros and matching need. */
struct spf_client {
	bool v6;
	unsigned char addr[16];   /* 4 bytes used for IPv4 */
	char i[80];               /* %{i}: dotted quad / dot-separated upper-case nibbles */
	char c[48];               /* %{c}: readable form, IPv6 compressed as Python prints it */
	char rev[96];             /* PTR query name (…in-addr.arpa / …ip6.arpa) */
};

/*
 * Parse a client address; IPv4-mapped IPv6 becomes IPv4 (RFC 7208 5).
 * On failure err gets Python's ipaddress wording.
 */
int spf_client_parse(struct spf_client *cl, const char *ip, char *err, size_t errlen);

/* Python bytes repr (b'...'), as pyspf puts it in "Non-ascii characters found". */
void spf_bytes_repr(char *out, size_t outlen, const unsigned char *s, size_t len);

/*
 * The name as pydns sends it: labels with non-ASCII (UTF-8) characters
 * become xn-- punycode labels (no nameprep beyond ASCII lower case).
 * Returns a new string, NULL when out of memory.
 */
char *spf_idna_name(const char *name);

/* ---- the check's state (spf_eval.c, spf_lookup.c, spf_exp.c) ---- */

#define MAX_FRAMES 32       /* lookups limit the depth long before this */
#define MAX_MX 10
#define MAX_PTR 10
#define MAX_BATCH 10        /* lookups in one batch: MX or PTR names */
#define PROBLEM_LEN 1024
#define SLOT_NAME 256       /* queryable names are at most 253 octets */

enum frame_kind { FR_TOP, FR_INCLUDE };

/*
 * The lookup of a term whose domain-spec has no macro is known once the
 * record is parsed: its target and key form are worked out then and kept
 * with the record (spf_record's targets, one per term; name NULL where
 * the term needs evaluating), so a popular record's terms are expanded and
 * normalised once per parse instead of once per check.
 */
struct spf_target {
	const char *name;       /* what spf_eval_expand gives */
	const char *key;        /* the slot name: lower case, IDNA, no trailing dot */
	size_t keylen;          /* < SLOT_NAME */
	uint32_t hash_txt, hash_a, hash_aaaa, hash_mx;
	bool queryable, labels_ok;
};

struct frame {
	enum frame_kind kind;
	const char *domain;
	char *own_domain;       /* what to free of it, if anything */
	struct spf_record *rec;
	size_t ti;
	/* FR_INCLUDE: the expanded include: argument (the first domain) */
	const char *include_target;
	char *own_target;
	const struct spf_target *tg;   /* domain's key form, if known */
	bool redirected;        /* this frame's record came through redirect= */
};

/* What a batch of lookups is for. */
enum op {
	OP_NONE,
	OP_RECORD,      /* TXT of the top frame's domain */
	OP_A,           /* a mechanism */
	OP_EXISTS,
	OP_MX,          /* MX of the target, then OP_MX_ADDRS */
	OP_MX_ADDRS,
	OP_PTR,         /* PTR of the client, then OP_PTR_ADDRS */
	OP_PTR_ADDRS,
	OP_EXP,
};

enum phase {
	PH_FETCH,       /* top frame needs its record */
	PH_TERMS,       /* evaluate the next term of the top frame */
	PH_EXP,         /* result decided; build the explanation */
	PH_END,
};

struct slot {
	struct spf_check *c;
	char *name;             /* nbuf, or the heap for a long name */
	size_t len;
	uint32_t hash;          /* DNS_KEY_HASH of (type, name) */
	bool queryable;         /* spf_name_queryable(name) */
	bool labels_ok;         /* the name as given passes pyspf's label check */
	int type;
	struct dns_query *q;
	bool done, sent;
	enum dns_status st;
	int rcode;
	bool from_cache;
	uint32_t ttl;
	size_t n;
	const struct dns_rr *rr;        /* the records of held */
	struct dnsmsg_result *held;     /* reference to the shared answer */
	char nbuf[SLOT_NAME];
};

/*
 * A check is allocated often and mostly small in use: the members up to
 * `stack` are zeroed when it starts, the rest (frames, slots, problem
 * text) is written before it is read.
 */
struct spf_check {
	struct dns_ctx *dns;
	spf_done_fn *done;
	void *done_arg;
	spf_trace_fn *trace;
	void *trace_arg;

	struct spf_client cl;
	/* identity: all in one allocation (ids) */
	char *sender, *local, *odomain, *helo, *receiver, *default_exp;
	char *domain;           /* the request's domain, NULL = odomain */
	char *ids;
	long long tnow;         /* %{t}, formatted into tstamp when used */
	char tstamp[24];
	int void_limit, lookup_limit;
	bool servfail_void;

	enum phase phase;
	int depth;

	/* the current batch: slots[0..nslots) */
	enum op op;
	struct slot *slots;
	size_t nslots, pending;
	bool ptr_for_p;         /* OP_PTR*: computing %{p} rather than matching ptr */
	char *ptr_target;       /* OP_PTR*: the ptr mechanism's target */

	char *p_value;          /* %{p} once known */
	bool in_exp;
	bool top_fetched;

	/* outcome */
	bool finished;
	enum spf_result result;
	bool has_problem;
	const char *mechanism;  /* a term's text; the top frame's record keeps it */
	char *explanation;
	bool exp_from_record;
	const char *first_txt;  /* inside first_held, or first_copy */
	size_t first_txt_len;
	struct dnsmsg_result *first_held;
	char *first_copy;
	unsigned lookups, voids, queries, cache_hits;

	struct dns_timer *deadline;
	long timeout_ms;
	long long start_ms;
	bool in_step;
	struct spf_check *next_free;

	/* not zeroed at start */
	struct frame stack[MAX_FRAMES];
	struct slot slot_space[MAX_BATCH];
	char problem[PROBLEM_LEN];
};

/* spf_eval.c */
void spf_eval_trace_line(struct spf_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* No formatting, not even of the arguments, when nobody reads the trace. */
#define spf_eval_trace(c, ...) \
	do { \
		if ((c)->trace) \
			spf_eval_trace_line((c), __VA_ARGS__); \
	} while (0)
/* A permerror or temperror ends the check (while building exp= it only drops the explanation). */
void spf_eval_error(struct spf_check *c, enum spf_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool spf_eval_step(struct spf_check *c);
/* %{t}: the check's start time, formatted on first use */
const char *spf_eval_tstamp(struct spf_check *c);
struct frame *spf_eval_top(struct spf_check *c);
int spf_eval_expand(struct spf_check *c, const char *spec, int flags, char **out);
void spf_eval_start_ptr(struct spf_check *c, bool for_p, const char *target);

/* spf_lookup.c: batches of DNS lookups whose answers the step loop consumes */
void spf_lookup_one(struct spf_check *c, enum op op, const char *name, int type);
/*
 * spf_lookup_one in two halves: the batch is set up (false, and the check
 * ended, when out of memory) and the slot's labels_ok can be looked at
 * before the query goes out (or spf_lookup_free drops it).
 */
bool spf_lookup_prepare(struct spf_check *c, enum op op, const char *name, int type);
/* spf_lookup_prepare of a name whose key form is known */
void spf_lookup_prepare_key(struct spf_check *c, enum op op, const struct spf_target *tg, int type);
/* Work out a record's targets (see struct spf_target); false when out of memory. */
bool spf_lookup_targets(struct spf_record *rec, const char *domain);
void spf_lookup_send(struct spf_check *c);
/* Address lookups of names[0..n) (n <= MAX_BATCH); the names may point
 * into the current batch's answers, which this releases. */
void spf_lookup_names(struct spf_check *c, enum op op, const char *const *names, size_t n);
void spf_lookup_free(struct spf_check *c);
bool spf_lookup_error(const struct slot *s);
bool spf_lookup_failed(struct spf_check *c, const struct slot *s);
bool spf_lookup_void(struct spf_check *c, const struct slot *s);
bool spf_lookup_match(const struct spf_check *c, const struct slot *s, int bits);

/* spf_exp.c: the explanation of a fail or softfail */
void spf_exp_start(struct spf_check *c);
void spf_exp_answer(struct spf_check *c);
/* the request's default explanation (macros expanded, %{p} as "unknown"), if any */
void spf_exp_default(struct spf_check *c);

#endif
