/*
 * spf_record - parse one SPF record (RFC 7208 sections 4.6, 5, 6, 12)
 * into terms, checking every syntax rule before anything is evaluated.
 *
 * Problem texts are pyspf's, because the policy layer puts them into
 * reject replies byte for byte.  Macro syntax is checked here too; the
 * expansion itself happens at evaluation time (spf_macro).
 */
#ifndef POLICYD_SPF_RECORD_H
#define POLICYD_SPF_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include "spf.h"

enum spf_mech {
	SPF_MECH_ALL,
	SPF_MECH_INCLUDE,
	SPF_MECH_A,
	SPF_MECH_MX,
	SPF_MECH_PTR,
	SPF_MECH_IP4,
	SPF_MECH_IP6,
	SPF_MECH_EXISTS,
};

struct spf_term {
	enum spf_mech mech;
	enum spf_result result;   /* from the qualifier */
	const char *text;         /* the term as written */
	const char *domain;       /* domain-spec as written; NULL = current domain */
	int cidr4, cidr6;         /* prefix lengths (defaults 32 and 128) */
	unsigned char ip[16];     /* ip4 (first 4 bytes) / ip6 network */
};

struct spf_record {
	struct spf_term *terms;
	size_t nterms;
	const char *redirect;     /* domain-spec of redirect=, NULL if none */
	const char *exp;          /* domain-spec of exp=, NULL if none */
	char *arena;
	unsigned refs;            /* shared with the parse cache (spf_record.c) */
	size_t bytes;             /* allocated size, for the cache's bound */
	/* What the evaluator derives from the terms once (spf_eval.h's
	 * spf_target array): one allocation, freed with the record. */
	void *targets;
	size_t targets_bytes;
};

/* true if txt (len bytes) is an SPF version 1 record ("v=spf1" then SP or end) */
bool spf_record_is_spf1(const char *txt, size_t len);

/*
 * Parse a record.  domain is the domain it was fetched for (terms without
 * domain-spec use it and pyspf checks it like one).  Returns 0 and
 * *out, or -1 with pyspf's problem text in err.  *out is read-only: it may
 * be shared with other checks through a small cache of recent parses
 * (keyed by the text and the domain); release it with spf_record_free.
 */
int spf_record_parse(const char *txt, size_t len, const char *domain, struct spf_record **out,
		     char *err, size_t errlen);
void spf_record_free(struct spf_record *r);

/* Strict address syntax (no leading zeros, RFC 3986 IPv6). */
bool spf_ip4_parse(const char *s, size_t len, unsigned char out[4]);
bool spf_ip6_parse(const char *s, size_t len, unsigned char out[16]);
/* first bits bits of a and b equal */
bool spf_prefix_match(const unsigned char *a, const unsigned char *b, int bits);

#endif
