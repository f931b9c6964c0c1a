/*
 * fuzz_record - libFuzzer target for the SPF record parser: any bytes
 * must parse or fail with a problem text, never crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spf_macro.h"
#include "spf_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	struct spf_record *r;
	/* with and without the version tag, so the term parser is reached */
	char *txt = malloc(size + 8);
	if (txt == NULL)
		return 0;
	memcpy(txt, "v=spf1 ", 7);
	memcpy(txt + 7, data, size);
	for (int pass = 0; pass < 2; pass++) {
		const char *p = pass ? (const char *)data : txt;
		size_t n = pass ? size : size + 7;
		if (spf_record_parse(p, n, "example.com", &r, err, sizeof(err)) == 0) {
			for (size_t k = 0; k < r->nterms; k++) {
				const struct spf_term *t = &r->terms[k];
				if (t->domain)
					(void)spf_macro_check(t->domain, strlen(t->domain), 0, err, sizeof(err));
			}
			spf_record_free(r);
		} else if (strlen(err) >= sizeof(err)) {
			abort();
		}
	}
	free(txt);
	return 0;
}
