/*
 * policy_fmt - the strings the Python policyd-spf writes, byte for byte
 * (reference §5): SPF reason texts, Received-SPF, Authentication-Results,
 * the X-Comment bypass header, the Reason_Message text with its URL, and
 * Python list reprs for the debug log.  Every function returns a malloc'd
 * string (NULL when out of memory) that holds no CR, LF or NUL: bytes
 * from the request that could break a header are replaced by '?'.
 */
#ifndef POLICYD_POLICY_FMT_H
#define POLICYD_POLICY_FMT_H

#include <stdbool.h>
#include <stddef.h>

#include "spf.h"

/* printf into a new string; NULL when out of memory */
char *pf_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Replace C0 controls other than TAB, and DEL, with '?' in place. */
void pf_sanitize(char *s);

/* pyspf's third check() value: "sender SPF authorized", the exp= text,
 * "SPF Permanent Error: <problem>", ... ("" for None, as pyspf). */
char *pf_reason(enum spf_result r, const char *explanation, const char *problem);

/* envelope-from value for Received-SPF: as is, or (escape and it holds
 * '=') "..."-quoted with '=' '"' '\' backslash-escaped. */
char *pf_envelope_from(const char *sender, bool escape);

/* Received-SPF: <Title> (<comment>) identity=<id>; client-ip=...; helo=...;
 * envelope-from=...; receiver=... (with the trailing space) */
char *pf_received_spf(const char *title, const char *comment, const char *identity,
		      const char *ip, const char *helo, const char *env_from, const char *rcv);

/* authres's quote_if_needed(): as is when it holds '@' or is a token */
char *pf_ar_quote(const char *v);

/* Authentication-Results: <id>; spf=<result> (<reason>) smtp.<prop>=<q(value)> (<comment>) */
char *pf_auth_results(const char *authserv_id, const char *title, const char *reason,
		      const char *prop, const char *value, const char *ip, const char *helo,
		      const char *env_from, const char *rcv);

/* bypass header: X-Comment, or the AR "none" form when ar is set */
char *pf_bypass_header(bool ar, const char *authserv_id, const char *comment,
		       const char *client, const char *helo, const char *sender, const char *rcv);

/*
 * Reason_Message.format(rejectdefer=..., spf=reason, url=...).  A template
 * that Python cannot format (it would crash) falls back to the default
 * template; *why says what was wrong (logged by the caller).
 */
char *pf_reject_text(const char *tmpl, bool defer, const char *reason, const char *scope,
		     const char *identity, const char *ip, const char *rcv,
		     char *why, size_t whylen);

/* Python repr of a list of str (NULL items print as None). */
char *pf_pylist(const char *const *items, size_t n);

#endif
