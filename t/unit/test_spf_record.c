/*
 * test_spf_record - record syntax: terms, CIDR edge cases, modifiers and
 * pyspf's problem texts.
 */
#include <stdlib.h>
#include <string.h>

#include "spf_record.h"
#include "tap.h"

static char msg[1200];
static struct spf_record *rec;

/* "ok" or the problem text */
static const char *parse(const char *txt)
{
	spf_record_free(rec);
	rec = NULL;
	if (spf_record_parse(txt, strlen(txt), "example.com", &rec, msg, sizeof(msg)) == 0)
		return "ok";
	return msg;
}

int main(void)
{
	ok(spf_record_is_spf1("v=spf1", 6), "bare v=spf1");
	ok(spf_record_is_spf1("V=SPF1 -all", 11), "case-insensitive");
	ok(!spf_record_is_spf1("v=spf10 -all", 12), "v=spf10 is not spf1");
	ok(!spf_record_is_spf1("v=spf1-all", 10), "needs a space");

	is_str(parse("v=spf1"), "ok", "empty record");
	is_str(parse("v=spf1   -all  "), "ok", "several spaces");
	is_int(rec->nterms, 1, "one term");
	is_int(rec->terms[0].result, SPF_FAIL, "- is fail");

	is_str(parse("v=spf1 +a ?mx ~ptr -exists:%{i}.x.example.com include:x.example.com all"), "ok", "all mechanisms");
	is_int(rec->nterms, 6, "six terms");
	is_int(rec->terms[0].mech, SPF_MECH_A, "a");
	ok(rec->terms[0].domain == NULL, "a without domain-spec");
	is_int(rec->terms[1].result, SPF_NEUTRAL, "? is neutral");
	is_int(rec->terms[2].result, SPF_SOFTFAIL, "~ is softfail");
	is_str(rec->terms[3].domain, "%{i}.x.example.com", "exists domain-spec");
	is_int(rec->terms[5].result, SPF_PASS, "default qualifier pass");

	/* CIDR */
	is_str(parse("v=spf1 ip4:0.0.0.0/0 ip6:::/0 a/0 a//0 mx/0//0"), "ok", "/0 everywhere");
	is_int(rec->terms[0].cidr4, 0, "ip4 /0");
	is_int(rec->terms[1].cidr6, 0, "ip6 /0");
	is_int(rec->terms[3].cidr4, 32, "a//0 keeps /32");
	is_int(rec->terms[3].cidr6, 0, "a//0");
	is_str(parse("v=spf1 a:foo.example.com/24//64"), "ok", "dual cidr");
	is_int(rec->terms[0].cidr4, 24, "cidr4 24");
	is_int(rec->terms[0].cidr6, 64, "cidr6 64");
	is_str(rec->terms[0].domain, "foo.example.com", "domain without cidr");
	is_str(parse("v=spf1 ip4:1.2.3.4/32 ip6:::1/128"), "ok", "max lengths");
	is_str(parse("v=spf1 ip4:1.2.3.4/33"), "Invalid IP4 CIDR length: ip4:1.2.3.4/33", "ip4 /33");
	is_str(parse("v=spf1 ip4:1.2.3.4/032"), "Invalid IP4 address: ip4:1.2.3.4/032", "leading zero cidr");
	is_str(parse("v=spf1 a/33"), "Invalid IP4 CIDR length: a/33", "a/33");
	is_str(parse("v=spf1 a//129"), "Invalid IP6 CIDR length: a//129", "a//129");
	is_str(parse("v=spf1 a/032"), "Unknown mechanism found: a/032", "a/032");
	is_str(parse("v=spf1 ip6:::1/129"), "Invalid IP6 CIDR length: ip6:::1/129", "ip6 /129");
	is_str(parse("v=spf1 ip6:::1//64"), "Dual CIDR not allowed: ip6:::1//64", "ip6 dual");
	is_str(parse("v=spf1 ip4:1.2.3.4//32"), "Dual CIDR not allowed: ip4:1.2.3.4//32", "ip4 dual");
	is_str(parse("v=spf1 ptr/24"), "CIDR not allowed: ptr/24", "ptr cidr");
	is_str(parse("v=spf1 -all/8"), "CIDR not allowed: -all/8", "all cidr");
	is_str(parse("v=spf1 a/99999999999999999999"), "Invalid IP4 CIDR length: a/99999999999999999999", "huge cidr");

	/* addresses */
	is_str(parse("v=spf1 ip4:1.2.3.444"), "Invalid IP4 address: ip4:1.2.3.444", "octet > 255");
	is_str(parse("v=spf1 ip4:1.2.03.4"), "Invalid IP4 address: ip4:1.2.03.4", "leading zero octet");
	is_str(parse("v=spf1 ip4:1.2.3"), "Invalid IP4 address: ip4:1.2.3", "three octets");
	is_str(parse("v=spf1 ip4"), "Invalid IP4 address: ip4", "ip4 without address");
	is_str(parse("v=spf1 ip6:2001:db8:ZZZZ::"), "Invalid IP6 address: ip6:2001:db8:ZZZZ::", "bad ip6");
	is_str(parse("v=spf1 ip6:::ffff:1.2.3.4"), "ok", "ip6 with embedded ipv4");
	is_str(parse("v=spf1 ip6:::ffff:1.2.3.04"), "Invalid IP6 address: ip6:::ffff:1.2.3.04", "embedded leading zero");
	is_str(parse("v=spf1 ip6:12345::"), "Invalid IP6 address: ip6:12345::", "5 hex digits");
	is_str(parse("v=spf1 1.2.3.4"), "Missing IP4: 1.2.3.4", "bare address");
	is_str(parse("v=spf1 a:1.2.3.4"), "Use the ip4 mechanism for ip4 addresses: a:1.2.3.4", "a:ip");

	/* mechanisms */
	is_str(parse("v=spf1 ip4:192.0.0.0/8 ?all moo"), "Unknown mechanism found: moo", "moo");
	is_str(parse("v=spf1 =a ?all"), "Unknown qualifier, RFC 4408 para 4.6.1, found in: =a", "bad qualifier");
	is_str(parse("v=spf1 a:mail.example.com,"), "Do not separate mechnisms with commas: a:mail.example.com,", "comma");
	is_str(parse("v=spf1 -all:3030"), "Invalid all mechanism format - only qualifier allowed with all: -all:3030", "all:x");
	is_str(parse("v=spf1 prt"), "Unknown mechanism found: prt", "common mistake");
	is_str(parse("v=spf1 exists"), "implicit exists not allowed: exists", "implicit exists");
	is_str(parse("v=spf1 exists:"), "implicit exists not allowed: exists:", "exists:");
	is_str(parse("v=spf1 include"), "include mechanism missing domain: include", "bare include");
	is_str(parse("v=spf1 +include"), "include has trivial recursion: +include", "bare +include");
	is_str(parse("v=spf1 a:"), "empty domain:: a:", "a:");
	is_str(parse("v=spf1 mx:abc.123"), "Invalid domain found (use FQDN): abc.123", "numeric toplabel");
	is_str(parse("v=spf1 a:example.com:8080"), "Invalid domain found (use FQDN): example.com:8080", "port");
	is_str(parse("v=spf1 a:foo:bar/baz.example.com"), "ok", "visible chars in domain-spec");
	is_str(parse("v=spf1 a:%{x}.example.com"), "Unknown Macro Encountered: %{x}", "bad macro in domain");

	/* modifiers */
	is_str(parse("v=spf1 redirect=a.example.com exp=b.example.com"), "ok", "redirect and exp");
	is_str(rec->redirect, "a.example.com", "redirect target");
	is_str(rec->exp, "b.example.com", "exp target");
	is_str(parse("v=spf1 redirect=a.example.com redirect=b.example.com"),
	       "redirect= MUST appear at most once: redirect=b.example.com", "two redirects");
	is_str(parse("v=spf1 exp=a.example.com exp=b.example.com"),
	       "exp= MUST appear at most once: exp=b.example.com", "two exp");
	is_str(parse("v=spf1 exp="), "exp has empty domain-spec:", "empty exp");
	is_str(parse("v=spf1 redirect="), "redirect has empty domain:", "empty redirect");
	is_str(parse("v=spf1 -all moo= match.sub-domains_9=yes"), "ok", "unknown modifiers");
	is_str(parse("v=spf1 foo=%{x}"), "Unknown Macro Encountered: %{x}", "unknown modifier macro checked");
	is_str(parse("v=spf1 9foo=bar"), "Unknown mechanism found: 9foo=bar", "modifier name starts with a letter");

	spf_record_free(rec);
	rec = NULL;

	unsigned char a[16], b[16];
	ok(spf_ip6_parse("2001:db8::", 10, a), "ip6 parse");
	ok(spf_ip6_parse("2001:db8:0:0:0:0:0:1", 20, b), "ip6 parse long");
	ok(spf_prefix_match(a, b, 128) == false && spf_prefix_match(a, b, 127) && spf_prefix_match(a, b, 64), "prefix match");
	ok(spf_prefix_match(a, b, 0), "/0 matches everything");
	return tap_done();
}
