/*
 * spf_util - small pieces of the engine that are pure functions: the
 * client address in its macro forms, result words, Python-style repr.
 */
#include <arpa/inet.h>
#include <stdio.h>
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
	size_t n = 0;
	out[0] = '\0';
	for (int k = 0; k < 8 && n < outlen; k++) {
		if (k == best) {
			n += (size_t)snprintf(out + n, outlen - n, "::");
			k += bestlen - 1;
			continue;
		}
		bool after_gap = best >= 0 && k == best + bestlen;
		n += (size_t)snprintf(out + n, outlen - n, "%s%x", (k == 0 || after_gap) ? "" : ":",
				      g[k]);
	}
}

int spf_client_parse(struct spf_client *cl, const char *ip, char *err, size_t errlen)
{
	unsigned char a[16];
	memset(cl, 0, sizeof(*cl));
	if (inet_pton(AF_INET, ip, a) == 1) {
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
		snprintf(cl->i, sizeof(cl->i), "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
		snprintf(cl->c, sizeof(cl->c), "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
		snprintf(cl->rev, sizeof(cl->rev), "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
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
