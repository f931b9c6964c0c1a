/*
 * spf - RFC 7208 check_host() as an asynchronous state machine.
 *
 * A check is started with spf_check_start() and driven by DNS answers
 * arriving through a dns_ctx; it never blocks.  The engine knows nothing
 * of the event loop or of the Postfix policy: it returns the result, the
 * explanation (for fail) and a problem text worded as pyspf words it, so
 * that the policy layer can build byte-compatible reason strings.
 */
#ifndef POLICYD_SPF_H
#define POLICYD_SPF_H

#include <stdbool.h>
#include <stddef.h>
#include "dns.h"

enum spf_result {
	SPF_NONE = 0,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
};

/* "pass", "fail", "softfail", "neutral", "none", "permerror", "temperror" */
const char *spf_result_word(enum spf_result r);
/* "Pass", "Fail", "Softfail", "Neutral", "None", "Permerror", "Temperror" (pyspf/spf_engine spelling) */
const char *spf_result_title(enum spf_result r);

#define SPF_VOID_LIMIT_DEFAULT 2

/* One line of trace, no newline.  Called synchronously from the engine. */
typedef void spf_trace_fn(void *arg, const char *line);

struct spf_request {
	const char *ip;        /* client address, text (IPv4, IPv6, IPv4-mapped IPv6) */
	const char *sender;    /* MAIL FROM; "" = null sender -> postmaster@<helo> */
	const char *helo;      /* HELO/EHLO name, %{h} */
	const char *domain;    /* domain to check; NULL = domain part of sender (or helo for null sender) */
	const char *receiver;  /* %{r}; NULL = "unknown" */
	int void_limit;        /* Void_Limit (RFC default 2, SPF_VOID_LIMIT_DEFAULT); as in pyspf
				* more voids than this is permerror, so a negative
				* limit makes the first void lookup one */
	int lookup_limit;      /* <= 0: default 10 */
	long timeout_ms;       /* whole-check deadline; 0 = none; < 0 = temperror at once */
	const char *default_exp; /* explanation for fail without usable exp=; NULL = none
				  * (macros are expanded, %{p} as "unknown") */
	bool servfail_void;    /* SERVFAIL counts as an empty answer, as pydns over UDP
				* makes it (Python server: None), instead of temperror
				* "DNS Error: SERVFAIL  RCODE: 2" */
	spf_trace_fn *trace;   /* NULL = no trace */
	void *trace_arg;
};

struct spf_response {
	enum spf_result result;
	/* For fail (and softfail, as pyspf does): the expanded exp= text of the
	 * top-level record (after redirects); when there is none or it was
	 * unusable, the expanded default_exp; NULL when neither. */
	const char *explanation;
	/* For permerror/temperror: pyspf's message, e.g. "Unknown mechanism found: moo",
	 * "Too many DNS lookups", "DNS Timeout", "Void lookup limit of 2 exceeded".
	 * NULL otherwise.  Control characters are replaced by '?'. */
	const char *problem;
	const char *mechanism;  /* top-level term that decided, NULL if none matched / error */
	bool exp_from_record;   /* explanation came from exp=, not default_exp */
	/* First character-string of the first TXT record of the checked domain
	 * (No_Mail needs it), NULL if the lookup failed or had no TXT. */
	const char *first_txt;
	size_t first_txt_len;
	unsigned lookups, voids, queries, cache_hits;
	long elapsed_ms;
};

struct spf_check;
/* Called once; response valid only during the call. */
typedef void spf_done_fn(void *arg, const struct spf_response *res);

/*
 * Returns the running check, or NULL when it finished (or failed to start)
 * before returning: done was called already in that case.  The request's
 * strings are copied.  Any number of checks may share one dns_ctx.
 */
struct spf_check *spf_check_start(struct dns_ctx *dns, const struct spf_request *req,
				  spf_done_fn *done, void *arg);
/* Stops a running check (its done is never called); not from within its done. */
void spf_check_cancel(struct spf_check *c);

#endif
