/*
 * spf_macro - RFC 7208 section 7 macro expansion.
 *
 * The scanner is shared by the syntax check and the expander so that a
 * spec that passed the check at parse time cannot fail differently when
 * it is expanded later.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf_macro.h"

#define DELIMS ".-+,/_="

struct buf {
	char *p;
	size_t len, cap;
	bool overflow;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->overflow)
		return;
	if (b->len + n + 1 > SPF_MACRO_MAX) {
		b->overflow = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > SPF_MACRO_MAX)
			cap = SPF_MACRO_MAX;
		char *np = realloc(b->p, cap);
		if (np == NULL) {
			b->overflow = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* pyspf reports a bad '%' with the first dot-separated label of the spec. */
static void err_invalid_char(const char *spec, size_t len, char *err, size_t errlen)
{
	size_t n = 0;
	while (n < len && spec[n] != '.')
		n++;
	snprintf(err, errlen, "invalid-macro-char : %.*s", (int)n, spec);
}

/* One parsed %{...} macro. */
struct macro {
	char letter;          /* as written */
	unsigned long digits; /* 0 = none */
	bool reverse;
	char delims[sizeof(DELIMS)];
	const char *text;     /* "%{...}" */
	size_t textlen;
};

/*
 * Parse the macro starting at spec[*pos] == '%'.  Returns 0 for a literal
 * escape (lit set), 1 for a macro (m filled), -1 for a syntax error.
 */
static int scan_macro(const char *spec, size_t len, size_t *pos, int flags, const char **lit,
		      struct macro *m, char *err, size_t errlen)
{
	size_t i = *pos + 1;

	if (i >= len) {
		err_invalid_char(spec, len, err, errlen);
		return -1;
	}
	switch (spec[i]) {
	case '%': *lit = "%"; *pos = i + 1; return 0;
	case '_': *lit = " "; *pos = i + 1; return 0;
	case '-': *lit = "%20"; *pos = i + 1; return 0;
	case '{': break;
	default:
		err_invalid_char(spec, len, err, errlen);
		return -1;
	}
	size_t start = *pos, close = i + 1;
	while (close < len && spec[close] != '}')
		close++;
	if (close >= len) {
		err_invalid_char(spec, len, err, errlen);
		return -1;
	}
	memset(m, 0, sizeof(*m));
	m->text = spec + start;
	m->textlen = close + 1 - start;
	i++;
	if (i == close) {
		snprintf(err, errlen, "Unknown Macro Encountered: %.*s", (int)m->textlen, m->text);
		return -1;
	}
	m->letter = spec[i++];
	char lc = (char)tolower((unsigned char)m->letter);
	if (strchr("slodipvhcrt", lc) == NULL || lc == '\0') {
		snprintf(err, errlen, "Unknown Macro Encountered: %.*s", (int)m->textlen, m->text);
		return -1;
	}
	if (strchr("crt", lc) && !(flags & SPF_MACRO_EXP)) {
		snprintf(err, errlen, "c,r,t macros allowed in exp= text only: %.*s", (int)m->textlen,
			 m->text);
		return -1;
	}
	bool had_digits = false;
	while (i < close && isdigit((unsigned char)spec[i])) {
		had_digits = true;
		if (m->digits < 1000)
			m->digits = m->digits * 10 + (unsigned long)(spec[i] - '0');
		i++;
	}
	if (had_digits && m->digits == 0)
		goto bad;  /* RFC 7208 7.1: the DIGIT transformer MUST be nonzero */
	if (i < close && (spec[i] == 'r' || spec[i] == 'R')) {
		m->reverse = true;
		i++;
	}
	size_t nd = 0;
	while (i < close) {
		if (strchr(DELIMS, spec[i]) == NULL || spec[i] == '\0')
			goto bad;
		if (strchr(m->delims, spec[i]) == NULL)
			m->delims[nd++] = spec[i];
		i++;
	}
	*pos = close + 1;
	return 1;
bad:
	snprintf(err, errlen, "Unknown Macro Encountered: %.*s", (int)m->textlen, m->text);
	return -1;
}

static const char *letter_value(const struct spf_macro_vars *v, char letter)
{
	switch (tolower((unsigned char)letter)) {
	case 's': return v->s;
	case 'l': return v->l;
	case 'o': return v->o;
	case 'd': return v->d;
	case 'i': return v->i;
	case 'p': return v->p;
	case 'v': return v->v;
	case 'h': return v->h;
	case 'c': return v->c;
	case 'r': return v->r;
	case 't': return v->t;
	}
	return NULL;
}

/* Split on delimiters, reverse, keep the right-most parts, join with '.'. */
static void transform(struct buf *out, const char *val, const struct macro *m)
{
	const char *delims = m->delims[0] ? m->delims : ".";
	size_t vlen = strlen(val);

	if (m->digits == 0 && !m->reverse && m->delims[0] == '\0') {
		buf_add(out, val, vlen);
		return;
	}
	/* parts as (start, len) pairs; at most vlen + 1 of them */
	size_t nparts = 1;
	for (size_t k = 0; k < vlen; k++)
		if (strchr(delims, val[k]))
			nparts++;
	size_t *ps = malloc(nparts * 2 * sizeof(*ps));
	if (ps == NULL) {
		out->overflow = true;
		return;
	}
	size_t n = 0, st = 0;
	for (size_t k = 0; k <= vlen; k++) {
		if (k == vlen || strchr(delims, val[k])) {
			ps[2 * n] = st;
			ps[2 * n + 1] = k - st;
			n++;
			st = k + 1;
		}
	}
	if (m->reverse) {
		for (size_t a = 0, b = n - 1; a < b; a++, b--) {
			size_t t0 = ps[2 * a], t1 = ps[2 * a + 1];
			ps[2 * a] = ps[2 * b];
			ps[2 * a + 1] = ps[2 * b + 1];
			ps[2 * b] = t0;
			ps[2 * b + 1] = t1;
		}
	}
	size_t first = 0;
	if (m->digits && m->digits < n)
		first = n - m->digits;
	for (size_t k = first; k < n; k++) {
		if (k > first)
			buf_add(out, ".", 1);
		buf_add(out, val + ps[2 * k], ps[2 * k + 1]);
	}
	free(ps);
}

/* urllib.parse.quote(s, safe='~'): unreserved characters stay. */
static void url_escape(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)s[k];
		if (isalnum(c) && c < 0x80) {
			buf_add(out, (const char *)&s[k], 1);
		} else if (c == '_' || c == '.' || c == '-' || c == '~') {
			buf_add(out, (const char *)&s[k], 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			buf_add(out, e, 3);
		}
	}
}

/*
 * The one scanner.  With v == NULL only the syntax is checked.
 * need_p is set when %{p} is used while v->p is NULL.
 */
static int run(const char *spec, size_t len, const struct spf_macro_vars *v, int flags,
	       struct buf *out, char *err, size_t errlen)
{
	size_t pos = 0;
	bool need_p = false;

	while (pos < len) {
		char ch = spec[pos];
		if (ch != '%') {
			size_t st = pos;
			while (pos < len && spec[pos] != '%')
				pos++;
			if (out)
				buf_add(out, spec + st, pos - st);
			continue;
		}
		const char *lit = NULL;
		struct macro m;
		int r = scan_macro(spec, len, &pos, flags, &lit, &m, err, errlen);
		if (r < 0)
			return SPF_MACRO_ERR;
		if (out == NULL)
			continue;
		if (r == 0) {
			buf_add(out, lit, strlen(lit));
			continue;
		}
		const char *val = letter_value(v, m.letter);
		if (val == NULL) {
			if (tolower((unsigned char)m.letter) == 'p')
				need_p = true;
			continue;
		}
		if (isupper((unsigned char)m.letter)) {
			struct buf tmp = { 0 };
			transform(&tmp, val, &m);
			if (tmp.overflow)
				out->overflow = true;
			else if (tmp.len)
				url_escape(out, tmp.p, tmp.len);
			free(tmp.p);
		} else {
			transform(out, val, &m);
		}
	}
	return need_p ? SPF_MACRO_NEED_P : SPF_MACRO_OK;
}

int spf_macro_check(const char *spec, size_t len, int flags, char *err, size_t errlen)
{
	return run(spec, len, NULL, flags, NULL, err, errlen);
}

bool spf_macro_uses_p(const char *spec, size_t len)
{
	for (size_t k = 0; k + 2 < len; k++) {
		if (spec[k] != '%')
			continue;
		if (spec[k + 1] == '{' && (spec[k + 2] == 'p' || spec[k + 2] == 'P'))
			return true;
		k++;  /* skip the escaped character: "%%{p}" is literal */
	}
	return false;
}

int spf_macro_expand(const char *spec, size_t len, const struct spf_macro_vars *v, int flags,
		     char **out, char *err, size_t errlen)
{
	struct buf b = { 0 };
	*out = NULL;
	if (len + 1 <= SPF_MACRO_MAX && memchr(spec, '%', len) == NULL) {
		/* no macro at all (most domain-specs): the text as it is */
		b.p = malloc(len + 1);
		if (b.p == NULL) {
			snprintf(err, errlen, "out of memory");
			return SPF_MACRO_ERR;
		}
		memcpy(b.p, spec, len);
		b.p[len] = '\0';
		b.len = len;
	} else {
		int r = run(spec, len, v, flags, &b, err, errlen);
		if (r != SPF_MACRO_OK) {
			free(b.p);
			return r;
		}
	}
	if (b.overflow) {
		free(b.p);
		snprintf(err, errlen, "Macro expansion too long");
		return SPF_MACRO_ERR;
	}
	if (b.p == NULL) {
		b.p = strdup("");
		if (b.p == NULL) {
			snprintf(err, errlen, "out of memory");
			return SPF_MACRO_ERR;
		}
	}
	if (!(flags & SPF_MACRO_EXP)) {
		if (b.len > 0 && b.p[b.len - 1] == '.')
			b.p[--b.len] = '\0';
		/* RFC 7208 7.3: drop left-hand labels until it fits */
		size_t off = 0;
		while (b.len - off > 253) {
			char *dot = memchr(b.p + off, '.', b.len - off);
			if (dot == NULL)
				break;
			off = (size_t)(dot - b.p) + 1;
		}
		if (off)
			memmove(b.p, b.p + off, b.len - off + 1);
	}
	*out = b.p;
	return SPF_MACRO_OK;
}

static bool is_toplabel(const char *s, size_t n)
{
	if (n == 0)
		return false;
	bool alpha = false, dash = false;
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)s[k];
		if (c == '-')
			dash = true;
		else if (isalpha(c) && c < 0x80)
			alpha = true;
		else if (!(isdigit(c)))
			return false;
	}
	if (!dash)
		return alpha;
	return isalnum((unsigned char)s[0]) && isalnum((unsigned char)s[n - 1]);
}

bool spf_macro_domain_end_ok(const char *spec, size_t len)
{
	size_t pos = 0, last_end = (size_t)-1;

	if (len == 0)
		return true;  /* pyspf reports the empty case separately */

	while (pos < len) {
		if (spec[pos] == '.') {
			size_t rn = len - pos - 1;
			const char *r = spec + pos + 1;
			if (rn > 0 && r[rn - 1] == '.')
				rn--;
			if (is_toplabel(r, rn))
				return true;
		}
		if (spec[pos] == '%' && pos + 1 < len) {
			char c = spec[pos + 1];
			if (c == '%' || c == '_' || c == '-') {
				pos += 2;
				last_end = pos;
				continue;
			}
			if (c == '{') {
				const char *close = memchr(spec + pos + 2, '}', len - pos - 2);
				if (close) {
					pos = (size_t)(close - spec) + 1;
					last_end = pos;
					continue;
				}
			}
		}
		pos++;
	}
	return last_end == len;
}

/*
 * The label rule both name checks apply to name[0..len): labels of 1 to
 * 63 octets between single dots.  root_dot lets one trailing dot (the
 * root) through uncounted; maxlen bounds the octets without it.
 */
static bool labels_ok(const char *name, size_t len, bool root_dot, size_t maxlen)
{
	size_t lab = 0;
	if (root_dot && len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > maxlen)
		return false;
	for (size_t k = 0; k < len; k++) {
		if (name[k] == '.') {
			if (lab == 0)
				return false;
			lab = 0;
		} else if (++lab > 63) {
			return false;
		}
	}
	return lab > 0;
}

bool spf_name_queryable(const char *name)
{
	return labels_ok(name, strlen(name), true, 253);
}

bool spf_name_labels_ok(const char *name)
{
	return labels_ok(name, strlen(name), false, SIZE_MAX);
}
