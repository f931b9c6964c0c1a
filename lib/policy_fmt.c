/*
 * policy_fmt - header and reply strings of the Python policyd-spf, byte for
 * byte (see policy_fmt.h and reference §5).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_fmt.h"
#include "asan.h"
#include "attr.h"
#include "pystr.h"

#define DEFAULT_REASON_MESSAGE "Message {rejectdefer} due to: {spf}. Please see {url}"

/* ---- arena ------------------------------------------------------------------ */

/* One request's strings (attributes, headers, reply) fit in one chunk;
 * a session keeps one between requests. */
#define PF_CHUNK 2048

struct pf_chunk {
	struct pf_chunk *next;
	size_t cap, used;
	char data[];
};

void *pf_alloc(struct pf_arena *a, size_t n)
{
	struct pf_chunk *c;
	void *p;

	if (!a)
		return malloc(n ? n : 1);
	if (n > SIZE_MAX / 2)
		return NULL;
	/* under ASan each string is its own chunk, of its exact size: a
	 * read past its end or a use after the reset is seen */
	if (!PSPF_ASAN)
		n = (n + 7) & ~(size_t)7;
	c = a->head;
	if (!c || c->cap - c->used < n || PSPF_ASAN) {
		size_t cap = n > PF_CHUNK || PSPF_ASAN ? n : PF_CHUNK;

		if (!(c = malloc(sizeof *c + cap)))
			return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += n;
	return p;
}

char *pf_strndup(struct pf_arena *a, const char *s, size_t n)
{
	char *p = pf_alloc(a, n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

void pf_arena_reset(struct pf_arena *a)
{
	struct pf_chunk *keep = NULL, *c = a->head, *next;

	/* keep one standard chunk: a huge request does not pin its memory */
	for (; c; c = next) {
		next = c->next;
		if (!keep && c->cap == PF_CHUNK && !PSPF_ASAN) {
			keep = c;
			keep->used = 0;
			keep->next = NULL;
		} else {
			free(c);
		}
	}
	a->head = keep;
}

void pf_arena_free(struct pf_arena *a)
{
	struct pf_chunk *c = a->head, *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
}

/* ---- sanitising --------------------------------------------------------------- */

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Any byte < 0x20 or == 0x7f in w (TAB included: the byte loop keeps it). */
static inline bool word_dirty(uint64_t w)
{
	uint64_t x = w ^ (ONES * 0x7f);

	return (((w - ONES * 0x20) & ~w) | ((x - ONES) & ~x)) & HIGHS;
}

static inline void fix_bytes(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			p[i] = '?';
}

/* Word at a time: the texts are clean nearly always. */
void pf_sanitize_n(char *s, size_t n)
{
	unsigned char *p = (unsigned char *)s;
	uint64_t w;
	size_t i = 0;

	if (n < 8) {
		fix_bytes(p, n);
		return;
	}
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		if (word_dirty(w))
			fix_bytes(p + i, 8);
	}
	/* the tail as the last 8 bytes, overlapping: fixing is idempotent */
	if (i < n) {
		memcpy(&w, p + n - 8, 8);
		if (word_dirty(w))
			fix_bytes(p + n - 8, 8);
	}
}

void pf_sanitize(char *s)
{
	if (s)
		pf_sanitize_n(s, strlen(s));
}

char *pf_join(struct pf_arena *a, struct pf_piece *p, size_t n)
{
	size_t len = 0;
	char *out, *o;
	bool raw = false;

	for (size_t i = 0; i < n; i++) {
		raw |= p[i].raw;
		if (p[i].n == PF_STRLEN) {
			if (!p[i].s)
				p[i] = PF_LIT("(null)");
			else
				p[i].n = strlen(p[i].s);
		}
		len += p[i].n;
	}
	if (len >= (size_t)INT_MAX || !(out = pf_alloc(a, len + 1)))
		return NULL;
	o = out;
	for (size_t i = 0; i < n; i++) {
		memcpy(o, p[i].s, p[i].n);
		o += p[i].n;
	}
	*o = '\0';
	/* once over the whole text: the literal parts are clean, so this
	 * changes only the raw parts */
	if (raw)
		pf_sanitize_n(out, len);
	return out;
}

#define JOIN(a, ...) pf_join((a), (struct pf_piece[]){ __VA_ARGS__ }, \
			     sizeof((struct pf_piece[]){ __VA_ARGS__ }) / sizeof(struct pf_piece))

/* ---- printf ------------------------------------------------------------------ */

#define PF_FAST_ARGS 12

/*
 * Formats with only %s conversions are concatenated by hand (what
 * vasprintf would produce, "(null)" included) instead of running the
 * printf machinery.  Anything else takes vasprintf.
 */
static char *pf_concat(const char *fmt, va_list ap)
{
	struct pf_piece p[2 * PF_FAST_ARGS + 1];
	size_t n = 0;
	const char *f = fmt;

	for (;;) {
		const char *pc = strchr(f, '%');

		if (!pc) {
			p[n++] = (struct pf_piece){ f, strlen(f), false };
			break;
		}
		if (pc > f)
			p[n++] = (struct pf_piece){ f, (size_t)(pc - f), false };
		p[n++] = PF_RAW(va_arg(ap, const char *));
		f = pc + 2;
	}
	return pf_join(NULL, p, n);
}

static bool pf_fast_fmt(const char *fmt)
{
	size_t n = 0;

	for (const char *f = strchr(fmt, '%'); f; f = strchr(f + 2, '%'))
		if (f[1] != 's' || ++n > PF_FAST_ARGS)
			return false;
	return true;
}

char *pf_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	if (pf_fast_fmt(fmt)) {
		s = pf_concat(fmt, ap);
		va_end(ap);
		return s;
	}
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	pf_sanitize(s);
	return s;
}

/* ---- texts --------------------------------------------------------------------- */

char *pf_reason(struct pf_arena *a, enum spf_result r, const char *explanation, const char *problem)
{
	switch (r) {
	case SPF_PASS:
		return JOIN(a, PF_LIT("sender SPF authorized"));
	case SPF_FAIL:
		return JOIN(a, PF_RAW(explanation ? explanation : "SPF fail - not authorized"));
	case SPF_SOFTFAIL:
		return JOIN(a, PF_RAW(explanation ? explanation : "domain owner discourages use of this host"));
	case SPF_NEUTRAL:
		return JOIN(a, PF_LIT("access neither permitted nor denied"));
	case SPF_PERMERROR:
		return JOIN(a, PF_LIT("SPF Permanent Error: "), PF_RAW(problem ? problem : ""));
	case SPF_TEMPERROR:
		return JOIN(a, PF_LIT("SPF Temporary Error: "), PF_RAW(problem ? problem : ""));
	case SPF_NONE:
	default:
		return JOIN(a, PF_LIT(""));
	}
}

char *pf_envelope_from(struct pf_arena *a, const char *sender, bool escape)
{
	size_t n = 0;
	char *out, *o;

	if (!escape || !strchr(sender, '='))
		return JOIN(a, PF_RAW(sender));
	for (const char *p = sender; *p; p++)
		n += (*p == '=' || *p == '"' || *p == '\\') ? 2 : 1;
	if (!(out = pf_alloc(a, n + 3)))
		return NULL;
	o = out;
	*o++ = '"';
	for (const char *p = sender; *p; p++) {
		if (*p == '=' || *p == '"' || *p == '\\')
			*o++ = '\\';
		*o++ = *p;
	}
	*o++ = '"';
	*o = '\0';
	pf_sanitize_n(out, n + 2);
	return out;
}

char *pf_received_spf(struct pf_arena *a, const char *title, const char *comment, const char *identity,
		      const char *ip, const char *helo, const char *env_from, const char *rcv)
{
	return JOIN(a, PF_LIT("Received-SPF: "), PF_RAW(title), PF_LIT(" ("), PF_RAW(comment),
		    PF_LIT(") identity="), PF_RAW(identity), PF_LIT("; client-ip="), PF_RAW(ip),
		    PF_LIT("; helo="), PF_RAW(helo), PF_LIT("; envelope-from="), PF_RAW(env_from),
		    PF_LIT("; receiver="), PF_RAW(rcv), PF_LIT(" "));
}

static bool is_token(const char *v)
{
	if (!*v)
		return false;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      strchr("!#$%&'*+.^_`{|}~-", *p)))
			return false;
	return true;
}

char *pf_ar_quote(struct pf_arena *a, const char *v)
{
	size_t n = 0;
	char *out, *o;

	if (strchr(v, '@') || is_token(v))
		return JOIN(a, PF_RAW(v));
	for (const char *p = v; *p; p++)
		n += (*p == '"' || *p == '\\') ? 2 : 1;
	if (!(out = pf_alloc(a, n + 3)))
		return NULL;
	o = out;
	*o++ = '"';
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			*o++ = '\\';
		*o++ = *p;
	}
	*o++ = '"';
	*o = '\0';
	pf_sanitize_n(out, n + 2);
	return out;
}

static char *lower_dup(const char *s)
{
	return attr_lower_dup(s, strlen(s));
}

char *pf_auth_results(struct pf_arena *a, const char *authserv_id, const char *title, const char *reason,
		      const char *prop, const char *value, const char *ip, const char *helo,
		      const char *env_from, const char *rcv)
{
	char *id = lower_dup(authserv_id), *res = lower_dup(title), *q = pf_ar_quote(NULL, value), *out = NULL;

	if (id && res && q) {
		if (reason && *reason)
			out = JOIN(a, PF_LIT("Authentication-Results: "), PF_RAW(id), PF_LIT("; spf="), PF_RAW(res),
				   PF_LIT(" ("), PF_RAW(reason), PF_LIT(") smtp."), PF_RAW(prop), PF_LIT("="),
				   PF_RAW(q), PF_LIT(" (client-ip="), PF_RAW(ip), PF_LIT("; helo="), PF_RAW(helo),
				   PF_LIT("; envelope-from="), PF_RAW(env_from), PF_LIT("; receiver="), PF_RAW(rcv),
				   PF_LIT(")"));
		else
			out = JOIN(a, PF_LIT("Authentication-Results: "), PF_RAW(id), PF_LIT("; spf="), PF_RAW(res),
				   PF_LIT(" smtp."), PF_RAW(prop), PF_LIT("="),
				   PF_RAW(q), PF_LIT(" (client-ip="), PF_RAW(ip), PF_LIT("; helo="), PF_RAW(helo),
				   PF_LIT("; envelope-from="), PF_RAW(env_from), PF_LIT("; receiver="), PF_RAW(rcv),
				   PF_LIT(")"));
	}
	free(id);
	free(res);
	free(q);
	return out;
}

char *pf_bypass_header(struct pf_arena *a, bool ar, const char *authserv_id, const char *comment,
		       const char *client, const char *helo, const char *sender, const char *rcv)
{
	if (ar) {
		char *id = lower_dup(authserv_id), *out;

		if (!id)
			return NULL;
		out = JOIN(a, PF_LIT("Authentication-Results: "), PF_RAW(id), PF_LIT("; none ("), PF_RAW(comment),
			   PF_LIT(" client-ip="), PF_RAW(client), PF_LIT("; helo="), PF_RAW(helo),
			   PF_LIT("; envelope-from="), PF_RAW(sender), PF_LIT("; receiver="), PF_RAW(rcv), PF_LIT(")"));
		free(id);
		return out;
	}
	return JOIN(a, PF_LIT("X-Comment: "), PF_RAW(comment), PF_LIT("client-ip="), PF_RAW(client),
		    PF_LIT("; helo="), PF_RAW(helo), PF_LIT("; envelope-from="), PF_RAW(sender),
		    PF_LIT("; receiver="), PF_RAW(rcv), PF_LIT(" "));
}

char *pf_reject_text(struct pf_arena *a, const char *tmpl, bool defer, const char *reason, const char *scope,
		     const char *identity, const char *ip, const char *rcv,
		     char *why, size_t whylen)
{
	const char *rd = defer ? "deferred" : "rejected";
	char *url, *out, *copy;

	if (whylen)
		why[0] = '\0';
	/* the default template formats to a plain concatenation */
	if (strcmp(tmpl, DEFAULT_REASON_MESSAGE) == 0)
		return JOIN(a, PF_LIT("Message "), PF_CLEAN(rd), PF_LIT(" due to: "), PF_RAW(reason),
			    PF_LIT(". Please see http://www.openspf.net/Why?s="), PF_RAW(scope), PF_LIT(";id="),
			    PF_RAW(identity), PF_LIT(";ip="), PF_RAW(ip), PF_LIT(";r="), PF_RAW(rcv));
	url = JOIN(NULL, PF_LIT("http://www.openspf.net/Why?s="), PF_RAW(scope), PF_LIT(";id="), PF_RAW(identity),
		   PF_LIT(";ip="), PF_RAW(ip), PF_LIT(";r="), PF_RAW(rcv));
	if (!url)
		return NULL;
	struct pystr_field f[3] = {
		{ "rejectdefer", rd },
		{ "spf", reason },
		{ "url", url },
	};
	out = pystr_format(tmpl, f, 3, why, whylen);
	if (!out)
		out = pystr_format(DEFAULT_REASON_MESSAGE, f, 3, NULL, 0);
	free(url);
	pf_sanitize(out);
	if (!a || !out)
		return out;
	copy = pf_strndup(a, out, strlen(out));
	free(out);
	return copy;
}

char *pf_pylist(const char *const *items, size_t n)
{
	size_t cap = 3;
	char *out, *o;

	for (size_t i = 0; i < n; i++)
		cap += (items[i] ? strlen(items[i]) * 4 + 3 : 4) + 2;
	if (!(out = malloc(cap)))
		return NULL;
	o = out;
	*o++ = '[';
	for (size_t i = 0; i < n; i++) {
		if (i) {
			*o++ = ',';
			*o++ = ' ';
		}
		if (items[i]) {
			pystr_repr(items[i], o, cap - (size_t)(o - out));
			o += strlen(o);
		} else {
			memcpy(o, "None", 4);
			o += 4;
		}
	}
	*o++ = ']';
	*o = '\0';
	pf_sanitize(out);
	return out;
}
