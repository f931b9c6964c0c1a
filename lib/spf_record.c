/*
 * spf_record - SPF record parser.
 *
 * The order of the checks follows pyspf, so that a record with several
 * problems is reported with the same first problem.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf_macro.h"
#include "spf_record.h"

#define CIDR_ABSENT (-1)

bool spf_record_is_spf1(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 && (len == 6 || txt[6] == ' ');
}

bool spf_ip4_parse(const char *s, size_t len, unsigned char out[4])
{
	size_t pos = 0;
	for (int k = 0; k < 4; k++) {
		if (k > 0) {
			if (pos >= len || s[pos] != '.')
				return false;
			pos++;
		}
		size_t st = pos;
		unsigned v = 0;
		while (pos < len && isdigit((unsigned char)s[pos]) && pos - st < 4)
			v = v * 10 + (unsigned)(s[pos++] - '0');
		size_t n = pos - st;
		if (n == 0 || n > 3 || (n > 1 && s[st] == '0') || v > 255)
			return false;
		out[k] = (unsigned char)v;
	}
	return pos == len;
}

bool spf_ip6_parse(const char *s, size_t len, unsigned char out[16])
{
	char tmp[64];
	if (len == 0 || len >= sizeof(tmp))
		return false;
	for (size_t k = 0; k < len; k++) {
		char c = s[k];
		if (!(isxdigit((unsigned char)c) || c == ':' || c == '.'))
			return false;
	}
	/* hex groups of at most 4 digits; an embedded IPv4 must be strict */
	size_t grp = 0;
	for (size_t k = 0; k < len; k++) {
		if (s[k] == ':')
			grp = 0;
		else if (s[k] != '.' && ++grp > 4)
			return false;
	}
	const char *dot = memchr(s, '.', len);
	if (dot) {
		const char *lastc = s + len;
		while (lastc > s && lastc[-1] != ':')
			lastc--;
		unsigned char v4[4];
		if (lastc == s || dot < lastc || !spf_ip4_parse(lastc, (size_t)(s + len - lastc), v4))
			return false;
	}
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return inet_pton(AF_INET6, tmp, out) == 1;
}

bool spf_prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int k = 0;
	for (; bits >= 8; bits -= 8, k++)
		if (a[k] != b[k])
			return false;
	if (bits > 0) {
		unsigned char mask = (unsigned char)(0xff << (8 - bits));
		if ((a[k] & mask) != (b[k] & mask))
			return false;
	}
	return true;
}

/* "/N" at the end of s[0..*len): RFC ip4-cidr-length rejects leading zeros. */
static int strip_cidr(const char *s, size_t *len, bool dual)
{
	size_t e = *len, d = e;
	while (d > 0 && isdigit((unsigned char)s[d - 1]))
		d--;
	if (d == e || (e - d > 1 && s[d] == '0'))
		return CIDR_ABSENT;
	size_t need = dual ? 2 : 1;
	if (d < need || s[d - 1] != '/' || (dual && s[d - 2] != '/'))
		return CIDR_ABSENT;
	int v = 0;
	for (size_t k = d; k < e; k++) {
		v = v * 10 + (s[k] - '0');
		if (v > 100000)
			v = 100000;
	}
	*len = d - need;
	return v;
}

static bool visible(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static int fail(char *err, size_t errlen, const char *msg, const char *what)
{
	if (what)
		snprintf(err, errlen, "%s: %s", msg, what);
	else
		snprintf(err, errlen, "%s", msg);
	return -1;
}

/* domain-spec checks shared by mechanisms and modifiers */
static int check_domain_spec(const char *spec, char *err, size_t errlen)
{
	if (!spf_macro_domain_end_ok(spec, strlen(spec)) || !visible(spec))
		return fail(err, errlen, "Invalid domain found (use FQDN)", spec);
	if (spf_macro_check(spec, strlen(spec), 0, err, errlen) != SPF_MACRO_OK)
		return -1;
	return 0;
}

static const struct {
	const char *name;
	enum spf_mech mech;
} mechs[] = {
	{ "all", SPF_MECH_ALL }, { "include", SPF_MECH_INCLUDE }, { "a", SPF_MECH_A },
	{ "mx", SPF_MECH_MX },   { "ptr", SPF_MECH_PTR },         { "ip4", SPF_MECH_IP4 },
	{ "ip6", SPF_MECH_IP6 }, { "exists", SPF_MECH_EXISTS },
};

static int mech_lookup(const char *name, size_t n)
{
	for (size_t k = 0; k < sizeof(mechs) / sizeof(mechs[0]); k++)
		if (strlen(mechs[k].name) == n && strncasecmp(mechs[k].name, name, n) == 0)
			return (int)k;
	return -1;
}

/*
 * Parse one mechanism.  t is the term (NUL-terminated, writable copy in
 * the arena); buf is scratch space of at least strlen(t)+1 for the
 * domain-spec.
 */
static int parse_mech(struct spf_term *term, char *t, char *buf, const char *domain, char *err,
		      size_t errlen)
{
	size_t tl = strlen(t);
	memset(term, 0, sizeof(*term));
	term->text = t;

	if (tl > 0 && t[tl - 1] == ',')
		return fail(err, errlen, "Do not separate mechnisms with commas", t);

	size_t len = tl;
	int cidr6 = strip_cidr(t, &len, true);
	int cidr4 = strip_cidr(t, &len, false);

	const char *colon = memchr(t, ':', len);
	size_t nlen = colon ? (size_t)(colon - t) : len;
	const char *arg = NULL;
	if (colon) {
		size_t alen = len - nlen - 1;
		memcpy(buf, colon + 1, alen);
		buf[alen] = '\0';
		arg = buf;
	}

	const char *name = t;
	term->result = SPF_PASS;
	if (nlen > 0 && strchr("+-?~", name[0])) {
		switch (name[0]) {
		case '+': term->result = SPF_PASS; break;
		case '-': term->result = SPF_FAIL; break;
		case '?': term->result = SPF_NEUTRAL; break;
		case '~': term->result = SPF_SOFTFAIL; break;
		}
		name++;
		nlen--;
	}

	static const char *const mistakes[] = { "prt", "ip", "ipv4", "ipv6", "all." };
	for (size_t k = 0; k < sizeof(mistakes) / sizeof(mistakes[0]); k++)
		if (strlen(mistakes[k]) == nlen && strncasecmp(name, mistakes[k], nlen) == 0)
			return fail(err, errlen, "Unknown mechanism found", t);

	unsigned char v4[4];
	int mi = mech_lookup(name, nlen);
	if (mi < 0) {
		/* a bare dotted quad: pyspf names it */
		if (spf_ip4_parse(name, nlen, v4))
			return fail(err, errlen, "Missing IP4", t);
		if (nlen > 0 && mech_lookup(name + 1, nlen - 1) >= 0)
			return fail(err, errlen, "Unknown qualifier, RFC 4408 para 4.6.1, found in", t);
		return fail(err, errlen, "Unknown mechanism found", t);
	}
	term->mech = mechs[mi].mech;
	const char *eff = arg ? arg : domain;

	switch (term->mech) {
	case SPF_MECH_A:
	case SPF_MECH_MX:
		if (term->mech == SPF_MECH_A && spf_ip4_parse(eff, strlen(eff), v4))
			return fail(err, errlen, "Use the ip4 mechanism for ip4 addresses", t);
		if (cidr4 > 32)
			return fail(err, errlen, "Invalid IP4 CIDR length", t);
		if (cidr6 > 128)
			return fail(err, errlen, "Invalid IP6 CIDR length", t);
		term->cidr4 = cidr4 == CIDR_ABSENT ? 32 : cidr4;
		term->cidr6 = cidr6 == CIDR_ABSENT ? 128 : cidr6;
		break;
	case SPF_MECH_IP4:
		if (cidr6 != CIDR_ABSENT)
			return fail(err, errlen, "Dual CIDR not allowed", t);
		if (cidr4 > 32)
			return fail(err, errlen, "Invalid IP4 CIDR length", t);
		if (!spf_ip4_parse(eff, strlen(eff), term->ip))
			return fail(err, errlen, "Invalid IP4 address", t);
		term->cidr4 = cidr4 == CIDR_ABSENT ? 32 : cidr4;
		return 0;
	case SPF_MECH_IP6:
		if (cidr6 != CIDR_ABSENT)
			return fail(err, errlen, "Dual CIDR not allowed", t);
		if (cidr4 > 128)
			return fail(err, errlen, "Invalid IP6 CIDR length", t);
		if (!spf_ip6_parse(eff, strlen(eff), term->ip))
			return fail(err, errlen, "Invalid IP6 address", t);
		term->cidr6 = cidr4 == CIDR_ABSENT ? 128 : cidr4;
		return 0;
	default:
		if (cidr4 != CIDR_ABSENT || cidr6 != CIDR_ABSENT)
			return fail(err, errlen, "CIDR not allowed", t);
		break;
	}

	switch (term->mech) {
	case SPF_MECH_ALL:
		if (colon)
			return fail(err, errlen,
				    "Invalid all mechanism format - only qualifier allowed with all", t);
		return 0;
	case SPF_MECH_EXISTS:
		if (arg == NULL || arg[0] == '\0')
			return fail(err, errlen, "implicit exists not allowed", t);
		break;
	case SPF_MECH_INCLUDE:
		if (arg == NULL) {
			if (strcmp(t, "include") == 0)
				return fail(err, errlen, "include mechanism missing domain", t);
			return fail(err, errlen, "include has trivial recursion", t);
		}
		break;
	default:
		break;
	}
	if (check_domain_spec(eff, err, errlen) < 0)
		return -1;
	if (eff[0] == '\0')
		return fail(err, errlen, "empty domain:", t);
	term->domain = arg;
	return 0;
}

/* length of a modifier name ("name=" at the start of t), 0 if not a modifier */
static size_t modifier_name(const char *t)
{
	if (!isalpha((unsigned char)t[0]))
		return 0;
	size_t k = 1;
	while (isalnum((unsigned char)t[k]) || t[k] == '_' || t[k] == '-' || t[k] == '.')
		k++;
	return t[k] == '=' ? k : 0;
}

static int record_parse(const char *txt, size_t len, const char *domain, struct spf_record **out,
			char *err, size_t errlen);

/*
 * The popular providers' records are parsed for nearly every check: keep
 * recent successful parses, direct-mapped by a hash of (domain, text) and
 * bounded in bytes.  A hit must match the text and the domain exactly, so
 * the result is always what a fresh parse would give; failures are not
 * kept (their problem text is produced again each time).
 */
#define RECCACHE_SLOTS 512
#define RECCACHE_MAXLEN 2048            /* longer records are parsed every time */
#define RECCACHE_MAX_BYTES (2u << 20)

struct reccache_slot {
	char *key;                      /* domain NUL text */
	size_t dlen, len;
	uint32_t hash;
	struct spf_record *rec;
};

static struct reccache_slot reccache[RECCACHE_SLOTS];
static size_t reccache_bytes;

static uint32_t reccache_hash(const char *domain, size_t dlen, const char *txt, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t k = 0; k < dlen; k++)
		h = (h ^ (unsigned char)domain[k]) * 16777619u;
	h = (h ^ 0xffu) * 16777619u;
	for (size_t k = 0; k < len; k++)
		h = (h ^ (unsigned char)txt[k]) * 16777619u;
	return h;
}

static void reccache_drop(struct reccache_slot *sl)
{
	if (sl->rec == NULL)
		return;
	reccache_bytes -= sl->rec->bytes + sl->dlen + sl->len + 2;
	spf_record_free(sl->rec);
	free(sl->key);
	memset(sl, 0, sizeof(*sl));
}

int spf_record_parse(const char *txt, size_t len, const char *domain, struct spf_record **out,
		     char *err, size_t errlen)
{
	size_t dlen;
	uint32_t h;
	struct reccache_slot *sl;
	char *key;
	int rc;

	if (domain == NULL || len > RECCACHE_MAXLEN)
		return record_parse(txt, len, domain, out, err, errlen);
	dlen = strlen(domain);
	h = reccache_hash(domain, dlen, txt, len);
	sl = &reccache[h % RECCACHE_SLOTS];
	if (sl->rec != NULL && sl->hash == h && sl->dlen == dlen && sl->len == len &&
	    memcmp(sl->key, domain, dlen) == 0 && memcmp(sl->key + dlen + 1, txt, len) == 0) {
		sl->rec->refs++;
		*out = sl->rec;
		return 0;
	}
	rc = record_parse(txt, len, domain, out, err, errlen);
	if (rc < 0)
		return rc;
	reccache_drop(sl);
	if (reccache_bytes + (*out)->bytes + dlen + len + 2 > RECCACHE_MAX_BYTES)
		return rc;
	if ((key = malloc(dlen + len + 2)) == NULL)
		return rc;
	memcpy(key, domain, dlen + 1);
	memcpy(key + dlen + 1, txt, len);
	key[dlen + 1 + len] = '\0';
	sl->key = key;
	sl->dlen = dlen;
	sl->len = len;
	sl->hash = h;
	sl->rec = *out;
	sl->rec->refs++;
	reccache_bytes += sl->rec->bytes + dlen + len + 2;
	return rc;
}

static int record_parse(const char *txt, size_t len, const char *domain, struct spf_record **out,
			char *err, size_t errlen)
{
	*out = NULL;
	if (!spf_record_is_spf1(txt, len))
		return fail(err, errlen, "Not an SPF record", NULL);

	struct spf_record *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return fail(err, errlen, "Out of memory", NULL);
	r->refs = 1;
	/* the terms, then as much scratch again for domain-specs */
	r->arena = malloc(2 * len + 2);
	/* one term at most per blank-separated token: sizing by len / 2 made
	 * a long ip4: list zero kilobytes of terms on every parse */
	size_t maxterms = 1;
	for (size_t k = 6; k < len; k++)
		if (txt[k] != ' ' && txt[k - 1] == ' ')
			maxterms++;
	r->terms = calloc(maxterms, sizeof(*r->terms));
	if (r->arena == NULL || r->terms == NULL) {
		spf_record_free(r);
		return fail(err, errlen, "Out of memory", NULL);
	}
	r->bytes = sizeof(*r) + 2 * len + 2 + maxterms * sizeof(*r->terms);
	char *a = r->arena, *scratch = r->arena + len + 1;
	memcpy(a, txt, len);
	a[len] = '\0';
	/* NUL bytes inside the record must not cut it short silently */
	for (size_t k = 0; k < len; k++)
		if (a[k] == '\0')
			a[k] = '\x7f';

	bool seen_redirect = false, seen_exp = false;
	size_t pos = 6;
	while (pos < len) {
		if (a[pos] == ' ') {
			a[pos++] = '\0';
			continue;
		}
		char *t = a + pos;
		while (pos < len && a[pos] != ' ')
			pos++;
		a[pos] = '\0';
		pos++;
		size_t tl = strlen(t);
		char *sc = scratch;
		scratch += tl + 1;

		size_t mn = modifier_name(t);
		if (mn == 0) {
			if (parse_mech(&r->terms[r->nterms], t, sc, domain, err, errlen) < 0)
				goto bad;
			r->nterms++;
			continue;
		}
		const char *val = t + mn + 1;
		if (mn == 8 && strncasecmp(t, "redirect", 8) == 0) {
			if (seen_redirect) {
				fail(err, errlen, "redirect= MUST appear at most once", t);
				goto bad;
			}
			seen_redirect = true;
			if (check_domain_spec(val, err, errlen) < 0)
				goto bad;
			if (val[0] == '\0') {
				fail(err, errlen, "redirect has empty domain:", NULL);
				goto bad;
			}
			r->redirect = val;
		} else if (mn == 3 && strncasecmp(t, "exp", 3) == 0) {
			if (seen_exp) {
				snprintf(err, errlen, "%.*s= MUST appear at most once: %s", (int)mn, t, t);
				goto bad;
			}
			seen_exp = true;
			if (val[0] == '\0') {
				fail(err, errlen, "exp has empty domain-spec:", NULL);
				goto bad;
			}
			if (check_domain_spec(val, err, errlen) < 0)
				goto bad;
			r->exp = val;
		} else {
			/* unknown modifier: ignored, but its macro-string must be valid */
			if (!visible(val) && val[0] != '\0') {
				fail(err, errlen, "syntax error", t);
				goto bad;
			}
			if (spf_macro_check(val, strlen(val), 0, err, errlen) != SPF_MACRO_OK)
				goto bad;
		}
	}
	*out = r;
	return 0;
bad:
	spf_record_free(r);
	return -1;
}

void spf_record_free(struct spf_record *r)
{
	if (r == NULL || --r->refs > 0)
		return;
	free(r->terms);
	free(r->arena);
	free(r->targets);
	free(r);
}
