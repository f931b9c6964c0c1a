/*
 * spf_lookup - the evaluator's DNS lookups.  Every wait of a check is a
 * batch of one or more queries (the addresses of all MX hosts go out
 * together); callbacks only store the answer, the step loop consumes the
 * batch once the last answer is in, in the order a sequential evaluator
 * would have seen them.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf.h"
#include "spf_eval.h"
#include "spf_macro.h"
#include "spf_record.h"

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
void spf_lookup_free(struct spf_check *c)
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
	spf_eval_trace(c, "dns %s %s -> %s ttl=%u%s%s%s", type_name(s->type), s->name, dns_status_str(s->st),
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
		spf_eval_step(c);
}

/*
 * Start lookups of names[0..n) with the given type.  Names that cannot be
 * queried (empty or long labels) are answered as empty without a query,
 * as pyspf does, and do not count as void (see slot_void).
 */
void spf_lookup_start(struct spf_check *c, enum op op, char **names, size_t n, int type)
{
	c->op = op;
	c->slots = calloc(n ? n : 1, sizeof(*c->slots));
	if (c->slots == NULL) {
		for (size_t k = 0; k < n; k++)
			free(names[k]);
		spf_eval_error(c, SPF_TEMPERROR, "Out of memory");
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
		spf_eval_error(c, SPF_TEMPERROR, "DNS Error: exceeded max query lookup time");
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
			spf_eval_trace(c, "dns %s %s: not a valid name, not queried", type_name(type), s->name);
			continue;
		}
		s->sent = true;
		c->queries++;
		spf_eval_trace(c, "dns query %s %s", type_name(type), s->name);
		s->q = dns_query(c->dns, s->name, type, on_answer, s);
	}
}

/* Name in lower case, without one trailing dot, non-ASCII labels as IDNA. */
char *spf_lookup_name(const char *s)
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

void spf_lookup_one(struct spf_check *c, enum op op, const char *name, int type)
{
	char *nm = spf_lookup_name(name);
	if (nm == NULL) {
		spf_eval_error(c, SPF_TEMPERROR, "Out of memory");
		return;
	}
	spf_lookup_start(c, op, &nm, 1, type);
}

bool spf_lookup_error(const struct slot *s)
{
	return s->st == DNS_S_TIMEOUT || s->st == DNS_S_ERROR ||
	       (s->st == DNS_S_SERVFAIL && !s->c->servfail_void);
}

/* DNS failure of a slot -> temperror; returns true if it ended the check. */
bool spf_lookup_failed(struct spf_check *c, const struct slot *s)
{
	switch (s->st) {
	case DNS_S_OK:
	case DNS_S_NODATA:
	case DNS_S_NXDOMAIN:
		return false;
	case DNS_S_SERVFAIL:
		if (c->servfail_void)
			return false;
		spf_eval_error(c, SPF_TEMPERROR, "DNS Error: SERVFAIL  RCODE: 2");
		return true;
	case DNS_S_TIMEOUT:
		spf_eval_error(c, SPF_TEMPERROR, "DNS Timeout");
		return true;
	case DNS_S_ERROR:
		spf_eval_error(c, SPF_TEMPERROR, "DNS Error: resolver failure");
		return true;
	}
	return false;
}

/* An empty answer counts as void (if it was queried); true if the limit ended the check. */
bool spf_lookup_void(struct spf_check *c, const struct slot *s)
{
	if (s->n > 0 || !s->sent)
		return false;
	c->voids++;
	spf_eval_trace(c, "void lookup %u (limit %d)", c->voids, c->void_limit);
	if ((int)c->voids > c->void_limit) {
		spf_eval_error(c, SPF_PERMERROR, "Void lookup limit of %d exceeded", c->void_limit);
		return true;
	}
	return false;
}

bool spf_lookup_match(const struct spf_check *c, const struct slot *s, int bits)
{
	size_t alen = c->cl.v6 ? 16 : 4;
	for (size_t k = 0; k < s->n; k++)
		if (s->rr[k].len == alen && spf_prefix_match(c->cl.addr, s->rr[k].data, bits))
			return true;
	return false;
}

/* Start the address lookups of a list of names (MX exchanges, PTR names). */
void spf_lookup_names(struct spf_check *c, enum op op, struct slot *from, size_t n)
{
	char **names = calloc(n ? n : 1, sizeof(*names));
	if (names == NULL) {
		spf_eval_error(c, SPF_TEMPERROR, "Out of memory");
		return;
	}
	for (size_t k = 0; k < n; k++) {
		names[k] = spf_lookup_name((const char *)from->rr[k].data);
		if (names[k] == NULL) {
			for (size_t j = 0; j < k; j++)
				free(names[j]);
			free(names);
			spf_eval_error(c, SPF_TEMPERROR, "Out of memory");
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
	spf_lookup_start(c, op, names, n, c->cl.v6 ? DNS_T_AAAA : DNS_T_A);
	free(names);
}
