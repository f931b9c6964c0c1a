/*
 * test_spf_util - the client address in its macro forms (as pyspf and
 * Python's ipaddress print them), result words, Python bytes repr.
 */
#include <string.h>

#include "spf.h"
#include "spf_eval.h"
#include "tap.h"

int main(void)
{
	struct spf_client cl;
	char err[256];

	is_int(spf_client_parse(&cl, "192.0.2.3", err, sizeof(err)), 0, "ipv4 parses");
	ok(!cl.v6, "ipv4 family");
	is_str(cl.i, "192.0.2.3", "%{i} ipv4");
	is_str(cl.c, "192.0.2.3", "%{c} ipv4");
	is_str(cl.rev, "3.2.0.192.in-addr.arpa", "ipv4 PTR name");

	is_int(spf_client_parse(&cl, "::FFFF:192.0.2.3", err, sizeof(err)), 0, "mapped parses");
	ok(!cl.v6, "IPv4-mapped IPv6 is IPv4");
	is_str(cl.i, "192.0.2.3", "%{i} mapped");

	is_int(spf_client_parse(&cl, "2001:DB8::CB01", err, sizeof(err)), 0, "ipv6 parses");
	ok(cl.v6, "ipv6 family");
	is_str(cl.i, "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.C.B.0.1", "%{i} ipv6 nibbles");
	is_str(cl.c, "2001:db8::cb01", "%{c} ipv6");
	is_str(cl.rev, "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "ipv6 PTR name");

	static const char *const six[][2] = {
		{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },
		{ "2001:0:0:1:0:0:0:1", "2001:0:0:1::1" },
		{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },
		{ "::1", "::1" },
		{ "1::", "1::" },
		{ "::", "::" },
		{ "::1.2.3.4", "::102:304" },
	};
	for (size_t k = 0; k < sizeof(six) / sizeof(six[0]); k++) {
		spf_client_parse(&cl, six[k][0], err, sizeof(err));
		is_str(cl.c, six[k][1], six[k][0]);
	}

	is_int(spf_client_parse(&cl, "01.2.3.4", err, sizeof(err)), -1, "leading zero rejected");
	is_str(err, "'01.2.3.4' does not appear to be an IPv4 or IPv6 address", "ipaddress wording");
	is_int(spf_client_parse(&cl, "", err, sizeof(err)), -1, "empty rejected");

	char repr[256];
	spf_bytes_repr(repr, sizeof(repr), (const unsigned char *)"v=spf1 a:b\xc3\xbc -all", 17);
	is_str(repr, "b'v=spf1 a:b\\xc3\\xbc -all'", "bytes repr");
	spf_bytes_repr(repr, sizeof(repr), (const unsigned char *)"it's \\ \t", 8);
	is_str(repr, "b\"it's \\\\ \\t\"", "bytes repr chooses double quotes");
	spf_bytes_repr(repr, sizeof(repr), (const unsigned char *)"'\"", 2);
	is_str(repr, "b'\\'\"'", "bytes repr with both quotes");

	is_str(spf_result_word(SPF_SOFTFAIL), "softfail", "result word");
	is_str(spf_result_title(SPF_PERMERROR), "Permerror", "result title");
	return tap_done();
}
