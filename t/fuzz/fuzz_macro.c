/*
 * fuzz_macro - libFuzzer target for macro expansion.  The first byte
 * picks the mode (domain-spec or explain-string) and whether %{p} is
 * known; the rest is the spec.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spf_eval.h"
#include "spf_macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int flags = (data[0] & 1) ? SPF_MACRO_EXP : 0;
	struct spf_macro_vars v = {
		.s = "strong-bad@email.example.com", .l = "strong-bad", .o = "email.example.com",
		.d = "email.example.com", .i = "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.C.B.0.1",
		.p = (data[0] & 2) ? NULL : "mx.example.org", .v = "ip6", .h = "mx.example.org",
		.c = "2001:db8::cb01", .r = "unknown", .t = "1700000000",
	};
	const char *spec = (const char *)data + 1;
	size_t len = size - 1;
	char err[512];
	char *out = NULL;
	int chk = spf_macro_check(spec, len, flags, err, sizeof(err));
	int r = spf_macro_expand(spec, len, &v, flags, &out, err, sizeof(err));
	/* the syntax check and the expander must agree */
	if ((chk == SPF_MACRO_ERR) != (r == SPF_MACRO_ERR) && strcmp(err, "Macro expansion too long") != 0)
		abort();
	if (r == SPF_MACRO_OK) {
		if (out == NULL)
			abort();
		if (!(flags & SPF_MACRO_EXP) && strlen(out) > 253 && memchr(out, '.', strlen(out)))
			abort();
		(void)spf_name_queryable(out);
		free(out);
	} else if (out != NULL) {
		abort();
	}
	(void)spf_macro_uses_p(spec, len);
	/* the name conversion sees whatever a record or a sender carries */
	char *name = malloc(len + 1);
	if (name) {
		memcpy(name, spec, len);
		name[len] = '\0';
		char *idna = spf_idna_name(name);
		if (idna)
			(void)spf_name_queryable(idna);
		free(idna);
		free(name);
	}
	(void)spf_macro_domain_end_ok(spec, len);
	return 0;
}
