/*
 * policy_decide - spf_engine's decision for one request once the DNS work
 * is done (reference §4.2-§4.9): instance replay, the bypass outcome, the
 * HELO then MAIL FROM decision with the result-to-action matrix,
 * Reject_Not_Pass_Domains, No_Mail, pass restrictions, headers, the
 * instance cache, and the main loop's post-processing (TestOnly, status
 * codes, Prospective, Header_Type None) into the final action text.
 * Pure: no DNS, no event loop, so every row is testable on its own.
 */
#ifndef POLICYD_POLICY_DECIDE_H
#define POLICYD_POLICY_DECIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "policy_cache.h"
#include "policy_fmt.h"
#include "spf.h"

/* One SPF check's outcome as the decision needs it. */
struct pd_spf {
	bool run;                  /* the check is needed */
	bool done;
	enum spf_result result;
	char *reason;              /* pyspf's text (pf_reason), in the request's arena */
	char *first_txt;           /* first string of the first TXT, for No_Mail (arena) */
	bool has_txt;
};

struct pd_req {
	const struct conf *conf;      /* global (path, our keys) */
	const struct conf_py *py;     /* effective settings (per-user applied) */
	bool peruser;                 /* a per-user line matched */
	int gdebug;                   /* the main loop's debugLevel (global) */

	/* request attributes; NULL = absent */
	const char *client_address, *helo_name, *sender, *queue_id, *instance;
	const char *rcv;              /* receiver form (§4.1 step 5) */

	/* derived by pd_prepare() */
	const char *ip;               /* Prospective or client_address */
	const char *helo;             /* effective HELO (§4.4) */
	const char *snd;              /* sender, "" when absent */
	bool no_identity;             /* "No sender or helo, exiting" */
	struct pd_spf helo_spf, mfrom_spf;

	/* bypass outcome, filled by the caller: NULL or the header (clean, i.e. built by policy_fmt) */
	const char *bypass_header;
	const char *bypass_desc;      /* "Skip SPF checks on localhost", ... */
	const char *skip_header;      /* skip_addresses' header ('None' if no hit) */

	struct policy_cache *cache;   /* the session's, NULL = none */
	/* every string made for this request; pd_req_reset/pd_req_free drop them */
	struct pf_arena arena;

	/* private to policy_decide.c */
	const struct pc_record *found;   /* cache lookup, once per request */
	bool looked_up;
};

/* Fill ip, helo, snd, no_identity and which SPF checks must run. */
void pd_prepare(struct pd_req *r);

/*
 * spf_engine._spfcheck before the bypass checks: replay from the cache.
 * Returns true (and sets *action, as pd_decide's result) when the request
 * is answered from the cache; false to go on.
 */
bool pd_replay(struct pd_req *r, const char **action);

/* The HELO result alone decides the request (a reject or defer that
 * returns before MAIL FROM is looked at): the MAIL FROM check may be
 * dropped.  Needs helo_spf done. */
bool pd_helo_decides(const struct pd_req *r);

/* The rest, after bypass and SPF results are in: the final action text
 * (after "action="), with no CR, LF or NUL, valid until pd_req_reset or
 * pd_req_free; never NULL except out of memory. */
const char *pd_decide(struct pd_req *r);

/* Set one SPF outcome (reason and, when No_Mail needs it, the first TXT
 * string) with the strings in the request's arena. */
void pd_spf_set(struct pd_req *r, struct pd_spf *s, enum spf_result result, const char *explanation,
		const char *problem, const char *first_txt, size_t first_txt_len);

/* Log-line prefix for decision lines (§7.1). */
void pd_qid_prefix(const char *queue_id, char *buf, size_t len);

/* Drop the request's strings; pd_req_reset keeps the arena's memory for the next request. */
void pd_req_reset(struct pd_req *r);
void pd_req_free(struct pd_req *r);

#endif
