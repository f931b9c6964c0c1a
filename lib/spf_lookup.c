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
#include "dnscache.h"

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
static void slot_release(struct slot *s)
{
	if (s->q)
		dns_cancel(s->q);
	dns_answer_release(s->held);
	if (s->name != s->nbuf)
		free(s->name);
}

void spf_lookup_free(struct spf_check *c)
{
	for (size_t k = 0; k < c->nslots; k++)
		slot_release(&c->slots[k]);
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
		const struct dns_rr *r = &s->rr[k];
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
	s->rcode = ans->rcode;
	s->from_cache = ans->from_cache;
	s->ttl = ans->ttl;
	if (ans->from_cache)
		c->cache_hits++;
	if (ans->status == DNS_S_OK && ans->n > 0) {
		/* a reference to the shared answer, not a copy of it */
		s->held = dns_answer_hold(ans);
		if (s->held == NULL) {
			s->st = DNS_S_ERROR;
		} else {
			s->rr = ans->rr;
			s->n = ans->n;
		}
	}
	trace_answer(c, s);
	c->pending--;
	if (c->pending == 0 && !c->in_step)
		spf_eval_step(c);
}

/* A batch of n lookups of the given type; the slots' names are set next. */
static struct slot *batch_begin(struct spf_check *c, enum op op)
{
	c->op = op;
	c->slots = c->slot_space;
	c->nslots = c->pending = 0;
	return c->slots;
}

/*
 * The key form of a name into buf (SLOT_NAME bytes; *out is buf, or the
 * heap for a long name): lower case, without one trailing dot, non-ASCII
 * labels as IDNA, with its hash for type, whether it can be queried, and
 * whether the name as given passes pyspf's label check.  For an ASCII
 * name one pass does it all.  false when out of memory.
 */
struct name_key {
	char *name;
	size_t len;
	uint32_t hash;
	bool queryable, labels_ok;
};

static bool name_key(const char *src, int type, char *buf, struct name_key *k)
{
	uint32_t h = DNS_KEY_HASH_INIT(type);
	size_t n = 0, lab = 0;
	bool bad = false;
	char *d = buf;
	unsigned char ch;

	for (;; n++) {
		ch = (unsigned char)src[n];
		/* NUL ends it, non-ASCII or a long name take the slow way */
		if ((unsigned char)(ch - 1) >= 0x7f || n >= SLOT_NAME - 1)
			break;
		ch = (unsigned char)(ch + ((unsigned)(ch - 'A') < 26u ? 'a' - 'A' : 0));
		d[n] = (char)ch;
		h = DNS_KEY_HASH_STEP(h, ch);
		if (ch == '.') {
			bad |= lab == 0 || lab > 63;
			lab = 0;
		} else {
			lab++;
		}
	}
	if (ch == '\0') {
		/* the fast way: ASCII, fits */
		bool dot = n > 0 && d[n - 1] == '.';
		if (dot) {
			/* rare: hash and check again without the dot */
			n--;
			d[n] = '\0';
			h = DNS_KEY_HASH_INIT(type);
			for (size_t j = 0; j < n; j++)
				h = DNS_KEY_HASH_STEP(h, d[j]);
			bad = !spf_name_labels_ok(d);
		} else {
			d[n] = '\0';
			bad |= lab == 0 || lab > 63;
		}
		k->labels_ok = !dot && !bad;
		k->queryable = (n > 0 && d[n - 1] == '.') ? spf_name_queryable(d) : !bad && n <= 253;
	} else {
		char *heap = NULL;
		const char *raw = src;
		bool ascii = true;
		for (const char *p = src; *p && ascii; p++)
			ascii = (unsigned char)*p < 0x80;
		if (!ascii) {
			heap = spf_idna_name(src);
			if (heap == NULL)
				return false;
			src = heap;
		}
		n = strlen(src);
		if (n > 0 && src[n - 1] == '.')
			n--;
		if (n >= SLOT_NAME) {
			d = heap ? heap : malloc(n + 1);
			if (d == NULL)
				return false;
		}
		h = DNS_KEY_HASH_INIT(type);
		for (size_t j = 0; j < n; j++) {
			char x = src[j];
			d[j] = x >= 'A' && x <= 'Z' ? (char)(x + ('a' - 'A')) : x;
			h = DNS_KEY_HASH_STEP(h, d[j]);
		}
		d[n] = '\0';
		if (heap && d != heap)
			free(heap);
		k->labels_ok = spf_name_labels_ok(raw);
		k->queryable = spf_name_queryable(d);
	}
	k->name = d;
	k->len = n;
	k->hash = h;
	return true;
}

static struct slot *slot_init(struct spf_check *c, int type)
{
	struct slot *s = &c->slots[c->nslots++];
	s->c = c;
	s->type = type;
	s->q = NULL;
	s->done = s->sent = s->from_cache = false;
	s->st = DNS_S_OK;
	s->ttl = 0;
	s->n = 0;
	s->rr = NULL;
	s->held = NULL;
	return s;
}

/* The next slot of the batch, named after src.  NULL when out of memory. */
static struct slot *slot_add(struct spf_check *c, const char *src, int type)
{
	struct slot *s = &c->slots[c->nslots];
	struct name_key k;
	if (!name_key(src, type, s->nbuf, &k))
		return NULL;
	slot_init(c, type);
	s->name = k.name;
	s->len = k.len;
	s->hash = k.hash;
	s->queryable = k.queryable;
	s->labels_ok = k.labels_ok;
	return s;
}

void spf_lookup_prepare_key(struct spf_check *c, enum op op, const struct spf_target *tg, int type)
{
	batch_begin(c, op);
	struct slot *s = slot_init(c, type);
	memcpy(s->nbuf, tg->key, tg->keylen + 1);
	s->name = s->nbuf;
	s->len = tg->keylen;
	s->hash = type == DNS_T_TXT ? tg->hash_txt : type == DNS_T_A ? tg->hash_a :
		  type == DNS_T_AAAA ? tg->hash_aaaa : tg->hash_mx;
	s->queryable = tg->queryable;
	s->labels_ok = tg->labels_ok;
}

bool spf_lookup_targets(struct spf_record *rec, const char *domain)
{
	size_t n = rec->nterms, strbytes = 0;
	char **tmp = calloc(n ? 2 * n : 1, sizeof(*tmp));   /* target, key per term */
	size_t *klen = calloc(n ? n : 1, sizeof(*klen));
	struct name_key *kk = calloc(n ? n : 1, sizeof(*kk));
	bool ok = tmp && klen && kk;
	char buf[SLOT_NAME];

	for (size_t i = 0; ok && i < n; i++) {
		const struct spf_term *t = &rec->terms[i];
		if (t->mech != SPF_MECH_INCLUDE && t->mech != SPF_MECH_A && t->mech != SPF_MECH_MX &&
		    t->mech != SPF_MECH_EXISTS)
			continue;
		const char *spec = t->domain ? t->domain : domain;
		size_t sl = strlen(spec);
		if (memchr(spec, '%', sl))
			continue;       /* macros: expanded per check */
		struct spf_macro_vars v = { 0 };
		char err[64], *target;
		if (spf_macro_expand(spec, sl, &v, 0, &target, err, sizeof(err)) != SPF_MACRO_OK)
			continue;       /* the check reports it */
		if (target[0] == '\0' || !name_key(target, DNS_T_TXT, buf, &kk[i]) || kk[i].name != buf) {
			if (kk[i].name && kk[i].name != buf)
				free(kk[i].name);
			kk[i].name = NULL;
			free(target);
			continue;
		}
		klen[i] = kk[i].len;
		tmp[2 * i] = target;
		tmp[2 * i + 1] = strdup(buf);
		if (tmp[2 * i + 1] == NULL)
			ok = false;
		else
			strbytes += strlen(target) + 1 + klen[i] + 1;
	}
	size_t bytes = n * sizeof(struct spf_target) + strbytes;
	struct spf_target *tg = ok ? malloc(bytes ? bytes : 1) : NULL;
	if (tg) {
		char *p = (char *)(tg + n);
		for (size_t i = 0; i < n; i++) {
			memset(&tg[i], 0, sizeof(tg[i]));
			if (tmp[2 * i] == NULL || tmp[2 * i + 1] == NULL)
				continue;
			size_t tl = strlen(tmp[2 * i]) + 1;
			memcpy(p, tmp[2 * i], tl);
			tg[i].name = p;
			p += tl;
			memcpy(p, tmp[2 * i + 1], klen[i] + 1);
			tg[i].key = p;
			p += klen[i] + 1;
			tg[i].keylen = klen[i];
			tg[i].hash_txt = kk[i].hash;
			tg[i].hash_a = dnscache_hash(tg[i].key, klen[i], DNS_T_A);
			tg[i].hash_aaaa = dnscache_hash(tg[i].key, klen[i], DNS_T_AAAA);
			tg[i].hash_mx = dnscache_hash(tg[i].key, klen[i], DNS_T_MX);
			tg[i].queryable = kk[i].queryable;
			tg[i].labels_ok = kk[i].labels_ok;
		}
		rec->targets = tg;
		rec->targets_bytes = bytes;
	}
	for (size_t i = 0; tmp && i < 2 * n; i++)
		free(tmp[i]);
	free(tmp);
	free(klen);
	free(kk);
	return tg != NULL;
}

/*
 * Send the batch's lookups.  Names that cannot be queried (empty or long
 * labels) are answered as empty without a query, as pyspf does, and do not
 * count as void (see spf_lookup_void).
 */
void spf_lookup_send(struct spf_check *c)
{
	size_t n = c->nslots;
	if (c->timeout_ms < 0) {
		spf_eval_error(c, SPF_TEMPERROR, "DNS Error: exceeded max query lookup time");
		return;
	}
	/* count first: a synchronous answer must not see pending reach 0 early */
	for (size_t k = 0; k < n; k++)
		if (c->slots[k].queryable)
			c->pending++;
	for (size_t k = 0; k < n; k++) {
		struct slot *s = &c->slots[k];
		if (!s->queryable) {
			s->done = true;
			s->st = DNS_S_NXDOMAIN;
			spf_eval_trace(c, "dns %s %s: not a valid name, not queried", type_name(s->type), s->name);
			continue;
		}
		s->sent = true;
		c->queries++;
		spf_eval_trace(c, "dns query %s %s", type_name(s->type), s->name);
		/* in key form already, unless it still ends in a dot (dns_query_key sees to that) */
		s->q = dns_query_key(c->dns, s->name, s->len, s->hash, s->type, on_answer, s);
	}
}

bool spf_lookup_prepare(struct spf_check *c, enum op op, const char *name, int type)
{
	batch_begin(c, op);
	if (slot_add(c, name, type) == NULL) {
		c->op = OP_NONE;
		c->slots = NULL;
		spf_eval_error(c, SPF_TEMPERROR, "Out of memory");
		return false;
	}
	return true;
}

void spf_lookup_one(struct spf_check *c, enum op op, const char *name, int type)
{
	if (spf_lookup_prepare(c, op, name, type))
		spf_lookup_send(c);
}

bool spf_lookup_error(const struct slot *s)
{
	return s->st == DNS_S_TIMEOUT || s->st == DNS_S_ERROR || s->st == DNS_S_TCPFAIL ||
	       (s->st == DNS_S_SERVFAIL && !s->c->servfail_void);
}

/* pydns' DNS.Status names of the header's RCODE values */
static const char *const rcode_names[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN",
	"YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
};

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
	case DNS_S_TCPFAIL:
		/* pydns' text: its name of the rcode, two blanks, the number */
		if (s->rcode > 0 && s->rcode < (int)(sizeof(rcode_names) / sizeof(rcode_names[0])))
			spf_eval_error(c, SPF_TEMPERROR, "DNS Error: %s  RCODE: %d",
				       rcode_names[s->rcode], s->rcode);
		else if (s->rcode > 0)  /* no name: pydns writes the number */
			spf_eval_error(c, SPF_TEMPERROR, "DNS Error: %d  RCODE: %d", s->rcode, s->rcode);
		else                    /* an answer that did not parse */
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
void spf_lookup_names(struct spf_check *c, enum op op, const char *const *names, size_t n)
{
	/* the names point into the current batch's answers: keep those until
	 * the names are copied into the new batch's slots */
	struct dnsmsg_result *keep[MAX_BATCH];
	size_t nkeep = 0;
	for (size_t k = 0; k < c->nslots && nkeep < MAX_BATCH; k++) {
		keep[nkeep++] = c->slots[k].held;
		c->slots[k].held = NULL;
	}
	spf_lookup_free(c);
	batch_begin(c, op);
	bool oom = false;
	for (size_t k = 0; k < n && k < MAX_BATCH && !oom; k++)
		oom = slot_add(c, names[k], c->cl.v6 ? DNS_T_AAAA : DNS_T_A) == NULL;
	for (size_t k = 0; k < nkeep; k++)
		dns_answer_release(keep[k]);
	if (oom) {
		spf_eval_error(c, SPF_TEMPERROR, "Out of memory");
		return;
	}
	spf_lookup_send(c);
}
