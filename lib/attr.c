/*
 * attr - policy request lines parsed as the Python policyd-spf does.
 *
 * The Python server decodes each line as UTF-8 with errors='replace',
 * rstrip()s it, matches ^\s*([^=\s]+)\s*=(.*)$ and lower-cases the value.
 * We do the same on bytes.  A line of ASCII without NUL (what Postfix
 * sends) decodes to itself, so attr_req_add_line() runs the regex on the
 * raw bytes in one pass and copies the value lower-cased eight bytes at a
 * time; any other line is first decoded into a clean UTF-8 buffer, so that
 * the later steps only ever see valid UTF-8 and can walk code points.
 */
#include "attr.h"
#include "asan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Decode one code point starting at s (n bytes left).  Returns the number
 * of bytes consumed; *cp is U+FFFD for a maximal invalid subsequence,
 * which is what CPython's decoder replaces with one U+FFFD.
 */
static size_t
utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
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
utf8_put(uint32_t cp, char *out)
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

/* u_isspace() of an ASCII byte */
#define A_SPACE(c) ((c) <= 0x20 && (0x1F0003E00ull >> (c)) & 1)    /* 0x09-0x0D, 0x1C-0x20 */

/* Python's str.isspace(), which is also what re's \s matches. */
static int
u_isspace(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20);
	return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

#include "ulower_tab.h"

/* Python's str.lower() of one code point (U+0130 is lower_into's). */
static uint32_t
u_lower(uint32_t cp)
{
	size_t lo = 0, hi = sizeof(ulower_tab) / sizeof(ulower_tab[0]);

	if (cp < 0x80)
		return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct ulower_range *r = &ulower_tab[mid];

		if (cp < r->lo) {
			hi = mid;
		} else if (cp > r->hi) {
			lo = mid + 1;
		} else {
			if (r->alt && (cp - r->lo) % 2 != 0)
				return cp;
			return (uint32_t)((int32_t)cp + r->delta);
		}
	}
	return cp;
}

static bool
in_ranges(const struct ucp_range *t, size_t n, uint32_t cp)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cp < t[mid].lo)
			hi = mid;
		else if (cp > t[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

#define IGNORABLE(cp) in_ranges(uignorable_tab, sizeof(uignorable_tab) / sizeof(uignorable_tab[0]), cp)
#define CASED(cp) in_ranges(ucased_tab, sizeof(ucased_tab) / sizeof(ucased_tab[0]), cp)

/*
 * CPython's Final_Sigma rule for the capital sigma at v[at..next) of a
 * valid UTF-8 string: final (U+03C2) when a cased letter comes before it
 * and none after it, case-ignorable ones skipped both ways.
 */
static bool
final_sigma(const unsigned char *v, size_t len, size_t at, size_t next)
{
	uint32_t cp = 0;
	size_t i = at;
	bool cased = false;

	while (i > 0) {
		size_t j = i - 1;

		while (j > 0 && (v[j] & 0xC0) == 0x80)
			j--;
		utf8_next(v + j, len - j, &cp);
		i = j;
		if (!IGNORABLE(cp)) {
			cased = CASED(cp);
			break;
		}
	}
	if (!cased)
		return false;
	for (i = next; i < len;) {
		i += utf8_next(v + i, len - i, &cp);
		if (!IGNORABLE(cp))
			return !CASED(cp);
	}
	return true;
}

/*
 * Decode with replacement into a fresh buffer (at most 3 bytes out per
 * byte in) and strip trailing blanks.  Sets *has_nul when a NUL was seen.
 */
static char *
decode_rstrip(const char *line, size_t len, size_t *outlen, int *has_nul)
{
	const unsigned char *s = (const unsigned char *)line;
	char *out = malloc(len * 3 + 1);
	size_t i = 0, o = 0, keep = 0;
	uint32_t cp;

	if (out == NULL)
		return NULL;
	*has_nul = 0;
	while (i < len) {
		i += utf8_next(s + i, len - i, &cp);
		if (cp == 0)
			*has_nul = 1;
		o += utf8_put(cp, out + o);
		if (!u_isspace(cp))
			keep = o;
	}
	out[keep] = '\0';
	*outlen = keep;
	return out;
}

bool
attr_line_is_end(const char *line, size_t len)
{
	const unsigned char *s = (const unsigned char *)line;
	size_t i = 0;
	uint32_t cp;

	while (i < len) {
		i += utf8_next(s + i, len - i, &cp);
		if (!u_isspace(cp))
			return false;
	}
	return true;
}

void
attr_line_display(const char *line, size_t len, char *out, size_t outlen)
{
	size_t n = 0;
	int nul;
	char *d;

	if (outlen == 0)
		return;
	d = decode_rstrip(line, len, &n, &nul);
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

/* Lower-case valid UTF-8 into out (room for len + len / 2 + 1); returns the length written. */
static size_t
lower_into(const char *v, size_t len, char *out)
{
	/* U+0130 (2 bytes) becomes 3 bytes, U+023A and its like 2 -> 3: never
	 * more than half again (scripts/gen-ulower.py checks the table) */
	size_t i = 0, o = 0;
	uint32_t cp;

	while (i < len) {
		size_t at = i;

		i += utf8_next((const unsigned char *)v + i, len - i, &cp);
		if (cp == 0x130) {
			out[o++] = 'i';
			o += utf8_put(0x307, out + o);
		} else if (cp == 0x3A3) {
			o += utf8_put(final_sigma((const unsigned char *)v, len, at, i) ? 0x3C2 : 0x3C3,
				      out + o);
		} else {
			o += utf8_put(u_lower(cp), out + o);
		}
	}
	out[o] = '\0';
	return o;
}

/* Lower-case a valid UTF-8 string into a new buffer, as Python's str.lower(). */
char *
attr_lower_dup(const char *v, size_t len)
{
	char *out = malloc(len + len / 2 + 1);

	if (out == NULL)
		return NULL;
	lower_into(v, len, out);
	return out;
}

/* ---- the request arena --------------------------------------------------- */

#define ARENA_MIN  2048        /* a whole Postfix request (~1.1 KB of names and values) */
#define ARENA_KEEP 8192        /* attr_req_reset() frees bigger arenas: idle connections stay small */

static const char e_nomatch[] = "line does not match name=value";
static const char e_line[] = "line too long";
static const char e_req[] = "request too large";
static const char e_count[] = "too many attributes";
static const char e_mem[] = "out of memory";

void
attr_req_init(struct attr_req *r)
{
	/* the per-attribute arrays are written before they are read */
	r->buf = NULL;
	r->len = r->cap = 0;
	attr_req_reset(r);
}

void
attr_req_reset(struct attr_req *r)
{
	r->n = 0;
	r->bytes = 0;
	r->len = 0;
	r->seen[0] = r->seen[1] = 0;
	/* (under ASan always: a pointer into the last request's arena is seen) */
	if (r->cap > ARENA_KEEP || (PSPF_ASAN && r->cap > 0)) {
		free(r->buf);
		r->buf = NULL;
		r->cap = 0;
	}
}

void
attr_req_clear(struct attr_req *r)
{
	free(r->buf);
	attr_req_init(r);
}

/* Room for need more bytes in the arena (offsets stay valid when it moves). */
static bool
arena_room(struct attr_req *r, size_t need)
{
	size_t cap;
	char *b;

	if (r->cap - r->len >= need)
		return true;
	cap = r->cap != 0 ? r->cap : ARENA_MIN;
	while (cap - r->len < need)
		cap *= 2;
	b = realloc(r->buf, cap);
	if (b == NULL)
		return false;
	r->buf = b;
	r->cap = (uint32_t)cap;
	return true;
}

/*
 * Names are compared by hash first.  Length plus first, middle and last
 * byte tell the Postfix names apart; the multiply spreads them over the
 * top bits, which pick the `seen` bit.
 */
static inline uint32_t
name_hash(const unsigned char *s, size_t len)
{
	uint32_t h = (uint32_t)len ^ (uint32_t)s[0] << 8 ^ (uint32_t)s[len / 2] << 16 ^
		     (uint32_t)s[len - 1] << 24;

	return h * 0x9E3779B1u;
}

#define SEEN_WORD(h) ((h) >> 31)
#define SEEN_BIT(h)  (1ull << (((h) >> 25) & 63))

/*
 * Make the pair written at the arena's end (name at noff, value at voff,
 * arena used up to end) an attribute: replace the value of an earlier
 * attribute of that name (Python's dict: last wins, first position), or
 * append a new one.
 */
static inline int
commit(struct attr_req *r, uint32_t noff, uint32_t voff, size_t end, uint32_t h, const char **err)
{
	uint64_t *w = &r->seen[SEEN_WORD(h)], bit = SEEN_BIT(h);

	if (*w & bit) {
		for (size_t j = 0; j < r->n; j++) {
			if (r->hash[j] == h && strcmp(r->buf + r->name[j], r->buf + noff) == 0) {
				r->name[j] = noff;
				r->value[j] = voff;
				r->len = (uint32_t)end;
				return ATTR_OK;
			}
		}
	}
	if (r->n >= ATTR_MAX) {
		*err = e_count;
		return ATTR_BOUND;
	}
	*w |= bit;
	r->hash[r->n] = h;
	r->name[r->n] = noff;
	r->value[r->n] = voff;
	r->n++;
	r->len = (uint32_t)end;
	return ATTR_OK;
}

/*
 * Eight bytes at a time.  The masks below flag a byte by its top bit; a
 * flagged byte may make the bytes above it flagged too (borrows), but the
 * lowest flag is always exact, and a word without a true hit has none.
 * Lowest means first in memory on a little-endian machine; elsewhere the
 * byte loops do the work.
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WORDS 1
#else
#define WORDS 0
#endif
#define ONES 0x0101010101010101ull
#define HIGH 0x8080808080808080ull

static inline uint64_t
load8(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

static inline void
store8(char *p, uint64_t w)
{
	memcpy(p, &w, 8);
}

/* bytes that may end a name: '=', <= 0x20 (blanks, NUL), >= 0x80 */
static inline uint64_t
stop8(uint64_t w)
{
	uint64_t eq = w ^ (ONES * '=');

	return ((eq - ONES) & ~eq & HIGH) | ((w - ONES * 0x21) & ~w & HIGH) | (w & HIGH);
}

/* ASCII letters lower-cased: the top bit of (b + 0x3F) ^ (b + 0x25) is set for 'A'..'Z' (b < 0x80) */
static inline uint64_t
lower8(uint64_t w)
{
	return w | ((((w + ONES * 0x3F) ^ (w + ONES * 0x25)) & HIGH) >> 2);
}

static inline bool
keep_case(const unsigned char *k, size_t len)
{
	if (WORDS) {
		uint64_t proto;

		memcpy(&proto, "protocol", 8);
		switch (len) {
		case 14:
			return load8(k) == proto && memcmp(k + 8, "_state", 6) == 0;
		case 13:
			return load8(k) == proto && memcmp(k + 8, "_name", 5) == 0;
		case 8: {
			uint64_t q;

			memcpy(&q, "queue_id", 8);
			return load8(k) == q;
		}
		}
		return false;
	}
	switch (len) {
	case 14:
		return memcmp(k, "protocol_state", 14) == 0;
	case 13:
		return memcmp(k, "protocol_name", 13) == 0;
	case 8:
		return memcmp(k, "queue_id", 8) == 0;
	}
	return false;
}

/*
 * out = s[0..len) (len + 8 bytes of room), and true when no byte is NUL
 * or over 0x7F: decoding that line is the identity.
 */
static inline __attribute__((always_inline)) bool
copy_line(char *out, const unsigned char *s, size_t len)
{
	uint64_t acc = 0, w;
	size_t i = 0;

	if (WORDS && len >= 8) {
		for (; i + 8 <= len; i += 8) {
			w = load8(s + i);
			acc |= w | (w - ONES);
			store8(out + i, w);
		}
		if (i < len) {
			/* the last word overlaps bytes already seen: a borrow it
			 * adds comes from a NUL that was flagged already */
			w = load8(s + len - 8);
			acc |= w | (w - ONES);
			store8(out + len - 8, w);
		}
		return (acc & HIGH) == 0;
	}
	for (; i < len; i++) {
		out[i] = (char)s[i];
		if (s[i] - 1u >= 0x7Fu)
			return false;
	}
	return true;
}

/*
 * Lower-case n ASCII bytes in place.  The last word may run up to 7 bytes
 * past them, into arena slack the caller overwrites: a carry there only
 * runs upwards, away from the string.
 */
static inline __attribute__((always_inline)) void
lower_ascii(char *p, size_t n)
{
	if (WORDS) {
		for (size_t i = 0; i < n; i += 8)
			store8(p + i, lower8(load8((const unsigned char *)p + i)));
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (p[i] >= 'A' && p[i] <= 'Z')
			p[i] = (char)(p[i] + 32);
}

/*
 * The end of the name that starts at i: the first '=', blank, NUL or
 * non-ASCII byte at or after i (len when none).  Control bytes that are
 * not blanks belong to the name ([^=\s]).
 */
static inline __attribute__((always_inline)) size_t
name_end(const unsigned char *s, size_t i, size_t len)
{
	while (i < len) {
		unsigned char c;

		if (WORDS && len >= 8) {
			size_t base = i + 8 <= len ? i : len - 8;
			uint64_t m = stop8(load8(s + base));

			/*
			 * In the last word the bytes before i were looked at
			 * already; a borrow from them may flag a byte that is
			 * no stop: the check below steps over it.
			 */
			m &= ~0ull << ((i - base) * 8);
			if (m == 0) {
				i = base + 8;
				continue;
			}
			i = base + (size_t)__builtin_ctzll(m) / 8;
		} else if (s[i] > 0x20 && s[i] != '=' && s[i] < 0x80) {
			i++;
			continue;
		}
		c = s[i];
		if (c == 0 || c == '=' || c >= 0x80 || A_SPACE(c))
			return i;
		i++;
	}
	return len;
}

/*
 * The general path, for lines with a NUL or a byte over 0x7F: decode with
 * replacement first, then the regex on code points.  The bounds have been
 * counted by the caller.
 */
static int __attribute__((noinline))
add_decoded(struct attr_req *r, const char *line, size_t len, const char **err)
{
	const unsigned char *u;
	size_t dlen, i, ks, ke, vs, w, nlen, vlen, vout;
	char *d, *o;
	int nul = 0, rc;
	uint32_t cp;

	d = decode_rstrip(line, len, &dlen, &nul);
	if (d == NULL) {
		*err = e_mem;
		return ATTR_BOUND;
	}
	if (nul)
		goto nomatch;
	u = (const unsigned char *)d;
	/* ^\s* */
	for (i = 0; i < dlen; i += w) {
		w = utf8_next(u + i, dlen - i, &cp);
		if (!u_isspace(cp))
			break;
	}
	/* ([^=\s]+) */
	ks = i;
	for (; i < dlen; i += w) {
		w = utf8_next(u + i, dlen - i, &cp);
		if (cp == '=' || u_isspace(cp))
			break;
	}
	ke = i;
	if (ke == ks)
		goto nomatch;
	/* \s*= */
	for (; i < dlen; i += w) {
		w = utf8_next(u + i, dlen - i, &cp);
		if (!u_isspace(cp))
			break;
	}
	if (i >= dlen || d[i] != '=')
		goto nomatch;
	vs = i + 1;     /* (.*)$ : the rest; LF cannot occur inside a line */
	nlen = ke - ks;
	vlen = dlen - vs;
	/* lower-casing can grow the value by half (U+0130, see lower_into) */
	if (!arena_room(r, nlen + 1 + vlen + vlen / 2 + 1)) {
		free(d);
		*err = e_mem;
		return ATTR_BOUND;
	}
	o = r->buf + r->len;
	memcpy(o, d + ks, nlen);
	o[nlen] = '\0';
	if (keep_case(u + ks, nlen)) {
		memcpy(o + nlen + 1, d + vs, vlen);
		o[nlen + 1 + vlen] = '\0';
		vout = vlen;
	} else {
		vout = lower_into(d + vs, vlen, o + nlen + 1);
	}
	rc = commit(r, r->len, r->len + (uint32_t)nlen + 1, r->len + nlen + 1 + vout + 1,
		    name_hash(u + ks, nlen), err);
	free(d);
	return rc;

nomatch:
	free(d);
	*err = e_nomatch;
	return ATTR_NOMATCH;
}

int
attr_req_add_line(struct attr_req *r, const char *line, size_t len, const char **err)
{
	const unsigned char *s = (const unsigned char *)line;
	size_t i = 0, ks, ke, vs, e, nlen;
	char *o;

	/*
	 * Postfix sends ASCII, and for ASCII bytes decoding is the identity
	 * and the blanks are A_SPACE: the line is copied to the arena as it
	 * is, and if no byte was NUL or over 0x7F the regex runs on the bytes
	 * and the copy is cut into name and value in place.  Any other line
	 * takes add_decoded().
	 */
	if (len == 0 || s[0] <= 0x20 || s[0] >= 0x80) {
		/* (the usual line starts with its name: not blank) */
		while (i < len && A_SPACE(s[i]))
			i++;
		if (i == len)
			return ATTR_END;
		if (s[i] >= 0x80 && attr_line_is_end(line + i, len - i))
			return ATTR_END;
	}
	if (len > ATTR_LINE_MAX) {
		*err = e_line;
		return ATTR_BOUND;
	}
	if (r->bytes + len + 1 > ATTR_REQ_MAX) {
		*err = e_req;
		return ATTR_BOUND;
	}
	r->bytes += (uint32_t)len + 1;

	/* lower_ascii() may write 8 bytes past the line, and the value's NUL 1 */
	if (!arena_room(r, len + 8 + 1)) {
		*err = e_mem;
		return ATTR_BOUND;
	}
	o = r->buf + r->len;
	if (!copy_line(o, s, len))
		return add_decoded(r, line, len, err);

	/* ([^=\s]+) */
	ks = i;
	i = ke = name_end(s, i, len);
	if (i == len || ke == ks)
		goto nomatch;
	/* \s*= */
	while (i < len && A_SPACE(s[i]))
		i++;
	if (i == len || s[i] != '=')
		goto nomatch;
	/* (.*)$ of the rstripped line */
	vs = i + 1;
	e = len;
	while (e > vs && A_SPACE(s[e - 1]))
		e--;
	nlen = ke - ks;
	o[ke] = '\0';
	if (!keep_case(s + ks, nlen))
		lower_ascii(o + vs, e - vs);
	o[e] = '\0';
	return commit(r, r->len + (uint32_t)ks, r->len + (uint32_t)vs, r->len + e + 1,
		      name_hash(s + ks, nlen), err);

nomatch:
	*err = e_nomatch;
	return ATTR_NOMATCH;
}

const char *
attr_get(const struct attr_req *r, const char *name)
{
	size_t len = strlen(name);
	uint32_t h;

	if (len == 0)
		return NULL;
	h = name_hash((const unsigned char *)name, len);
	if (!(r->seen[SEEN_WORD(h)] & SEEN_BIT(h)))
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		if (r->hash[i] == h && strcmp(r->buf + r->name[i], name) == 0)
			return r->buf + r->value[i];
	return NULL;
}

int
attr_req_copy(struct attr_req *dst, const struct attr_req *src)
{
	*dst = *src;
	dst->buf = NULL;
	dst->cap = 0;
	if (src->len == 0)
		return 0;
	dst->buf = malloc(src->len);
	if (dst->buf == NULL) {
		attr_req_init(dst);
		return -1;
	}
	memcpy(dst->buf, src->buf, src->len);
	dst->cap = src->len;
	return 0;
}
