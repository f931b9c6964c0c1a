/*
 * test_spf_macro - RFC 7208 7.4 examples and the syntax errors pyspf names.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf_eval.h"
#include "spf_macro.h"
#include "tap.h"

static struct spf_macro_vars v4 = {
	.s = "strong-bad@email.example.com", .l = "strong-bad", .o = "email.example.com",
	.d = "email.example.com", .i = "192.0.2.3", .p = "mx.example.org", .v = "in-addr",
	.h = "mx.example.org", .c = "192.0.2.3", .r = "example.net", .t = "1700000000",
};

static char got[SPF_MACRO_MAX + 64];

static const char *ex(const struct spf_macro_vars *v, const char *spec, int flags)
{
	char err[256];
	char *out;
	int r = spf_macro_expand(spec, strlen(spec), v, flags, &out, err, sizeof(err));
	if (r == SPF_MACRO_NEED_P)
		return "NEED_P";
	if (r != SPF_MACRO_OK) {
		snprintf(got, sizeof(got), "ERR %s", err);
		return got;
	}
	snprintf(got, sizeof(got), "%s", out);
	free(out);
	return got;
}

/*
 * A name of len octets: labels of 63 octets and a shorter last one
 * (len 255 ends in a 63-octet label), then dot if asked.
 */
static const char *long_name(size_t len, bool dot)
{
	static char name[400];
	for (size_t k = 0; k < len; k++)
		name[k] = k % 64 == 63 ? '.' : 'a';
	if (dot)
		name[len++] = '.';
	name[len] = '\0';
	return name;
}

/*
 * The two name checks the engine makes: spf_name_queryable (may the
 * expanded name be sent: one trailing dot allowed, at most 253 octets
 * without it) and spf_name_labels_ok (pyspf's check of the name as given:
 * no trailing dot, any length).  Both refuse empty and over-long labels.
 */
static void name_checks(void)
{
	static const struct { const char *name; bool queryable, labels_ok; } names[] = {
		{ "", false, false },
		{ ".", false, false },
		{ "..", false, false },
		{ "a", true, true },
		{ "a.", true, false },
		{ "a..", false, false },
		{ ".a", false, false },
		{ "a..b", false, false },
		{ "a.b.", true, false },
		{ "a.b..", false, false },
		{ "example.com", true, true },
		{ "example.com.", true, false },
		/* 63 and 64 octets, first, last and only label */
		{ "a23456789012345678901234567890123456789012345678901234567890123.example.com", true, true },
		{ "a234567890123456789012345678901234567890123456789012345678901234.example.com", false, false },
		{ "example.a23456789012345678901234567890123456789012345678901234567890123", true, true },
		{ "example.a23456789012345678901234567890123456789012345678901234567890123.", true, false },
		{ "example.a234567890123456789012345678901234567890123456789012345678901234", false, false },
		{ "example.a234567890123456789012345678901234567890123456789012345678901234.", false, false },
		{ "a23456789012345678901234567890123456789012345678901234567890123", true, true },
		{ "a234567890123456789012345678901234567890123456789012345678901234", false, false },
		/* NUL ends the name: what follows is not looked at */
		{ "a\0..", true, true },
	};
	char what[120];

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		snprintf(what, sizeof(what), "queryable '%.70s'", names[k].name);
		is_int(spf_name_queryable(names[k].name), names[k].queryable, what);
		snprintf(what, sizeof(what), "labels_ok '%.70s'", names[k].name);
		is_int(spf_name_labels_ok(names[k].name), names[k].labels_ok, what);
	}

	/* total length: 253 octets (without the trailing dot) is the most that is sent */
	static const struct { size_t len; bool dot, queryable, labels_ok; } lens[] = {
		{ 252, false, true, true },  { 252, true, true, false },
		{ 253, false, true, true },  { 253, true, true, false },
		{ 254, false, false, true }, { 254, true, false, false },
		{ 255, false, false, true }, { 255, true, false, false },
		{ 300, false, false, true }, { 300, true, false, false },
	};
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		const char *n = long_name(lens[k].len, lens[k].dot);
		snprintf(what, sizeof(what), "queryable: %zu octets%s", lens[k].len,
			 lens[k].dot ? " and a trailing dot" : "");
		is_int(spf_name_queryable(n), lens[k].queryable, what);
		snprintf(what, sizeof(what), "labels_ok: %zu octets%s", lens[k].len,
			 lens[k].dot ? " and a trailing dot" : "");
		is_int(spf_name_labels_ok(n), lens[k].labels_ok, what);
	}
	/* the long names really are what their names say */
	is_int(strlen(long_name(253, true)), 254, "long_name(253, dot) is 254 octets");
	ok(strstr(long_name(255, false), "..") == NULL && long_name(255, false)[254] == 'a',
	   "long_name(255) has no empty label and no trailing dot");
}

int main(void)
{
	static const char *const rfc[][2] = {
		{ "%{s}", "strong-bad@email.example.com" },
		{ "%{o}", "email.example.com" },
		{ "%{d}", "email.example.com" },
		{ "%{d4}", "email.example.com" },
		{ "%{d3}", "email.example.com" },
		{ "%{d2}", "example.com" },
		{ "%{d1}", "com" },
		{ "%{dr}", "com.example.email" },
		{ "%{d2r}", "example.email" },
		{ "%{l}", "strong-bad" },
		{ "%{l-}", "strong.bad" },
		{ "%{lr}", "strong-bad" },
		{ "%{lr-}", "bad.strong" },
		{ "%{l1r-}", "strong" },
		{ "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com" },
		{ "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com" },
		{ "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
		{ "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com" },
		{ "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net" },
		{ "%{p2}.trusted-domains.example.net.", "example.org.trusted-domains.example.net" },
		{ "%{p}", "mx.example.org" },
		{ "%{h}", "mx.example.org" },
		{ "%{l2r+-}", "bad.strong" },
		{ "%{d9}", "email.example.com" },
		{ "%{S}", "strong-bad%40email.example.com" },
		{ "%{L}", "strong-bad" },
		{ "%{D2}", "example.com" },
		{ "%%%_%-", "% %20" },
		{ "-mx:%%%_/.Clara.de", "-mx:% /.Clara.de" },
		{ "a.b.", "a.b" },
	};
	for (size_t k = 0; k < sizeof(rfc) / sizeof(rfc[0]); k++)
		is_str(ex(&v4, rfc[k][0], 0), rfc[k][1], rfc[k][0]);

	/* explain-strings: c r t allowed, trailing dot kept */
	is_str(ex(&v4, "%{c} from %{r} at %{t}.", SPF_MACRO_EXP), "192.0.2.3 from example.net at 1700000000.",
	       "exp: c r t");
	is_str(ex(&v4, "http://example.com/why.html?l=%{L}", SPF_MACRO_EXP),
	       "http://example.com/why.html?l=strong-bad", "exp: %{L}");
	is_str(ex(&v4, "%{C}", SPF_MACRO_EXP), "192.0.2.3", "exp: %{C}");

	/* IPv6: pyspf's upper-case nibbles */
	struct spf_macro_vars v6 = v4;
	v6.i = "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.C.B.0.1";
	v6.v = "ip6";
	v6.c = "2001:db8::cb01";
	is_str(ex(&v6, "%{ir}.%{v}._spf.%{d2}", 0),
	       "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com",
	       "ipv6 %{ir}");
	is_str(ex(&v6, "%{c}", SPF_MACRO_EXP), "2001:db8::cb01", "ipv6 %{c}");

	/* %{p} not known yet */
	struct spf_macro_vars np = v4;
	np.p = NULL;
	is_str(ex(&np, "%{p}.example.com", 0), "NEED_P", "%{p} needs the PTR lookup");
	ok(spf_macro_uses_p("x.%{P}", 6), "uses_p upper");
	ok(!spf_macro_uses_p("%%{p}", 5), "uses_p escaped");

	/* errors, worded as pyspf */
	is_str(ex(&v4, "%{c}.example.com", 0), "ERR c,r,t macros allowed in exp= text only: %{c}", "c outside exp");
	is_str(ex(&v4, "%{x}.example.com", 0), "ERR Unknown Macro Encountered: %{x}", "unknown letter");
	is_str(ex(&v4, "%{a}", 0), "ERR Unknown Macro Encountered: %{a}", "unknown letter a");
	is_str(ex(&v4, "%(ir).%{v}.%{l1r-}.lp._spf.%{d2}", 0), "ERR invalid-macro-char : %(ir)", "invalid %");
	is_str(ex(&v4, "foo.%", 0), "ERR invalid-macro-char : foo", "trailing %");
	is_str(ex(&v4, "%{d", 0), "ERR invalid-macro-char : %{d", "unclosed");
	is_str(ex(&v4, "%{d0}", 0), "ERR Unknown Macro Encountered: %{d0}", "zero digits");
	is_str(ex(&v4, "%{dx}", 0), "ERR Unknown Macro Encountered: %{dx}", "bad transformer");
	is_str(ex(&v4, "%{}", 0), "ERR Unknown Macro Encountered: %{}", "empty macro");

	/* target names: truncated from the left to 253 */
	char longspec[400];
	memset(longspec, 0, sizeof(longspec));
	for (int k = 0; k < 30; k++)
		strcat(longspec, "abcdefghi.");
	strcat(longspec, "example.com");
	const char *t = ex(&v4, longspec, 0);
	ok(strlen(t) <= 253 && strlen(t) > 240, "truncated to <= 253");
	ok(t[0] == 'a' && strstr(t, "example.com") != NULL, "truncated at a label boundary");

	/* domain-spec endings (pyspf's "use FQDN") */
	ok(spf_macro_domain_end_ok("foo.example.com", 15), "fqdn ok");
	ok(spf_macro_domain_end_ok("foo.example.com.", 16), "trailing dot ok");
	ok(spf_macro_domain_end_ok("%{d}", 4), "macro end ok");
	ok(spf_macro_domain_end_ok("example.xn--zckzah", 18), "dash toplabel ok");
	ok(!spf_macro_domain_end_ok("abc.123", 7), "numeric toplabel");
	ok(!spf_macro_domain_end_ok("example.-com", 12), "toplabel starting with dash");
	ok(!spf_macro_domain_end_ok("com", 3), "only a toplabel");
	ok(!spf_macro_domain_end_ok("com.", 4), "only a toplabel, trailing dot");
	ok(!spf_macro_domain_end_ok("foo.example.com\0", 16), "NUL at the end");
	ok(spf_macro_domain_end_ok("foo:bar/baz.example.com", 23), "colon and slash allowed");

	ok(spf_name_queryable("a.example.com"), "queryable");
	ok(!spf_name_queryable("a..example.com"), "empty label");
	ok(!spf_name_queryable(""), "empty name");
	ok(!spf_name_queryable("A123456789012345678901234567890123456789012345678901234567890123.example.com"),
	   "64-octet label");
	name_checks();
	/* names as pydns sends them: IDNA for non-ASCII labels */
	static const char *const idna[][2] = {
		{ "b\xc3\xbc" "cher.example", "xn--bcher-kva.example" },
		{ "m\xc3\xbc" "nchen-\xc3\xbc.example", "xn--mnchen--n2ag.example" },
		{ "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.jp", "xn--wgv71a119e.jp" },
		{ "a\xc3\xbc.Example.COM", "xn--a-eha.Example.COM" },
		{ "plain.example.com", "plain.example.com" },
		{ "bad\xff.example", "bad\xff.example" },
	};
	for (size_t k = 0; k < sizeof(idna) / sizeof(idna[0]); k++) {
		char *n = spf_idna_name(idna[k][0]);
		is_str(n, idna[k][1], idna[k][1]);
		free(n);
	}
	return tap_done();
}
