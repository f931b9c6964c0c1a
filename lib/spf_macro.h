/*
 * spf_macro - RFC 7208 section 7 macro expansion of domain-specs and
 * explanation strings.
 *
 * Expansion is pure: the caller supplies every value.  %{p} needs DNS
 * (a validated PTR name), so when it is used and vars->p is NULL the
 * expander says so (SPF_MACRO_NEED_P) and the evaluator fetches it
 * asynchronously and expands again.  Problem texts are worded as pyspf
 * words them, because they end up in reject replies.
 */
#ifndef POLICYD_SPF_MACRO_H
#define POLICYD_SPF_MACRO_H

#include <stdbool.h>
#include <stddef.h>

struct spf_macro_vars {
	const char *s;  /* sender (postmaster@helo for the HELO identity) */
	const char *l;  /* local part */
	const char *o;  /* sender domain */
	const char *d;  /* current domain */
	const char *i;  /* client IP: dotted quad or dot-separated nibbles */
	const char *p;  /* validated PTR name; NULL = not known yet */
	const char *v;  /* "in-addr" or "ip6" */
	const char *h;  /* HELO name */
	const char *c;  /* client IP, readable form (exp only) */
	const char *r;  /* receiving host (exp only) */
	const char *t;  /* timestamp (exp only) */
};

/* flags */
#define SPF_MACRO_EXP 1   /* explain-string: c r t allowed, spaces kept, no name rules */

enum {
	SPF_MACRO_OK = 0,
	SPF_MACRO_ERR = -1,     /* syntax error; err holds pyspf's text */
	SPF_MACRO_NEED_P = 1,   /* %{p} used and vars->p is NULL */
};

/* Longest expansion we produce; anything longer is an error. */
#define SPF_MACRO_MAX 8192

/* Syntax check only (no values needed). */
int spf_macro_check(const char *spec, size_t len, int flags, char *err, size_t errlen);
/* true if spec contains a %{p} or %{P} macro */
bool spf_macro_uses_p(const char *spec, size_t len);
/*
 * Expand spec into a freshly allocated string (*out, caller frees).
 * Without SPF_MACRO_EXP the result is a target name: one trailing dot
 * removed and leading labels dropped until it fits in 253 characters.
 */
int spf_macro_expand(const char *spec, size_t len, const struct spf_macro_vars *v, int flags,
		     char **out, char *err, size_t errlen);

/*
 * Whether a domain-spec (unexpanded) ends in something that can be a
 * top label, or in a macro (pyspf's "Invalid domain found (use FQDN)").
 */
bool spf_macro_domain_end_ok(const char *spec, size_t len);

/*
 * Whether an expanded name can be queried at all: no empty label, no
 * label over 63 octets, at most 253 octets besides one trailing dot (which
 * is allowed).  Names failing this are treated as an empty answer that is
 * not sent (as pyspf does).
 */
bool spf_name_queryable(const char *name);

/*
 * pyspf's dns_spf() check of the name as given: an empty name, an empty
 * label (a trailing dot too) or a label over 63 octets means no record;
 * unlike spf_name_queryable there is no length limit.
 */
bool spf_name_labels_ok(const char *name);

#endif
