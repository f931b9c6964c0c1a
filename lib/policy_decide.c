/*
 * policy_decide - spf_engine's _spfcheck() and the main loop's output
 * step, in the order the Python code runs them, so that each branch keeps
 * its exact outcome (see policy_decide.h).  Records are spf_engine's
 * lists [result, reason, identity, action, text, last_action]; where the
 * Python code appends to a list that is already 6 long, nothing we read
 * changes, so only the first six fields are kept.
 *
 * Where the Python server crashes or answers something Postfix cannot use,
 * the comment says "DIFFERENCE" and policyd-spf.conf(5) documents it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "policy_decide.h"
#include "policy_fmt.h"
#include "pystr.h"

struct rec {
	const char *f[PC_FIELDS];
	size_t n;
};

struct verdict {
	const char *v;      /* "reject", "defer", "prepend", "result_only", "dunno", "None"; NULL = None */
	const char *text;   /* NULL = None */
	bool iserror;
	bool clean;         /* text built here: no byte to sanitise */
};

/* a string made in the request's arena; "" when out of memory */
static const char *keep(char *s)
{
	return s ? s : "";
}

static void rec_append(struct rec *r, const char *s)
{
	if (r->n < PC_FIELDS)
		r->f[r->n] = s;
	if (r->n < PC_FIELDS + 2)
		r->n++;
}

/*
 * The engine may store a record for the HELO and again for MAIL FROM;
 * nothing reads the cache in between, so only the last one is stored,
 * once the decision is made.
 */
struct pending {
	struct rec rec;
	bool set;
	/* The HELO Received-SPF header is usually replaced by the MAIL FROM
	 * one: it is made only if it is stored or answered (lazy_helo marks
	 * where it goes; title, comment and envelope-from are its inputs). */
	bool lazy;
	const char *title, *comment, *env_from;
};

static const char lazy_helo[] = "";

static void cache_put(struct pending *p, const struct rec *rec)
{
	p->rec = *rec;
	p->set = true;
}

static void cache_flush(struct pd_req *r, const struct pending *p)
{
	if (p->set && r->cache && r->instance)
		pcache_put(r->cache, r->instance, p->rec.f, p->rec.n < PC_FIELDS ? p->rec.n : PC_FIELDS);
}

static const struct pc_record *cache_get(struct pd_req *r)
{
	if (!r->looked_up) {
		r->found = r->cache && r->instance ? pcache_get(r->cache, r->instance) : NULL;
		r->looked_up = true;
	}
	return r->found;
}

static bool eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static bool truthy(const char *s)
{
	return s && *s;
}

void pd_qid_prefix(const char *queue_id, char *buf, size_t len)
{
	/* snprintf("%s: ") without the printf machinery */
	size_t n, k;

	if (!len)
		return;
	if (!queue_id) {
		buf[0] = '\0';
		return;
	}
	n = strlen(queue_id);
	k = n < len - 1 ? n : len - 1;
	memcpy(buf, queue_id, k);
	for (const char *t = ": "; *t && k < len - 1; t++)
		buf[k++] = *t;
	buf[k] = '\0';
}

/* ---- preparation --------------------------------------------------------- */

void pd_prepare(struct pd_req *r)
{
	const struct conf_py *py = r->py;

	r->ip = truthy(py->prospective) ? py->prospective : r->client_address;
	/* DIFFERENCE: an absent sender attribute is the null sender (Python crashes) */
	r->snd = r->sender ? r->sender : "";
	r->no_identity = !*r->snd && !truthy(r->helo_name);
	if (truthy(r->helo_name)) {
		r->helo = r->helo_name;
	} else {
		const char *at = strchr(r->snd, '@');

		/* the sender outlives the request's decision */
		r->helo = at ? at + 1 : "unknown";
	}
	r->helo_spf.run = !r->no_identity && !eq(py->helo_reject, "No_Check");
	r->mfrom_spf.run = !r->no_identity && *r->snd && !eq(py->mail_from_reject, "No_Check");
}

/* ---- result codes (spf_engine._get_resultcodes) ------------------------- */

/* Python's lists of result titles as bit sets; the list orders only show
 * in the debug log and are rebuilt there. */
#define RB(res) (1u << (res))

/* all_results in spf_engine's order */
static const enum spf_result all_results[7] = { SPF_PASS, SPF_NONE, SPF_NEUTRAL, SPF_SOFTFAIL, SPF_FAIL,
						SPF_TEMPERROR, SPF_PERMERROR };
/* reject lists are appended in this order (Fail, Softfail, Neutral, then Permerror) */
static const enum spf_result reject_order[4] = { SPF_FAIL, SPF_SOFTFAIL, SPF_NEUTRAL, SPF_PERMERROR };

struct actions {
	unsigned defer, reject, prepend;
	bool local;
};

/* pyspf domainmatch() with spf_engine's swapped arguments (reference §4.7.3) */
static bool reject_domain_match(const char *list, const char *subject)
{
	size_t sl;
	const char *p = list;

	if (!list || !subject)   /* DIFFERENCE: absent helo_name matches nothing (Python crashes) */
		return false;
	sl = strlen(subject);
	for (;;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);

		if (n == sl && strncasecmp(p, subject, n) == 0)
			return true;
		if (n > sl && p[n - sl - 1] == '.' && strncasecmp(p + n - sl, subject, sl) == 0)
			return true;
		if (!c)
			return false;
		p = c + 1;
	}
}

static char *set_repr(unsigned set, const enum spf_result *order, size_t n)
{
	const char *v[7];
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (set & RB(order[i]))
			v[k++] = spf_result_title(order[i]);
	return pf_pylist(v, k);
}

static void resultcodes_q(const struct pd_req *r, bool helo_scope, struct actions *a, bool quiet)
{
	const struct conf_py *py = r->py;
	unsigned unused = 0;
	const char *policy = helo_scope ? py->helo_reject : py->mail_from_reject;
	const char *subject;
	int dbg = py->debug_level;

	memset(a, 0, sizeof *a);
	for (size_t i = 0; i < 7; i++)
		unused |= RB(all_results[i]);
	if (quiet)
		dbg = -1;
	if (dbg >= 5)
		log_info("_get_resultcodes: scope: %s, Reject_Not_Pass_Domains: %s, helo_policy: %s, mfrom_policy: %s",
			 helo_scope ? "helo" : "mfrom",
			 py->reject_not_pass_domains ? py->reject_not_pass_domains : "None",
			 py->helo_reject ? py->helo_reject : "None",
			 py->mail_from_reject ? py->mail_from_reject : "None");
	if (truthy(py->reject_not_pass_domains)) {
		if (helo_scope) {
			subject = r->helo_name;
		} else {
			const char *at = strchr(r->snd, '@');

			subject = at ? at + 1 : "";
		}
		if (reject_domain_match(py->reject_not_pass_domains, subject)) {
			policy = "SPF_Not_Pass";
			a->local = true;
		}
	}
	if (eq(policy, "SPF_Not_Pass"))
		a->reject = RB(SPF_FAIL) | RB(SPF_SOFTFAIL) | RB(SPF_NEUTRAL);
	else if (eq(policy, "Softfail"))
		a->reject = RB(SPF_FAIL) | RB(SPF_SOFTFAIL);
	else if (eq(policy, "Fail") || (helo_scope && eq(policy, "Null")))
		a->reject = RB(SPF_FAIL);
	unused &= ~a->reject;
	if (dbg >= 5) {
		char *l = set_repr(unused, all_results, 7);

		log_info("Scope %s unused results: %s", helo_scope ? "helo" : "mfrom", l ? l : "");
		free(l);
	}
	bool is_false = eq(policy, "False");
	if (!is_false) {
		if (eq(py->temperror_defer, "True")) {
			a->defer |= RB(SPF_TEMPERROR);
			unused &= ~RB(SPF_TEMPERROR);
		}
		if (eq(py->permerror_reject, "True")) {
			a->reject |= RB(SPF_PERMERROR);
			unused &= ~RB(SPF_PERMERROR);
		}
	}
	a->prepend = unused;
	if (dbg >= 5) {
		char *d = set_repr(a->defer, all_results, 7), *rj = set_repr(a->reject, reject_order, 4),
		     *p = set_repr(a->prepend, all_results, 7);

		log_info("%s policy %s results: actions: {'defer': %s, 'reject': %s, 'prepend': %s} local {'local_helo': %s, 'local_mfrom': %s}",
			 helo_scope ? "helo" : "mfrom", is_false ? "false" : "true", d ? d : "", rj ? rj : "",
			 p ? p : "", helo_scope && a->local ? "True" : "False", !helo_scope && a->local ? "True" : "False");
		free(d);
		free(rj);
		free(p);
	}
}

static void resultcodes(const struct pd_req *r, bool helo_scope, struct actions *a)
{
	resultcodes_q(r, helo_scope, a, false);
}

static const char *action_for(const struct actions *a, enum spf_result res)
{
	/* the Python loop visits defer, reject, prepend; a result is in one list */
	if (a->defer & RB(res))
		return "defer";
	if (a->reject & RB(res))
		return "reject";
	return "prepend";
}

/* ---- headers --------------------------------------------------------------- */

static bool header_ar(const struct conf_py *py)
{
	return strstr(py->header_type, "AR") != NULL;
}

static const char *authserv_id(const struct conf_py *py)
{
	static char host[256];

	if (py->authserv_id && *py->authserv_id)
		return py->authserv_id;
	/* DIFFERENCE: Python crashes (SyntaxError) on an empty Authserv_Id with
	 * AR headers; we log it and use the host name. */
	if (py->debug_level >= 0)
		log_err("Authserv_Id not set for authentication results header - invalid configuration.");
	if (gethostname(host, sizeof host - 1) < 0)
		strcpy(host, "localhost");
	host[sizeof host - 1] = '\0';
	return host;
}

/* Header for one identity (Received-SPF or AR); helo_scope selects the form. */
static const char *spf_header(struct pd_req *r, bool helo_scope, const struct rec *res,
			      const char *env_from)
{
	const struct conf_py *py = r->py;

	if (strstr(py->header_type, "SPF") && strstr(py->header_type, "AR")) {
		/* DIFFERENCE: Python crashes here; we log its message and write AR */
		if (py->debug_level >= 0)
			log_err("Header_Type includes both SPF and AR - invalid configuration.");
	}
	if (header_ar(py)) {
		const char *value;

		if (helo_scope) {
			value = r->helo;
		} else {
			const char *at = strchr(r->snd, '@');

			/* spf.split_email(sender, ...)[1]; DIFFERENCE: an empty domain
			 * ("alice@") is written as "" (Python crashes) */
			value = at ? at + 1 : r->snd;
		}
		return keep(pf_auth_results(&r->arena, authserv_id(py), res->f[0], res->f[1],
					    helo_scope ? "helo" : "mailfrom", value, r->ip, r->helo, env_from, r->rcv));
	}
	/* pf_received_spf sanitises env_from as it copies it: only the
	 * escaped form needs a string of its own */
	const char *ef = env_from;
	if (r->conf->srs_escape && strchr(env_from, '=') && strcmp(env_from, "<>") != 0)
		ef = keep(pf_envelope_from(&r->arena, env_from, true));
	return keep(pf_received_spf(&r->arena, res->f[0], helo_scope ? res->f[1] : res->f[2],
				    helo_scope ? "helo" : "mailfrom", r->ip, r->helo, ef, r->rcv));
}

static const char *reject_message(struct pd_req *r, const struct rec *res, const char *scope, const char *identity)
{
	char why[256];
	const char *t = keep(pf_reject_text(&r->arena, r->py->reason_message, eq(res->f[3], "defer"), res->f[1],
					    scope, identity, r->ip, r->rcv, why, sizeof why));

	if (why[0])   /* DIFFERENCE: Python crashes on a template it cannot format */
		log_err("ERROR: Reason_Message cannot be formatted (%s); the default text is used", why);
	return t;
}

#define JOIN_RP(r, title) pf_join(&(r)->arena, (struct pf_piece[]){ PF_LIT("Receiver policy for SPF "), \
						  PF_CLEAN(title) }, 2)

static bool no_mail_record(const struct pd_spf *s)
{
	return s->has_txt && s->first_txt && strcmp(s->first_txt, "v=spf1 -all") == 0;
}

static void log_pyspf(const struct pd_req *r, const char *title, const char *reason, const char *id)
{
	if (r->py->debug_level >= 2) {
		const char *l3[3] = { title, reason, id };
		char *l = pf_pylist(l3, 3);

		log_info("spfcheck: pyspf result: \"%s\"", l ? l : "");
		free(l);
	}
}

bool pd_helo_decides(const struct pd_req *r)
{
	const struct conf_py *py = r->py;
	struct actions a;
	const char *act;

	if (!r->helo_spf.run || !r->helo_spf.done)
		return false;
	if (eq(py->helo_reject, "Null") && *r->snd)
		return false;
	resultcodes_q(r, true, &a, true);
	act = action_for(&a, r->helo_spf.result);
	if (eq(act, "defer"))
		return true;
	/* a reject that No_Mail may turn into a prepend still needs MAIL FROM */
	return eq(act, "reject") && (!eq(py->no_mail, "True") || no_mail_record(&r->helo_spf));
}

/* ---- the engine --------------------------------------------------------------- */

static const char *last_action_of(const struct pc_record *found)
{
	if (!found || found->n == 0)
		return "";
	const char *f3 = found->n > 3 ? found->f[3] : NULL, *f5 = found->n > 5 ? found->f[5] : NULL;

	return eq(f5, "prepend") ? f5 : (f3 ? f3 : "");
}

static struct verdict engine(struct pd_req *r, struct pending *pending)
{
	const struct conf_py *py = r->py;
	const struct pc_record *found = cache_get(r);
	const char *last_action = last_action_of(found);
	struct verdict dunno_pre = { "dunno", "Header already pre-pended", false, true };
	int dbg = py->debug_level;

	/* bypass hit (§4.3) */
	if (!r->ip) {
		if (dbg >= 2)
			log_info("spfcheck: No client address, exiting");
		return (struct verdict){ NULL, NULL, false, true };
	}
	if (r->bypass_header) {
		struct rec skip = { { "N/A", r->bypass_desc, "N/A", "prepend", r->skip_header ? r->skip_header : "None" }, 5 };

		if (strcmp(last_action, "prepend") != 0) {
			rec_append(&skip, "prepend");
			if (!found && !r->peruser)
				cache_put(pending, &skip);
			return (struct verdict){ "prepend", r->bypass_header, false, true };
		}
		return dunno_pre;
	}
	if (r->no_identity) {
		if (dbg >= 2)
			log_info("spfcheck: No sender or helo, exiting");
		return (struct verdict){ NULL, NULL, false, true };
	}

	const char *hpr = truthy(py->helo_pass_restriction) ? py->helo_pass_restriction : NULL;
	const char *mfpr = truthy(py->mail_from_pass_restriction) ? py->mail_from_pass_restriction : NULL;
	const char *helo_reject = py->helo_reject, *mfrom_reject = py->mail_from_reject;
	bool no_mail = eq(py->no_mail, "True");
	const char *restrict_name = NULL;
	const char *header = "";
	struct rec helo_res = { { "None" }, 1 };
	bool isheloerror = false;

	/* HELO check (§4.5) */
	if (!eq(helo_reject, "No_Check")) {
		const struct pd_spf *s = &r->helo_spf;
		struct actions a;

		helo_res.f[0] = spf_result_title(s->result);
		helo_res.f[1] = s->reason ? s->reason : "";
		helo_res.f[2] = "helo";
		helo_res.n = 3;
		isheloerror = s->result == SPF_PERMERROR || s->result == SPF_TEMPERROR;
		resultcodes(r, true, &a);
		log_pyspf(r, helo_res.f[0], helo_res.f[1], "helo");
		if (eq(helo_reject, "Null") && *r->snd) {
			rec_append(&helo_res, "dunno");
		} else {
			rec_append(&helo_res, action_for(&a, s->result));
			if (a.local)
				helo_res.f[1] = keep(JOIN_RP(r, helo_res.f[0]));
		}
		/* Python prints an absent sender as None; it survives to the
		 * header only when MAIL FROM is not checked (else Python crashes
		 * and we treat it as the null sender). */
		const char *header_sender = *r->snd ? r->snd
			: (r->sender == NULL && eq(mfrom_reject, "No_Check")) ? "None" : "<>";
		if (eq(helo_res.f[0], "None"))
			helo_res.f[1] = "no SPF record";
		/* the log line comes before the point where Python crashes */
		if (dbg >= 2)
			log_info("%s; identity=helo; client-ip=%s; helo=%s; envelope-from=%s; receiver=%s ",
				 helo_res.f[0], r->ip, r->helo,
				 *r->snd ? r->snd : r->sender == NULL ? "None" : "<>", r->rcv);
		if (header_ar(py)) {   /* it may log (configuration errors): made now */
			header = spf_header(r, true, &helo_res, header_sender);
		} else {
			pending->lazy = true;
			pending->title = helo_res.f[0];
			pending->comment = helo_res.f[1];
			pending->env_from = header_sender;
			header = lazy_helo;
		}
		if (!eq(helo_res.f[3], "reject") && !eq(helo_res.f[3], "defer")) {
			rec_append(&helo_res, header);
			rec_append(&helo_res, helo_res.f[3]);
			if (hpr && eq(helo_res.f[0], "Pass")) {
				restrict_name = hpr;
				helo_res.f[3] = "result_only";
				helo_res.f[4] = hpr;
				helo_res.f[5] = "restriction";
			}
			if (!r->peruser)
				cache_put(pending, &helo_res);
		} else {
			if (eq(helo_res.f[3], "reject") && no_mail) {
				if (dbg >= 5)
					log_info("Pyspf Cached SPF record before HELO No_Mail check: b'%s'",
						 r->helo_spf.first_txt ? r->helo_spf.first_txt : "");
				if (!no_mail_record(&r->helo_spf)) {
					if (strcmp(last_action, "prepend") != 0)
						helo_res.f[3] = "prepend";
					else
						return dunno_pre;
				}
			}
			if (eq(helo_res.f[3], "reject") || eq(helo_res.f[3], "defer")) {
				const char *text = reject_message(r, &helo_res, "helo", r->helo);

				rec_append(&helo_res, text);
				rec_append(&helo_res, helo_res.f[3]);
				if (!r->peruser)
					cache_put(pending, &helo_res);
				return (struct verdict){ helo_res.f[3], text, isheloerror, true };
			}
		}
	}

	/* MAIL FROM check (§4.6) */
	if (!*r->snd) {
		if (!eq(helo_reject, "No_Check")) {
			rec_append(&helo_res, header);
			rec_append(&helo_res, helo_res.f[3]);
			if (hpr && eq(helo_res.f[0], "Pass")) {
				helo_res.f[3] = "result_only";
				helo_res.f[4] = hpr;
				helo_res.f[5] = "restriction";
				if (!r->peruser)
					cache_put(pending, &helo_res);
				return (struct verdict){ "result_only", hpr, false, false };
			}
			if (!r->peruser)
				cache_put(pending, &helo_res);
			return (struct verdict){ helo_res.f[3], header, isheloerror, true };
		}
	} else if (!eq(mfrom_reject, "No_Check")) {
		const struct pd_spf *s = &r->mfrom_spf;
		struct rec mres = { { spf_result_title(s->result), s->reason ? s->reason : "", "mailfrom" }, 3 };
		bool ismfromerror = s->result == SPF_PERMERROR || s->result == SPF_TEMPERROR;
		struct actions a;

		resultcodes(r, false, &a);
		log_pyspf(r, mres.f[0], mres.f[1], "mailfrom");
		rec_append(&mres, action_for(&a, s->result));
		if (a.local)
			mres.f[1] = keep(JOIN_RP(r, mres.f[0]));
		if (eq(mres.f[0], "None"))
			mres.f[1] = "no SPF record";
		if (!eq(mres.f[0], "None") || eq(helo_res.f[0], "None")) {
			if (dbg >= 2)
				log_info("%s; identity=mailfrom; client-ip=%s; helo=%s; envelope-from=%s; receiver=%s ",
					 mres.f[0], r->ip, r->helo, r->snd, r->rcv);
			header = spf_header(r, false, &mres, r->snd);
			if (!eq(mres.f[3], "reject") && !eq(mres.f[3], "defer")) {
				rec_append(&mres, header);
				rec_append(&mres, mres.f[3]);
				if (!r->peruser) {
					if (dbg >= 4)
						log_info("not peruser");
					cache_put(pending, &mres);
				}
			}
		}
		if ((mfpr && eq(mres.f[0], "Pass")) || (hpr && eq(helo_res.f[0], "Pass"))) {
			if (eq(mres.f[0], "Pass")) {
				/* DIFFERENCE: Python answers action=None (Postfix: 451
				 * server configuration error) when only HELO_pass_restriction
				 * is set; the HELO restriction is used, HELO passed too. */
				restrict_name = mfpr ? mfpr : hpr;
				while (mres.n < PC_FIELDS)
					rec_append(&mres, NULL);
				mres.f[3] = "result_only";
				mres.f[4] = restrict_name;
				mres.f[5] = "restriction";
				if (!r->peruser)
					cache_put(pending, &mres);
			}
			return (struct verdict){ "result_only", restrict_name, false, false };
		}
		if (eq(mres.f[3], "reject") || eq(mres.f[3], "defer")) {
			if (eq(mres.f[3], "reject") && no_mail) {
				/* DIFFERENCE: a sender without '@' checks the sender as the
				 * domain (Python crashes with IndexError) */
				if (dbg >= 5)
					log_info("Pyspf Cached SPF record before mfrom No_Mail check: b'%s'",
						 r->mfrom_spf.first_txt ? r->mfrom_spf.first_txt : "");
				if (!no_mail_record(&r->mfrom_spf)) {
					if (strcmp(last_action, "prepend") != 0)
						mres.f[3] = "prepend";
					else
						return dunno_pre;
				}
			}
			if (eq(mres.f[3], "reject") || eq(mres.f[3], "defer")) {
				const char *text = reject_message(r, &mres, "mfrom", r->snd);

				rec_append(&mres, text);
				rec_append(&mres, mres.f[3]);
				if (!r->peruser)
					cache_put(pending, &mres);
				return (struct verdict){ mres.f[3], text, ismfromerror, true };
			}
		}
		if (strcmp(last_action, "prepend") != 0)
			return (struct verdict){ "prepend", header, false, true };
		return dunno_pre;
	} else if (!eq(helo_reject, "No_Check")) {
		/* Mail_From_reject = No_Check.  DIFFERENCE: a HELO pass
		 * restriction applies to the first recipient too (Python prepends
		 * the header for the first and replays the restriction for the rest). */
		if (eq(helo_res.f[3], "result_only") && restrict_name)
			return (struct verdict){ "result_only", restrict_name, false, false };
		if (strcmp(last_action, "prepend") != 0)
			return (struct verdict){ "prepend", header, false, true };
		return dunno_pre;
	}
	return (struct verdict){ "None", "None", false, true };
}

/* ---- main loop output (§4.9) --------------------------------------------------- */

/* code and text of the action line; the text is sanitised unless built here */
static const char *action_line(struct pd_req *r, const char *code, const struct verdict *v)
{
	struct pf_piece p[3];
	size_t n = 0;

	if (code) {
		p[n++] = PF_CLEAN(code);
		p[n++] = PF_LIT(" ");
	}
	p[n] = PF_RAW(v->text);
	p[n++].raw = !v->clean;
	return pf_join(&r->arena, p, n);
}

static const char *output(struct pd_req *r, struct verdict v)
{
	const struct conf_py *py = r->py;
	const char *reject_code, *defer_code;
	char qid[512];
	int dbg = r->gdebug;

	if (py->test_only == 0 && !eq(v.v, "prepend")) {
		v.v = NULL;
		v.text = NULL;
	}
	if (eq(py->spf_enhanced_status_codes, "No")) {
		reject_code = "550";
		defer_code = "defer_if_permit";
	} else {
		reject_code = v.iserror ? "550 5.7.24" : "550 5.7.23";
		defer_code = "defer_if_permit 4.7.24";
	}
	if (dbg >= 3)
		log_info("Action: %s: Text: %s Reject action: %s", v.v ? v.v : "None", v.text ? v.text : "None",
			 reject_code);
	if (dbg >= 1)
		pd_qid_prefix(r->queue_id, qid, sizeof qid);
	if (eq(v.v, "reject")) {
		if (dbg >= 1)
			log_info("%s%s %s", qid, reject_code, v.text);
		return action_line(r, reject_code, &v);
	}
	if (eq(v.v, "prepend")) {
		if (truthy(py->prospective))
			return "dunno";
		if (!eq(py->header_type, "None")) {
			if (dbg >= 1)
				log_info("%sprepend %s", qid, v.text);
			return action_line(r, "prepend", &v);
		}
		if (dbg >= 1)
			log_info("%sHeader field not prepended: %s", qid, v.text);
		return "dunno";
	}
	if (eq(v.v, "defer")) {
		if (dbg >= 1)
			log_info("%s%s %s", qid, defer_code, v.text);
		return action_line(r, defer_code, &v);
	}
	if (eq(v.v, "result_only")) {
		if (dbg >= 1)
			log_info("%sresult_only %s", qid, v.text ? v.text : "None");
		if (!v.text)
			return "None";
		return action_line(r, NULL, &v);
	}
	return "dunno";
}

bool pd_replay(struct pd_req *r, const char **action)
{
	const struct pc_record *found = cache_get(r);

	if (r->py->debug_level >= 4) {
		char *l = found ? pf_pylist((const char *const *)found->f, found->n) : NULL;

		log_info("Cached data for this instance: %s", l ? l : "[]");
		free(l);
	}
	if (!found || r->peruser)
		return false;
	struct verdict v;

	if (found->n > 3 && eq(found->f[3], "prepend"))
		v = (struct verdict){ "dunno", "Header already pre-pended", false, true };
	else
		v = (struct verdict){ found->n > 3 ? found->f[3] : NULL, found->n > 4 ? found->f[4] : NULL, false, false };
	*action = output(r, v);
	return true;
}

const char *pd_decide(struct pd_req *r)
{
	struct pending pending = { .set = false };
	struct verdict v;

	/* the cache may have changed while the lookups ran */
	r->looked_up = false;
	v = engine(r, &pending);
	if (pending.lazy && (v.text == lazy_helo || (pending.set && pending.rec.n > 4 && pending.rec.f[4] == lazy_helo))) {
		struct rec h = { { pending.title, pending.comment }, 2 };
		const char *hdr = spf_header(r, true, &h, pending.env_from);

		if (v.text == lazy_helo)
			v.text = hdr;
		if (pending.set && pending.rec.n > 4 && pending.rec.f[4] == lazy_helo)
			pending.rec.f[4] = hdr;
	}

	cache_flush(r, &pending);
	return output(r, v);
}

void pd_spf_set(struct pd_req *r, struct pd_spf *s, enum spf_result result, const char *explanation,
		const char *problem, const char *first_txt, size_t first_txt_len)
{
	s->done = true;
	s->result = result;
	s->reason = pf_reason(&r->arena, result, explanation, problem);
	/* only No_Mail looks at the record (and logs it) */
	if (first_txt && eq(r->py->no_mail, "True")) {
		s->first_txt = pf_strndup(&r->arena, first_txt, first_txt_len);
		s->has_txt = s->first_txt != NULL;
	}
}

void pd_req_reset(struct pd_req *r)
{
	pf_arena_reset(&r->arena);
}

void pd_req_free(struct pd_req *r)
{
	pf_arena_free(&r->arena);
}
