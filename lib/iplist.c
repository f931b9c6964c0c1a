/*
 * iplist - network lists with Python ipaddress semantics (see iplist.h).
 * The parsers follow the steps of CPython 3.11's ipaddress module so that
 * the same inputs fail, with the same message text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iplist.h"
#include "pystr.h"

#define REPR_MAX 300

/*
 * The error texts: why == NULL means nobody reads them (a first try of
 * IPv4 before IPv6), and then nothing is formatted.
 */
static void whyf(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void whyf(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* "%s in %r"-style helpers */
static void whyf_repr(char *why, size_t whylen, const char *fmt, const char *s, size_t n)
{
	char *tmp, rep[REPR_MAX];

	if (!why)
		return;
	tmp = strndup(s, n);
	if (!tmp) {
		snprintf(why, whylen, "out of memory");
		return;
	}
	pystr_repr(tmp, rep, sizeof rep);
	free(tmp);
	snprintf(why, whylen, fmt, rep);
}

/* fmt with the reprs of two parts; out of memory leaves why as it was */
static void whyf_repr2(char *why, size_t whylen, const char *fmt, const char *s1, size_t n1,
		       const char *s2, size_t n2)
{
	char rep1[REPR_MAX], rep2[REPR_MAX], *t1, *t2;

	if (!why)
		return;
	t1 = strndup(s1, n1);
	t2 = strndup(s2, n2);
	if (t1 && t2) {
		pystr_repr(t1, rep1, sizeof rep1);
		pystr_repr(t2, rep2, sizeof rep2);
		snprintf(why, whylen, fmt, rep1, rep2);
	}
	free(t1);
	free(t2);
}

/* an inner part's message "in" the repr of the whole; out of memory leaves why as it was */
static void whyf_in(char *why, size_t whylen, const char *inner, const char *s, size_t n)
{
	char rep[REPR_MAX], *t;

	if (!why || !(t = strndup(s, n)))
		return;
	pystr_repr(t, rep, sizeof rep);
	free(t);
	snprintf(why, whylen, "%s in %s", inner, rep);
}

/* ---- IPv4 ------------------------------------------------------------ */

static int v4_octet(const char *s, size_t n, unsigned *out, char *why, size_t whylen)
{
	unsigned v = 0;

	if (n == 0) {
		whyf(why, whylen, "Empty octet not permitted");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9') {
			whyf_repr(why, whylen, "Only decimal digits permitted in %s", s, n);
			return -1;
		}
	if (n > 3) {
		whyf_repr(why, whylen, "At most 3 characters permitted in %s", s, n);
		return -1;
	}
	if (n > 1 && s[0] == '0') {
		whyf_repr(why, whylen, "Leading zeros are not permitted in %s", s, n);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	if (v > 255) {
		whyf(why, whylen, "Octet %u (> 255) not permitted", v);
		return -1;
	}
	*out = v;
	return 0;
}

/* _BaseV4._ip_int_from_string; errors are AddressValueError */
static int v4_from_string(const char *s, size_t n, unsigned char b[4], char *why, size_t whylen)
{
	const char *p = s, *end = s + n;
	size_t dots = 0;
	char inner[200];

	if (n == 0) {
		whyf(why, whylen, "Address cannot be empty");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		dots += s[i] == '.';
	if (dots != 3) {
		whyf_repr(why, whylen, "Expected 4 octets in %s", s, n);
		return -1;
	}
	for (int k = 0; k < 4; k++) {
		const char *d = memchr(p, '.', (size_t)(end - p));
		size_t len = d ? (size_t)(d - p) : (size_t)(end - p);
		unsigned v;

		if (v4_octet(p, len, &v, why ? inner : NULL, sizeof inner) < 0) {
			whyf_in(why, whylen, inner, s, n);
			return -1;
		}
		b[k] = (unsigned char)v;
		p += len + 1;
	}
	return 0;
}

/* ---- IPv6 ------------------------------------------------------------ */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* _BaseV6._ip_int_from_string on s[0..n) (scope id already removed) */
static int v6_from_string(const char *s, size_t n, unsigned char b[16], char *why, size_t whylen)
{
	const char *part[12];
	size_t plen[12], np = 0;
	char v4hex[2][8];
	const char *p = s, *end = s + n;

	if (n == 0) {
		whyf(why, whylen, "Address cannot be empty");
		return -1;
	}
	/* split on ':' (more than 10 parts is an error below anyway) */
	size_t colons = 0;
	for (size_t i = 0; i < n; i++)
		colons += s[i] == ':';
	if (colons + 1 < 3) {
		whyf_repr(why, whylen, "At least 3 parts expected in %s", s, n);
		return -1;
	}
	/* an IPv4-style last part is checked first, as Python does */
	const char *last = s + n;
	while (last > s && last[-1] != ':')
		last--;
	size_t lastn = (size_t)(s + n - last);
	bool v4tail = memchr(last, '.', lastn) != NULL;
	if (v4tail) {
		unsigned char v4[4];
		char inner[400];

		if (v4_from_string(last, lastn, v4, why ? inner : NULL, sizeof inner) < 0) {
			whyf_in(why, whylen, inner, s, n);
			return -1;
		}
		snprintf(v4hex[0], sizeof v4hex[0], "%x", (v4[0] << 8) | v4[1]);
		snprintf(v4hex[1], sizeof v4hex[1], "%x", (v4[2] << 8) | v4[3]);
	}
	if (colons + 1 + (v4tail ? 1 : 0) > 9) {
		whyf_repr(why, whylen, "At most 8 colons permitted in %s", s, n);
		return -1;
	}
	for (;;) {
		const char *c = memchr(p, ':', (size_t)(end - p));
		size_t len = c ? (size_t)(c - p) : (size_t)(end - p);

		part[np] = p;
		plen[np++] = len;
		if (!c)
			break;
		p = c + 1;
	}
	if (v4tail) {
		np--;
		part[np] = v4hex[0];
		plen[np++] = strlen(v4hex[0]);
		part[np] = v4hex[1];
		plen[np++] = strlen(v4hex[1]);
	}
	long skip = -1;
	for (size_t i = 1; i + 1 < np; i++) {
		if (plen[i] == 0) {
			if (skip >= 0) {
				whyf_repr(why, whylen, "At most one '::' permitted in %s", s, n);
				return -1;
			}
			skip = (long)i;
		}
	}
	size_t hi, lo, skipped;
	if (skip >= 0) {
		hi = (size_t)skip;
		lo = np - (size_t)skip - 1;
		if (plen[0] == 0) {
			hi--;
			if (hi) {
				whyf_repr(why, whylen, "Leading ':' only permitted as part of '::' in %s", s, n);
				return -1;
			}
		}
		if (plen[np - 1] == 0) {
			lo--;
			if (lo) {
				whyf_repr(why, whylen, "Trailing ':' only permitted as part of '::' in %s", s, n);
				return -1;
			}
		}
		if (hi + lo >= 8) {
			whyf_repr(why, whylen, "Expected at most 7 other parts with '::' in %s", s, n);
			return -1;
		}
		skipped = 8 - (hi + lo);
		(void)skipped;
	} else {
		if (np != 8) {
			whyf_repr(why, whylen, "Exactly 8 parts expected without '::' in %s", s, n);
			return -1;
		}
		if (plen[0] == 0) {
			whyf_repr(why, whylen, "Leading ':' only permitted as part of '::' in %s", s, n);
			return -1;
		}
		if (plen[np - 1] == 0) {
			whyf_repr(why, whylen, "Trailing ':' only permitted as part of '::' in %s", s, n);
			return -1;
		}
		hi = np;
		lo = 0;
		skipped = 0;
	}
	unsigned hext[8];
	for (size_t i = 0; i < hi + lo; i++) {
		size_t idx = i < hi ? i : np - lo + (i - hi);
		const char *h = part[idx];
		size_t hl = plen[idx];
		unsigned v = 0;

		for (size_t j = 0; j < hl; j++) {
			if (hexval(h[j]) < 0) {
				whyf_repr2(why, whylen, "Only hex digits permitted in %s in %s", h, hl, s, n);
				return -1;
			}
		}
		if (hl > 4) {
			whyf_repr2(why, whylen, "At most 4 characters permitted in %s in %s", h, hl, s, n);
			return -1;
		}
		for (size_t j = 0; j < hl; j++)
			v = (v << 4) | (unsigned)hexval(h[j]);
		hext[i] = v;
	}
	memset(b, 0, 16);
	/* place: hi parts first, then skipped zeros, then lo parts */
	for (size_t i = 0; i < hi; i++) {
		b[2 * i] = (unsigned char)(hext[i] >> 8);
		b[2 * i + 1] = (unsigned char)hext[i];
	}
	for (size_t i = 0; i < lo; i++) {
		size_t pos = 8 - lo + i;
		unsigned v = hext[hi + i];

		b[2 * pos] = (unsigned char)(v >> 8);
		b[2 * pos + 1] = (unsigned char)v;
	}
	return 0;
}

/* IPv6Address(s): '/' is an error, scope id split off */
static int v6_addr(const char *s, size_t n, unsigned char b[16], char *why, size_t whylen)
{
	const char *pct = memchr(s, '%', n);

	if (memchr(s, '/', n)) {
		whyf_repr(why, whylen, "Unexpected '/' in %s", s, n);
		return -1;
	}
	if (pct) {
		size_t sl = n - (size_t)(pct - s) - 1;

		if (sl == 0 || memchr(pct + 1, '%', sl)) {
			char rep[REPR_MAX], *t;

			if (!why || !(t = strndup(s, n)))
				return -1;
			pystr_repr(t, rep, sizeof rep);
			free(t);
			snprintf(why, whylen, "Invalid IPv6 address: \"%s\"", rep);
			return -1;
		}
		n = (size_t)(pct - s);
	}
	return v6_from_string(s, n, b, why, whylen);
}

static int v4_addr(const char *s, size_t n, unsigned char b[4], char *why, size_t whylen)
{
	if (memchr(s, '/', n)) {
		whyf_repr(why, whylen, "Unexpected '/' in %s", s, n);
		return -1;
	}
	return v4_from_string(s, n, b, why, whylen);
}

/*
 * A plain dotted quad in one pass: accepts only what v4_from_string
 * accepts (four octets of 1-3 digits, no leading zero, at most 255), and
 * leaves everything else to it.
 */
static bool v4_quick(const char *s, unsigned char b[4])
{
	for (int k = 0; k < 4; k++) {
		unsigned v = 0;
		int d = 0;

		for (; *s >= '0' && *s <= '9' && d < 4; s++, d++)
			v = v * 10 + (unsigned)(*s - '0');
		if (d == 0 || d > 3 || v > 255 || (d > 1 && s[-d] == '0'))
			return false;
		if (*s != (k < 3 ? '.' : '\0'))
			return false;
		b[k] = (unsigned char)v;
		s++;
	}
	return true;
}

int iplist_parse_addr(const char *s, struct ip_addr *a, char *why, size_t whylen)
{
	size_t n;

	memset(a, 0, sizeof *a);
	if (v4_quick(s, a->b)) {
		a->version = 4;
		return 0;
	}
	n = strlen(s);
	/* only the last message is shown: the tries need none */
	if (v4_addr(s, n, a->b, NULL, 0) == 0) {
		a->version = 4;
		return 0;
	}
	if (v6_addr(s, n, a->b, NULL, 0) == 0) {
		a->version = 6;
		return 0;
	}
	whyf_repr(why, whylen, "%s does not appear to be an IPv4 or IPv6 address", s, n);
	return -1;
}

/* ---- formatting (for the "host bits set" text) ----------------------- */

static void fmt_addr(const struct ip_addr *a, const char *scope, size_t scopelen, char *out, size_t outlen)
{
	if (a->version == 4) {
		snprintf(out, outlen, "%u.%u.%u.%u", a->b[0], a->b[1], a->b[2], a->b[3]);
		return;
	}
	unsigned h[8];
	int best = -1, bestlen = 0;
	for (int i = 0; i < 8; i++)
		h[i] = ((unsigned)a->b[2 * i] << 8) | a->b[2 * i + 1];
	for (int i = 0; i < 8;) {
		if (h[i]) {
			i++;
			continue;
		}
		int j = i;
		while (j < 8 && !h[j])
			j++;
		if (j - i > bestlen) {
			best = i;
			bestlen = j - i;
		}
		i = j;
	}
	if (bestlen < 2)
		best = -1;
	size_t o = 0;
	for (int i = 0; i < 8 && o < outlen; i++) {
		if (i == best) {
			o += (size_t)snprintf(out + o, outlen - o, i == 0 ? "::" : ":");
			i += bestlen - 1;
			if (i == 7)
				break;
			continue;
		}
		o += (size_t)snprintf(out + o, outlen - o, "%x%s", h[i], i < 7 ? ":" : "");
	}
	if (scope && o < outlen)
		snprintf(out + o, outlen - o, "%%%.*s", (int)scopelen, scope);
}

/* ---- networks -------------------------------------------------------- */

struct ip_net {
	struct ip_addr addr;
	int prefix;
};

/* prefix length from a string of ASCII digits; -1 if not */
static int prefix_digits(const char *m, size_t n, int max)
{
	long v = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (m[i] < '0' || m[i] > '9')
			return -1;
		if (v <= 1000)
			v = v * 10 + (m[i] - '0');
	}
	return v <= max ? (int)v : -1;
}

/* prefix length of a 32-bit netmask (1*0*) or -1 */
static int mask_prefix(unsigned long m)
{
	int zeros = 0;

	while (zeros < 32 && !(m & (1ul << zeros)))
		zeros++;
	unsigned long ones = zeros == 32 ? 0 : m >> zeros;
	int plen = 32 - zeros;
	unsigned long all = plen == 0 ? 0 : (plen == 32 ? 0xfffffffful : ((1ul << plen) - 1));
	return ones == all ? plen : -1;
}

enum { NET_OK = 0, NET_ADDRERR = -1, NET_VALERR = -2 };

/*
 * The parts of a network "addr[/mask]" common to both versions: more than
 * one '/' is an AddressValueError; *an is the address part's length, *m
 * and *mn the mask (NULL when there is none).
 */
static int net_split(const char *s, size_t n, size_t *an, const char **m, size_t *mn, char *why,
		     size_t whylen)
{
	const char *sl = memchr(s, '/', n);

	if (sl && memchr(sl + 1, '/', n - (size_t)(sl - s) - 1)) {
		whyf_repr(why, whylen, "Only one '/' permitted in %s", s, n);
		return NET_ADDRERR;
	}
	*an = sl ? (size_t)(sl - s) : n;
	*m = sl ? sl + 1 : NULL;
	*mn = sl ? n - *an - 1 : 0;
	return NET_OK;
}

/* strict=True: no bit set past the prefix (scope: IPv6 %scope as written, for the text) */
static int net_host_bits(const struct ip_net *net, int bits, const char *scope, size_t scopelen,
			 char *why, size_t whylen)
{
	for (int bit = net->prefix; bit < bits; bit++)
		if (net->addr.b[bit / 8] & (0x80 >> (bit % 8))) {
			char a[80];

			fmt_addr(&net->addr, scope, scopelen, a, sizeof a);
			whyf(why, whylen, "%s/%d has host bits set", a, net->prefix);
			return NET_VALERR;
		}
	return NET_OK;
}

/*
 * The prefix after '/' (_make_netmask): decimal digits up to the
 * version's bits, leading zeros allowed as int() allows them; IPv4 also
 * takes a netmask or hostmask in dotted form.
 */
static int net_prefix(const char *m, size_t mn, int version, int *prefix, char *why, size_t whylen)
{
	int p = prefix_digits(m, mn, version == 4 ? 32 : 128);

	if (p < 0 && version == 4) {
		unsigned char mb[4];

		if (v4_from_string(m, mn, mb, NULL, 0) == 0) {
			unsigned long mv = ((unsigned long)mb[0] << 24) | ((unsigned long)mb[1] << 16) |
					   ((unsigned long)mb[2] << 8) | mb[3];
			if ((p = mask_prefix(mv)) < 0)
				p = mask_prefix(mv ^ 0xfffffffful);
		}
	}
	if (p < 0) {
		whyf_repr(why, whylen, "%s is not a valid netmask", m, mn);
		return NET_VALERR;
	}
	*prefix = p;
	return NET_OK;
}

/* IPv4Network(s) or IPv6Network(s), strict: NET_ADDRERR lets the caller try the other */
static int net_parse_as(const char *s, size_t n, int version, struct ip_net *net, char *why, size_t whylen)
{
	int bits = version == 4 ? 32 : 128;
	size_t an, mn, scopelen = 0;
	const char *m, *scope = NULL;
	int rc = net_split(s, n, &an, &m, &mn, why, whylen);

	if (rc != NET_OK)
		return rc;
	memset(net, 0, sizeof *net);
	rc = version == 4 ? v4_addr(s, an, net->addr.b, why, whylen) : v6_addr(s, an, net->addr.b, why, whylen);
	if (rc < 0)
		return NET_ADDRERR;
	net->addr.version = version;
	net->prefix = bits;
	if (m && (rc = net_prefix(m, mn, version, &net->prefix, why, whylen)) != NET_OK)
		return rc;
	/* the text of "host bits set" shows an IPv6 %scope as written */
	if (version == 6 && (scope = memchr(s, '%', an)) != NULL) {
		scope++;
		scopelen = an - (size_t)(scope - s);
	}
	return net_host_bits(net, bits, scope, scopelen, why, whylen);
}

/* spf_engine's _cidrmatch network part: IPv4Network, on AddressValueError IPv6Network */
static int parse_net(const char *s, size_t n, struct ip_net *net, char *why, size_t whylen)
{
	int rc = net_parse_as(s, n, 4, net, why, whylen);

	if (rc == NET_ADDRERR)
		rc = net_parse_as(s, n, 6, net, why, whylen);
	return rc == NET_OK ? 0 : -1;
}

static bool net_contains(const struct ip_net *net, const struct ip_addr *a)
{
	if (net->addr.version != a->version)
		return false;
	for (int bit = 0; bit < net->prefix; bit++) {
		unsigned m = 0x80u >> (bit % 8);

		if ((net->addr.b[bit / 8] & m) != (a->b[bit / 8] & m))
			return false;
	}
	return true;
}

/*
 * skip_addresses and Whitelist are matched on every request: keep the
 * parsed form of the last few lists that parsed cleanly (keyed by their
 * text, so a Per_User list or a reloaded config is never confused with
 * another).  Lists with a bad entry take the slow path every time, so
 * their error is found and logged exactly as before.
 */
#define NETCACHE_SLOTS 4
#define NETCACHE_MAXLEN 4096

struct netcache {
	char *list;
	struct ip_net *nets;
	size_t n;
};

static struct netcache netcache[NETCACHE_SLOTS];
static unsigned netcache_next;

static const struct netcache *netcache_get(const char *list)
{
	size_t len = strlen(list), n = 1, k = 0;
	struct netcache *nc;
	struct ip_net *nets;
	char *copy, why[400];
	const char *p = list;

	for (size_t i = 0; i < NETCACHE_SLOTS; i++)
		if (netcache[i].list != NULL && strcmp(netcache[i].list, list) == 0)
			return &netcache[i];
	if (len > NETCACHE_MAXLEN)
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (list[i] == ',')
			n++;
	nets = malloc(n * sizeof(*nets));
	copy = malloc(len + 1);
	if (nets == NULL || copy == NULL)
		goto fail;
	for (;;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);

		if (parse_net(p, l, &nets[k++], why, sizeof why) < 0)
			goto fail;
		if (!c)
			break;
		p = c + 1;
	}
	memcpy(copy, list, len + 1);
	nc = &netcache[netcache_next++ % NETCACHE_SLOTS];
	free(nc->list);
	free(nc->nets);
	nc->list = copy;
	nc->nets = nets;
	nc->n = k;
	return nc;
fail:
	free(nets);
	free(copy);
	return NULL;
}

int iplist_match(const char *list, const char *ip, const char **bad, size_t *badlen,
		 char *why, size_t whylen)
{
	const char *p = list;
	const struct netcache *nc;
	struct ip_addr a;
	struct ip_net net;

	nc = netcache_get(list);
	if (nc != NULL) {
		/* every entry is valid: only the client address can raise */
		if (iplist_parse_addr(ip, &a, why, whylen) < 0) {
			const char *c = strchr(list, ',');

			*bad = list;
			*badlen = c ? (size_t)(c - list) : strlen(list);
			return -1;
		}
		for (size_t i = 0; i < nc->n; i++)
			if (net_contains(&nc->nets[i], &a))
				return 1;
		return 0;
	}
	for (;;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);

		/* the client address is parsed first, inside the same try */
		if (iplist_parse_addr(ip, &a, why, whylen) < 0 || parse_net(p, n, &net, why, whylen) < 0) {
			*bad = p;
			*badlen = n;
			return -1;
		}
		if (net_contains(&net, &a))
			return 1;
		if (!c)
			return 0;
		p = c + 1;
	}
}

int iplist_check(const char *list, char *why, size_t whylen)
{
	const char *p = list;
	struct ip_net net;
	char w[400];

	for (;;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);

		if (parse_net(p, n, &net, w, sizeof w) < 0) {
			snprintf(why, whylen, "'%.*s' is not an IP network (%s): the Python server "
				 "ignores this entry and the rest of the list", (int)(n > 100 ? 100 : n), p, w);
			return -1;
		}
		if (!c)
			return 0;
		p = c + 1;
	}
}

bool iplist_is_private(const struct ip_addr *a)
{
	const unsigned char *b = a->b;

	if (a->version == 4)
		return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
		       (b[0] == 192 && b[1] == 168) || (b[0] == 100 && (b[1] & 0xc0) == 64) ||
		       (b[0] == 169 && b[1] == 254);
	return (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
}
