/*
 * test_attr - request line parsing against values the Python server
 * produces for the same bytes (computed with its regex and str.lower()).
 */
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "tap.h"

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
	one("k=\xce\x91", "k", "\xce\x91", "Greek left as received (documented)");

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

	attr_line_display("bad \xff line  ", 12, disp, sizeof(disp));
	is_str(disp, "bad \xef\xbf\xbd line", "display form decoded and stripped");
	attr_line_display("abcdef", 6, disp, 4);
	is_str(disp, "abc", "display form truncated");

	return tap_done();
}
