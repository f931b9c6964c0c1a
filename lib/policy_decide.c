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
};

/* strings made during one decision, freed with the request */
static const char *keep(struct pd_req *r, char *s)
{
	if (!s)
		return "";
	if (r->nown >= sizeof r->own / sizeof r->own[0]) {
		free(s);
		return "";
	}
	r->own[r->nown++] = s;
	return s;
}

static void rec_append(struct rec *r, const char *s)
{
	if (r->n < PC_FIELDS)
		r->f[r->n] = s;
	if (r->n < PC_FIELDS + 2)
		r->n++;
}

static void cache_put(struct pd_req *r, const struct rec *rec)
{
	if (r->cache && r->instance)
		pcache_put(r->cache, r->instance, rec->f, rec->n < PC_FIELDS ? rec->n : PC_FIELDS);
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
	if (queue_id)
		snprintf(buf, len, "%s: ", queue_id);
	else if (len)
		buf[0] = '\0';
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

		r->helo_buf = strdup(at ? at + 1 : "unknown");
		r->helo = r->helo_buf ? r->helo_buf : "unknown";
	}
	r->helo_spf.run = !r->no_identity && !eq(py->helo_reject, "No_Check");
	r->mfrom_spf.run = !r->no_identity && *r->snd && !eq(py->mail_from_reject, "No_Check");
}

/* ---- result codes (spf_engine._get_resultcodes) ------------------------- */

static const char *const all_results[7] = { "Pass", "None", "Neutral", "Softfail", "Fail", "Temperror", "Permerror" };

struct actions {
	const char *defer[7], *reject[7], *prepend[7];
	size_t nd, nr, np;
	bool local;
};

static void remove_res(const char **unused, size_t *nu, const char *res)
{
	for (size_t i = 0; i < *nu; i++)
		if (strcmp(unused[i], res) == 0) {
			memmove(unused + i, unused + i + 1, (*nu - i - 1) * sizeof *unused);
			(*nu)--;
			return;
		}
}

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

static char *list_repr(const char *const *v, size_t n)
{
	return pf_pylist(v, n);
}

static void resultcodes_q(const struct pd_req *r, bool helo_scope, struct actions *a, bool quiet)
{
	const struct conf_py *py = r->py;
	const char *unused[7];
	size_t nu = 7;
	const char *policy = helo_scope ? py->helo_reject : py->mail_from_reject;
	const char *subject;
	int dbg = py->debug_level;

	memset(a, 0, sizeof *a);
	memcpy(unused, all_results, sizeof unused);
	if (quiet)
		dbg = -1;
	if (dbg >= 5)
		log_info("_get_resultcodes: scope: %s, Reject_Not_Pass_Domains: %s, helo_policy: %s, mfrom_policy: %s",
			 helo_scope ? "helo" : "mfrom",
			 py->reject_not_pass_domains ? py->reject_not_pass_domains : "None",
			 py->helo_reject ? py->helo_reject : "None",
			 py->mail_from_reject ? py->mail_from_reject : "None");
	if (helo_scope) {
		subject = r->helo_name;
	} else {
		const char *at = strchr(r->snd, '@');

		subject = at ? at + 1 : "";
	}
	if (truthy(py->reject_not_pass_domains) && reject_domain_match(py->reject_not_pass_domains, subject)) {
		policy = "SPF_Not_Pass";
		a->local = true;
	}
	if (eq(policy, "SPF_Not_Pass")) {
		const char *rj[] = { "Fail", "Softfail", "Neutral" };

		for (int i = 0; i < 3; i++) {
			remove_res(unused, &nu, rj[i]);
			a->reject[a->nr++] = rj[i];
		}
	} else if (eq(policy, "Softfail")) {
		remove_res(unused, &nu, "Fail");
		a->reject[a->nr++] = "Fail";
		remove_res(unused, &nu, "Softfail");
		a->reject[a->nr++] = "Softfail";
	} else if (eq(policy, "Fail") || (helo_scope && eq(policy, "Null"))) {
		remove_res(unused, &nu, "Fail");
		a->reject[a->nr++] = "Fail";
	}
	if (dbg >= 5) {
		char *l = list_repr(unused, nu);

		log_info("Scope %s unused results: %s", helo_scope ? "helo" : "mfrom", l ? l : "");
		free(l);
	}
	bool is_false = eq(policy, "False");
	if (!is_false) {
		if (eq(py->temperror_defer, "True")) {
			a->defer[a->nd++] = "Temperror";
			remove_res(unused, &nu, "Temperror");
		}
		if (eq(py->permerror_reject, "True")) {
			a->reject[a->nr++] = "Permerror";
			remove_res(unused, &nu, "Permerror");
		}
	}
	for (size_t i = 0; i < nu; i++)
		a->prepend[a->np++] = unused[i];
	if (dbg >= 5) {
		char *d = list_repr(a->defer, a->nd), *rj = list_repr(a->reject, a->nr), *p = list_repr(a->prepend, a->np);

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

static const char *action_for(const struct actions *a, const char *res)
{
	/* the Python loop visits defer, reject, prepend; a result is in one list */
	for (size_t i = 0; i < a->nd; i++)
		if (strcmp(a->defer[i], res) == 0)
			return "defer";
	for (size_t i = 0; i < a->nr; i++)
		if (strcmp(a->reject[i], res) == 0)
			return "reject";
	for (size_t i = 0; i < a->np; i++)
		if (strcmp(a->prepend[i], res) == 0)
			return "prepend";
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
		return keep(r, pf_auth_results(authserv_id(py), res->f[0], res->f[1], helo_scope ? "helo" : "mailfrom",
					    value, r->ip, r->helo, env_from, r->rcv));
	}
	const char *ef = keep(r, pf_envelope_from(env_from, r->conf->srs_escape && strcmp(env_from, "<>") != 0));
	return keep(r, pf_received_spf(res->f[0], helo_scope ? res->f[1] : res->f[2], helo_scope ? "helo" : "mailfrom",
				    r->ip, r->helo, ef, r->rcv));
}

static const char *reject_message(struct pd_req *r, const struct rec *res, const char *scope, const char *identity)
{
	char why[256];
	const char *t = keep(r, pf_reject_text(r->py->reason_message, eq(res->f[3], "defer"), res->f[1], scope,
					   identity, r->ip, r->rcv, why, sizeof why));

	if (why[0])   /* DIFFERENCE: Python crashes on a template it cannot format */
		log_err("ERROR: Reason_Message cannot be formatted (%s); the default text is used", why);
	return t;
}

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
	act = action_for(&a, spf_result_title(r->helo_spf.result));
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

static struct verdict engine(struct pd_req *r)
{
	const struct conf_py *py = r->py;
	const struct pc_record *found = r->cache && r->instance ? pcache_get(r->cache, r->instance) : NULL;
	const char *last_action = last_action_of(found);
	struct verdict dunno_pre = { "dunno", "Header already pre-pended", false };
	int dbg = py->debug_level;

	/* bypass hit (§4.3) */
	if (!r->ip) {
		if (dbg >= 2)
			log_info("spfcheck: No client address, exiting");
		return (struct verdict){ NULL, NULL, false };
	}
	if (r->bypass_header) {
		struct rec skip = { { "N/A", r->bypass_desc, "N/A", "prepend", r->skip_header ? r->skip_header : "None" }, 5 };

		if (strcmp(last_action, "prepend") != 0) {
			rec_append(&skip, "prepend");
			if (!found && !r->peruser)
				cache_put(r, &skip);
			return (struct verdict){ "prepend", r->bypass_header, false };
		}
		return dunno_pre;
	}
	if (r->no_identity) {
		if (dbg >= 2)
			log_info("spfcheck: No sender or helo, exiting");
		return (struct verdict){ NULL, NULL, false };
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
			rec_append(&helo_res, action_for(&a, helo_res.f[0]));
			if (a.local)
				helo_res.f[1] = keep(r, pf_asprintf("Receiver policy for SPF %s", helo_res.f[0]));
		}
		/* Python prints an absent sender as None; it survives to the
		 * header only when MAIL FROM is not checked (else Python crashes
		 * and we treat it as the null sender). */
		const char *header_sender = *r->snd ? r->snd
			: (r->sender == NULL && eq(mfrom_reject, "No_Check")) ? "None" : "<>";
		if (eq(helo_res.f[0], "None"))
			helo_res.f[1] = "no SPF record";
		if (dbg >= 2)
			log_info("%s; identity=helo; client-ip=%s; helo=%s; envelope-from=%s; receiver=%s ",
				 helo_res.f[0], r->ip, r->helo, header_sender, r->rcv);
		header = spf_header(r, true, &helo_res, header_sender);
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
				cache_put(r, &helo_res);
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
					cache_put(r, &helo_res);
				return (struct verdict){ helo_res.f[3], text, isheloerror };
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
					cache_put(r, &helo_res);
				return (struct verdict){ "result_only", hpr, false };
			}
			if (!r->peruser)
				cache_put(r, &helo_res);
			return (struct verdict){ helo_res.f[3], header, isheloerror };
		}
	} else if (!eq(mfrom_reject, "No_Check")) {
		const struct pd_spf *s = &r->mfrom_spf;
		struct rec mres = { { spf_result_title(s->result), s->reason ? s->reason : "", "mailfrom" }, 3 };
		bool ismfromerror = s->result == SPF_PERMERROR || s->result == SPF_TEMPERROR;
		struct actions a;

		resultcodes(r, false, &a);
		log_pyspf(r, mres.f[0], mres.f[1], "mailfrom");
		rec_append(&mres, action_for(&a, mres.f[0]));
		if (a.local)
			mres.f[1] = keep(r, pf_asprintf("Receiver policy for SPF %s", mres.f[0]));
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
					cache_put(r, &mres);
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
					cache_put(r, &mres);
			}
			return (struct verdict){ "result_only", restrict_name, false };
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
					cache_put(r, &mres);
				return (struct verdict){ mres.f[3], text, ismfromerror };
			}
		}
		if (strcmp(last_action, "prepend") != 0)
			return (struct verdict){ "prepend", header, false };
		return dunno_pre;
	} else if (!eq(helo_reject, "No_Check")) {
		/* Mail_From_reject = No_Check.  DIFFERENCE: a HELO pass
		 * restriction applies to the first recipient too (Python prepends
		 * the header for the first and replays the restriction for the rest). */
		if (eq(helo_res.f[3], "result_only") && restrict_name)
			return (struct verdict){ "result_only", restrict_name, false };
		if (strcmp(last_action, "prepend") != 0)
			return (struct verdict){ "prepend", header, false };
		return dunno_pre;
	}
	return (struct verdict){ "None", "None", false };
}

/* ---- main loop output (§4.9) --------------------------------------------------- */

static char *output(struct pd_req *r, struct verdict v)
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
	pd_qid_prefix(r->queue_id, qid, sizeof qid);
	if (eq(v.v, "reject")) {
		if (dbg >= 1)
			log_info("%s%s %s", qid, reject_code, v.text);
		return pf_asprintf("%s %s", reject_code, v.text);
	}
	if (eq(v.v, "prepend")) {
		if (truthy(py->prospective))
			return pf_asprintf("dunno");
		if (!eq(py->header_type, "None")) {
			if (dbg >= 1)
				log_info("%sprepend %s", qid, v.text);
			return pf_asprintf("prepend %s", v.text);
		}
		if (dbg >= 1)
			log_info("%sHeader field not prepended: %s", qid, v.text);
		return pf_asprintf("dunno");
	}
	if (eq(v.v, "defer")) {
		if (dbg >= 1)
			log_info("%s%s %s", qid, defer_code, v.text);
		return pf_asprintf("%s %s", defer_code, v.text);
	}
	if (eq(v.v, "result_only")) {
		if (dbg >= 1)
			log_info("%sresult_only %s", qid, v.text ? v.text : "None");
		return pf_asprintf("%s", v.text ? v.text : "None");
	}
	return pf_asprintf("dunno");
}

bool pd_replay(struct pd_req *r, char **action)
{
	const struct pc_record *found = r->cache && r->instance ? pcache_get(r->cache, r->instance) : NULL;

	if (r->py->debug_level >= 4) {
		char *l = found ? pf_pylist((const char *const *)found->f, found->n) : NULL;

		log_info("Cached data for this instance: %s", l ? l : "[]");
		free(l);
	}
	if (!found || r->peruser)
		return false;
	struct verdict v;

	if (found->n > 3 && eq(found->f[3], "prepend"))
		v = (struct verdict){ "dunno", "Header already pre-pended", false };
	else
		v = (struct verdict){ found->n > 3 ? found->f[3] : NULL, found->n > 4 ? found->f[4] : NULL, false };
	*action = output(r, v);
	return true;
}

char *pd_decide(struct pd_req *r)
{
	struct verdict v = engine(r);
	char *out = output(r, v);

	return out;
}

void pd_req_free(struct pd_req *r)
{
	free(r->helo_spf.reason);
	free(r->helo_spf.first_txt);
	free(r->mfrom_spf.reason);
	free(r->mfrom_spf.first_txt);
	free(r->bypass_header);
	free(r->skip_header);
	free(r->helo_buf);
	for (size_t i = 0; i < r->nown; i++)
		free(r->own[i]);
	r->nown = 0;
	r->helo_spf.reason = r->helo_spf.first_txt = r->mfrom_spf.reason = r->mfrom_spf.first_txt = NULL;
	r->bypass_header = r->skip_header = r->helo_buf = NULL;
}
