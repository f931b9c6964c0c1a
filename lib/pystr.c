/*
 * pystr - Python string semantics the config reader and the reply texts
 * must reproduce byte for byte.  See pystr.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pystr.h"

/* Length of the Python whitespace character at s (0 if none). */
static size_t ws_len(const unsigned char *s, size_t avail)
{
	if (avail == 0)
		return 0;
	if (*s == ' ' || (*s >= '\t' && *s <= '\r') || (*s >= 0x1c && *s <= 0x1f))
		return 1;
	if (avail >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
		return 2;
	if (avail >= 3) {
		if (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80)
			return 3;                               /* U+1680 */
		if (s[0] == 0xe2 && s[1] == 0x80 &&
		    ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))
			return 3;                               /* U+2000-200A, 2028, 2029, 202F */
		if (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)
			return 3;                               /* U+205F */
		if (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)
			return 3;                               /* U+3000 */
	}
	return 0;
}

/* Length of the whitespace character ending at s+end (0 if none). */
static size_t ws_len_back(const unsigned char *s, size_t end)
{
	for (size_t k = 1; k <= 3 && k <= end; k++)
		if (ws_len(s + end - k, k) == k)
			return k;
	return 0;
}

char *pystr_strip(char *s, size_t *len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), a = 0, k;

	while ((k = ws_len(u + a, n - a)) > 0)
		a += k;
	while (n > a && (k = ws_len_back(u, n)) > 0 && n - k >= a)
		n -= k;
	*len = n - a;
	return s + a;
}

void pystr_repr(const char *s, char *out, size_t outlen)
{
	char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
	size_t o = 0;

	if (outlen < 8) {
		if (outlen)
			out[0] = '\0';
		return;
	}
	out[o++] = q;
	for (const unsigned char *p = (const unsigned char *)s; *p && o + 6 < outlen; p++) {
		if (*p == '\\' || *p == (unsigned char)q) {
			out[o++] = '\\';
			out[o++] = (char)*p;
		} else if (*p == '\n' || *p == '\r' || *p == '\t') {
			out[o++] = '\\';
			out[o++] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
		} else if (*p < 0x20 || *p == 0x7f) {
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", *p);
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o++] = q;
	out[o] = '\0';
}

bool pystr_utf8_valid(const char *str, size_t len, size_t *bad)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i], need;
		unsigned long cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			goto fail;
		}
		for (unsigned k = 1; k <= need; k++) {
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				goto fail;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			goto fail;
		i += need + 1;
	}
	return true;
fail:
	if (bad)
		*bad = i;
	return false;
}

/* ---- str.format ------------------------------------------------------ */

struct obuf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void ob_add(struct obuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		char *np;

		while (cap < b->n + n + 1)
			cap *= 2;
		if (!(np = realloc(b->p, cap))) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

/* Characters (code points) in s[0..n), and the byte offset of the k-th. */
static size_t u8_count(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

static size_t u8_prefix(const char *s, size_t n, size_t chars)
{
	size_t c = 0, i;

	for (i = 0; i < n; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (c == chars)
				return i;
			c++;
		}
	}
	return n;
}

static size_t u8_char_len(const char *s)
{
	unsigned char c = (unsigned char)*s;

	if (c < 0x80)
		return 1;
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	return 2;
}

static int apply_spec(struct obuf *b, const char *v, size_t vn, const char *spec, size_t sn,
		      char *why, size_t whylen)
{
	const char *fill = " ";
	size_t filln = 1, i = 0;
	char align = '<';
	bool fill_default = true;
	long width = -1, prec = -1;

	if (sn >= 1) {
		size_t cl = u8_char_len(spec);

		if (cl < sn && strchr("<>^=", spec[cl])) {
			fill = spec;
			filln = cl;
			fill_default = false;
			align = spec[cl];
			i = cl + 1;
		} else if (strchr("<>^=", spec[0])) {
			align = spec[0];
			i = 1;
		}
	}
	if (i < sn && strchr("+- ", spec[i])) {
		snprintf(why, whylen, "Sign not allowed in string format specifier");
		return -1;
	}
	if (i < sn && spec[i] == '#') {
		snprintf(why, whylen, "Alternate form (#) not allowed in string format specifier");
		return -1;
	}
	if (i < sn && spec[i] == '0') {
		if (fill_default) {
			fill = "0";
			filln = 1;
		}
		i++;
	}
	if (i < sn && spec[i] >= '0' && spec[i] <= '9') {
		width = 0;
		while (i < sn && spec[i] >= '0' && spec[i] <= '9' && width < 100000)
			width = width * 10 + (spec[i++] - '0');
	}
	if (i < sn && (spec[i] == ',' || spec[i] == '_')) {
		snprintf(why, whylen, "Cannot specify '%c' with 's'.", spec[i]);
		return -1;
	}
	if (i < sn && spec[i] == '.') {
		i++;
		if (i >= sn || spec[i] < '0' || spec[i] > '9') {
			snprintf(why, whylen, "Format specifier missing precision");
			return -1;
		}
		prec = 0;
		while (i < sn && spec[i] >= '0' && spec[i] <= '9' && prec < 100000)
			prec = prec * 10 + (spec[i++] - '0');
	}
	if (i < sn && spec[i] == 's')
		i++;
	if (i != sn) {
		snprintf(why, whylen, "Invalid format specifier '%.*s' for object of type 'str'",
			 (int)sn, spec);
		return -1;
	}
	if (align == '=') {
		snprintf(why, whylen, "'=' alignment not allowed in string format specifier");
		return -1;
	}
	if (width > 100000 || prec > 100000) {
		snprintf(why, whylen, "width or precision too large");
		return -1;
	}
	if (prec >= 0)
		vn = u8_prefix(v, vn, (size_t)prec);
	size_t chars = u8_count(v, vn), pad = width > (long)chars ? (size_t)width - chars : 0;
	size_t left = align == '>' ? pad : align == '^' ? pad / 2 : 0, right = pad - left;

	for (size_t k = 0; k < left; k++)
		ob_add(b, fill, filln);
	ob_add(b, v, vn);
	for (size_t k = 0; k < right; k++)
		ob_add(b, fill, filln);
	return 0;
}

char *pystr_format(const char *t, const struct pystr_field *f, size_t nf, char *why, size_t whylen)
{
	struct obuf b = { 0 };
	if (whylen)
		why[0] = '\0';
	ob_add(&b, "", 0);
	while (*t) {
		if (*t == '}') {
			if (t[1] != '}') {
				snprintf(why, whylen, "Single '}' encountered in format string");
				goto fail;
			}
			ob_add(&b, "}", 1);
			t += 2;
			continue;
		}
		if (*t != '{') {
			size_t n = strcspn(t, "{}");

			ob_add(&b, t, n);
			t += n;
			continue;
		}
		if (t[1] == '{') {
			ob_add(&b, "{", 1);
			t += 2;
			continue;
		}
		/* a replacement field: find its end, counting nested braces */
		const char *s = t + 1, *e = s;
		int depth = 1;

		while (*e && depth) {
			if (*e == '{')
				depth++;
			else if (*e == '}')
				depth--;
			if (depth)
				e++;
		}
		if (!*e) {
			snprintf(why, whylen, depth ? "expected '}' before end of string"
					      : "Single '{' encountered in format string");
			goto fail;
		}
		size_t nlen = strcspn(s, "!:}[.");
		const char *after = s + nlen;
		char conv = 0;
		const char *spec = NULL;
		size_t speclen = 0;

		if (*after == '[' || *after == '.') {
			snprintf(why, whylen, "attribute or index access in '{%.*s}' is not supported",
				 (int)(e - s), s);
			goto fail;
		}
		if (nlen == 0 || (s[0] >= '0' && s[0] <= '9')) {
			snprintf(why, whylen, "Replacement index %.*s out of range for positional args tuple",
				 nlen ? (int)nlen : 1, nlen ? s : "0");
			goto fail;
		}
		if (*after == '!') {
			conv = after[1];
			if (!conv || (after[2] != ':' && after[2] != '}')) {
				snprintf(why, whylen, "expected ':' after conversion specifier");
				goto fail;
			}
			if (conv != 's' && conv != 'r' && conv != 'a') {
				snprintf(why, whylen, "Unknown conversion specifier %c", conv);
				goto fail;
			}
			after += 2;
		}
		if (*after == ':') {
			spec = after + 1;
			speclen = (size_t)(e - spec);
			if (memchr(spec, '{', speclen)) {
				snprintf(why, whylen, "nested replacement fields in a format spec are not supported");
				goto fail;
			}
		}
		const char *val = NULL;

		for (size_t i = 0; i < nf; i++)
			if (strlen(f[i].name) == nlen && memcmp(f[i].name, s, nlen) == 0)
				val = f[i].value;
		if (!val) {
			snprintf(why, whylen, "KeyError: '%.*s'", (int)(nlen > 200 ? 200 : nlen), s);
			goto fail;
		}
		char *rep = NULL;

		if (conv == 'r' || conv == 'a') {
			size_t rl = strlen(val) * 4 + 8;

			if (!(rep = malloc(rl)))
				goto fail;
			pystr_repr(val, rep, rl);
			val = rep;
		}
		if (apply_spec(&b, val, strlen(val), spec ? spec : "", speclen, why, whylen) < 0) {
			free(rep);
			goto fail;
		}
		free(rep);
		t = e + 1;
	}
	if (b.oom)
		goto fail;
	return b.p;
fail:
	if (b.oom && whylen && !why[0])
		snprintf(why, whylen, "out of memory");
	free(b.p);
	return NULL;
}

int pystr_format_check(const char *tmpl, char *why, size_t whylen)
{
	static const struct pystr_field f[] = {
		{ "rejectdefer", "rejected" }, { "spf", "x" }, { "url", "http://x" },
	};
	char *s = pystr_format(tmpl, f, 3, why, whylen);

	if (!s)
		return -1;
	free(s);
	return 0;
}
