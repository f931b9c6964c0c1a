/*
 * spf_eval - RFC 7208 check_host() as an explicit state machine.
 *
 * include and redirect push or replace frames on a small stack instead of
 * recursing, and every DNS wait is a "batch" of one or more queries that
 * the step loop resumes when the last answer is in.  dns_query() may
 * answer synchronously (cache hits), so callbacks only record the answer;
 * the step loop does the work, which keeps the C stack flat.
 *
 * Counting follows pyspf, which the policy layer must match: lookups are
 * counted when a DNS-causing term is about to query (redirect= when the
 * record is read), void answers everywhere except for exp=, and the
 * answers of parallel lookups are consumed in the order a sequential
 * evaluator would have seen them.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "spf.h"
#include "spf_eval.h"
#include "spf_macro.h"
#include "spf_record.h"

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
	const char *mech_text;
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

static void trace(struct spf_check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void trace(struct spf_check *c, const char *fmt, ...)
{
	if (c->trace == NULL)
		return;
	char line[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->trace(c->trace_arg, line);
}

static const char *type_name(int t)
{
	switch (t) {
	case DNS_T_A: return "A";
	case DNS_T_AAAA: return "AAAA";
	case DNS_T_MX: return "MX";
	case DNS_T_PTR: return "PTR";
	case DNS_T_TXT: return "TXT";
	}
	return "?";
}

/* ---- outcome ---- */

static void finish(struct spf_check *c, enum spf_result r)
{
	c->result = r;
	c->phase = PH_END;
	c->finished = true;
}

/* A permerror or temperror ends the check (but not while building exp=). */
static void error(struct spf_check *c, enum spf_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void error(struct spf_check *c, enum spf_result r, const char *fmt, ...)
{
	char msg[PROBLEM_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->in_exp) {
		trace(c, "explanation abandoned: %s", msg);
		c->finished = true;
		c->phase = PH_END;
		return;
	}
	/* a problem text goes into a one-line reply: no control characters */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	snprintf(c->problem, sizeof(c->problem), "%s", msg);
	c->has_problem = true;
	c->mech_text = NULL;
	trace(c, "%s: %s", spf_result_word(r), msg);
	finish(c, r);
}

/* ---- batches ---- */

static void slots_free(struct spf_check *c)
{
	for (size_t k = 0; k < c->nslots; k++) {
		struct slot *s = &c->slots[k];
		if (s->q)
			dns_cancel(s->q);
		for (size_t j = 0; j < s->n; j++)
			free(s->rr[j].data);
		free(s->rr);
		free(s->name);
	}
	free(c->slots);
	c->slots = NULL;
	c->nslots = c->pending = 0;
	c->op = OP_NONE;
}

static bool step(struct spf_check *c);

static void trace_answer(struct spf_check *c, const struct slot *s)
{
	if (c->trace == NULL)
		return;
	char buf[900];
	size_t n = 0;
	buf[0] = '\0';
	for (size_t k = 0; k < s->n && n < sizeof(buf) - 1; k++) {
		const struct rrcopy *r = &s->rr[k];
		const char *sep = k ? ", " : "";
		if (s->type == DNS_T_A && r->len == 4) {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%u.%u.%u.%u", sep, r->data[0],
					      r->data[1], r->data[2], r->data[3]);
		} else if (s->type == DNS_T_AAAA && r->len == 16) {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", sep);
			for (int j = 0; j < 16 && n < sizeof(buf) - 1; j += 2)
				n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%x", j ? ":" : "",
						      (unsigned)(r->data[j] << 8 | r->data[j + 1]));
		} else if (s->type == DNS_T_MX) {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%u %s", sep, r->pref,
					      (const char *)r->data);
		} else {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\"%.*s\"", sep,
					      (int)(r->len > 400 ? 400 : r->len), (const char *)r->data);
		}
	}
	trace(c, "dns %s %s -> %s ttl=%u%s%s%s", type_name(s->type), s->name, dns_status_str(s->st),
	      (unsigned)s->ttl, s->from_cache ? " (cache)" : "", s->n ? ": " : "", buf);
}

static void on_answer(void *arg, const struct dns_answer *ans)
{
	struct slot *s = arg;
	struct spf_check *c = s->c;

	s->q = NULL;
	s->done = true;
	s->st = ans->status;
	s->from_cache = ans->from_cache;
	s->ttl = ans->ttl;
	if (ans->from_cache)
		c->cache_hits++;
	if (ans->status == DNS_S_OK && ans->n > 0) {
		s->rr = calloc(ans->n, sizeof(*s->rr));
		if (s->rr == NULL) {
			s->st = DNS_S_ERROR;
		} else {
			for (size_t k = 0; k < ans->n; k++) {
				const struct dns_rr *r = &ans->rr[k];
				struct rrcopy *d = &s->rr[s->n];
				d->data = malloc(r->len + 1);
				if (d->data == NULL) {
					s->st = DNS_S_ERROR;
					break;
				}
				if (r->len)
					memcpy(d->data, r->data, r->len);
				d->data[r->len] = '\0';
				d->len = r->len;
				d->first_len = r->first_len;
				d->pref = r->pref;
				s->n++;
			}
		}
	}
	trace_answer(c, s);
	c->pending--;
	if (c->pending == 0 && !c->in_step)
		step(c);
}

/*
 * Start lookups of names[0..n) with the given type.  Names that cannot be
 * queried (empty or long labels) are answered as empty without a query,
 * as pyspf does, and do not count as void (see slot_void).
 */
static void batch_start(struct spf_check *c, enum op op, char **names, size_t n, int type)
{
	c->op = op;
	c->slots = calloc(n ? n : 1, sizeof(*c->slots));
	if (c->slots == NULL) {
		for (size_t k = 0; k < n; k++)
			free(names[k]);
		error(c, SPF_TEMPERROR, "Out of memory");
		return;
	}
	c->nslots = n;
	c->pending = 0;
	for (size_t k = 0; k < n; k++) {
		struct slot *s = &c->slots[k];
		s->c = c;
		s->name = names[k];
		s->type = type;
	}
	if (c->timeout_ms < 0) {
		error(c, SPF_TEMPERROR, "DNS Error: exceeded max query lookup time");
		return;
	}
	/* count first: a synchronous answer must not see pending reach 0 early */
	for (size_t k = 0; k < n; k++)
		if (spf_name_queryable(c->slots[k].name))
			c->pending++;
	for (size_t k = 0; k < n; k++) {
		struct slot *s = &c->slots[k];
		if (!spf_name_queryable(s->name)) {
			s->done = true;
			s->st = DNS_S_NXDOMAIN;
			trace(c, "dns %s %s: not a valid name, not queried", type_name(type), s->name);
			continue;
		}
		s->sent = true;
		c->queries++;
		trace(c, "dns query %s %s", type_name(type), s->name);
		s->q = dns_query(c->dns, s->name, type, on_answer, s);
	}
}

/* Name in lower case, without one trailing dot, non-ASCII labels as IDNA. */
static char *dns_name(const char *s)
{
	char *r = spf_idna_name(s);
	if (r == NULL)
		return NULL;
	size_t n = strlen(r);
	if (n > 0 && r[n - 1] == '.')
		r[--n] = '\0';
	for (size_t k = 0; k < n; k++)
		r[k] = (char)tolower((unsigned char)r[k]);
	return r;
}

static void batch_one(struct spf_check *c, enum op op, const char *name, int type)
{
	char *nm = dns_name(name);
	if (nm == NULL) {
		error(c, SPF_TEMPERROR, "Out of memory");
		return;
	}
	batch_start(c, op, &nm, 1, type);
}

static bool dns_error(const struct slot *s)
{
	return s->st == DNS_S_TIMEOUT || s->st == DNS_S_ERROR ||
	       (s->st == DNS_S_SERVFAIL && !s->c->servfail_void);
}

/* DNS failure of a slot -> temperror; returns true if it ended the check. */
static bool slot_failed(struct spf_check *c, const struct slot *s)
{
	switch (s->st) {
	case DNS_S_OK:
	case DNS_S_NODATA:
	case DNS_S_NXDOMAIN:
		return false;
	case DNS_S_SERVFAIL:
		if (c->servfail_void)
			return false;
		error(c, SPF_TEMPERROR, "DNS Error: SERVFAIL  RCODE: 2");
		return true;
	case DNS_S_TIMEOUT:
		error(c, SPF_TEMPERROR, "DNS Timeout");
		return true;
	case DNS_S_ERROR:
		error(c, SPF_TEMPERROR, "DNS Error: %s", dns_status_str(s->st));
		return true;
	}
	return false;
}

/* An empty answer counts as void (if it was queried); true if the limit ended the check. */
static bool slot_void(struct spf_check *c, const struct slot *s)
{
	if (s->n > 0 || !s->sent)
		return false;
	c->voids++;
	trace(c, "void lookup %u (limit %d)", c->voids, c->void_limit);
	if ((int)c->voids > c->void_limit) {
		error(c, SPF_PERMERROR, "Void lookup limit of %d exceeded", c->void_limit);
		return true;
	}
	return false;
}

static bool addr_match(const struct spf_check *c, const struct slot *s, int bits)
{
	size_t alen = c->cl.v6 ? 16 : 4;
	for (size_t k = 0; k < s->n; k++)
		if (s->rr[k].len == alen && spf_prefix_match(c->cl.addr, s->rr[k].data, bits))
			return true;
	return false;
}

/* ---- frames ---- */

static struct frame *top(struct spf_check *c)
{
	return &c->stack[c->depth - 1];
}

static void frame_clear(struct frame *f)
{
	free(f->domain);
	free(f->include_target);
	spf_record_free(f->rec);
	memset(f, 0, sizeof(*f));
}

static void frame_result(struct spf_check *c, enum spf_result r, const struct spf_term *t);

static int push_frame(struct spf_check *c, enum frame_kind kind, const char *domain)
{
	if (c->depth >= MAX_FRAMES) {
		error(c, SPF_PERMERROR, "Too many levels of recursion");
		return -1;
	}
	struct frame *f = &c->stack[c->depth];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->domain = strdup(domain);
	if (f->domain == NULL) {
		error(c, SPF_TEMPERROR, "Out of memory");
		return -1;
	}
	c->depth++;
	c->phase = PH_FETCH;
	return 0;
}

static bool labels_ok(const char *d)
{
	/* pyspf's dns_spf(): any empty or over-long label means no record */
	size_t lab = 0;
	if (*d == '\0')
		return false;
	for (; *d; d++) {
		if (*d == '.') {
			if (lab == 0)
				return false;
			lab = 0;
		} else if (++lab > 63) {
			return false;
		}
	}
	return lab > 0;
}

/* The frame's domain has no SPF record. */
static void frame_no_record(struct spf_check *c)
{
	struct frame *f = top(c);
	if (f->redirected) {
		error(c, SPF_PERMERROR, "redirect domain has no SPF record: %s", f->domain);
		return;
	}
	if (f->kind == FR_TOP) {
		trace(c, "no SPF record for %s", f->domain);
		finish(c, SPF_NONE);
		return;
	}
	frame_result(c, SPF_NONE, NULL);
}

static void fetch_record(struct spf_check *c)
{
	struct frame *f = top(c);
	if (!labels_ok(f->domain)) {
		trace(c, "%s: not a valid domain name, no record", f->domain);
		frame_no_record(c);
		return;
	}
	batch_one(c, OP_RECORD, f->domain, DNS_T_TXT);
}

static void got_record(struct spf_check *c)
{
	struct slot *s = &c->slots[0];
	struct frame *f = top(c);

	if (slot_failed(c, s))
		return;
	if (!c->top_fetched) {
		c->top_fetched = true;
		if (s->n > 0) {
			c->first_txt_len = s->rr[0].first_len <= s->rr[0].len ? s->rr[0].first_len : 0;
			c->first_txt = malloc(c->first_txt_len + 1);
			if (c->first_txt) {
				memcpy(c->first_txt, s->rr[0].data, c->first_txt_len);
				c->first_txt[c->first_txt_len] = '\0';
			}
		}
	}
	if (slot_void(c, s))
		return;
	const struct rrcopy *spf = NULL;
	for (size_t k = 0; k < s->n; k++) {
		if (!spf_record_is_spf1((const char *)s->rr[k].data, s->rr[k].len))
			continue;
		if (spf) {
			error(c, SPF_PERMERROR, "Two or more type TXT spf records found.");
			return;
		}
		spf = &s->rr[k];
	}
	if (spf == NULL) {
		frame_no_record(c);
		return;
	}
	for (size_t k = 0; k < spf->len; k++) {
		if (spf->data[k] >= 0x80) {
			char repr[PROBLEM_LEN - 40];
			spf_bytes_repr(repr, sizeof(repr), spf->data, spf->len);
			error(c, SPF_PERMERROR, "Non-ascii characters found: %s", repr);
			return;
		}
	}
	trace(c, "record %s: %.*s", f->domain, (int)(spf->len > 800 ? 800 : spf->len),
	      (const char *)spf->data);
	char err[PROBLEM_LEN];
	struct spf_record *rec;
	if (spf_record_parse((const char *)spf->data, spf->len, f->domain, &rec, err, sizeof(err)) < 0) {
		error(c, SPF_PERMERROR, "%s", err);
		return;
	}
	spf_record_free(f->rec);
	f->rec = rec;
	f->ti = 0;
	c->phase = PH_TERMS;
	if (rec->redirect) {
		/* pyspf counts redirect= when it reads the record, used or not */
		c->lookups++;
		trace(c, "redirect= counts as lookup %u", c->lookups);
		if ((int)c->lookups > c->lookup_limit)
			error(c, SPF_PERMERROR, "Too many DNS lookups");
	}
}

/*
 * Expand a domain-spec (NULL = the current domain).  Returns 1 with *out,
 * 0 when %{p} is needed first (the PTR lookups were started), -1 on error.
 */
static void start_ptr(struct spf_check *c, bool for_p, const char *target);

static int expand_domain(struct spf_check *c, const char *spec, int flags, char **out)
{
	struct frame *f = top(c);
	struct spf_macro_vars v = {
		.s = c->sender, .l = c->local, .o = c->odomain, .d = f->domain, .i = c->cl.i,
		.p = c->p_value, .v = c->cl.v6 ? "ip6" : "in-addr", .h = c->helo, .c = c->cl.c,
		.r = c->receiver, .t = c->tstamp,
	};
	char err[PROBLEM_LEN];
	if (spec == NULL)
		spec = f->domain;
	int r = spf_macro_expand(spec, strlen(spec), &v, flags, out, err, sizeof(err));
	if (r == SPF_MACRO_NEED_P) {
		trace(c, "%%{p} needed: validating the client's PTR names");
		start_ptr(c, true, NULL);
		return 0;
	}
	if (r != SPF_MACRO_OK) {
		error(c, SPF_PERMERROR, "%s", err);
		return -1;
	}
	return 1;
}

static void start_ptr(struct spf_check *c, bool for_p, const char *target)
{
	c->ptr_for_p = for_p;
	free(c->ptr_target);
	c->ptr_target = target ? strdup(target) : NULL;
	batch_one(c, OP_PTR, c->cl.rev, DNS_T_PTR);
}

static bool count_lookup(struct spf_check *c)
{
	c->lookups++;
	if ((int)c->lookups > c->lookup_limit) {
		error(c, SPF_PERMERROR, "Too many DNS lookups");
		return false;
	}
	return true;
}

static const char *mech_name(enum spf_mech m)
{
	switch (m) {
	case SPF_MECH_ALL: return "all";
	case SPF_MECH_INCLUDE: return "include";
	case SPF_MECH_A: return "a";
	case SPF_MECH_MX: return "mx";
	case SPF_MECH_PTR: return "ptr";
	case SPF_MECH_IP4: return "ip4";
	case SPF_MECH_IP6: return "ip6";
	case SPF_MECH_EXISTS: return "exists";
	}
	return "?";
}

static void redirect(struct spf_check *c)
{
	struct frame *f = top(c);
	char *target;
	int r = expand_domain(c, f->rec->redirect, 0, &target);
	if (r <= 0)
		return;
	if (target[0] == '\0') {
		free(target);
		error(c, SPF_PERMERROR, "redirect has empty domain:");
		return;
	}
	trace(c, "redirect=%s -> %s", f->rec->redirect, target);
	spf_record_free(f->rec);
	f->rec = NULL;
	free(f->domain);
	f->domain = target;
	f->ti = 0;
	f->redirected = true;
	c->phase = PH_FETCH;
}

/* Evaluate terms of the top frame until one needs DNS or decides. */
static void eval_terms(struct spf_check *c)
{
	struct frame *f = top(c);

	while (!c->finished && c->op == OP_NONE && c->phase == PH_TERMS && top(c) == f) {
		if (f->ti >= f->rec->nterms) {
			if (f->rec->redirect) {
				redirect(c);
				return;
			}
			trace(c, "no term matched in %s: neutral", f->domain);
			frame_result(c, SPF_NEUTRAL, NULL);
			return;
		}
		const struct spf_term *t = &f->rec->terms[f->ti];
		trace(c, "term %s (%s, lookups %u/%d, voids %u/%d)", t->text, f->domain, c->lookups,
		      c->lookup_limit, c->voids, c->void_limit);
		switch (t->mech) {
		case SPF_MECH_ALL:
			frame_result(c, t->result, t);
			return;
		case SPF_MECH_IP4:
			if (!c->cl.v6 && spf_prefix_match(c->cl.addr, t->ip, t->cidr4)) {
				frame_result(c, t->result, t);
				return;
			}
			f->ti++;
			continue;
		case SPF_MECH_IP6:
			if (c->cl.v6 && spf_prefix_match(c->cl.addr, t->ip, t->cidr6)) {
				frame_result(c, t->result, t);
				return;
			}
			f->ti++;
			continue;
		default:
			break;
		}
		char *target;
		if (expand_domain(c, t->domain, 0, &target) <= 0)
			return;
		if (target[0] == '\0') {
			free(target);
			error(c, SPF_PERMERROR, "empty domain:: %s", t->text);
			return;
		}
		if (!count_lookup(c)) {
			free(target);
			return;
		}
		trace(c, "%s -> %s (lookup %u)", mech_name(t->mech), target, c->lookups);
		switch (t->mech) {
		case SPF_MECH_INCLUDE:
			if (strcasecmp(target, f->domain) == 0) {
				free(target);
				if (strcmp(t->text, "include") == 0)
					error(c, SPF_PERMERROR, "include mechanism missing domain: %s", t->text);
				else
					error(c, SPF_PERMERROR, "include has trivial recursion: %s", t->text);
				return;
			}
			if (push_frame(c, FR_INCLUDE, target) == 0)
				top(c)->include_target = target;
			else
				free(target);
			return;
		case SPF_MECH_A:
			batch_one(c, OP_A, target, c->cl.v6 ? DNS_T_AAAA : DNS_T_A);
			break;
		case SPF_MECH_EXISTS:
			batch_one(c, OP_EXISTS, target, DNS_T_A);
			break;
		case SPF_MECH_MX:
			batch_one(c, OP_MX, target, DNS_T_MX);
			break;
		case SPF_MECH_PTR:
			start_ptr(c, false, target);
			break;
		default:
			break;
		}
		free(target);
		return;
	}
}

/*
 * The top frame decided r (t = the deciding term, NULL for the default
 * neutral).  Pops include frames; the top-level result goes to PH_EXP.
 */
static void frame_result(struct spf_check *c, enum spf_result r, const struct spf_term *t)
{
	for (;;) {
		struct frame *f = top(c);
		if (f->kind == FR_TOP) {
			c->result = r;
			c->mech_text = t ? t->text : NULL;
			free(c->mechanism);
			c->mechanism = t ? strdup(t->text) : NULL;
			trace(c, "decided by %s: %s", t ? t->text : "(default)", spf_result_word(r));
			c->phase = PH_EXP;
			return;
		}
		char *target = f->include_target;
		f->include_target = NULL;
		frame_clear(f);
		c->depth--;
		struct frame *p = top(c);
		const struct spf_term *it = &p->rec->terms[p->ti];
		trace(c, "include:%s gave %s", target ? target : "?", spf_result_word(r));
		if (r == SPF_PASS) {
			free(target);
			r = it->result;
			t = it;
			continue;
		}
		if (r == SPF_NONE) {
			error(c, SPF_PERMERROR, "No valid SPF record for included domain: %s: %s",
			      target ? target : "", it->text);
			free(target);
			return;
		}
		free(target);
		p->ti++;
		c->phase = PH_TERMS;
		return;
	}
}

/* ---- explanation ---- */

static bool exp_text_ok(const struct rrcopy *r)
{
	for (size_t k = 0; k < r->len; k++)
		if (r->data[k] < 0x20 || r->data[k] >= 0x7f)
			return false;
	return true;
}

static void set_default_exp(struct spf_check *c)
{
	if (c->default_exp == NULL)
		return;
	struct frame *f = top(c);
	struct spf_macro_vars v = {
		.s = c->sender, .l = c->local, .o = c->odomain, .d = f->domain, .i = c->cl.i,
		.p = c->p_value ? c->p_value : "unknown", .v = c->cl.v6 ? "ip6" : "in-addr",
		.h = c->helo, .c = c->cl.c, .r = c->receiver, .t = c->tstamp,
	};
	char err[256];
	char *out;
	if (spf_macro_expand(c->default_exp, strlen(c->default_exp), &v, SPF_MACRO_EXP, &out, err,
			     sizeof(err)) == SPF_MACRO_OK)
		c->explanation = out;
	else
		c->explanation = strdup(c->default_exp);
	c->exp_from_record = false;
}

static void do_exp(struct spf_check *c)
{
	struct frame *f = top(c);
	if ((c->result != SPF_FAIL && c->result != SPF_SOFTFAIL)) {
		c->finished = true;
		c->phase = PH_END;
		return;
	}
	c->in_exp = true;
	if (f->rec == NULL || f->rec->exp == NULL) {
		set_default_exp(c);
		c->finished = true;
		c->phase = PH_END;
		return;
	}
	char *target;
	int r = expand_domain(c, f->rec->exp, 0, &target);
	if (r <= 0) {
		if (r < 0)
			set_default_exp(c);
		return;
	}
	trace(c, "exp=%s -> %s", f->rec->exp, target);
	batch_one(c, OP_EXP, target, DNS_T_TXT);
	free(target);
}

static void got_exp(struct spf_check *c)
{
	struct slot *s = &c->slots[0];
	struct frame *f = top(c);
	c->finished = true;
	c->phase = PH_END;
	if (s->st != DNS_S_OK || s->n != 1 || !exp_text_ok(&s->rr[0])) {
		trace(c, "explanation unusable (%s, %zu records)", dns_status_str(s->st), s->n);
		set_default_exp(c);
		return;
	}
	struct spf_macro_vars v = {
		.s = c->sender, .l = c->local, .o = c->odomain, .d = f->domain, .i = c->cl.i,
		.p = c->p_value, .v = c->cl.v6 ? "ip6" : "in-addr", .h = c->helo, .c = c->cl.c,
		.r = c->receiver, .t = c->tstamp,
	};
	char err[256];
	char *out;
	int r = spf_macro_expand((const char *)s->rr[0].data, s->rr[0].len, &v, SPF_MACRO_EXP, &out,
				 err, sizeof(err));
	if (r == SPF_MACRO_NEED_P) {
		/* fetch %{p}, then come back here through PH_EXP */
		c->finished = false;
		c->phase = PH_EXP;
		slots_free(c);
		start_ptr(c, true, NULL);
		return;
	}
	if (r != SPF_MACRO_OK) {
		trace(c, "explanation unusable: %s", err);
		set_default_exp(c);
		return;
	}
	/* pyspf cuts one leading "label" off any expansion over 253 characters,
	 * explanations included; the reject text must match it */
	char *dot = strchr(out, '.');
	if (strlen(out) > 253 && dot)
		memmove(out, dot + 1, strlen(dot + 1) + 1);
	trace(c, "explanation: %s", out);
	c->explanation = out;
	c->exp_from_record = true;
}

/* ---- answers ---- */

static int mx_cmp(const void *a, const void *b)
{
	const struct rrcopy *x = a, *y = b;
	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return strcmp((const char *)x->data, (const char *)y->data);
}

static const struct spf_term *cur_term(struct spf_check *c)
{
	struct frame *f = top(c);
	return &f->rec->terms[f->ti];
}

static void term_matched(struct spf_check *c, bool match)
{
	const struct spf_term *t = cur_term(c);
	if (match) {
		frame_result(c, t->result, t);
	} else {
		top(c)->ti++;
		c->phase = PH_TERMS;
	}
}

/* Start the address lookups of a list of names (MX exchanges, PTR names). */
static void addr_batch(struct spf_check *c, enum op op, struct slot *from, size_t n)
{
	char **names = calloc(n ? n : 1, sizeof(*names));
	if (names == NULL) {
		error(c, SPF_TEMPERROR, "Out of memory");
		return;
	}
	for (size_t k = 0; k < n; k++) {
		names[k] = dns_name((const char *)from->rr[k].data);
		if (names[k] == NULL) {
			for (size_t j = 0; j < k; j++)
				free(names[j]);
			free(names);
			error(c, SPF_TEMPERROR, "Out of memory");
			return;
		}
	}
	struct slot *old = c->slots;
	size_t oldn = c->nslots;
	c->slots = NULL;
	c->nslots = 0;
	/* free the previous batch only after its data was copied */
	for (size_t k = 0; k < oldn; k++) {
		for (size_t j = 0; j < old[k].n; j++)
			free(old[k].rr[j].data);
		free(old[k].rr);
		free(old[k].name);
	}
	free(old);
	batch_start(c, op, names, n, c->cl.v6 ? DNS_T_AAAA : DNS_T_A);
	free(names);
}

static bool suffix_match(const char *name, const char *dom)
{
	size_t n = strlen(name), d = strlen(dom);
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == d && strncasecmp(name, dom, d) == 0)
		return true;
	return n > d && name[n - d - 1] == '.' && strncasecmp(name + n - d, dom, d) == 0;
}

static void got_ptr_addrs(struct spf_check *c)
{
	/* names whose forward lookup contains the client, in answer order */
	size_t nv = 0;
	const char *valid[MAX_PTR];
	for (size_t k = 0; k < c->nslots; k++) {
		struct slot *s = &c->slots[k];
		if (dns_error(s)) {
			/* RFC 7208 5.5: a failed A lookup skips that name */
			trace(c, "%s skipped after a DNS error", s->name);
			continue;
		}
		if (slot_void(c, s))
			return;
		if (addr_match(c, s, c->cl.v6 ? 128 : 32) && nv < MAX_PTR)
			valid[nv++] = s->name;
	}
	if (!c->ptr_for_p) {
		bool m = false;
		for (size_t k = 0; k < nv && !m; k++)
			m = suffix_match(valid[k], c->ptr_target);
		trace(c, "ptr:%s %s (%zu validated names)", c->ptr_target, m ? "matches" : "does not match",
		      nv);
		term_matched(c, m);
		return;
	}
	const char *d = top(c)->domain, *p = NULL;
	for (size_t k = 0; k < nv && !p; k++)
		if (strcasecmp(valid[k], d) == 0)
			p = valid[k];
	for (size_t k = 0; k < nv && !p; k++)
		if (suffix_match(valid[k], d))
			p = valid[k];
	if (!p && nv)
		p = valid[0];
	free(c->p_value);
	c->p_value = strdup(p ? p : "unknown");
	if (c->p_value == NULL) {
		error(c, SPF_TEMPERROR, "Out of memory");
		return;
	}
	trace(c, "%%{p} = %s", c->p_value);
	/* resume whatever needed it: the same term, redirect= or exp= */
}

static void process_batch(struct spf_check *c)
{
	enum op op = c->op;
	struct slot *s = &c->slots[0];

	switch (op) {
	case OP_NONE:
		return;
	case OP_RECORD:
		got_record(c);
		break;
	case OP_A:
		if (slot_failed(c, s) || slot_void(c, s))
			break;
		term_matched(c, addr_match(c, s, c->cl.v6 ? cur_term(c)->cidr6 : cur_term(c)->cidr4));
		break;
	case OP_EXISTS:
		if (slot_failed(c, s) || slot_void(c, s))
			break;
		term_matched(c, s->n > 0);
		break;
	case OP_MX:
		if (slot_failed(c, s) || slot_void(c, s))
			break;
		if (s->n > MAX_MX) {
			error(c, SPF_PERMERROR, "More than %d MX records returned", MAX_MX);
			break;
		}
		if (s->n > 1)
			qsort(s->rr, s->n, sizeof(*s->rr), mx_cmp);
		addr_batch(c, OP_MX_ADDRS, s, s->n);
		return;  /* the new batch is running */
	case OP_MX_ADDRS: {
		const struct spf_term *t = cur_term(c);
		bool m = false;
		for (size_t k = 0; k < c->nslots; k++) {
			if (slot_failed(c, &c->slots[k]) || slot_void(c, &c->slots[k]))
				goto out;
			if (addr_match(c, &c->slots[k], c->cl.v6 ? t->cidr6 : t->cidr4))
				m = true;
		}
		term_matched(c, m);
		break;
	}
	case OP_PTR:
		if (dns_error(s)) {
			/* RFC 7208 5.5: no match (and %{p} is "unknown") */
			trace(c, "PTR lookup failed: no validated names");
			slots_free(c);
			got_ptr_addrs(c);
			return;
		}
		if (slot_void(c, s))
			break;
		addr_batch(c, OP_PTR_ADDRS, s, s->n > MAX_PTR ? MAX_PTR : s->n);
		return;
	case OP_PTR_ADDRS:
		got_ptr_addrs(c);
		break;
	case OP_EXP:
		got_exp(c);
		break;
	}
out:
	if (c->op == op)
		slots_free(c);
}

/* ---- driver ---- */

static void complete(struct spf_check *c);

/*
 * Run until the check waits for DNS or ends.  Returns true if it ended
 * (done was called and c is freed).
 */
static bool step(struct spf_check *c)
{
	c->in_step = true;
	while (!c->finished) {
		if (c->op != OP_NONE) {
			if (c->pending > 0)
				break;
			process_batch(c);
			continue;
		}
		switch (c->phase) {
		case PH_FETCH:
			fetch_record(c);
			break;
		case PH_TERMS:
			eval_terms(c);
			break;
		case PH_EXP:
			do_exp(c);
			break;
		case PH_END:
			c->finished = true;
			break;
		}
	}
	c->in_step = false;
	if (c->finished) {
		complete(c);
		return true;
	}
	return false;
}

static void check_free(struct spf_check *c)
{
	slots_free(c);
	dns_timer_stop(c->deadline);
	for (int k = 0; k < c->depth; k++)
		frame_clear(&c->stack[k]);
	free(c->sender);
	free(c->local);
	free(c->odomain);
	free(c->helo);
	free(c->receiver);
	free(c->default_exp);
	free(c->p_value);
	free(c->ptr_target);
	free(c->mechanism);
	free(c->explanation);
	free(c->first_txt);
	free(c);
}

static void complete(struct spf_check *c)
{
	/* cancel outstanding lookups before anyone can reuse the context */
	slots_free(c);
	struct spf_response res = {
		.result = c->result,
		.explanation = (c->result == SPF_FAIL || c->result == SPF_SOFTFAIL) ? c->explanation : NULL,
		.problem = c->has_problem ? c->problem : NULL,
		.mechanism = c->has_problem ? NULL : c->mechanism,
		.exp_from_record = c->exp_from_record,
		.first_txt = c->first_txt,
		.first_txt_len = c->first_txt_len,
		.lookups = c->lookups,
		.voids = c->voids,
		.queries = c->queries,
		.cache_hits = c->cache_hits,
		.elapsed_ms = (long)(dns_now_ms() - c->start_ms),
	};
	trace(c, "result %s%s%s (lookups %u, voids %u, queries %u, cache hits %u, %ld ms)",
	      spf_result_word(res.result), res.problem ? ": " : "", res.problem ? res.problem : "",
	      c->lookups, c->voids, c->queries, c->cache_hits, res.elapsed_ms);
	spf_done_fn *done = c->done;
	void *arg = c->done_arg;
	dns_timer_stop(c->deadline);
	c->deadline = NULL;
	done(arg, &res);
	check_free(c);
}

static void on_deadline(void *arg)
{
	struct spf_check *c = arg;
	c->deadline = NULL;
	trace(c, "whole-check deadline of %ld ms reached", c->timeout_ms);
	if (c->phase == PH_EXP || c->in_exp) {
		/* the result is known; only the explanation is lost */
		c->in_exp = true;
		c->finished = true;
	} else {
		error(c, SPF_TEMPERROR, "DNS Timeout");
	}
	complete(c);
}

static char *dup_or(const char *s, const char *dflt)
{
	return strdup(s ? s : dflt);
}

struct spf_check *spf_check_start(struct dns_ctx *dns, const struct spf_request *req,
				  spf_done_fn *done, void *arg)
{
	struct spf_check *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		struct spf_response res = { .result = SPF_TEMPERROR, .problem = "Out of memory" };
		done(arg, &res);
		return NULL;
	}
	c->dns = dns;
	c->done = done;
	c->done_arg = arg;
	c->trace = req->trace;
	c->trace_arg = req->trace_arg;
	c->void_limit = req->void_limit < 0 ? 2 : req->void_limit;
	c->lookup_limit = req->lookup_limit <= 0 ? 10 : req->lookup_limit;
	c->servfail_void = req->servfail_void;
	c->timeout_ms = req->timeout_ms;
	c->start_ms = dns_now_ms();
	snprintf(c->tstamp, sizeof(c->tstamp), "%lld", (long long)time(NULL));

	/* identities as pyspf's query() sets them up */
	const char *s = req->sender ? req->sender : "";
	const char *h = req->helo ? req->helo : "";
	const char *at = strchr(s, '@');
	if (s[0] == '\0') {
		size_t n = strlen(h) + 12;
		c->sender = malloc(n);
		if (c->sender)
			snprintf(c->sender, n, "postmaster@%s", h);
		c->local = strdup("postmaster");
		c->odomain = strdup(h);
	} else if (at == NULL) {
		c->sender = strdup(s);
		c->local = strdup("postmaster");
		c->odomain = strdup(s);
	} else {
		c->sender = strdup(s);
		c->local = at == s ? strdup("postmaster") : strndup(s, (size_t)(at - s));
		c->odomain = strdup(at + 1);
	}
	c->helo = strdup(h);
	c->receiver = dup_or(req->receiver, "unknown");
	c->default_exp = req->default_exp ? strdup(req->default_exp) : NULL;
	if (!c->sender || !c->local || !c->odomain || !c->helo || !c->receiver ||
	    (req->default_exp && !c->default_exp)) {
		error(c, SPF_TEMPERROR, "Out of memory");
		complete(c);
		return NULL;
	}
	trace(c, "check ip=%s sender=%s helo=%s domain=%s", req->ip ? req->ip : "", c->sender,
	      c->helo, req->domain ? req->domain : c->odomain);

	char err[256];
	if (spf_client_parse(&c->cl, req->ip ? req->ip : "", err, sizeof(err)) < 0) {
		error(c, SPF_PERMERROR, "%s", err);
		complete(c);
		return NULL;
	}
	if (push_frame(c, FR_TOP, req->domain ? req->domain : c->odomain) < 0) {
		complete(c);
		return NULL;
	}
	if (c->timeout_ms > 0)
		c->deadline = dns_timer_start(dns, c->timeout_ms, on_deadline, c);
	if (step(c))
		return NULL;
	return c;
}

void spf_check_cancel(struct spf_check *c)
{
	if (c == NULL)
		return;
	check_free(c);
}
