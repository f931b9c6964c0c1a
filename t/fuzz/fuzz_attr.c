/*
 * fuzz_attr - libFuzzer target for lib/attr: the input is split at LF
 * into request lines, as the connection code feeds them, and every line
 * goes both to lib/attr and to the reference parser of attr_ref.h (the
 * simple one-malloc-per-attribute code the fast parser replaced).  They
 * must agree on every result code, error text, name and value.  Also
 * checks that every stored name and value is valid UTF-8 without LF, that
 * lookups find what is stored and that the bounds hold.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "attr_ref.h"

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

static void
same_str(const char *a, const char *b)
{
	if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
		abort();
}

/* The two parsers hold the same request. */
static void
compare(const struct attr_req *r, const struct ref_req *ref)
{
	static const char *const names[] = {
		"sender", "client_address", "queue_id", "protocol_state", "k", "K", "a", "",
	};

	if (r->n != ref->n || r->bytes != ref->bytes || r->n > ATTR_MAX || r->bytes > ATTR_REQ_MAX)
		abort();
	for (size_t i = 0; i < r->n; i++) {
		const char *v = attr_value(r, i);
		char *l1, *l2;

		check_utf8(attr_name(r, i));
		check_utf8(v);
		same_str(attr_name(r, i), ref->a[i].name);
		same_str(v, ref->a[i].value);
		if (attr_get(r, attr_name(r, i)) != v)
			abort();
		/* values are valid UTF-8: what attr_lower_dup() is for */
		l1 = attr_lower_dup(v, strlen(v));
		l2 = ref_attr_lower_dup(v, strlen(v));
		same_str(l1, l2);
		free(l1);
		free(l2);
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		same_str(attr_get(r, names[i]), ref_attr_get(ref, names[i]));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attr_req r, c;
	struct ref_req ref;
	const char *p = (const char *)data, *end = p + size, *nl;
	const char *err, *rerr;
	char d1[64], d2[64];

	attr_req_init(&r);
	ref_attr_req_init(&ref);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		bool is_end = ref_attr_line_is_end(p, len);
		int rc, rrc;

		if (attr_line_is_end(p, len) != is_end)
			abort();
		attr_line_display(p, len, d1, sizeof(d1));
		ref_attr_line_display(p, len, d2, sizeof(d2));
		same_str(d1, d2);
		err = rerr = NULL;
		rc = attr_req_add_line(&r, p, len, &err);
		if (is_end) {
			if (rc != ATTR_END)
				abort();
			compare(&r, &ref);
			if (attr_req_copy(&c, &r) == 0) {
				compare(&c, &ref);
				attr_req_clear(&c);
			}
			attr_req_reset(&r);
			ref_attr_req_clear(&ref);
		} else {
			rrc = ref_attr_req_add_line(&ref, p, len, &rerr);
			if (rc != rrc || (rc < 0 && strcmp(err, rerr) != 0))
				abort();
			if (rc == ATTR_BOUND) {
				if (r.n > ATTR_MAX || r.bytes > ATTR_REQ_MAX)
					abort();
				attr_req_reset(&r);
				ref_attr_req_clear(&ref);
			} else {
				compare(&r, &ref);
			}
		}
		p += len + 1;
	}
	compare(&r, &ref);
	attr_req_clear(&r);
	ref_attr_req_clear(&ref);
	return 0;
}
