/*
 * policy - one policy request from attributes to the action line, as an
 * explicit state machine over the asynchronous DNS work:
 *
 *   START    Mock, receiver form, Per_User, replay from the instance
 *            cache, skip_addresses and Whitelist (no DNS)
 *   WAIT     Domain_Whitelist SPF checks, HELO_Whitelist A/AAAA, the
 *            Domain_Whitelist_PTR lookup, and the HELO and MAIL FROM SPF
 *            checks, all started at once; each completion decrements
 *            `pending`; the request deadline cuts the wait short
 *   DECIDE   policy_decide.c runs the Python order over the results: a
 *            bypass hit wins in list order, then HELO, then MAIL FROM
 *   DONE     done() called once; the check is freed
 *
 * The Python server runs the same steps one after the other; running them
 * together only changes the time taken, never the answer, because the
 * decision looks at the results in the Python order (a HELO reject or
 * defer still wins over anything MAIL FROM gives).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asan.h"
#include "iplist.h"
#include "log.h"
#include "policy.h"
#include "policy_cache.h"
#include "policy_decide.h"
#include "policy_fmt.h"
#include "pystr.h"
#include "spf.h"

#define MAX_OPS 64           /* bypass lookups per request; more entries are ignored (logged) */

struct policy_session {
	struct policy_cache *cache;
	struct policy_check *spare;   /* the last check, kept for the next request */
};

enum op_kind { OP_DW, OP_HW, OP_PTR, OP_HELO, OP_MFROM };

struct op {
	struct policy_check *c;
	enum op_kind kind;
	bool done;
	struct spf_check *spf;
	struct dns_query *q;
	const char *ident;      /* HELO name or sender checked, for the stats line */
};

/*
 * A session keeps its last check object for the next request, and only
 * the part before `pu` is cleared per request: ops[] is large and each op
 * is set up when used.  Every string of the request is in r.arena.
 */
struct policy_check {
	struct policy_session *s;
	struct conf *conf;
	struct dns_ctx *dns;
	policy_done_fn *done;
	void *arg;

	struct pd_req r;
	const char *attr[6];      /* copies: client_address helo_name sender recipient instance queue_id */
	const char *rcv;

	size_t nops;
	int pending;
	bool starting, finished, pu_used;
	struct dns_timer *deadline, *wl_timer;
	struct ip_addr ipa;

	/* bypass results */
	bool dw_pass, hw_hit, ptr_hit;
	const char *ptr_name;
	const char *helo_sender;

	/* not cleared per request */
	struct conf_peruser pu;
	struct op ops[MAX_OPS + 2];
};

struct policy_session *policy_session_new(void)
{
	struct policy_session *s = calloc(1, sizeof *s);

	if (s && !(s->cache = pcache_new(POLICY_CACHE_MAX))) {
		free(s);
		return NULL;
	}
	return s;
}

void policy_session_free(struct policy_session *s)
{
	if (!s)
		return;
	if (s->spare) {
		pd_req_free(&s->spare->r);
		free(s->spare);
	}
	pcache_free(s->cache);
	free(s);
}

/* ---- helpers ----------------------------------------------------------- */

static void check_free(struct policy_check *c)
{
	for (size_t i = 0; i < c->nops; i++) {
		struct op *o = &c->ops[i];

		if (!o->done) {
			if (o->spf)
				spf_check_cancel(o->spf);
			if (o->q)
				dns_cancel(o->q);
		}
	}
	dns_timer_stop(c->deadline);
	dns_timer_stop(c->wl_timer);
	if (c->pu_used)
		conf_peruser_free(&c->pu);
	conf_unref(c->conf);
	/* (not under ASan: it should see a use of the check after its end) */
	if (c->s && !c->s->spare && !PSPF_ASAN) {
		pd_req_reset(&c->r);
		c->s->spare = c;
		return;
	}
	pd_req_free(&c->r);
	free(c);
}

/* A cleared check: the session's spare one, or a new one. */
static struct policy_check *check_new(struct policy_session *s)
{
	struct policy_check *c = s ? s->spare : NULL;
	struct pf_arena keep = { NULL };

	if (c) {
		s->spare = NULL;
		keep = c->r.arena;
	} else if (!(c = malloc(sizeof *c))) {
		return NULL;
	}
	memset(c, 0, offsetof(struct policy_check, pu));
	c->r.arena = keep;
	return c;
}

/* action: from pd_decide/pd_replay or a literal, clean already */
static void answer(struct policy_check *c, const char *action)
{
	if (c->finished)
		return;
	c->finished = true;
	c->done(c->arg, action ? action : "dunno");
}

static bool truthy(const char *s)
{
	return s && *s;
}

/* "<C>" bypass header (X-Comment or AR none) from the raw attributes */
static const char *bypass_header(struct policy_check *c, const char *comment)
{
	const struct conf_py *py = c->r.py;
	char *h = pf_bypass_header(&c->r.arena, strstr(py->header_type, "AR") != NULL, py->authserv_id ? py->authserv_id : "",
				   comment, c->attr[0] ? c->attr[0] : "<UNKNOWN>",
				   c->attr[1] ? c->attr[1] : "<UNKNOWN>", c->attr[2] ? c->attr[2] : "<UNKNOWN>",
				   c->rcv);

	if (h && py->debug_level >= 3)
		log_info("%s", h);
	return h;
}

/* skip_addresses / Whitelist: 1 hit, 0 no hit */
static int netlist(struct policy_check *c, const char *name, const char *list)
{
	const char *bad;
	size_t badlen;
	char why[512];
	int rc;

	if (!truthy(list))   /* DIFFERENCE: an empty skip_addresses is no list (Python crashes) */
		return 0;
	if (c->r.py->debug_level >= 4)
		log_info("%s enabled.", name);
	rc = iplist_match(list, c->r.ip ? c->r.ip : "", &bad, &badlen, why, sizeof why);
	if (rc < 0 && c->r.py->debug_level >= 0)
		log_info("ERROR: %.*s in %s not IP network.  Message: %s. Aborting whitelist processing.",
			 (int)badlen, bad, name, why);
	return rc == 1;
}

static void finish(struct policy_check *c);

static bool kind_pending(const struct policy_check *c, enum op_kind k)
{
	for (size_t i = 0; i < c->nops; i++)
		if (c->ops[i].kind == k && !c->ops[i].done)
			return true;
	return false;
}

/*
 * Is the answer known before every lookup is back?  The Python order
 * decides: a Domain_Whitelist pass wins over everything after it; a
 * HELO_Whitelist hit once Domain_Whitelist is known not to pass; and a
 * HELO reject or defer once no bypass can hit any more, so a dead MAIL
 * FROM domain does not delay a HELO reject (the Python server never
 * looks it up).  The PTR bypass needs its answer, so it always waits.
 */
static bool decided_early(const struct policy_check *c)
{
	if (c->dw_pass)
		return true;
	if (kind_pending(c, OP_DW))
		return false;
	if (c->hw_hit)
		return true;
	if (kind_pending(c, OP_HW) || kind_pending(c, OP_PTR))
		return false;
	return c->r.helo_spf.done && pd_helo_decides(&c->r);
}

static void op_done(struct op *o)
{
	struct policy_check *c = o->c;

	o->done = true;
	o->spf = NULL;
	o->q = NULL;
	c->pending--;
	if (!c->starting && (c->pending == 0 || decided_early(c)))
		finish(c);
}

/* ---- completions ------------------------------------------------------- */

static void spf_done(void *arg, const struct spf_response *res)
{
	struct op *o = arg;
	struct policy_check *c = o->c;

	/* Ours, not the Python server's: shows whether the answers came
	 * from the daemon's DNS cache (issue 3); at debugLevel 2, where the
	 * Python server also logs each check's result. */
	if (o->kind != OP_DW && c->r.py->debug_level >= 2)
		log_info("spfcheck: %s %s: %s; lookups %u, voids %u, DNS questions %u "
			 "(%u from cache), %ld ms",
			 o->kind == OP_HELO ? "helo" : "mailfrom", o->ident ? o->ident : "",
			 spf_result_word(res->result), res->lookups, res->voids, res->queries,
			 res->cache_hits, res->elapsed_ms);
	if (o->kind == OP_DW)
		c->dw_pass |= res->result == SPF_PASS;
	else
		pd_spf_set(&c->r, o->kind == OP_HELO ? &c->r.helo_spf : &c->r.mfrom_spf, res->result,
			   res->explanation, res->problem, res->first_txt, res->first_txt_len);
	op_done(o);
}

static void hw_done(void *arg, const struct dns_answer *ans)
{
	struct op *o = arg;
	struct policy_check *c = o->c;
	size_t alen = c->ipa.version == 4 ? 4 : 16;

	for (size_t i = 0; ans->status == DNS_S_OK && i < ans->n; i++) {
		const struct dns_rr *rr = &ans->rr[i];

		if (rr->len == alen && memcmp(rr->data, c->ipa.b, alen) == 0)
			c->hw_hit = true;
	}
	op_done(o);
}

static void ptr_done(void *arg, const struct dns_answer *ans)
{
	struct op *o = arg;
	struct policy_check *c = o->c;

	if (ans->status == DNS_S_OK && ans->n > 0 && ans->rr[0].data)
		c->ptr_name = pf_strndup(&c->r.arena, (const char *)ans->rr[0].data,
					 strlen((const char *)ans->rr[0].data));
	op_done(o);
}

static void wl_timeout(void *arg)
{
	struct policy_check *c = arg;

	c->wl_timer = NULL;
	c->starting = true;   /* op_done must not finish while we iterate */
	for (size_t i = 0; i < c->nops; i++) {
		struct op *o = &c->ops[i];

		if (!o->done && o->q) {
			dns_cancel(o->q);
			op_done(o);
		}
	}
	c->starting = false;
	if (c->pending == 0 || decided_early(c))
		finish(c);
}

static void deadline(void *arg)
{
	struct policy_check *c = arg;

	c->deadline = NULL;
	log_info("SPF checks for client %s, sender %s not finished within Request_Timeout (%d s): "
		 "unfinished checks count as Temperror", c->r.ip ? c->r.ip : "", c->r.snd ? c->r.snd : "",
		 c->conf->request_timeout);
	c->starting = true;
	for (size_t i = 0; i < c->nops; i++) {
		struct op *o = &c->ops[i];

		if (o->done)
			continue;
		if (o->spf)
			spf_check_cancel(o->spf);
		if (o->q)
			dns_cancel(o->q);
		if (o->kind == OP_HELO || o->kind == OP_MFROM) {
			struct pd_spf *s = o->kind == OP_HELO ? &c->r.helo_spf : &c->r.mfrom_spf;

			pd_spf_set(&c->r, s, SPF_TEMPERROR, NULL, "DNS Timeout", NULL, 0);
		}
		op_done(o);
	}
	c->starting = false;
	finish(c);
}

/* ---- starting the lookups ---------------------------------------------- */

static long spf_timeout(int seconds)
{
	return seconds > 0 ? seconds * 1000L : seconds == 0 ? 0 : -1;
}

static struct op *new_op(struct policy_check *c, enum op_kind k)
{
	struct op *o;

	if (c->nops >= sizeof c->ops / sizeof c->ops[0])
		return NULL;
	o = &c->ops[c->nops++];
	memset(o, 0, sizeof *o);
	o->c = c;
	o->kind = k;
	c->pending++;
	return o;
}

static void start_spf(struct policy_check *c, struct op *o, const char *sender, const char *helo,
		      const char *domain, long timeout_ms)
{
	struct spf_request req = { 0 };
	struct spf_check *sc;

	req.ip = c->r.ip;
	req.sender = sender;
	req.helo = helo;
	req.domain = domain;
	req.void_limit = c->r.py->void_limit;
	/* pydns over UDP reads SERVFAIL as an empty answer: None, or a void lookup */
	req.servfail_void = !c->conf->servfail_temperror;
	req.timeout_ms = timeout_ms;
	o->ident = o->kind == OP_HELO || !*sender ? helo : sender;
	sc = spf_check_start(c->dns, &req, spf_done, o);
	if (!o->done)
		o->spf = sc;
}

static void start_query(struct policy_check *c, struct op *o, const char *name, int type, dns_cb *cb)
{
	struct dns_query *q = dns_query(c->dns, name, type, cb, o);

	if (!o->done)
		o->q = q;
}

static void reverse_name(const struct ip_addr *a, char *buf, size_t len)
{
	if (a->version == 4) {
		snprintf(buf, len, "%u.%u.%u.%u.in-addr.arpa", a->b[3], a->b[2], a->b[1], a->b[0]);
		return;
	}
	char *p = buf;
	static const char hex[] = "0123456789abcdef";

	for (int i = 15; i >= 0; i--) {
		*p++ = hex[a->b[i] & 15];
		*p++ = '.';
		*p++ = hex[a->b[i] >> 4];
		*p++ = '.';
	}
	strcpy(p, "ip6.arpa");
}

static void start_lookups(struct policy_check *c)
{
	const struct conf_py *py = c->r.py;
	struct pd_req *r = &c->r;
	long wl_ms = spf_timeout(py->whitelist_lookup_time);
	bool ignored = false;

	if (truthy(py->domain_whitelist)) {
		const char *p = py->domain_whitelist;

		for (;;) {
			const char *e = strchr(p, ',');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			char *d = pf_strndup(&c->r.arena, p, n);
			struct op *o = d ? new_op(c, OP_DW) : NULL;

			if (o)
				start_spf(c, o, d, d, d, wl_ms);
			else
				ignored = true;
			if (!e)
				break;
			p = e + 1;
		}
	}
	if (truthy(py->helo_whitelist)) {
		const char *p = py->helo_whitelist;

		for (;;) {
			const char *e = strchr(p, ',');
			size_t n = e ? (size_t)(e - p) : strlen(p);

			if (c->attr[1] && strlen(c->attr[1]) == n && strncmp(p, c->attr[1], n) == 0) {
				char *d = pf_strndup(&c->r.arena, p, n);
				struct op *o = d ? new_op(c, OP_HW) : NULL;

				if (o)
					start_query(c, o, d, c->ipa.version == 4 ? DNS_T_A : DNS_T_AAAA, hw_done);
				else
					ignored = true;
			}
			if (!e)
				break;
			p = e + 1;
		}
	}
	if (truthy(py->domain_whitelist_ptr)) {
		char rev[80];
		struct op *o = new_op(c, OP_PTR);

		reverse_name(&c->ipa, rev, sizeof rev);
		if (o)
			start_query(c, o, rev, DNS_T_PTR, ptr_done);
	}
	if (ignored)
		log_err("ERROR: more than %d whitelist lookups for one request; the rest are skipped", MAX_OPS);
	if (c->pending > 0 && py->whitelist_lookup_time > 0 && !c->wl_timer)
		c->wl_timer = dns_timer_start(c->dns, py->whitelist_lookup_time * 1000L, wl_timeout, c);

	long lt = spf_timeout(py->lookup_time);
	if (r->helo_spf.run) {
		struct op *o = new_op(c, OP_HELO);

		/* sanitised, as it always was */
		c->helo_sender = pf_join(&r->arena, (struct pf_piece[]){ PF_LIT("postmaster@"), PF_RAW(r->helo) }, 2);
		if (o && c->helo_sender)
			start_spf(c, o, c->helo_sender, r->helo, r->helo, lt);
	}
	if (r->mfrom_spf.run) {
		struct op *o = new_op(c, OP_MFROM);
		const char *at = strchr(r->snd, '@');

		if (o)
			start_spf(c, o, r->snd, r->helo, at ? at + 1 : r->snd, lt);
	}
}

/* ---- NAT warning ------------------------------------------------------- */

static void nat_warning(struct policy_check *c)
{
	static time_t last;
	static unsigned long seen;
	time_t now;
	int every = c->conf->nat_warning_minutes;
	char ip[64];

	if (every <= 0 || !iplist_is_private(&c->ipa))
		return;
	now = time(NULL);
	seen++;
	if (last && now - last < every * 60L)
		return;
	last = now;
	snprintf(ip, sizeof ip, "%s", c->r.ip);
	log_warn("WARNING: SPF checked for client %s, a private address (%lu such checks so far): "
		 "the client IP is probably a NAT gateway or a Docker bridge, and SPF results for it "
		 "are meaningless. Let the MTA see the real client address, or list this network in "
		 "Whitelist or skip_addresses (NAT_Warning_Interval = 0 silences this warning)", ip, seen);
}

/* ---- decide ------------------------------------------------------------ */

/* Python's ipaddress str() of the client: compressed IPv6 */
static void ip_str(const struct ip_addr *a, char *out, size_t len)
{
	if (a->version == 4) {
		snprintf(out, len, "%u.%u.%u.%u", a->b[0], a->b[1], a->b[2], a->b[3]);
		return;
	}
	unsigned h[8];
	int best = -1, bestlen = 0;
	size_t o = 0;

	for (int i = 0; i < 8; i++)
		h[i] = ((unsigned)a->b[2 * i] << 8) | a->b[2 * i + 1];
	for (int i = 0; i < 8;) {
		int j = i;

		while (j < 8 && !h[j])
			j++;
		if (j - i > bestlen) {
			best = i;
			bestlen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	if (bestlen < 2)
		best = -1;
	out[0] = '\0';
	for (int i = 0; i < 8 && o < len; i++) {
		if (i == best) {
			o += (size_t)snprintf(out + o, len - o, i == 0 ? "::" : ":");
			i += bestlen - 1;
			continue;
		}
		o += (size_t)snprintf(out + o, len - o, "%x%s", h[i], i < 7 ? ":" : "");
	}
}

static void hw_logs(struct policy_check *c)
{
	const struct conf_py *py = c->r.py;
	const char *p = py->helo_whitelist;
	char ip[64];

	if (!truthy(p) || py->debug_level < 4)
		return;
	log_info("HELO Domain Whitelist enabled.");
	if (py->debug_level < 5)
		return;
	ip_str(&c->ipa, ip, sizeof ip);
	for (;;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (c->attr[1] && strlen(c->attr[1]) == n && strncmp(p, c->attr[1], n) == 0) {
			log_info("HELO Domain Whitelist domain match: %.*s.", (int)n, p);
			log_info("HELO Domain Whitelist domain: %.*s is IPv%d: %s.", (int)n, p, c->ipa.version, ip);
		}
		if (!e)
			break;
		p = e + 1;
	}
}

static void finish(struct policy_check *c)
{
	struct pd_req *r = &c->r;
	const char *comment = NULL;

	if (c->finished)
		return;
	dns_timer_stop(c->deadline);
	c->deadline = NULL;
	dns_timer_stop(c->wl_timer);
	c->wl_timer = NULL;
	/* the bypass checks' log lines, in the Python order, up to a hit */
	int dbg = r->py->debug_level;
	if (truthy(r->py->domain_whitelist) && dbg >= 4)
		log_info("Domain Whitelist enabled.");
	if (r->peruser && dbg >= 4)
		log_info("Domain_Whitelist check used peruser data");
	if (!c->dw_pass) {
		hw_logs(c);
		if (r->peruser && dbg >= 4)
			log_info("HELO_Whitelist check used peruser data");
		if (!c->hw_hit && truthy(r->py->domain_whitelist_ptr) && dbg >= 4)
			log_info("PTR Domain Whitelist enabled.");
	}
	if (c->dw_pass) {
		comment = "SPF skipped for whitelisted relay domain - ";
		r->bypass_desc = "Skip SPF checks for whitelisted domains";
	} else if (c->hw_hit) {
		comment = "SPF skipped for whitelisted HELO domain - ";
		r->bypass_desc = "Skip SPF checks for whitelisted HELO/EHLO names";
	} else if (c->ptr_name && truthy(r->py->domain_whitelist_ptr)) {
		const char *p = r->py->domain_whitelist_ptr;
		size_t nl = strlen(c->ptr_name);

		for (;;) {
			const char *e = strchr(p, ',');
			size_t n = e ? (size_t)(e - p) : strlen(p);

			if (n <= nl && memcmp(c->ptr_name + nl - n, p, n) == 0) {
				comment = "SPF skipped for PTR whitelisted relay domain - ";
				r->bypass_desc = "Skip SPF checks for whitelisted hosts (by PTR)";
				break;
			}
			if (!e)
				break;
			p = e + 1;
		}
	}
	if (comment) {
		r->bypass_header = bypass_header(c, comment);
	} else {
		nat_warning(c);
	}
	answer(c, pd_decide(r));
	if (!c->starting)
		check_free(c);
}

/* ---- start ------------------------------------------------------------- */

static void log_config(const struct conf_py *py)
{
	char *d = conf_py_repr(py);

	log_info("Config: %s", d ? d : "{}");
	free(d);
}

static const char *const attr_names[6] = { "client_address", "helo_name", "sender", "recipient", "instance", "queue_id" };

struct policy_check *policy_check_start(struct policy_session *s, struct conf *conf,
					struct dns_ctx *dns, const struct attr_req *req,
					policy_done_fn *done, void *arg)
{
	struct policy_check *c = check_new(s);
	const struct conf_py *g = conf->py;
	struct pd_req *r;
	const char *action = NULL;

	if (!c) {
		log_err("out of memory: answering dunno");
		done(arg, "dunno");
		return NULL;
	}
	c->s = s;
	c->conf = conf_ref(conf);
	c->dns = dns;
	c->done = done;
	c->arg = arg;
	c->starting = true;
	for (size_t i = 0; i < 6; i++) {
		const char *v = attr_get(req, attr_names[i]);

		if (v && !(c->attr[i] = pf_strndup(&c->r.arena, v, strlen(v))))
			goto oom;
	}
	r = &c->r;
	r->conf = conf;
	r->py = g;
	r->gdebug = g->debug_level;
	r->cache = s ? s->cache : NULL;

	if (g->has_default_seed_only)
		log_err("WARNING: Deprecated Config Option defaultSeedOnly in use in: %s", conf->path);
	if (g->mock) {
		/* DIFFERENCE: answered at once (Python leaves it unflushed) */
		answer(c, "dunno mock header field that should be ignored");
		check_free(c);
		return NULL;
	}

	/* receiver form (§4.1 step 5) */
	const char *rcpt = truthy(c->attr[3]) ? c->attr[3] : "none";
	if (truthy(g->per_user)) {
		conf_peruser_lookup(conf, rcpt, &c->pu);
		c->pu_used = true;
		r->py = &c->pu.py;
		r->peruser = c->pu.matched;
		if (g->debug_level >= 2 && r->peruser)
			log_info("Per user configuration data in use for: %s", rcpt);
		c->rcv = rcpt;
	} else if (strcmp(g->hide_receiver, "No") != 0) {
		c->rcv = "<UNKNOWN>";
	} else if (strcmp(rcpt, "none") != 0 && strchr(rcpt, '@')) {
		const char *d = strchr(rcpt, '@') + 1, *e = strchr(d, '@');

		c->rcv = e ? pf_strndup(&c->r.arena, d, (size_t)(e - d)) : d;
	} else {
		c->rcv = rcpt;
	}
	if (!c->rcv)
		goto oom;
	if (g->debug_level >= 3)
		log_config(r->py);

	r->client_address = c->attr[0];
	r->helo_name = c->attr[1];
	r->sender = c->attr[2];
	r->rcv = c->rcv;
	/* an absent or empty instance: Python uses a random key, i.e. no cache */
	r->instance = truthy(c->attr[4]) ? c->attr[4] : NULL;
	r->queue_id = c->attr[5];
	if (r->peruser)
		r->cache = s ? s->cache : NULL;   /* consulted for last_action only */
	pd_prepare(r);

	if (!r->ip) {                       /* "No client address, exiting" */
		answer(c, pd_decide(r));
		check_free(c);
		return NULL;
	}
	if (pd_replay(r, &action)) {
		answer(c, action);
		check_free(c);
		return NULL;
	}

	/* skip_addresses, Whitelist */
	int pdbg = r->py->debug_level;
	if (netlist(c, "skip_addresses", r->py->skip_addresses)) {
		r->bypass_desc = "Skip SPF checks on localhost";
		r->bypass_header = bypass_header(c, "SPF check N/A for local connections - ");
		r->skip_header = r->bypass_header;
	}
	if (r->peruser && pdbg >= 4)
		log_info("skip_addresses check used peruser data");
	if (!r->bypass_header) {
		if (netlist(c, "Whitelist", r->py->whitelist)) {
			r->bypass_desc = "Skip SPF checks for whitelisted IP addresses";
			r->bypass_header = bypass_header(c, "SPF skipped for whitelisted relay - ");
		}
		if (r->peruser && pdbg >= 4)
			log_info("Whitelist check used peruser data");
	}
	if (r->bypass_header) {
		answer(c, pd_decide(r));
		check_free(c);
		return NULL;
	}

	/* DIFFERENCE: a client address that is not an IP address (Python
	 * crashes) or is empty gets dunno, without SPF checks */
	char why[256];
	/* pyspf refuses IPv6 scope ids (fe80::1%eth0) that ipaddress takes */
	if (iplist_parse_addr(r->ip, &c->ipa, why, sizeof why) < 0 || strchr(r->ip, '%') != NULL) {
		log_err("ERROR: client address '%s' is not an IP address: no SPF check, action=dunno", r->ip);
		answer(c, "dunno");
		check_free(c);
		return NULL;
	}

	/* 0 means the default, as for the daemon's backstop (policyd-spf(8)) */
	c->deadline = dns_timer_start(dns, (conf->request_timeout > 0 ? conf->request_timeout : 90) * 1000L,
				      deadline, c);
	start_lookups(c);
	if (c->pending == 0 || decided_early(c))
		finish(c);
	c->starting = false;
	if (c->finished) {
		check_free(c);
		return NULL;
	}
	return c;

oom:
	log_err("out of memory: answering dunno");
	answer(c, "dunno");
	check_free(c);
	return NULL;
}

void policy_check_cancel(struct policy_check *c)
{
	if (c)
		check_free(c);
}
