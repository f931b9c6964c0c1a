/*
 * policy_fmt - the strings the Python policyd-spf writes, byte for byte
 * (reference §5): SPF reason texts, Received-SPF, Authentication-Results,
 * the X-Comment bypass header, the Reason_Message text with its URL, and
 * Python list reprs for the debug log.  Every function returns a string
 * (NULL when out of memory) that holds no CR, LF or NUL: bytes from the
 * request that could break a header are replaced by '?'.
 *
 * The builders take an arena: the strings of one request live as long as
 * the request and are dropped together, so a request costs no malloc/free
 * per string.  A NULL arena means malloc (the caller frees).
 */
#ifndef POLICYD_POLICY_FMT_H
#define POLICYD_POLICY_FMT_H

#include <stdbool.h>
#include <stddef.h>

#include "spf.h"

struct pf_chunk;

/* A bump allocator; all zero is an empty arena. */
struct pf_arena {
	struct pf_chunk *head;
};

/* n bytes (8-aligned) from a, or malloc'd when a is NULL; NULL when out of memory. */
void *pf_alloc(struct pf_arena *a, size_t n);
/* s[0..n) and a NUL, as is (no sanitising). */
char *pf_strndup(struct pf_arena *a, const char *s, size_t n);
/* Forget every string but keep one chunk for the next request. */
void pf_arena_reset(struct pf_arena *a);
void pf_arena_free(struct pf_arena *a);

/* printf into a new malloc'd string; NULL when out of memory */
char *pf_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Replace C0 controls other than TAB, and DEL, with '?' in place. */
void pf_sanitize(char *s);
void pf_sanitize_n(char *s, size_t n);

/* pyspf's third check() value: "sender SPF authorized", the exp= text,
 * "SPF Permanent Error: <problem>", ... ("" for None, as pyspf). */
char *pf_reason(struct pf_arena *a, enum spf_result r, const char *explanation, const char *problem);

/* envelope-from value for Received-SPF: as is, or (escape and it holds
 * '=') "..."-quoted with '=' '"' '\' backslash-escaped. */
char *pf_envelope_from(struct pf_arena *a, const char *sender, bool escape);

/* Received-SPF: <Title> (<comment>) identity=<id>; client-ip=...; helo=...;
 * envelope-from=...; receiver=... (with the trailing space) */
char *pf_received_spf(struct pf_arena *a, const char *title, const char *comment, const char *identity,
		      const char *ip, const char *helo, const char *env_from, const char *rcv);

/* authres's quote_if_needed(): as is when it holds '@' or is a token */
char *pf_ar_quote(struct pf_arena *a, const char *v);

/* Authentication-Results: <id>; spf=<result> (<reason>) smtp.<prop>=<q(value)> (<comment>) */
char *pf_auth_results(struct pf_arena *a, const char *authserv_id, const char *title, const char *reason,
		      const char *prop, const char *value, const char *ip, const char *helo,
		      const char *env_from, const char *rcv);

/* bypass header: X-Comment, or the AR "none" form when ar is set */
char *pf_bypass_header(struct pf_arena *a, bool ar, const char *authserv_id, const char *comment,
		       const char *client, const char *helo, const char *sender, const char *rcv);

/*
 * Reason_Message.format(rejectdefer=..., spf=reason, url=...).  A template
 * that Python cannot format (it would crash) falls back to the default
 * template; *why says what was wrong (logged by the caller).
 */
char *pf_reject_text(struct pf_arena *a, const char *tmpl, bool defer, const char *reason, const char *scope,
		     const char *identity, const char *ip, const char *rcv,
		     char *why, size_t whylen);

/* Python repr of a list of str (NULL items print as None); malloc'd. */
char *pf_pylist(const char *const *items, size_t n);

/*
 * Concatenation of pieces into a's memory (malloc'd when a is NULL): the
 * fast path of every header and reply.  A piece with n == PF_STRLEN is
 * NUL-terminated (NULL prints as "(null)", as printf would).  When any
 * piece is raw, the result is sanitised in one pass; literal and clean
 * pieces must hold no byte that sanitising would change.
 */
#define PF_STRLEN ((size_t)-1)
struct pf_piece {
	const char *s;
	size_t n;
	bool raw;
};
#define PF_LIT(x) ((struct pf_piece){ (x), sizeof(x) - 1, false })
#define PF_RAW(x) ((struct pf_piece){ (x), PF_STRLEN, true })
/* a string known to be clean already (built here) */
#define PF_CLEAN(x) ((struct pf_piece){ (x), PF_STRLEN, false })
char *pf_join(struct pf_arena *a, struct pf_piece *p, size_t n);

#endif
