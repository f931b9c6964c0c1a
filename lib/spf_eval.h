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
#define PROBLEM_LEN 1024

enum frame_kind { FR_TOP, FR_INCLUDE };

struct frame {
	enum frame_kind kind;
	char *domain;
	struct spf_record *rec;
	size_t ti;
	char *include_target;   /* FR_INCLUDE: the expanded include: argument */
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

struct rrcopy {
	uint16_t pref;
	size_t len, first_len;
	unsigned char *data;
};

struct slot {
	struct spf_check *c;
	char *name;
	int type;
	struct dns_query *q;
	bool done, sent;
	enum dns_status st;
	bool from_cache;
	uint32_t ttl;
	size_t n;
	struct rrcopy *rr;
};

struct spf_check {
	struct dns_ctx *dns;
	spf_done_fn *done;
	void *done_arg;
	spf_trace_fn *trace;
	void *trace_arg;

	/* identity */
	struct spf_client cl;
	char *sender, *local, *odomain, *helo, *receiver, *default_exp;
	char tstamp[24];
	int void_limit, lookup_limit;
	bool servfail_void;

	enum phase phase;
	struct frame stack[MAX_FRAMES];
	int depth;

	/* the current batch */
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
	char problem[PROBLEM_LEN];
	bool has_problem;
	char *mechanism;
	char *explanation;
	bool exp_from_record;
	char *first_txt;
	size_t first_txt_len;
	unsigned lookups, voids, queries, cache_hits;

	struct dns_timer *deadline;
	long timeout_ms;
	long long start_ms;
	bool in_step;
};

/* spf_eval.c */
void spf_eval_trace(struct spf_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A permerror or temperror ends the check (while building exp= it only drops the explanation). */
void spf_eval_error(struct spf_check *c, enum spf_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool spf_eval_step(struct spf_check *c);
struct frame *spf_eval_top(struct spf_check *c);
int spf_eval_expand(struct spf_check *c, const char *spec, int flags, char **out);
void spf_eval_start_ptr(struct spf_check *c, bool for_p, const char *target);

/* spf_lookup.c: batches of DNS lookups whose answers the step loop consumes */
void spf_lookup_start(struct spf_check *c, enum op op, char **names, size_t n, int type);
void spf_lookup_one(struct spf_check *c, enum op op, const char *name, int type);
void spf_lookup_names(struct spf_check *c, enum op op, struct slot *from, size_t n);
void spf_lookup_free(struct spf_check *c);
char *spf_lookup_name(const char *s);
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
