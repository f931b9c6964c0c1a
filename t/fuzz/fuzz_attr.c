/*
 * fuzz_attr - libFuzzer target for lib/attr: the input is split at LF
 * into request lines, as the connection code feeds them.  Checks that
 * every stored name and value is valid UTF-8 without NUL, LF or a
 * trailing blank, and that the bounds hold.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_utf8(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u != '\0') {
		size_t n = *u < 0x80 ? 1 : *u < 0xE0 ? 2 : *u < 0xF0 ? 3 : 4;

		if (*u == '\n' || (*u >= 0x80 && *u < 0xC2) || *u > 0xF4)
			abort();
		for (size_t i = 1; i < n; i++)
			if ((u[i] & 0xC0) != 0x80)
				abort();
		u += n;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attr_req r, c;
	const char *p = (const char *)data, *end = p + size, *nl;
	const char *err;

	attr_req_init(&r);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		if (attr_line_is_end(p, len)) {
			for (size_t i = 0; i < r.n; i++) {
				check_utf8(r.a[i].name);
				check_utf8(r.a[i].value);
				if (attr_get(&r, r.a[i].name) != r.a[i].value)
					abort();
			}
			if (attr_req_copy(&c, &r) == 0)
				attr_req_clear(&c);
			attr_req_clear(&r);
		} else if (attr_req_add_line(&r, p, len, &err) == ATTR_BOUND) {
			if (r.n > ATTR_MAX || r.bytes > ATTR_REQ_MAX)
				abort();
			attr_req_clear(&r);
		}
		p += len + 1;
	}
	if (r.n > ATTR_MAX)
		abort();
	attr_req_clear(&r);
	return 0;
}
