/*
 * fuzz_dnsmsg - libFuzzer target for the DNS answer parser.  The first
 * input byte picks the asked type and whether the question name is the
 * one in the message, so CNAME following and every record parser are
 * reached; the rest is the message.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t types[] = {
	DNS_T_A, DNS_T_AAAA, DNS_T_TXT, DNS_T_MX, DNS_T_PTR, DNS_T_CNAME, DNS_T_NS, 99,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnsmsg_result *r;
	const char *qname = "example.com";

	if (size < 1)
		return 0;
	uint16_t qtype = types[data[0] & 7];
	if (data[0] & 8)
		qname = "a.example.com";
	if (dnsmsg_parse(data + 1, size - 1, qname, qtype, &r) == DNSMSG_OK) {
		/* Touch everything the caller would read. */
		size_t sum = strlen(r->canon);
		for (size_t i = 0; i < r->n; i++) {
			const struct dns_rr *rr = &r->rr[i];
			for (size_t k = 0; k < rr->len; k++)
				sum += rr->data[k];
			if (rr->type == DNS_T_TXT || rr->type == DNS_T_MX || rr->type == DNS_T_PTR
			    || rr->type == DNS_T_CNAME)
				sum += strlen((const char *)rr->data);
			if (rr->type == DNS_T_TXT && rr->first_len > rr->len)
				__builtin_trap();
		}
		if (r->status != DNS_S_OK && r->n)
			__builtin_trap();
		if (r->status == DNS_S_OK && !r->n)
			__builtin_trap();
		if (sum == 1)
			fputc(0, stderr);   /* keep the loop */
		dnsmsg_result_unref(r);
	}
	return 0;
}
