/*
 * dnsmsg - build a DNS query and parse a DNS answer, keeping TTLs.
 *
 * c-ares 1.18's TXT and MX helpers drop TTLs, and a TTL cache needs them,
 * so answers are parsed here from the raw message.  The parser trusts
 * nothing: every offset is checked against the message length, name
 * compression is followed a bounded number of times, names are limited to
 * 255 octets on the wire and labels to 63, and record counts are limited
 * by what fits in the message.  Malformed input gives a status, never a
 * crash.
 *
 * A parsed answer lives in one allocation (header, record array, names and
 * data), so the cache can keep it as is and share it by reference count.
 */
#ifndef POLICYD_DNSMSG_H
#define POLICYD_DNSMSG_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"

#define DNSMSG_NAME_MAX    253   /* presentation form, no trailing dot */
#define DNSMSG_LABEL_MAX   63
#define DNSMSG_WIRE_MAX    255   /* encoded name, root label included */
#define DNSMSG_MAX_JUMPS   32    /* compression pointers followed per name */
#define DNSMSG_MAX_CHAIN   16    /* CNAME links followed inside one answer */
#define DNSMSG_MAX_RR      4096  /* records of the asked type kept */
#define DNSMSG_QUERY_MAX   (12 + DNSMSG_WIRE_MAX + 4 + 11)
#define DNSMSG_EDNS_SIZE   1232  /* UDP payload we offer (DNS flag day 2020) */

#define DNSMSG_RCODE_NOERROR  0
#define DNSMSG_RCODE_FORMERR  1
#define DNSMSG_RCODE_SERVFAIL 2
#define DNSMSG_RCODE_NXDOMAIN 3

/* Why a message could not be used. */
enum dnsmsg_err {
	DNSMSG_OK = 0,
	DNSMSG_E_SHORT,     /* ends inside the header, a name or a record */
	DNSMSG_E_NAME,      /* bad label type, pointer loop, name too long */
	DNSMSG_E_RDATA,     /* record data of the asked type is malformed */
	DNSMSG_E_NOTRESP,   /* QR bit clear */
	DNSMSG_E_NOMEM,
};

struct dnsmsg_result {
	unsigned refs;          /* owners: the cache, a delivery in progress */
	size_t size;            /* bytes of this one allocation */
	enum dns_status status;
	int rcode;
	uint32_t ttl;           /* min TTL of records and CNAMEs used */
	int neg_ttl_known;      /* negative answer carried an SOA */
	int chase;              /* NOERROR, CNAME chain leads out of the answer
				 * with neither records nor SOA: ask for canon */
	unsigned chain;         /* CNAME links followed */
	const char *canon;
	size_t n;
	struct dns_rr *rr;
	/* What a user derived from these records (the SPF engine keeps its
	 * parsed record here, so a cached answer is parsed once per TTL, not
	 * once per check); freed with the result.  See dns_answer_attach. */
	void *aux;
	void (*aux_free)(void *aux);
	size_t aux_bytes;
	void *cache_entry;      /* the dnscache entry holding it, for aux_bytes */
};

/*
 * Check a query name (no trailing dot): non-empty, no empty label, labels
 * at most 63, total at most 253, no NUL (len is the byte count so embedded
 * NULs are seen).  Returns 0 if usable.
 */
int dnsmsg_check_name(const char *name, size_t len);

/* Encode a query (RD set, class IN), with an EDNS0 OPT record offering
 * edns_size bytes over UDP unless edns_size is 0.  Returns its length or -1. */
int dnsmsg_build_query(unsigned char *buf, size_t bufsize, const char *name,
		       uint16_t type, uint16_t id, uint16_t edns_size);

/*
 * Parse the answer to (qname, qtype).  On DNSMSG_OK *out is a new result
 * with refs == 1 (release with dnsmsg_result_unref); status tells OK,
 * NODATA, NXDOMAIN or SERVFAIL (for other rcodes).
 */
enum dnsmsg_err dnsmsg_parse(const unsigned char *msg, size_t len, const char *qname,
			     uint16_t qtype, struct dnsmsg_result **out);

/* A result that carries only a status (SERVFAIL, TIMEOUT, ERROR). */
struct dnsmsg_result *dnsmsg_result_status(enum dns_status st, const char *canon);

void dnsmsg_result_unref(struct dnsmsg_result *r);
/* Replace r's aux (the old one is freed); returns the change in aux_bytes. */
long dnsmsg_result_set_aux(struct dnsmsg_result *r, void *aux, void (*aux_free)(void *), size_t bytes);
const char *dnsmsg_strerror(enum dnsmsg_err e);

#endif
