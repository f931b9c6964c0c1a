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
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "asan.h"
#include "spf.h"
#include "spf_eval.h"
#include "spf_macro.h"
#include "spf_record.h"

void spf_eval_trace_line(struct spf_check *c, const char *fmt, ...)
{
	char line[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->trace(c->trace_arg, line);
}

/* ---- outcome ---- */

static void finish(struct spf_check *c, enum spf_result r)
{
	c->result = r;
	c->phase = PH_END;
	c->finished = true;
}

/* A permerror or temperror ends the check (but not while building exp=). */
void spf_eval_error(struct spf_check *c, enum spf_result r, const char *fmt, ...)
{
	char msg[PROBLEM_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->in_exp) {
		spf_eval_trace(c, "explanation abandoned: %s", msg);
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
	spf_eval_trace(c, "%s: %s", spf_result_word(r), msg);
	finish(c, r);
}

/* ---- frames ---- */

struct frame *spf_eval_top(struct spf_check *c)
{
	return &c->stack[c->depth - 1];
}

static void frame_clear(struct frame *f)
{
	free(f->own_domain);
	free(f->own_target);
	spf_record_free(f->rec);
	f->domain = f->include_target = NULL;
	f->own_domain = f->own_target = NULL;
	f->rec = NULL;
}

static void frame_result(struct spf_check *c, enum spf_result r, const struct spf_term *t);

/*
 * domain is the frame's (for FR_INCLUDE also the include_target); own is
 * what to free of it, NULL if it is someone else's.  own is freed on
 * failure too.
 */
static int push_frame(struct spf_check *c, enum frame_kind kind, const char *domain, char *own)
{
	if (c->depth >= MAX_FRAMES) {
		free(own);
		spf_eval_error(c, SPF_PERMERROR, "Too many levels of recursion");
		return -1;
	}
	struct frame *f = &c->stack[c->depth];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->domain = domain;
	if (kind == FR_INCLUDE) {
		f->include_target = domain;
		f->own_target = own;
	} else {
		f->own_domain = own;
	}
	c->depth++;
	c->phase = PH_FETCH;
	return 0;
}

/* The frame's domain has no SPF record. */
static void frame_no_record(struct spf_check *c)
{
	struct frame *f = spf_eval_top(c);
	if (f->redirected) {
		spf_eval_error(c, SPF_PERMERROR, "redirect domain has no SPF record: %s", f->domain);
		return;
	}
	if (f->kind == FR_TOP) {
		spf_eval_trace(c, "no SPF record for %s", f->domain);
		finish(c, SPF_NONE);
		return;
	}
	frame_result(c, SPF_NONE, NULL);
}

static void fetch_record(struct spf_check *c)
{
	struct frame *f = spf_eval_top(c);
	if (f->tg)
		spf_lookup_prepare_key(c, OP_RECORD, f->tg, DNS_T_TXT);
	else if (!spf_lookup_prepare(c, OP_RECORD, f->domain, DNS_T_TXT))
		return;
	if (!c->slots[0].labels_ok) {
		spf_lookup_free(c);
		spf_eval_trace(c, "%s: not a valid domain name, no record", f->domain);
		frame_no_record(c);
		return;
	}
	spf_lookup_send(c);
}

/*
 * The parse of an answer's SPF record, kept on the (cached) answer itself,
 * so that a popular record is parsed once per TTL and found again without
 * hashing or comparing its text.  A parse depends on the domain too (terms
 * without domain-spec use it), so it is used only for that domain.
 */
struct rec_aux {
	struct spf_record *rec;
	size_t idx;             /* the SPF record among the answer's TXT records */
	char domain[];
};

static void rec_aux_free(void *p)
{
	struct rec_aux *a = p;
	spf_record_free(a->rec);
	free(a);
}

static void rec_attach(struct spf_check *c, struct slot *s, size_t idx, const char *domain,
		       struct spf_record *rec)
{
	size_t dlen = strlen(domain);
	struct rec_aux *a = s->held ? malloc(sizeof(*a) + dlen + 1) : NULL;
	if (a == NULL)
		return;  /* parsed again next time */
	a->rec = rec;
	rec->refs++;
	a->idx = idx;
	memcpy(a->domain, domain, dlen + 1);
	dns_answer_attach(c->dns, s->held, a, rec_aux_free,
			  sizeof(*a) + dlen + 1 + rec->bytes + rec->targets_bytes);
}

static void got_record(struct spf_check *c)
{
	struct slot *s = &c->slots[0];
	struct frame *f = spf_eval_top(c);

	if (spf_lookup_failed(c, s))
		return;
	if (!c->top_fetched) {
		c->top_fetched = true;
		if (s->n > 0) {
			size_t fl = s->rr[0].first_len <= s->rr[0].len ? s->rr[0].first_len : 0;
			c->first_txt_len = fl;
			if (fl == s->rr[0].len) {
				/* the data is NUL-terminated right there */
				c->first_held = s->held;
				c->first_held->refs++;
				c->first_txt = (const char *)s->rr[0].data;
			} else {
				char *t = malloc(fl + 1);
				if (t) {
					memcpy(t, s->rr[0].data, fl);
					t[fl] = '\0';
				}
				c->first_txt = c->first_copy = t;
			}
		}
	}
	if (spf_lookup_void(c, s))
		return;

	const struct dns_rr *spf = NULL;
	struct spf_record *rec = NULL;
	if (s->held && s->held->aux_free == rec_aux_free) {
		const struct rec_aux *a = s->held->aux;
		if (strcmp(a->domain, f->domain) == 0) {
			/* checked and parsed before: one SPF record, ASCII, valid */
			spf = &s->rr[a->idx];
			rec = a->rec;
			rec->refs++;
		}
	}
	if (rec == NULL) {
		for (size_t k = 0; k < s->n; k++) {
			if (!spf_record_is_spf1((const char *)s->rr[k].data, s->rr[k].len))
				continue;
			if (spf) {
				spf_eval_error(c, SPF_PERMERROR, "Two or more type TXT spf records found.");
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
				spf_eval_error(c, SPF_PERMERROR, "Non-ascii characters found: %s", repr);
				return;
			}
		}
	}
	spf_eval_trace(c, "record %s: %.*s", f->domain, (int)(spf->len > 800 ? 800 : spf->len),
	      (const char *)spf->data);
	if (rec == NULL) {
		char err[PROBLEM_LEN];
		if (spf_record_parse((const char *)spf->data, spf->len, f->domain, &rec, err,
				     sizeof(err)) < 0) {
			spf_eval_error(c, SPF_PERMERROR, "%s", err);
			return;
		}
		if (rec->targets == NULL)
			spf_lookup_targets(rec, f->domain);
		rec_attach(c, s, (size_t)(spf - s->rr), f->domain, rec);
	}
	spf_record_free(f->rec);
	f->rec = rec;
	f->ti = 0;
	c->phase = PH_TERMS;
	if (rec->redirect) {
		/* pyspf counts redirect= when it reads the record, used or not */
		c->lookups++;
		spf_eval_trace(c, "redirect= counts as lookup %u", c->lookups);
		if ((int)c->lookups > c->lookup_limit)
			spf_eval_error(c, SPF_PERMERROR, "Too many DNS lookups");
	}
}

/*
 * Expand a domain-spec (NULL = the current domain).  Returns 1 with *out,
 * 0 when %{p} is needed first (the PTR lookups were started), -1 on error.
 */
int spf_eval_expand(struct spf_check *c, const char *spec, int flags, char **out)
{
	struct frame *f = spf_eval_top(c);
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
		spf_eval_trace(c, "%%{p} needed: validating the client's PTR names");
		spf_eval_start_ptr(c, true, NULL);
		return 0;
	}
	if (r != SPF_MACRO_OK) {
		spf_eval_error(c, SPF_PERMERROR, "%s", err);
		return -1;
	}
	return 1;
}

void spf_eval_start_ptr(struct spf_check *c, bool for_p, const char *target)
{
	c->ptr_for_p = for_p;
	free(c->ptr_target);
	c->ptr_target = target ? strdup(target) : NULL;
	spf_lookup_one(c, OP_PTR, c->cl.rev, DNS_T_PTR);
}

static bool count_lookup(struct spf_check *c)
{
	c->lookups++;
	if ((int)c->lookups > c->lookup_limit) {
		spf_eval_error(c, SPF_PERMERROR, "Too many DNS lookups");
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
	struct frame *f = spf_eval_top(c);
	char *target;
	int r = spf_eval_expand(c, f->rec->redirect, 0, &target);
	if (r <= 0)
		return;
	if (target[0] == '\0') {
		free(target);
		spf_eval_error(c, SPF_PERMERROR, "redirect has empty domain:");
		return;
	}
	spf_eval_trace(c, "redirect=%s -> %s", f->rec->redirect, target);
	spf_record_free(f->rec);
	f->rec = NULL;
	free(f->own_domain);
	f->own_domain = target;
	f->domain = target;
	f->tg = NULL;
	f->ti = 0;
	f->redirected = true;
	c->phase = PH_FETCH;
}

static void lookup(struct spf_check *c, enum op op, const char *name, const struct spf_target *tg,
		   int type)
{
	if (tg == NULL) {
		spf_lookup_one(c, op, name, type);
		return;
	}
	spf_lookup_prepare_key(c, op, tg, type);
	spf_lookup_send(c);
}

/* Evaluate terms of the top frame until one needs DNS or decides. */
static void eval_terms(struct spf_check *c)
{
	struct frame *f = spf_eval_top(c);

	while (!c->finished && c->op == OP_NONE && c->phase == PH_TERMS && spf_eval_top(c) == f) {
		if (f->ti >= f->rec->nterms) {
			if (f->rec->redirect) {
				redirect(c);
				return;
			}
			spf_eval_trace(c, "no term matched in %s: neutral", f->domain);
			frame_result(c, SPF_NEUTRAL, NULL);
			return;
		}
		const struct spf_term *t = &f->rec->terms[f->ti];
		spf_eval_trace(c, "term %s (%s, lookups %u/%d, voids %u/%d)", t->text, f->domain, c->lookups,
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
		/* known since the parse, or expanded now */
		const struct spf_target *tg = f->rec->targets ?
			&((const struct spf_target *)f->rec->targets)[f->ti] : NULL;
		const char *target;
		char *own = NULL;
		if (tg && tg->name) {
			target = tg->name;
		} else {
			tg = NULL;
			if (spf_eval_expand(c, t->domain, 0, &own) <= 0)
				return;
			target = own;
		}
		if (target[0] == '\0') {
			free(own);
			spf_eval_error(c, SPF_PERMERROR, "empty domain:: %s", t->text);
			return;
		}
		if (!count_lookup(c)) {
			free(own);
			return;
		}
		spf_eval_trace(c, "%s -> %s (lookup %u)", mech_name(t->mech), target, c->lookups);
		switch (t->mech) {
		case SPF_MECH_INCLUDE:
			if (strcasecmp(target, f->domain) == 0) {
				free(own);
				if (strcmp(t->text, "include") == 0)
					spf_eval_error(c, SPF_PERMERROR, "include mechanism missing domain: %s", t->text);
				else
					spf_eval_error(c, SPF_PERMERROR, "include has trivial recursion: %s", t->text);
				return;
			}
			/* the record of the frame below outlives this one: tg stays valid */
			if (push_frame(c, FR_INCLUDE, target, own) == 0)
				spf_eval_top(c)->tg = tg;
			return;
		case SPF_MECH_A:
			lookup(c, OP_A, target, tg, c->cl.v6 ? DNS_T_AAAA : DNS_T_A);
			break;
		case SPF_MECH_EXISTS:
			lookup(c, OP_EXISTS, target, tg, DNS_T_A);
			break;
		case SPF_MECH_MX:
			lookup(c, OP_MX, target, tg, DNS_T_MX);
			break;
		case SPF_MECH_PTR:
			spf_eval_start_ptr(c, false, target);
			break;
		default:
			break;
		}
		free(own);
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
		struct frame *f = spf_eval_top(c);
		if (f->kind == FR_TOP) {
			c->result = r;
			c->mechanism = t ? t->text : NULL;
			spf_eval_trace(c, "decided by %s: %s", t ? t->text : "(default)", spf_result_word(r));
			c->phase = PH_EXP;
			return;
		}
		const char *target = f->include_target;
		char *own = f->own_target;
		f->own_target = NULL;
		frame_clear(f);
		c->depth--;
		struct frame *p = spf_eval_top(c);
		const struct spf_term *it = &p->rec->terms[p->ti];
		spf_eval_trace(c, "include:%s gave %s", target ? target : "?", spf_result_word(r));
		if (r == SPF_PASS) {
			free(own);
			r = it->result;
			t = it;
			continue;
		}
		if (r == SPF_NONE) {
			spf_eval_error(c, SPF_PERMERROR, "No valid SPF record for included domain: %s: %s",
			      target ? target : "", it->text);
			free(own);
			return;
		}
		free(own);
		p->ti++;
		c->phase = PH_TERMS;
		return;
	}
}

/* ---- answers ---- */

static int mx_cmp(const struct dns_rr *x, const struct dns_rr *y)
{
	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return strcmp((const char *)x->data, (const char *)y->data);
}

/* The exchanges by preference, then name (at most MAX_MX). */
static void mx_names(const struct slot *s, const char **names)
{
	const struct dns_rr *v[MAX_MX];
	for (size_t k = 0; k < s->n; k++) {
		const struct dns_rr *x = &s->rr[k];
		size_t j = k;
		for (; j > 0 && mx_cmp(v[j - 1], x) > 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	for (size_t k = 0; k < s->n; k++)
		names[k] = (const char *)v[k]->data;
}

static const struct spf_term *cur_term(struct spf_check *c)
{
	struct frame *f = spf_eval_top(c);
	return &f->rec->terms[f->ti];
}

static void term_matched(struct spf_check *c, bool match)
{
	const struct spf_term *t = cur_term(c);
	if (match) {
		frame_result(c, t->result, t);
	} else {
		spf_eval_top(c)->ti++;
		c->phase = PH_TERMS;
	}
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
		if (spf_lookup_error(s)) {
			/* RFC 7208 5.5: a failed A lookup skips that name */
			spf_eval_trace(c, "%s skipped after a DNS error", s->name);
			continue;
		}
		if (spf_lookup_void(c, s))
			return;
		if (spf_lookup_match(c, s, c->cl.v6 ? 128 : 32) && nv < MAX_PTR)
			valid[nv++] = s->name;
	}
	if (!c->ptr_for_p) {
		bool m = false;
		for (size_t k = 0; k < nv && !m; k++)
			m = suffix_match(valid[k], c->ptr_target);
		spf_eval_trace(c, "ptr:%s %s (%zu validated names)", c->ptr_target, m ? "matches" : "does not match",
		      nv);
		term_matched(c, m);
		return;
	}
	const char *d = spf_eval_top(c)->domain, *p = NULL;
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
		spf_eval_error(c, SPF_TEMPERROR, "Out of memory");
		return;
	}
	spf_eval_trace(c, "%%{p} = %s", c->p_value);
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
		if (spf_lookup_failed(c, s) || spf_lookup_void(c, s))
			break;
		term_matched(c, spf_lookup_match(c, s, c->cl.v6 ? cur_term(c)->cidr6 : cur_term(c)->cidr4));
		break;
	case OP_EXISTS:
		if (spf_lookup_failed(c, s) || spf_lookup_void(c, s))
			break;
		term_matched(c, s->n > 0);
		break;
	case OP_MX:
		if (spf_lookup_failed(c, s) || spf_lookup_void(c, s))
			break;
		if (s->n > MAX_MX) {
			spf_eval_error(c, SPF_PERMERROR, "More than %d MX records returned", MAX_MX);
			break;
		}
		{
			const char *names[MAX_MX];
			mx_names(s, names);
			spf_lookup_names(c, OP_MX_ADDRS, names, s->n);
		}
		return;  /* the new batch is running */
	case OP_MX_ADDRS: {
		const struct spf_term *t = cur_term(c);
		bool m = false;
		for (size_t k = 0; k < c->nslots; k++) {
			if (spf_lookup_failed(c, &c->slots[k]) || spf_lookup_void(c, &c->slots[k]))
				goto out;
			if (spf_lookup_match(c, &c->slots[k], c->cl.v6 ? t->cidr6 : t->cidr4))
				m = true;
		}
		term_matched(c, m);
		break;
	}
	case OP_PTR:
		if (spf_lookup_error(s)) {
			/* RFC 7208 5.5: no match (and %{p} is "unknown") */
			spf_eval_trace(c, "PTR lookup failed: no validated names");
			spf_lookup_free(c);
			got_ptr_addrs(c);
			return;
		}
		if (spf_lookup_void(c, s))
			break;
		{
			const char *names[MAX_PTR];
			size_t n = s->n > MAX_PTR ? MAX_PTR : s->n;
			for (size_t k = 0; k < n; k++)
				names[k] = (const char *)s->rr[k].data;
			spf_lookup_names(c, OP_PTR_ADDRS, names, n);
		}
		return;
	case OP_PTR_ADDRS:
		got_ptr_addrs(c);
		break;
	case OP_EXP:
		spf_exp_answer(c);
		break;
	}
out:
	if (c->op == op)
		spf_lookup_free(c);
}

/* ---- driver ---- */

static void complete(struct spf_check *c);

/*
 * Run until the check waits for DNS or ends.  Returns true if it ended
 * (done was called and c is freed).
 */
bool spf_eval_step(struct spf_check *c)
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
			spf_exp_start(c);
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

/*
 * Checks are started at the rate of requests: keep a few spare ones
 * rather than ask malloc for a check's several kilobytes each time.  (Not
 * under ASan, which should see every use after free.)
 */
#if PSPF_ASAN
#define CHECKS_KEEP 0
#else
#define CHECKS_KEEP 8
#endif
static struct spf_check *spare_checks;
static int nspare_checks;

static struct spf_check *check_alloc(void)
{
	struct spf_check *c = spare_checks;
	if (c) {
		spare_checks = c->next_free;
		nspare_checks--;
	} else if ((c = malloc(sizeof(*c))) == NULL) {
		return NULL;
	}
	memset(c, 0, offsetof(struct spf_check, stack));
	return c;
}

static void check_free(struct spf_check *c)
{
	spf_lookup_free(c);
	dns_timer_stop(c->deadline);
	for (int k = 0; k < c->depth; k++)
		frame_clear(&c->stack[k]);
	free(c->ids);
	free(c->p_value);
	free(c->ptr_target);
	free(c->explanation);
	free(c->first_copy);
	dns_answer_release(c->first_held);
	if (nspare_checks < CHECKS_KEEP) {
		c->next_free = spare_checks;
		spare_checks = c;
		nspare_checks++;
	} else {
		free(c);
	}
}


static void complete(struct spf_check *c)
{
	/* cancel outstanding lookups before anyone can reuse the context */
	spf_lookup_free(c);
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
	spf_eval_trace(c, "result %s%s%s (lookups %u, voids %u, queries %u, cache hits %u, %ld ms)",
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
	spf_eval_trace(c, "whole-check deadline of %ld ms reached", c->timeout_ms);
	if (c->phase == PH_EXP || c->in_exp) {
		/* the result is known; only the record's explanation is lost */
		c->in_exp = true;
		c->finished = true;
		if (c->explanation == NULL)
			spf_exp_default(c);
	} else {
		spf_eval_error(c, SPF_TEMPERROR, "DNS Timeout");
	}
	complete(c);
}

const char *spf_eval_tstamp(struct spf_check *c)
{
	if (c->tstamp[0] == '\0')
		snprintf(c->tstamp, sizeof(c->tstamp), "%lld", c->tnow);
	return c->tstamp;
}

/* The identities as pyspf's query() sets them up, in one allocation. */
static int set_identity(struct spf_check *c, const struct spf_request *req)
{
	const char *s = req->sender ? req->sender : "";
	const char *h = req->helo ? req->helo : "";
	const char *at = strchr(s, '@');
	size_t hl = strlen(h), sl = strlen(s);
	/* sender (a prefix + a text), local, odomain, helo, receiver, default_exp, domain */
	const char *pre = "", *txt[7];
	size_t len[7];

	if (s[0] == '\0') {
		pre = "postmaster@";
		txt[0] = h, len[0] = hl;
		txt[1] = "postmaster", len[1] = 10;
		txt[2] = h, len[2] = hl;
	} else if (at == NULL) {
		txt[0] = s, len[0] = sl;
		txt[1] = "postmaster", len[1] = 10;
		txt[2] = s, len[2] = sl;
	} else {
		txt[0] = s, len[0] = sl;
		if (at == s)
			txt[1] = "postmaster", len[1] = 10;
		else
			txt[1] = s, len[1] = (size_t)(at - s);
		txt[2] = at + 1, len[2] = sl - (size_t)(at + 1 - s);
	}
	txt[3] = h, len[3] = hl;
	txt[4] = req->receiver ? req->receiver : "unknown", len[4] = strlen(txt[4]);
	txt[5] = req->default_exp, len[5] = txt[5] ? strlen(txt[5]) : 0;
	txt[6] = req->domain, len[6] = txt[6] ? strlen(txt[6]) : 0;
	size_t pl = strlen(pre), total = pl;
	for (int k = 0; k < 7; k++)
		total += len[k] + 1;
	char *p = c->ids = malloc(total);
	if (p == NULL)
		return -1;
	char **dst[7] = { &c->sender, &c->local, &c->odomain, &c->helo, &c->receiver,
			  &c->default_exp, &c->domain };
	for (int k = 0; k < 7; k++) {
		if (txt[k] == NULL)
			continue;
		*dst[k] = p;
		if (k == 0) {
			memcpy(p, pre, pl);
			p += pl;
		}
		memcpy(p, txt[k], len[k]);
		p += len[k];
		*p++ = '\0';
	}
	return 0;
}

struct spf_check *spf_check_start(struct dns_ctx *dns, const struct spf_request *req,
				  spf_done_fn *done, void *arg)
{
	struct spf_check *c = check_alloc();
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
	c->void_limit = req->void_limit;
	c->lookup_limit = req->lookup_limit <= 0 ? 10 : req->lookup_limit;
	c->servfail_void = req->servfail_void;
	c->timeout_ms = req->timeout_ms;
	c->start_ms = dns_now_ms();
	c->tnow = (long long)time(NULL);

	if (set_identity(c, req) < 0) {
		spf_eval_error(c, SPF_TEMPERROR, "Out of memory");
		complete(c);
		return NULL;
	}
	spf_eval_trace(c, "check ip=%s sender=%s helo=%s domain=%s", req->ip ? req->ip : "", c->sender,
	      c->helo, req->domain ? req->domain : c->odomain);

	/* the HELO and MAIL FROM checks of a request share the client: its
	 * forms are worked out once (the parse is pure) */
	static char last_ip[64];
	static struct spf_client last_cl;
	const char *ip = req->ip ? req->ip : "";
	if (last_ip[0] != '\0' && strcmp(ip, last_ip) == 0) {
		c->cl = last_cl;
	} else {
		char err[256];
		if (spf_client_parse(&c->cl, ip, err, sizeof(err)) < 0) {
			spf_eval_error(c, SPF_PERMERROR, "%s", err);
			complete(c);
			return NULL;
		}
		size_t il = strlen(ip);
		if (il < sizeof(last_ip)) {
			memcpy(last_ip, ip, il + 1);
			last_cl = c->cl;
		}
	}
	if (push_frame(c, FR_TOP, req->domain ? c->domain : c->odomain, NULL) < 0) {
		complete(c);
		return NULL;
	}
	if (spf_eval_step(c))
		return NULL;
	/* Only a check that waits for DNS needs its deadline: with every
	 * answer in the cache it has ended by now.  The timer keeps the
	 * deadline counted from the start. */
	if (c->timeout_ms > 0) {
		long long left = c->timeout_ms - (dns_now_ms() - c->start_ms);
		c->deadline = dns_timer_start(dns, left > 0 ? (long)left : 0, on_deadline, c);
	}
	return c;
}

void spf_check_cancel(struct spf_check *c)
{
	if (c == NULL)
		return;
	check_free(c);
}
