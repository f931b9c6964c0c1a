/*
 * spf_util - small pieces of the engine that are pure functions: the
 * client address in its macro forms, result words, Python-style repr.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf.h"
#include "spf_eval.h"

const char *spf_result_word(enum spf_result r)
{
	switch (r) {
	case SPF_NONE: return "none";
	case SPF_NEUTRAL: return "neutral";
	case SPF_PASS: return "pass";
	case SPF_FAIL: return "fail";
	case SPF_SOFTFAIL: return "softfail";
	case SPF_TEMPERROR: return "temperror";
	case SPF_PERMERROR: return "permerror";
	}
	return "permerror";
}

const char *spf_result_title(enum spf_result r)
{
	switch (r) {
	case SPF_NONE: return "None";
	case SPF_NEUTRAL: return "Neutral";
	case SPF_PASS: return "Pass";
	case SPF_FAIL: return "Fail";
	case SPF_SOFTFAIL: return "Softfail";
	case SPF_TEMPERROR: return "Temperror";
	case SPF_PERMERROR: return "Permerror";
	}
	return "Permerror";
}

/* Python's ipaddress prints the longest run (>= 2) of zero groups as "::". */
static void ip6_python(char *out, size_t outlen, const unsigned char a[16])
{
	unsigned g[8];
	for (int k = 0; k < 8; k++)
		g[k] = (unsigned)(a[2 * k] << 8 | a[2 * k + 1]);
	int best = -1, bestlen = 0;
	for (int k = 0; k < 8;) {
		if (g[k] != 0) {
			k++;
			continue;
		}
		int st = k;
		while (k < 8 && g[k] == 0)
			k++;
		if (k - st > bestlen) {
			best = st;
			bestlen = k - st;
		}
	}
	if (bestlen < 2)
		best = -1;
	/* by hand, as for IPv4 below: at most 39 characters */
	static const char hex[] = "0123456789abcdef";
	char tmp[48], *o = tmp;
	for (int k = 0; k < 8; k++) {
		if (k == best) {
			*o++ = ':';
			*o++ = ':';
			k += bestlen - 1;
			continue;
		}
		bool after_gap = best >= 0 && k == best + bestlen;
		if (k != 0 && !after_gap)
			*o++ = ':';
		bool lead = true;
		for (int sh = 12; sh >= 0; sh -= 4) {
			unsigned v = (g[k] >> sh) & 15;
			if (lead && v == 0 && sh > 0)
				continue;
			lead = false;
			*o++ = hex[v];
		}
	}
	*o = '\0';
	snprintf(out, outlen, "%s", tmp);
}

/* "%u" of one byte, then sep; returns the end */
static char *put_octet(char *o, unsigned v, char sep)
{
	if (v >= 100)
		*o++ = (char)('0' + v / 100);
	if (v >= 10)
		*o++ = (char)('0' + v / 10 % 10);
	*o++ = (char)('0' + v % 10);
	*o++ = sep;
	return o;
}

int spf_client_parse(struct spf_client *cl, const char *ip, char *err, size_t errlen)
{
	unsigned char a[16];
	memset(cl, 0, sizeof(*cl));
	/* the same strict dotted quad as inet_pton(AF_INET), for less */
	if (spf_ip4_parse(ip, strlen(ip), a)) {
		cl->v6 = false;
		memcpy(cl->addr, a, 4);
	} else if (inet_pton(AF_INET6, ip, a) == 1) {
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(a, mapped, 12) == 0) {
			cl->v6 = false;
			memcpy(cl->addr, a + 12, 4);
		} else {
			cl->v6 = true;
			memcpy(cl->addr, a, 16);
		}
	} else {
		snprintf(err, errlen, "'%.100s' does not appear to be an IPv4 or IPv6 address", ip);
		return -1;
	}
	if (!cl->v6) {
		const unsigned char *b = cl->addr;
		/* by hand: three snprintf calls cost more than the rest of the parse */
		char *o = cl->i;
		for (int k = 0; k < 4; k++)
			o = put_octet(o, b[k], k < 3 ? '.' : '\0');
		memcpy(cl->c, cl->i, (size_t)(o - cl->i));
		o = cl->rev;
		for (int k = 3; k >= 0; k--)
			o = put_octet(o, b[k], '.');
		memcpy(o, "in-addr.arpa", sizeof("in-addr.arpa"));
	} else {
		static const char hexu[] = "0123456789ABCDEF", hexl[] = "0123456789abcdef";
		size_t n = 0;
		for (int k = 0; k < 16; k++) {
			cl->i[n++] = hexu[cl->addr[k] >> 4];
			cl->i[n++] = '.';
			cl->i[n++] = hexu[cl->addr[k] & 15];
			cl->i[n++] = k < 15 ? '.' : '\0';
		}
		n = 0;
		for (int k = 15; k >= 0; k--) {
			cl->rev[n++] = hexl[cl->addr[k] & 15];
			cl->rev[n++] = '.';
			cl->rev[n++] = hexl[cl->addr[k] >> 4];
			cl->rev[n++] = '.';
		}
		memcpy(cl->rev + n, "ip6.arpa", 9);
		ip6_python(cl->c, sizeof(cl->c), cl->addr);
	}
	return 0;
}

void spf_bytes_repr(char *out, size_t outlen, const unsigned char *s, size_t len)
{
	bool sq = memchr(s, '\'', len) != NULL, dq = memchr(s, '"', len) != NULL;
	char q = (sq && !dq) ? '"' : '\'';
	size_t n = 0;
#define PUT(...) do { if (n < outlen) n += (size_t)snprintf(out + n, outlen - n, __VA_ARGS__); } while (0)
	PUT("b%c", q);
	for (size_t k = 0; k < len; k++) {
		unsigned char c = s[k];
		if (c == '\\')
			PUT("\\\\");
		else if (c == (unsigned char)q)
			PUT("\\%c", q);
		else if (c == '\t')
			PUT("\\t");
		else if (c == '\n')
			PUT("\\n");
		else if (c == '\r')
			PUT("\\r");
		else if (c < 0x20 || c >= 0x7f)
			PUT("\\x%02x", c);
		else
			PUT("%c", c);
	}
	PUT("%c", q);
#undef PUT
}

/* ---- IDNA: pydns sends non-ASCII names as xn-- labels (RFC 3492) ---- */

#define PY_BASE 36
#define PY_TMIN 1
#define PY_TMAX 26

static unsigned long py_adapt(unsigned long delta, unsigned long npoints, bool first)
{
	delta = first ? delta / 700 : delta / 2;
	delta += delta / npoints;
	unsigned long k = 0;
	while (delta > ((PY_BASE - PY_TMIN) * PY_TMAX) / 2) {
		delta /= PY_BASE - PY_TMIN;
		k += PY_BASE;
	}
	return k + (PY_BASE - PY_TMIN + 1) * delta / (delta + 38);
}

/* Decode one UTF-8 label into code points; false if it is not valid UTF-8. */
static bool utf8_decode(const unsigned char *s, size_t n, unsigned long *cp, size_t *ncp)
{
	size_t k = 0, m = 0;
	while (k < n) {
		unsigned c = s[k];
		unsigned long v;
		size_t more;
		if (c < 0x80) {
			v = c;
			more = 0;
		} else if ((c & 0xe0) == 0xc0 && c >= 0xc2) {
			v = c & 0x1f;
			more = 1;
		} else if ((c & 0xf0) == 0xe0) {
			v = c & 0x0f;
			more = 2;
		} else if ((c & 0xf8) == 0xf0 && c <= 0xf4) {
			v = c & 0x07;
			more = 3;
		} else {
			return false;
		}
		if (k + more >= n)
			return false;
		for (size_t j = 1; j <= more; j++) {
			if ((s[k + j] & 0xc0) != 0x80)
				return false;
			v = v << 6 | (s[k + j] & 0x3f);
		}
		if ((more == 2 && v < 0x800) || (more == 3 && (v < 0x10000 || v > 0x10ffff)) ||
		    (v >= 0xd800 && v <= 0xdfff))
			return false;
		cp[m++] = v;
		k += more + 1;
	}
	*ncp = m;
	return true;
}

/* Punycode of one label into out (NUL-terminated); false if it does not fit. */
static bool punycode(const unsigned long *cp, size_t n, char *out, size_t outlen)
{
	size_t o = 0, b = 0;
#define OUT(ch) do { if (o + 1 >= outlen) return false; out[o++] = (char)(ch); } while (0)
	OUT('x'); OUT('n'); OUT('-'); OUT('-');
	for (size_t k = 0; k < n; k++)
		if (cp[k] < 0x80) {
			OUT(cp[k] >= 'A' && cp[k] <= 'Z' ? cp[k] + 32 : cp[k]);
			b++;
		}
	if (b > 0)
		OUT('-');
	unsigned long nn = 128, delta = 0, bias = 72;
	size_t h = b;
	while (h < n) {
		unsigned long m = (unsigned long)-1;
		for (size_t k = 0; k < n; k++)
			if (cp[k] >= nn && cp[k] < m)
				m = cp[k];
		delta += (m - nn) * (h + 1);
		nn = m;
		for (size_t k = 0; k < n; k++) {
			if (cp[k] < nn)
				delta++;
			if (cp[k] != nn)
				continue;
			unsigned long q = delta;
			for (unsigned long kk = PY_BASE;; kk += PY_BASE) {
				unsigned long t = kk <= bias ? PY_TMIN : (kk >= bias + PY_TMAX ? PY_TMAX : kk - bias);
				if (q < t)
					break;
				unsigned long d = t + (q - t) % (PY_BASE - t);
				OUT(d < 26 ? 'a' + d : '0' + d - 26);
				q = (q - t) / (PY_BASE - t);
			}
			OUT(q < 26 ? 'a' + q : '0' + q - 26);
			bias = py_adapt(delta, h + 1, h == b);
			delta = 0;
			h++;
		}
		delta++;
		nn++;
	}
	out[o] = '\0';
	return true;
#undef OUT
}

char *spf_idna_name(const char *name)
{
	size_t len = strlen(name);
	bool ascii = true;
	for (size_t k = 0; k < len && ascii; k++)
		ascii = (unsigned char)name[k] < 0x80;
	if (ascii)
		return strdup(name);
	/* each label grows to at most 4 + 8 x its length */
	size_t cap = len * 9 + 16;
	char *out = malloc(cap);
	unsigned long *cp = malloc((len + 1) * sizeof(*cp));
	if (out == NULL || cp == NULL) {
		free(out);
		free(cp);
		return NULL;
	}
	size_t o = 0, st = 0;
	for (size_t k = 0; k <= len; k++) {
		if (k < len && name[k] != '.')
			continue;
		const unsigned char *lab = (const unsigned char *)name + st;
		size_t ln = k - st, ncp = 0;
		bool lascii = true;
		for (size_t j = 0; j < ln && lascii; j++)
			lascii = lab[j] < 0x80;
		if (!lascii && utf8_decode(lab, ln, cp, &ncp) && punycode(cp, ncp, out + o, cap - o)) {
			o += strlen(out + o);
		} else {
			/* ASCII, or not UTF-8: sent as it is */
			memcpy(out + o, lab, ln);
			o += ln;
		}
		if (k < len)
			out[o++] = '.';
		st = k + 1;
	}
	out[o] = '\0';
	free(cp);
	return out;
}
