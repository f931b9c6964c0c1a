/*
 * attr_ref - the request-line parser as it was before the arena rewrite
 * (lib/attr.c at 2b7a2c9, one malloc per attribute), kept as the
 * reference that fuzz_attr and test_attr compare the fast parser with:
 * same result code, names and values, byte for byte.  Its lower-casing
 * is now the library's (Python's full str.lower(), since 2026-12-02).
 */
#ifndef PSPF_ATTR_REF_H
#define PSPF_ATTR_REF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"

struct ref_attr { char *name; char *value; };
struct ref_req {
	struct ref_attr a[ATTR_MAX];
	size_t n;
	size_t bytes;
};

static const struct { const char *s; size_t len; } ref_keep_case[] = {
	{ "protocol_state", 14 }, { "protocol_name", 13 }, { "queue_id", 8 },
};

/*
 * Decode one code point starting at s (n bytes left).  Returns the number
 * of bytes consumed; *cp is U+FFFD for a maximal invalid subsequence,
 * which is what CPython's decoder replaces with one U+FFFD.
 */
static size_t
ref_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t need, i;
	unsigned char lo = 0x80, hi = 0xBF;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		*cp = 0xFFFD;
		return 1;
	}
	for (i = 1; i <= need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*cp = 0xFFFD;
			return i;
		}
		v = (v << 6) | (s[i] & 0x3F);
		lo = 0x80;
		hi = 0xBF;
	}
	*cp = v;
	return need + 1;
}

static size_t
ref_utf8_put(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* ref_u_isspace() of an ASCII byte */
#define A_SPACE(c) (((c) >= 0x09 && (c) <= 0x0D) || ((c) >= 0x1C && (c) <= 0x20))

/* Python's str.isspace(), which is also what re's \s matches. */
static int
ref_u_isspace(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20);
	return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/*
 * Decode with replacement into a fresh buffer (at most 3 bytes out per
 * byte in) and strip trailing blanks.  Sets *has_nul when a NUL was seen.
 */
static char *
ref_decode_rstrip(const char *line, size_t len, size_t *outlen, int *has_nul)
{
	const unsigned char *s = (const unsigned char *)line;
	char *out = malloc(len * 3 + 1);
	size_t i = 0, o = 0, keep = 0;
	uint32_t cp;

	if (out == NULL)
		return NULL;
	*has_nul = 0;
	while (i < len) {
		i += ref_utf8_next(s + i, len - i, &cp);
		if (cp == 0)
			*has_nul = 1;
		o += ref_utf8_put(cp, out + o);
		if (!ref_u_isspace(cp))
			keep = o;
	}
	out[keep] = '\0';
	*outlen = keep;
	return out;
}

static bool
ref_attr_line_is_end(const char *line, size_t len)
{
	const unsigned char *s = (const unsigned char *)line;
	size_t i = 0;
	uint32_t cp;

	while (i < len) {
		i += ref_utf8_next(s + i, len - i, &cp);
		if (!ref_u_isspace(cp))
			return false;
	}
	return true;
}

static void
ref_attr_line_display(const char *line, size_t len, char *out, size_t outlen)
{
	size_t n = 0;
	int nul;
	char *d;

	if (outlen == 0)
		return;
	d = ref_decode_rstrip(line, len, &n, &nul);
	if (d == NULL) {
		out[0] = '\0';
		return;
	}
	/* NULs would cut the C string short; show them as U+FFFD's cousin '?' */
	for (size_t i = 0; i < n; i++)
		if (d[i] == '\0')
			d[i] = '?';
	if (n >= outlen) {
		n = outlen - 1;
		/* do not cut a UTF-8 sequence in half */
		while (n > 0 && ((unsigned char)d[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(out, d, n);
	out[n] = '\0';
	free(d);
}

static void
ref_attr_req_init(struct ref_req *r)
{
	memset(r, 0, sizeof(*r));
}

static void
ref_attr_req_clear(struct ref_req *r)
{
	/* name and value share one allocation (see ref_attr_pair) */
	for (size_t i = 0; i < r->n; i++)
		free(r->a[i].name);
	ref_attr_req_init(r);
}

/*
 * Lower-case valid UTF-8 into out (room for len + len / 2 + 1).  The
 * mapping is the library's (attr_lower_dup): this oracle is for the
 * parsing, and t/attr-python.t checks the mapping against Python itself.
 */
static void
ref_lower_into(const char *v, size_t len, char *out)
{
	char *l = attr_lower_dup(v, len);

	if (l == NULL) {
		out[0] = '\0';
		return;
	}
	memcpy(out, l, strlen(l) + 1);
	free(l);
}

/* Lower-case a valid UTF-8 string into a new buffer, as Python's str.lower(). */
static char *
ref_attr_lower_dup(const char *v, size_t len)
{
	char *out = malloc(len + len / 2 + 1);

	if (out == NULL)
		return NULL;
	ref_lower_into(v, len, out);
	return out;
}

/*
 * One allocation for "name\0value\0": a request has ~30 attributes, so
 * this halves the mallocs per request.  The value is lower-cased on the
 * way in unless keep says otherwise; the value pointer is *value_out.
 * Lower-casing can grow the value by half (U+0130, see ref_lower_into).
 */
static char *
ref_attr_pair(const char *n, size_t nlen, const char *v, size_t vlen, bool keep, bool ascii,
	  char **value_out)
{
	char *p = malloc(nlen + 1 + vlen + vlen / 2 + 1), *o;

	if (p == NULL)
		return NULL;
	memcpy(p, n, nlen);
	p[nlen] = '\0';
	o = p + nlen + 1;
	*value_out = o;
	if (keep) {
		memcpy(o, v, vlen);
		o[vlen] = '\0';
	} else if (ascii) {
		for (size_t i = 0; i < vlen; i++)
			o[i] = (char)(v[i] >= 'A' && v[i] <= 'Z' ? v[i] + 32 : v[i]);
		o[vlen] = '\0';
	} else {
		ref_lower_into(v, vlen, o);
	}
	return p;
}

/* Every byte 0x01-0x7F: decoding is the identity and blanks are ASCII. */
static bool
ref_all_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] - 1u >= 0x7Fu)
			return false;
	return true;
}

static int
ref_attr_req_add_line(struct ref_req *r, const char *line, size_t len, const char **err)
{
	static const char e_nomatch[] = "line does not match name=value";
	static const char e_line[] = "line too long";
	static const char e_req[] = "request too large";
	static const char e_count[] = "too many attributes";
	static const char e_mem[] = "out of memory";
	const unsigned char *u;
	size_t dlen, i, ks, ke, vs, w;
	const char *d;
	char *buf = NULL, *pair, *value;
	int nul = 0;
	bool keep = false, ascii;
	uint32_t cp;

	if (len > ATTR_LINE_MAX) {
		*err = e_line;
		return ATTR_BOUND;
	}
	if (r->bytes + len + 1 > ATTR_REQ_MAX) {
		*err = e_req;
		return ATTR_BOUND;
	}
	r->bytes += len + 1;

	/* Postfix sends ASCII: then the decoded line is the line itself */
	ascii = ref_all_ascii(line, len);
	if (ascii) {
		d = line;
		dlen = len;
		while (dlen > 0 && A_SPACE((unsigned char)d[dlen - 1]))
			dlen--;
	} else {
		d = buf = ref_decode_rstrip(line, len, &dlen, &nul);
		if (buf == NULL) {
			*err = e_mem;
			return ATTR_BOUND;
		}
	}
	if (nul)
		goto nomatch;
	u = (const unsigned char *)d;

	if (ascii) {
		/* the same three steps, byte by byte */
		for (i = 0; i < dlen && A_SPACE(u[i]); i++)
			;
		ks = i;
		for (; i < dlen && u[i] != '=' && !A_SPACE(u[i]); i++)
			;
		ke = i;
		if (ke == ks)
			goto nomatch;
		for (; i < dlen && A_SPACE(u[i]); i++)
			;
		goto matched;
	}
	/* ^\s* */
	for (i = 0; i < dlen; i += w) {
		w = ref_utf8_next(u + i, dlen - i, &cp);
		if (!ref_u_isspace(cp))
			break;
	}
	/* ([^=\s]+) */
	ks = i;
	for (; i < dlen; i += w) {
		w = ref_utf8_next(u + i, dlen - i, &cp);
		if (cp == '=' || ref_u_isspace(cp))
			break;
	}
	ke = i;
	if (ke == ks)
		goto nomatch;
	/* \s*= */
	for (; i < dlen; i += w) {
		w = ref_utf8_next(u + i, dlen - i, &cp);
		if (!ref_u_isspace(cp))
			break;
	}
matched:
	if (i >= dlen || d[i] != '=')
		goto nomatch;
	vs = i + 1;     /* (.*)$ : the rest; LF cannot occur inside a line */

	for (size_t k = 0; k < sizeof(ref_keep_case) / sizeof(ref_keep_case[0]); k++)
		if (ke - ks == ref_keep_case[k].len && memcmp(d + ks, ref_keep_case[k].s, ke - ks) == 0)
			keep = true;
	pair = ref_attr_pair(d + ks, ke - ks, d + vs, dlen - vs, keep, ascii, &value);
	free(buf);
	if (pair == NULL) {
		*err = e_mem;
		return ATTR_BOUND;
	}
	for (i = 0; i < r->n; i++) {
		if (r->a[i].name[0] == pair[0] && strcmp(r->a[i].name, pair) == 0) {
			free(r->a[i].name);
			r->a[i].name = pair;
			r->a[i].value = value;
			return ATTR_OK;
		}
	}
	if (r->n >= ATTR_MAX) {
		free(pair);
		*err = e_count;
		return ATTR_BOUND;
	}
	r->a[r->n].name = pair;
	r->a[r->n].value = value;
	r->n++;
	return ATTR_OK;

nomatch:
	free(buf);
	*err = e_nomatch;
	return ATTR_NOMATCH;
}

static const char *
ref_attr_get(const struct ref_req *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->a[i].name[0] == name[0] && strcmp(r->a[i].name, name) == 0)
			return r->a[i].value;
	return NULL;
}


#undef A_SPACE

#endif
