/*
 * test_attr - request line parsing against values the Python server
 * produces for the same bytes (computed with its regex and str.lower()),
 * the arena's reuse and growth, and a differential run against the
 * reference parser (t/fuzz/attr_ref.h) on lines built to hit every turn
 * of the ASCII fast path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asan.h"
#include "attr.h"
#include "tap.h"
#include "../fuzz/attr_ref.h"

static int
add(struct attr_req *r, const char *line)
{
	const char *err = NULL;

	return attr_req_add_line(r, line, strlen(line), &err);
}

static void
one(const char *line, const char *name, const char *want, const char *what)
{
	struct attr_req r;

	attr_req_init(&r);
	is_int(add(&r, line), ATTR_OK, what);
	is_str(attr_get(&r, name), want, what);
	attr_req_clear(&r);
}

static void
nomatch(const char *line, size_t len, const char *what)
{
	struct attr_req r;
	const char *err = NULL;

	attr_req_init(&r);
	is_int(attr_req_add_line(&r, line, len, &err), ATTR_NOMATCH, what);
	ok(err != NULL && r.n == 0, "%s: nothing stored", what);
	attr_req_clear(&r);
}

static uint64_t rng = 7208;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* A line as Postfix sends it, then disturbed: odd bytes, blanks, case. */
static size_t
gen_line(char *out)
{
	static const char *const names[] = {
		"request", "protocol_state", "protocol_name", "client_address", "helo_name",
		"sender", "recipient", "queue_id", "instance", "size", "sasl_method", "k", "K",
		"client_addresS", "queue_iD", "queue_idx", "protocol_statE", "!", "!!x",
	};
	static const char odd[] = { 0, '\x80', '\xc2', '\xa0', '\xc4', '\xb0', '\xff', '\x01', '\x1c',
				    '\x1f', ' ', '\t', '\r', '\x0b', '=', '\xe3', '\x80', 'Z', '!', '"' };
	static const char val[] = "abcXYZ@.-_ 019AZaz[`{~";
	size_t n = 0, i, k = rnd(4) == 0 ? 0 : 1 + rnd(3);

	/* leading blanks: the word scan's last word then overlaps them */
	if (rnd(4) == 0)
		for (i = 1 + rnd(6); i > 0; i--)
			out[n++] = rnd(2) ? ' ' : '\t';
	if (rnd(3) != 0 || rnd(2) == 0) {
		const char *nm = names[rnd(sizeof(names) / sizeof(names[0]))];

		memcpy(out + n, nm, strlen(nm));
		n += strlen(nm);
	}
	if (rnd(10) == 0)
		out[n++] = ' ';
	if (rnd(20) != 0)
		out[n++] = '=';
	for (i = rnd(4) == 0 ? rnd(200) : rnd(3) == 0 ? rnd(40) : rnd(8); i > 0; i--)
		out[n++] = val[rnd(sizeof(val) - 1)];
	for (i = rnd(3); i > 0; i--)
		out[n++] = " \t\r"[rnd(3)];
	/* k odd bytes anywhere: in the name, the blanks, the value or the tail */
	while (k-- > 0 && n > 0)
		out[rnd((unsigned)n)] = odd[rnd(sizeof(odd))];
	return n;
}

static const char *
same(const struct attr_req *r, const struct ref_req *ref)
{
	if (r->n != ref->n)
		return "count";
	if (r->bytes != ref->bytes)
		return "bytes";
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(attr_name(r, i), ref->a[i].name) != 0)
			return "name";
		if (strcmp(attr_value(r, i), ref->a[i].value) != 0)
			return "value";
		if (attr_get(r, attr_name(r, i)) != attr_value(r, i))
			return "lookup";
		{
			const char *v = attr_value(r, i);
			char *l1 = attr_lower_dup(v, strlen(v)), *l2 = ref_attr_lower_dup(v, strlen(v));
			int d = l1 == NULL || l2 == NULL || strcmp(l1, l2) != 0;

			free(l1);
			free(l2);
			if (d)
				return "attr_lower_dup";
		}
	}
	for (size_t i = 0; i < 3; i++) {
		static const char *const probe[] = { "sender", "queue_id", "nope" };
		const char *a = attr_get(r, probe[i]), *b = ref_attr_get(ref, probe[i]);

		if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
			return "get";
	}
	return NULL;
}

/* Requests of random lines through both parsers; the first difference, or NULL. */
static const char *
differential(int nlines, char *where, size_t wlen)
{
	struct attr_req r;
	struct ref_req ref;
	char line[512];
	const char *bad = NULL;

	attr_req_init(&r);
	ref_attr_req_init(&ref);
	for (int i = 0; i < nlines && bad == NULL; i++) {
		size_t len = rnd(12) == 0 ? 0 : gen_line(line);
		const char *e1 = NULL, *e2 = NULL;
		int rc = attr_req_add_line(&r, line, len, &e1), rrc;
		char d1[40], d2[40];

		snprintf(where, wlen, "line %d", i);
		attr_line_display(line, len, d1, sizeof(d1));
		ref_attr_line_display(line, len, d2, sizeof(d2));
		if (strcmp(d1, d2) != 0)
			bad = "display";
		if (ref_attr_line_is_end(line, len)) {
			if (rc != ATTR_END)
				bad = "end";
			else
				bad = same(&r, &ref);
			attr_req_reset(&r);
			ref_attr_req_clear(&ref);
			continue;
		}
		rrc = ref_attr_req_add_line(&ref, line, len, &e2);
		if (rc != rrc)
			bad = "result";
		else if (rc < 0 && strcmp(e1, e2) != 0)
			bad = "error text";
		else if (rc == ATTR_BOUND) {
			attr_req_reset(&r);
			ref_attr_req_clear(&ref);
		} else
			bad = same(&r, &ref);
		if (bad != NULL) {
			size_t o = strlen(where);

			for (size_t j = 0; j < len && o + 4 < wlen; j++, o += 3)
				snprintf(where + o, wlen - o, " %02x", (unsigned char)line[j]);
		}
	}
	attr_req_clear(&r);
	ref_attr_req_clear(&ref);
	return bad;
}

int
main(void)
{
	struct attr_req r, c;
	char buf[ATTR_LINE_MAX + 10];
	const char *err;
	char disp[64];
	int i, rc;

	one("sender=Alice@Example.COM", "sender", "alice@example.com", "value lower-cased");
	one("  client_address = 1.2.3.4  ", "client_address", " 1.2.3.4",
	    "leading blank of value kept, trailing stripped, blanks around key");
	one("queue_id=ABC", "queue_id", "ABC", "queue_id keeps case");
	one("protocol_state=RCPT", "protocol_state", "RCPT", "protocol_state keeps case");
	one("protocol_name=ESMTP", "protocol_name", "ESMTP", "protocol_name keeps case");
	one("Sender=X", "Sender", "x", "keys are case-sensitive and kept");
	one("x=\xff\xfe" "A", "x", "\xef\xbf\xbd\xef\xbf\xbd" "a", "invalid bytes -> U+FFFD each");
	one("h=\xc3\x84\xc5\xb8\xd0\x96\xc4\xb0X", "h", "\xc3\xa4\xc3\xbf\xd0\xb6i\xcc\x87x",
	    "Latin-1, Latin Ext-A, Cyrillic and U+0130 lower-cased as Python");
	one("k=\xe2\x82", "k", "\xef\xbf\xbd", "truncated sequence -> one U+FFFD");
	one("k=\xed\xa0\x80z", "k", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz",
	    "surrogate encoding -> three U+FFFD");
	one("k\xc2\xa0=v\xe3\x80\x80", "k", "v", "U+00A0 before '=' and U+3000 at end are blanks");
	one("k=a=b", "k", "a=b", "split on the first '='");
	one("k=v\r", "k", "v", "CR stripped");
	one("k=", "k", "", "empty value present");
	one("k=\xce\x91", "k", "\xce\xb1", "Greek lower-cased, as Python does");
	one("k=\xce\x9f\xce\x94\xce\x9f\xce\xa3 \xce\xa3", "k", "\xce\xbf\xce\xb4\xce\xbf\xcf\x82 \xcf\x83", "final sigma at a word end, not alone");
	one("k=\xe2\x84\xaa", "k", "k", "Kelvin sign to ASCII k, as Python does");

	nomatch("=x", 2, "no key");
	nomatch("foo", 3, "no '='");
	nomatch("a b=c", 5, "blank inside key");
	nomatch("a\0b=c", 5, "NUL byte");

	ok(attr_line_is_end("", 0), "empty line ends a request");
	ok(attr_line_is_end("  \t\r", 4), "blank line ends a request");
	ok(attr_line_is_end("\xc2\xa0\x1c", 3), "U+00A0 and \\x1c only: ends a request");
	ok(!attr_line_is_end(" x", 2), "text does not end a request");
	ok(!attr_line_is_end("\xff", 1), "U+FFFD is not blank");

	attr_req_init(&r);
	add(&r, "sender=a@b");
	add(&r, "sender=c@d");
	is_str(attr_get(&r, "sender"), "c@d", "last wins");
	is_int(r.n, 1, "one slot for a repeated name");
	ok(attr_get(&r, "helo_name") == NULL, "absent is NULL");
	is_int(attr_req_copy(&c, &r), 0, "copy");
	attr_req_clear(&r);
	is_str(attr_get(&c, "sender"), "c@d", "copy is deep");
	attr_req_clear(&c);

	attr_req_init(&r);
	for (i = 0; i < ATTR_MAX; i++) {
		snprintf(buf, sizeof(buf), "k%d=v", i);
		add(&r, buf);
	}
	err = NULL;
	is_int(attr_req_add_line(&r, "one=more", 8, &err), ATTR_BOUND, "attribute count bound");
	is_str(err, "too many attributes", "bound error text");
	is_int(add(&r, "k0=again"), ATTR_OK, "replacing an existing one still works");
	attr_req_clear(&r);

	attr_req_init(&r);
	memset(buf, 'a', sizeof(buf));
	buf[0] = 'k';
	buf[1] = '=';
	is_int(attr_req_add_line(&r, buf, ATTR_LINE_MAX, &err), ATTR_OK, "line at the bound");
	is_int(attr_req_add_line(&r, buf, ATTR_LINE_MAX + 1, &err), ATTR_BOUND, "line over the bound");
	attr_req_clear(&r);

	attr_req_init(&r);
	rc = ATTR_OK;
	for (i = 0; i < 100 && rc == ATTR_OK; i++)
		rc = attr_req_add_line(&r, buf, 1000, &err);
	is_int(rc, ATTR_BOUND, "request size bound");
	is_int(i, ATTR_REQ_MAX / 1001 + 1, "hit after as many lines as fit");
	attr_req_clear(&r);

	/* blank lines end the request whatever the path, and count nothing */
	attr_req_init(&r);
	is_int(add(&r, "a=B"), ATTR_OK, "one attribute");
	is_int(attr_req_add_line(&r, "", 0, &err), ATTR_END, "empty line: ATTR_END");
	is_int(attr_req_add_line(&r, " \t\r", 3, &err), ATTR_END, "blank line: ATTR_END");
	is_int(attr_req_add_line(&r, " \xc2\xa0\xe3\x80\x80", 6, &err), ATTR_END,
	       "Unicode blanks: ATTR_END");
	is_int(attr_req_add_line(&r, " \xc2\xa0x=Y", 6, &err), ATTR_OK,
	       "Unicode blank before the name");
	is_str(attr_get(&r, "x"), "y", "name after a Unicode blank");
	is_int(attr_req_add_line(&r, "\x01=y", 3, &err), ATTR_OK, "control byte as the name");
	is_int(r.bytes, 4 + 7 + 4, "bytes count the lines added, not the blank ones");
	is_str(attr_get(&r, "a"), "b", "request intact");

	/* reset: the next request starts empty and reuses the arena */
	attr_req_reset(&r);
	ok(r.n == 0 && r.bytes == 0 && attr_get(&r, "a") == NULL, "reset empties");
	/* (under ASan nothing is kept: test_reuse) */
	ok(PSPF_ASAN ? r.buf == NULL : r.buf != NULL && r.cap <= 8192, "reset keeps a small arena");
	is_int(add(&r, "b=C"), ATTR_OK, "add after reset");
	is_str(attr_get(&r, "b"), "c", "value after reset");
	ok(attr_get(&r, "a") == NULL, "old attribute gone");
	attr_req_clear(&r);
	ok(r.buf == NULL && r.n == 0, "clear frees");

	/* the arena grows (offsets survive realloc) and a big one is freed on reset */
	attr_req_init(&r);
	for (i = 0; i < 60; i++) {
		int n = snprintf(buf, sizeof(buf), "name%d=", i);

		memset(buf + n, 'A' + i % 26, 990);
		rc = attr_req_add_line(&r, buf, (size_t)n + 990, &err);
		if (rc != ATTR_OK)
			break;
	}
	is_int(i, 60, "60 attributes of 1000 bytes");
	rc = 0;
	for (i = 0; i < 60; i++) {
		char nm[16];
		const char *v;

		snprintf(nm, sizeof(nm), "name%d", i);
		v = attr_get(&r, nm);
		if (v == NULL || strlen(v) != 990 || v[0] != 'a' + i % 26 || v[989] != 'a' + i % 26)
			rc++;
	}
	is_int(rc, 0, "every value intact after the arena grew");
	ok(r.cap > 8192, "arena grew");
	attr_req_reset(&r);
	ok(r.buf == NULL && r.cap == 0, "reset frees a big arena");
	/* U+0130 lower-cases to 3 bytes: the decoding path reserves for it */
	memcpy(buf, "k=", 2);
	for (i = 0; i < 2000; i++)
		memcpy(buf + 2 + 2 * i, "\xc4\xb0", 2);
	is_int(attr_req_add_line(&r, buf, 4002, &err), ATTR_OK, "2000 x U+0130");
	ok(attr_get(&r, "k") != NULL && strlen(attr_get(&r, "k")) == 6000, "6000 bytes lower-cased");
	attr_req_clear(&r);

	{
		char where[2048];
		const char *bad = differential(300000, where, sizeof(where));

		ok(bad == NULL, "300000 random lines: same as the reference parser");
		if (bad != NULL)
			printf("#   %s at %s\n", bad, where);
	}

	attr_line_display("bad \xff line  ", 12, disp, sizeof(disp));
	is_str(disp, "bad \xef\xbf\xbd line", "display form decoded and stripped");
	attr_line_display("abcdef", 6, disp, 4);
	is_str(disp, "abc", "display form truncated");

	return tap_done();
}
