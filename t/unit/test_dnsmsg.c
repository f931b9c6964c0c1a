/*
 * test_dnsmsg - the DNS answer parser on hand-built messages: every record
 * type, CNAME chains and loops, negative answers, and the malformed ones
 * (compression loops, truncation, huge counts, overlong names).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"
#include "tap.h"

/* A message under construction. */
struct pkt {
	unsigned char b[70000];
	size_t n;
};

static void put8(struct pkt *p, unsigned v) { p->b[p->n++] = (unsigned char)v; }
static void put16(struct pkt *p, unsigned v) { put8(p, v >> 8); put8(p, v & 0xff); }
static void put32(struct pkt *p, uint32_t v) { put16(p, v >> 16); put16(p, v & 0xffff); }
static void putbytes(struct pkt *p, const void *d, size_t n) { memcpy(p->b + p->n, d, n); p->n += n; }

/* "a.b.c" as labels; returns the offset it starts at. */
static size_t putname(struct pkt *p, const char *name)
{
	size_t at = p->n;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		put8(p, (unsigned)l);
		putbytes(p, name, l);
		name += l;
		if (*name == '.')
			name++;
	}
	put8(p, 0);
	return at;
}

static void putptr(struct pkt *p, size_t off) { put16(p, 0xc000 | (unsigned)off); }

static void header(struct pkt *p, unsigned rcode, unsigned qd, unsigned an, unsigned ns)
{
	p->n = 0;
	put16(p, 0x1234);
	put16(p, 0x8180 | rcode);
	put16(p, qd);
	put16(p, an);
	put16(p, ns);
	put16(p, 0);
}

/* Question for name/type; returns the offset of the name. */
static size_t question(struct pkt *p, const char *name, unsigned type)
{
	size_t at = putname(p, name);
	put16(p, type);
	put16(p, 1);
	return at;
}

/* Record header with owner as a pointer; the caller writes rdlen and data. */
static void rrhead(struct pkt *p, size_t owner, unsigned type, uint32_t ttl)
{
	putptr(p, owner);
	put16(p, type);
	put16(p, 1);
	put32(p, ttl);
}

static enum dnsmsg_err parse(struct pkt *p, const char *q, unsigned type, struct dnsmsg_result **r)
{
	return dnsmsg_parse(p->b, p->n, q, (uint16_t)type, r);
}

static void test_a_aaaa(void)
{
	struct pkt p;
	struct dnsmsg_result *r;

	header(&p, 0, 1, 2, 0);
	size_t q = question(&p, "Example.COM", DNS_T_A);
	rrhead(&p, q, DNS_T_A, 300);
	put16(&p, 4);
	putbytes(&p, "\xc0\x00\x02\x01", 4);
	rrhead(&p, q, DNS_T_A, 100);
	put16(&p, 4);
	putbytes(&p, "\xc0\x00\x02\x02", 4);
	is_int(parse(&p, "example.com", DNS_T_A, &r), DNSMSG_OK, "A answer parses");
	if (!r)
		return;
	is_int(r->status, DNS_S_OK, "A: OK");
	is_int(r->n, 2, "A: two records");
	is_int(r->ttl, 100, "A: ttl is the minimum");
	ok(r->rr[0].len == 4 && memcmp(r->rr[0].data, "\xc0\x00\x02\x01", 4) == 0, "A: address bytes");
	is_int(r->rr[1].ttl, 100, "A: per-record ttl");
	is_str(r->canon, "example.com", "A: canon is the asked name");
	dnsmsg_result_unref(r);

	/* Asking AAAA of the same message: records of another type are not ours. */
	is_int(parse(&p, "example.com", DNS_T_AAAA, &r), DNSMSG_OK, "AAAA of A-only answer parses");
	if (!r)
		return;
	is_int(r->status, DNS_S_NODATA, "AAAA: NODATA");
	is_int(r->neg_ttl_known, 0, "NODATA without SOA: no negative TTL");
	dnsmsg_result_unref(r);

	header(&p, 0, 1, 1, 0);
	q = question(&p, "example.com", DNS_T_AAAA);
	rrhead(&p, q, DNS_T_AAAA, 0x80000000u);
	put16(&p, 16);
	putbytes(&p, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	is_int(parse(&p, "example.com", DNS_T_AAAA, &r), DNSMSG_OK, "AAAA parses");
	if (!r)
		return;
	is_int(r->n, 1, "AAAA: one record");
	is_int(r->rr[0].ttl, 0, "TTL with the top bit set counts as 0");
	dnsmsg_result_unref(r);

	header(&p, 0, 1, 1, 0);
	q = question(&p, "example.com", DNS_T_A);
	rrhead(&p, q, DNS_T_A, 1);
	put16(&p, 5);
	putbytes(&p, "\1\2\3\4\5", 5);
	ok(parse(&p, "example.com", DNS_T_A, &r) == DNSMSG_E_RDATA && !r, "A with 5 data bytes: error");
}

static void test_txt(void)
{
	struct pkt p;
	struct dnsmsg_result *r;
	char big[255];

	memset(big, 'x', sizeof big);
	header(&p, 0, 1, 3, 0);
	size_t q = question(&p, "example.com", DNS_T_TXT);
	rrhead(&p, q, DNS_T_TXT, 60);
	put16(&p, 256 + 4);
	put8(&p, 255);
	putbytes(&p, big, 255);
	put8(&p, 3);
	putbytes(&p, "abc", 3);
	rrhead(&p, q, DNS_T_TXT, 60);
	put16(&p, 0);                       /* no strings at all */
	rrhead(&p, q, DNS_T_TXT, 60);
	put16(&p, 3);
	put8(&p, 0);                        /* one empty string, then "a" */
	put8(&p, 1);
	put8(&p, 'a');
	is_int(parse(&p, "example.com", DNS_T_TXT, &r), DNSMSG_OK, "TXT parses");
	if (!r)
		return;
	is_int(r->n, 3, "TXT: three records");
	is_int(r->rr[0].nstrings, 2, "TXT: two strings");
	is_int(r->rr[0].first_len, 255, "TXT: first string length");
	is_int(r->rr[0].len, 258, "TXT: joined length");
	ok(memcmp(r->rr[0].data + 255, "abc", 4) == 0, "TXT: joined without separator, NUL-terminated");
	is_int(r->rr[1].nstrings, 0, "TXT: empty rdata has no strings");
	is_int(r->rr[1].len, 0, "TXT: empty rdata is empty");
	is_int(r->rr[2].nstrings, 2, "TXT: empty string counts");
	is_int(r->rr[2].first_len, 0, "TXT: empty first string");
	is_str((const char *)r->rr[2].data, "a", "TXT: data after empty string");
	dnsmsg_result_unref(r);

	/* A character-string running past the record's data. */
	header(&p, 0, 1, 1, 0);
	q = question(&p, "example.com", DNS_T_TXT);
	rrhead(&p, q, DNS_T_TXT, 60);
	put16(&p, 3);
	put8(&p, 5);
	putbytes(&p, "abcdefgh", 8);
	ok(parse(&p, "example.com", DNS_T_TXT, &r) == DNSMSG_E_SHORT ||
	   dnsmsg_parse(p.b, p.n, "example.com", DNS_T_TXT, &r) != DNSMSG_OK,
	   "TXT string overrunning rdlen: error");
}

static void test_mx_ptr(void)
{
	struct pkt p;
	struct dnsmsg_result *r;

	header(&p, 0, 1, 3, 0);
	size_t q = question(&p, "example.com", DNS_T_MX);
	rrhead(&p, q, DNS_T_MX, 10);
	put16(&p, 2 + 5 + 2);
	put16(&p, 20);
	put8(&p, 4);
	putbytes(&p, "mail", 4);
	putptr(&p, q);                      /* mail.example.com */
	rrhead(&p, q, DNS_T_MX, 10);
	put16(&p, 2 + 1);
	put16(&p, 0);
	put8(&p, 0);                        /* null MX: the root */
	rrhead(&p, q, DNS_T_MX, 10);
	put16(&p, 2 + 1 + 3 + 1);
	put16(&p, 30);
	put8(&p, 3);
	putbytes(&p, "a.b", 3);             /* a label holding a dot */
	put8(&p, 0);
	is_int(parse(&p, "example.com", DNS_T_MX, &r), DNSMSG_OK, "MX parses");
	if (!r)
		return;
	is_int(r->n, 2, "MX: the label with a dot is left out");
	is_int(r->rr[0].pref, 20, "MX: preference");
	is_str((const char *)r->rr[0].data, "mail.example.com", "MX: compressed exchange");
	is_str((const char *)r->rr[1].data, "", "MX: null MX is the root");
	dnsmsg_result_unref(r);

	header(&p, 0, 1, 1, 0);
	q = question(&p, "4.3.2.1.in-addr.arpa", DNS_T_PTR);
	rrhead(&p, q, DNS_T_PTR, 10);
	put16(&p, 18);
	putname(&p, "Mail.Example.com");
	is_int(parse(&p, "4.3.2.1.IN-ADDR.arpa", DNS_T_PTR, &r), DNSMSG_OK, "PTR parses");
	if (!r)
		return;
	is_str((const char *)r->rr[0].data, "Mail.Example.com", "PTR: name as sent, case kept");
	dnsmsg_result_unref(r);

	/* The name in the data must end exactly at rdlen. */
	header(&p, 0, 1, 1, 0);
	q = question(&p, "4.3.2.1.in-addr.arpa", DNS_T_PTR);
	rrhead(&p, q, DNS_T_PTR, 10);
	put16(&p, 19);
	putname(&p, "Mail.Example.com");
	put8(&p, 0);
	ok(parse(&p, "4.3.2.1.in-addr.arpa", DNS_T_PTR, &r) != DNSMSG_OK, "PTR with slack after name: error");
}

static void test_cname(void)
{
	struct pkt p;
	struct dnsmsg_result *r;

	header(&p, 0, 1, 4, 0);
	size_t q = question(&p, "www.example.com", DNS_T_A);
	rrhead(&p, q, DNS_T_CNAME, 50);
	put16(&p, 15);
	size_t b = putname(&p, "b.example.org");
	rrhead(&p, b, DNS_T_CNAME, 40);
	put16(&p, 15);
	size_t c = putname(&p, "C.example.net");
	rrhead(&p, q, DNS_T_A, 10);         /* the alias itself: not used */
	put16(&p, 4);
	putbytes(&p, "\1\1\1\1", 4);
	rrhead(&p, c, DNS_T_A, 500);
	put16(&p, 4);
	putbytes(&p, "\2\2\2\2", 4);
	is_int(parse(&p, "www.example.com", DNS_T_A, &r), DNSMSG_OK, "CNAME chain parses");
	if (!r)
		return;
	is_int(r->status, DNS_S_OK, "CNAME chain: OK");
	is_int(r->n, 1, "CNAME chain: only the target's records");
	ok(memcmp(r->rr[0].data, "\2\2\2\2", 4) == 0, "CNAME chain: the target's address");
	is_str(r->canon, "C.example.net", "CNAME chain: canon");
	is_int(r->chain, 2, "CNAME chain: two links");
	is_int(r->ttl, 40, "CNAME chain: ttl includes the links");
	dnsmsg_result_unref(r);

	is_int(parse(&p, "www.example.com", DNS_T_CNAME, &r), DNSMSG_OK, "asking CNAME: not followed");
	if (!r)
		return;
	is_int(r->n, 1, "asking CNAME: the first link");
	is_str((const char *)r->rr[0].data, "b.example.org", "asking CNAME: its target");
	dnsmsg_result_unref(r);

	/* a -> b -> a: a loop inside one answer. */
	header(&p, 0, 1, 2, 0);
	q = question(&p, "a.example", DNS_T_TXT);
	rrhead(&p, q, DNS_T_CNAME, 50);
	put16(&p, 11);
	b = putname(&p, "b.example");
	rrhead(&p, b, DNS_T_CNAME, 50);
	put16(&p, 2);
	putptr(&p, q);
	is_int(parse(&p, "a.example", DNS_T_TXT, &r), DNSMSG_OK, "CNAME loop parses");
	if (!r)
		return;
	is_int(r->status, DNS_S_SERVFAIL, "CNAME loop: SERVFAIL, not a hang");
	dnsmsg_result_unref(r);

	/* A CNAME whose target has a dot inside a label: cannot be followed. */
	header(&p, 0, 1, 1, 0);
	q = question(&p, "a.example", DNS_T_TXT);
	rrhead(&p, q, DNS_T_CNAME, 50);
	put16(&p, 5);
	put8(&p, 3);
	putbytes(&p, "b.c", 3);
	put8(&p, 0);
	is_int(parse(&p, "a.example", DNS_T_TXT, &r), DNSMSG_OK, "CNAME to an odd name parses");
	is_int(r->status, DNS_S_SERVFAIL, "CNAME to an odd name: SERVFAIL");
	is_int(r->chase, 0, "CNAME to an odd name: nothing to chase");
	dnsmsg_result_unref(r);

	/* Chain leaving the answer, no SOA: the caller should ask for canon. */
	header(&p, 0, 1, 1, 0);
	q = question(&p, "a.example", DNS_T_TXT);
	rrhead(&p, q, DNS_T_CNAME, 50);
	put16(&p, 11);
	putname(&p, "z.example");
	is_int(parse(&p, "a.example", DNS_T_TXT, &r), DNSMSG_OK, "dangling CNAME parses");
	if (!r)
		return;
	is_int(r->status, DNS_S_NODATA, "dangling CNAME: NODATA here");
	is_int(r->chase, 1, "dangling CNAME: chase flagged");
	is_str(r->canon, "z.example", "dangling CNAME: canon is the target");
	dnsmsg_result_unref(r);
}

static void soa(struct pkt *p, size_t owner, uint32_t ttl, uint32_t minimum)
{
	rrhead(p, owner, 6, ttl);
	put16(p, 2 + 2 + 20);
	putptr(p, owner);
	putptr(p, owner);
	put32(p, 1);
	put32(p, 2);
	put32(p, 3);
	put32(p, 4);
	put32(p, minimum);
}

static void test_negative(void)
{
	struct pkt p;
	struct dnsmsg_result *r;

	header(&p, 3, 1, 0, 1);
	size_t q = question(&p, "nx.example.com", DNS_T_A);
	soa(&p, q + 3, 900, 120);
	is_int(parse(&p, "nx.example.com", DNS_T_A, &r), DNSMSG_OK, "NXDOMAIN parses");
	if (!r)
		return;
	is_int(r->status, DNS_S_NXDOMAIN, "NXDOMAIN status");
	is_int(r->neg_ttl_known, 1, "NXDOMAIN: SOA seen");
	is_int(r->ttl, 120, "NXDOMAIN: ttl = min(SOA ttl, minimum)");
	dnsmsg_result_unref(r);

	header(&p, 0, 1, 0, 1);
	q = question(&p, "example.com", DNS_T_MX);
	soa(&p, q, 60, 3600);
	is_int(parse(&p, "example.com", DNS_T_MX, &r), DNSMSG_OK, "NODATA parses");
	if (!r)
		return;
	is_int(r->status, DNS_S_NODATA, "NODATA status");
	is_int(r->ttl, 60, "NODATA: SOA ttl when lower");
	dnsmsg_result_unref(r);

	header(&p, 2, 1, 0, 0);
	question(&p, "example.com", DNS_T_MX);
	is_int(parse(&p, "example.com", DNS_T_MX, &r), DNSMSG_OK, "SERVFAIL parses");
	if (!r)
		return;
	is_int(r->status, DNS_S_SERVFAIL, "SERVFAIL status");
	dnsmsg_result_unref(r);

	header(&p, 5, 1, 1, 0);
	q = question(&p, "example.com", DNS_T_A);
	rrhead(&p, q, DNS_T_A, 300);
	put16(&p, 4);
	putbytes(&p, "\1\2\3\4", 4);
	is_int(parse(&p, "example.com", DNS_T_A, &r), DNSMSG_OK, "REFUSED parses");
	if (!r)
		return;
	is_int(r->status, DNS_S_SERVFAIL, "REFUSED is SERVFAIL");
	is_int(r->n, 0, "records beside an error rcode are not used");
	dnsmsg_result_unref(r);
}

static void test_malformed(void)
{
	struct pkt p, full;
	struct dnsmsg_result *r;
	int bad = 0;

	/* Every truncation of a good answer: an error or a consistent result. */
	header(&full, 0, 1, 2, 1);
	size_t q = question(&full, "example.com", DNS_T_TXT);
	rrhead(&full, q, DNS_T_TXT, 60);
	put16(&full, 6);
	put8(&full, 5);
	putbytes(&full, "hello", 5);
	rrhead(&full, q, DNS_T_TXT, 60);
	put16(&full, 3);
	put8(&full, 2);
	putbytes(&full, "hi", 2);
	size_t answer_end = full.n;
	soa(&full, q, 60, 60);
	for (size_t n = 0; n < full.n; n++) {
		enum dnsmsg_err e = dnsmsg_parse(full.b, n, "example.com", DNS_T_TXT, &r);
		if (e == DNSMSG_OK) {
			if (n < answer_end)
				bad++;
			dnsmsg_result_unref(r);
		}
	}
	is_int(bad, 0, "every cut inside the answer section is an error");

	header(&p, 0, 1, 0, 0);
	question(&p, "example.com", DNS_T_A);
	p.b[2] &= 0x7f;
	is_int(parse(&p, "example.com", DNS_T_A, &r), DNSMSG_E_NOTRESP, "QR clear: not a response");

	/* A pointer to itself in the question. */
	header(&p, 0, 1, 0, 0);
	putptr(&p, 12);
	put16(&p, 1);
	put16(&p, 1);
	is_int(parse(&p, "example.com", DNS_T_A, &r), DNSMSG_E_NAME, "self-pointer: error");

	/* Two pointers pointing at each other, as an owner name. */
	header(&p, 0, 0, 1, 0);
	putptr(&p, 14);
	putptr(&p, 12);
	put16(&p, 1);
	put16(&p, 1);
	put32(&p, 1);
	put16(&p, 4);
	put32(&p, 0);
	ok(parse(&p, "example.com", DNS_T_A, &r) != DNSMSG_OK && !r, "pointer loop in owner: error");

	/* A run of pointers, each to the next one: jumps are bounded. */
	for (int hops = 20; hops <= 100; hops += 80) {
		header(&p, 0, 1, 0, 0);
		putptr(&p, 18);                 /* question name: jump to the run */
		put16(&p, 1);
		put16(&p, 1);
		for (int i = 0; i < hops; i++)
			putptr(&p, p.n + 2);
		putname(&p, "a");
		enum dnsmsg_err e = parse(&p, "a", DNS_T_A, &r);
		if (hops == 20) {
			is_int(e, DNSMSG_OK, "20 pointer hops: fine");
			dnsmsg_result_unref(r);
		} else {
			is_int(e, DNSMSG_E_NAME, "100 pointer hops: error");
		}
	}

	/* Names: 255 wire octets is the limit, labels over 63 are label types. */
	char name[300];
	size_t o = 0;
	for (int i = 0; i < 4; i++) {
		memset(name + o, 'a' + i, 63);
		o += 63;
		name[o++] = '.';
	}
	name[o - 1] = 0;                    /* 4 x 63 + 3 dots = 255 > 253 */
	header(&p, 0, 1, 0, 0);
	question(&p, name, DNS_T_A);
	is_int(parse(&p, "x", DNS_T_A, &r), DNSMSG_E_NAME, "name of 257 wire octets: error");
	name[o - 2] = 0;                    /* 4 x 63 - 1 + 3 = 254 text, 256 wire */
	header(&p, 0, 1, 0, 0);
	question(&p, name, DNS_T_A);
	is_int(parse(&p, "x", DNS_T_A, &r), DNSMSG_E_NAME, "name of 256 wire octets: error");
	name[o - 3] = 0;                    /* 253 text, 255 wire */
	header(&p, 0, 1, 0, 0);
	question(&p, name, DNS_T_A);
	is_int(parse(&p, "x", DNS_T_A, &r), DNSMSG_OK, "name of 255 wire octets: fine");
	if (!r)
		return;
	dnsmsg_result_unref(r);

	header(&p, 0, 1, 0, 0);
	put8(&p, 0x40);
	put8(&p, 0);
	put16(&p, 1);
	put16(&p, 1);
	is_int(parse(&p, "x", DNS_T_A, &r), DNSMSG_E_NAME, "extended label type: error");

	/* Huge counts over a tiny message: an error, no huge allocation. */
	header(&p, 0, 0xffff, 0xffff, 0xffff);
	is_int(parse(&p, "x", DNS_T_A, &r), DNSMSG_E_NAME, "65535 questions in 12 bytes: error");
	header(&p, 0, 1, 0xffff, 0xffff);
	q = question(&p, "example.com", DNS_T_A);
	rrhead(&p, q, DNS_T_A, 1);
	put16(&p, 4);
	put32(&p, 0);
	is_int(parse(&p, "example.com", DNS_T_A, &r), DNSMSG_E_SHORT, "65535 answers, one present: error");

	ok(dnsmsg_parse(p.b, 5, "x", DNS_T_A, &r) == DNSMSG_E_SHORT, "5-byte message: error");

	/* The answer has more records than we keep: bounded. */
	static struct pkt many;
	header(&many, 0, 1, 4200, 0);
	q = question(&many, "example.com", DNS_T_A);
	for (int i = 0; i < 4200; i++) {
		rrhead(&many, q, DNS_T_A, 1);
		put16(&many, 4);
		put32(&many, (uint32_t)i);
	}
	is_int(parse(&many, "example.com", DNS_T_A, &r), DNSMSG_OK, "4200 A records parse");
	if (!r)
		return;
	is_int(r->n, DNSMSG_MAX_RR, "records kept are capped");
	dnsmsg_result_unref(r);
}

static void test_query(void)
{
	unsigned char buf[DNSMSG_QUERY_MAX];
	char name[300];
	int n;

	is_int(dnsmsg_check_name("example.com", 11), 0, "check: plain name");
	ok(dnsmsg_check_name("", 0) < 0, "check: empty name");
	ok(dnsmsg_check_name("a..b", 4) < 0, "check: empty label");
	ok(dnsmsg_check_name(".a", 2) < 0, "check: leading dot");
	ok(dnsmsg_check_name("a.", 2) < 0, "check: trailing dot (caller strips one)");
	ok(dnsmsg_check_name("a\0b", 3) < 0, "check: NUL byte");
	memset(name, 'x', 64);
	ok(dnsmsg_check_name(name, 64) < 0, "check: 64-octet label");
	is_int(dnsmsg_check_name(name, 63), 0, "check: 63-octet label");
	for (int i = 0; i < 300; i++)
		name[i] = (i % 2) ? '.' : 'a';
	is_int(dnsmsg_check_name(name, 253), 0, "check: 253 octets");
	ok(dnsmsg_check_name(name, 255) < 0, "check: 255 octets");

	n = dnsmsg_build_query(buf, sizeof buf, "Ab.c", DNS_T_TXT, 0x4242, 0);
	is_int(n, 12 + 6 + 4, "query length");
	ok(memcmp(buf + 12, "\2Ab\1c\0\0\x10\0\1", 10) == 0, "query name, type, class");
	ok(buf[2] == 1 && buf[5] == 1 && buf[11] == 0, "RD set, one question, no OPT");
	n = dnsmsg_build_query(buf, sizeof buf, "Ab.c", DNS_T_TXT, 0x4242, 1232);
	is_int(n, 12 + 6 + 4 + 11, "query length with EDNS");
	ok(buf[11] == 1 && memcmp(buf + 22, "\0\0\x29\x04\xd0\0\0\0\0\0\0", 11) == 0,
	   "OPT record offering 1232 bytes");
	is_int(dnsmsg_build_query(buf, sizeof buf, "a..b", DNS_T_TXT, 1, 0), -1, "query: bad name refused");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_a_aaaa();
	test_txt();
	test_mx_ptr();
	test_cname();
	test_negative();
	test_malformed();
	test_query();
	return tap_done();
}
