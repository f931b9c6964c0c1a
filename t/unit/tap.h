/*
 * tap.h - the few TAP helpers the C unit tests need; prove reads the output.
 */
#ifndef T_TAP_H
#define T_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) tap_is_int((long)(got), (long)(want), __FILE__, __LINE__, __VA_ARGS__)

static inline int tap_ok(int c, const char *f, int l, const char *name, ...)
{
	tap_n++;
	printf("%s %d - %s\n", c ? "ok" : "not ok", tap_n, name);
	if (!c) {
		tap_failed++;
		printf("#   at %s line %d\n", f, l);
	}
	return c;
}

static inline int tap_is_str(const char *got, const char *want, const char *f, int l,
			     const char *name, ...)
{
	int c = (got == NULL && want == NULL) ||
		(got != NULL && want != NULL && strcmp(got, want) == 0);
	tap_ok(c, f, l, name);
	if (!c)
		printf("#   got:      '%s'\n#   expected: '%s'\n", got ? got : "(null)",
		       want ? want : "(null)");
	return c;
}

static inline int tap_is_int(long got, long want, const char *f, int l, const char *name, ...)
{
	int c = got == want;
	tap_ok(c, f, l, name);
	if (!c)
		printf("#   got: %ld expected: %ld\n", got, want);
	return c;
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
