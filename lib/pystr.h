/*
 * pystr - the few Python string semantics the config and the replies must
 * reproduce: str.strip() whitespace, repr() of a str (for logged error
 * texts), strict UTF-8 validation (Python decodes the config as UTF-8),
 * and str.format() with named fields (Reason_Message).
 */
#ifndef POLICYD_PYSTR_H
#define POLICYD_PYSTR_H

#include <stdbool.h>
#include <stddef.h>

/* Strip Python str.strip() whitespace (ASCII and the Unicode White_Space
 * characters, in UTF-8) from both ends: returns the first kept byte and
 * sets *len to the kept length.  s is NUL-terminated; it is not changed. */
char *pystr_strip(char *s, size_t *len);
/* Python repr() of a str, e.g. 'yes' or "y'es", truncated to outlen. */
void pystr_repr(const char *s, char *out, size_t outlen);
/* Strict UTF-8 (no overlongs, surrogates or > U+10FFFF).  On false,
 * *bad is the offset of the first bad byte. */
bool pystr_utf8_valid(const char *s, size_t len, size_t *bad);

struct pystr_field {
	const char *name;
	const char *value;
};

/*
 * str.format(**fields) for str values: literal text, {{ and }}, {name},
 * {name!s}, {name!r}, {name!a}, and format specs [[fill]align][0][width]
 * [.precision][s] (width and precision count characters).  Returns a
 * malloc'd string, or NULL with why filled (the Python exception text
 * where there is one) for anything else: unknown or positional fields,
 * attribute or index access, nested fields in a spec, bad specs.
 */
char *pystr_format(const char *tmpl, const struct pystr_field *f, size_t nf,
		   char *why, size_t whylen);
/* Whether tmpl formats with the Reason_Message fields rejectdefer, spf, url. */
int pystr_format_check(const char *tmpl, char *why, size_t whylen);

#endif
