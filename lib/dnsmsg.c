/*
 * dnsmsg - DNS query encoder and answer parser with TTLs (see dnsmsg.h).
 *
 * The parser makes two passes over the answer section: the first checks
 * every record's framing and remembers where it is; the chain of CNAMEs
 * is then followed over those descriptors, the result is sized, and the
 * second pass copies the records of the asked type into one allocation.
 */
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"

#define T_SOA 6
#define C_IN  1
#define TTL_MAX_SANE 0x7fffffffU

/* Where one answer record sits in the message. */
struct rrdesc {
	size_t owner;
	size_t rdoff;
	uint32_t ttl;
	uint16_t type;
	uint16_t rdlen;
};

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int name_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (lc((unsigned char)*a) != lc((unsigned char)*b))
			return 0;
	return *a == *b;
}

/*
 * Decode the name at off.  *end gets the offset just past the name where it
 * starts (not where pointers lead).  out (DNSMSG_NAME_MAX + 1 bytes, may be
 * NULL) gets the presentation form without trailing dot; a label holding a
 * dot or a NUL cannot be shown that way, so such a name is reported as
 * "odd" (1) rather than corrupting comparisons.  Returns 0, 1 or -1
 * (malformed: the whole message is unusable).
 */
static int name_decode(const unsigned char *m, size_t len, size_t off, char *out,
		       size_t *outlen, size_t *end)
{
	size_t o = 0, wire = 0, pos = off;
	unsigned jumps = 0;
	int odd = 0;

	*end = 0;
	for (;;) {
		if (pos >= len)
			return -1;
		unsigned l = m[pos];
		if ((l & 0xc0) == 0xc0) {
			if (pos + 1 >= len)
				return -1;
			if (*end == 0)
				*end = pos + 2;
			if (++jumps > DNSMSG_MAX_JUMPS)
				return -1;
			pos = ((l & 0x3f) << 8) | m[pos + 1];
			continue;
		}
		if (l & 0xc0)
			return -1;          /* extended label types: obsolete */
		pos++;
		wire += l + 1;
		if (wire + (l ? 1 : 0) > DNSMSG_WIRE_MAX)
			return -1;
		if (l == 0)
			break;
		if (pos + l > len)
			return -1;
		if (o > 0 && out)
			out[o] = '.';
		if (o > 0)
			o++;
		for (unsigned i = 0; i < l; i++) {
			unsigned char c = m[pos + i];
			if (c == '.' || c == 0)
				odd = 1;
			if (out)
				out[o] = (char)c;
			o++;
		}
		pos += l;
	}
	if (*end == 0)
		*end = pos;
	if (out)
		out[o] = 0;
	if (outlen)
		*outlen = o;
	return odd;
}

/* Skip one record's header at *pos; fills d.  -1 if it does not fit. */
static int rr_frame(const unsigned char *m, size_t len, size_t *pos, struct rrdesc *d,
		    uint16_t *cls)
{
	size_t end;

	if (name_decode(m, len, *pos, NULL, NULL, &end) < 0)
		return -1;
	if (end + 10 > len)
		return -1;
	d->owner = *pos;
	d->type = get16(m + end);
	*cls = get16(m + end + 2);
	d->ttl = get32(m + end + 4);
	if (d->ttl > TTL_MAX_SANE)
		d->ttl = 0;             /* RFC 2181 8: top bit set means zero */
	d->rdlen = get16(m + end + 8);
	d->rdoff = end + 10;
	if (d->rdoff + d->rdlen > len)
		return -1;
	*pos = d->rdoff + d->rdlen;
	return 0;
}

/* Does the owner of d equal name?  Odd owners never match. */
static int owner_is(const unsigned char *m, size_t len, const struct rrdesc *d, const char *name)
{
	char buf[DNSMSG_NAME_MAX + 1];
	size_t end;

	if (name_decode(m, len, d->owner, buf, NULL, &end) != 0)
		return 0;
	return name_eq(buf, name);
}

/*
 * Bytes the record needs in the result's data area, or -1 if its data is
 * malformed, or 0 with *skip set for a record that cannot be represented.
 */
static long rr_need(const unsigned char *m, const struct rrdesc *d, int *skip)
{
	const unsigned char *p = m + d->rdoff;
	size_t nlen, end, i;
	int r;

	*skip = 0;
	switch (d->type) {
	case DNS_T_A:
		return d->rdlen == 4 ? 4 : -1;
	case DNS_T_AAAA:
		return d->rdlen == 16 ? 16 : -1;
	case DNS_T_TXT:
		for (i = 0; i < d->rdlen; i += 1 + p[i])
			if (i + 1 + p[i] > d->rdlen)
				return -1;
		return (long)d->rdlen + 1;
	case DNS_T_MX:
		if (d->rdlen < 3)
			return -1;
		r = name_decode(m, d->rdoff + d->rdlen, d->rdoff + 2, NULL, &nlen, &end);
		if (r < 0 || end != d->rdoff + d->rdlen)
			return -1;
		*skip = r;
		return (long)nlen + 1;
	case DNS_T_PTR:
	case DNS_T_CNAME:
	case DNS_T_NS:
		r = name_decode(m, d->rdoff + d->rdlen, d->rdoff, NULL, &nlen, &end);
		if (r < 0 || end != d->rdoff + d->rdlen)
			return -1;
		*skip = r;
		return (long)nlen + 1;
	default:
		return (long)d->rdlen + 1;
	}
}

/* Copy a record into rr, its data at *data. */
static void rr_fill(const unsigned char *m, const struct rrdesc *d, struct dns_rr *rr,
		    unsigned char *data)
{
	const unsigned char *p = m + d->rdoff;
	size_t end, nlen, i, o = 0;

	memset(rr, 0, sizeof *rr);
	rr->type = d->type;
	rr->ttl = d->ttl;
	rr->data = data;
	switch (d->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		memcpy(data, p, d->rdlen);
		rr->len = d->rdlen;
		return;
	case DNS_T_TXT:
		for (i = 0; i < d->rdlen; i += 1 + p[i]) {
			if (rr->nstrings == 0)
				rr->first_len = p[i];
			rr->nstrings++;
			memcpy(data + o, p + i + 1, p[i]);
			o += p[i];
		}
		data[o] = 0;
		rr->len = o;
		return;
	case DNS_T_MX:
		rr->pref = get16(p);
		name_decode(m, d->rdoff + d->rdlen, d->rdoff + 2, (char *)data, &nlen, &end);
		rr->len = nlen;
		return;
	case DNS_T_PTR:
	case DNS_T_CNAME:
	case DNS_T_NS:
		name_decode(m, d->rdoff + d->rdlen, d->rdoff, (char *)data, &nlen, &end);
		rr->len = nlen;
		return;
	default:
		memcpy(data, p, d->rdlen);
		data[d->rdlen] = 0;
		rr->len = d->rdlen;
		return;
	}
}

static struct dnsmsg_result *result_alloc(size_t n, size_t datalen, const char *canon)
{
	size_t clen = strlen(canon) + 1;
	size_t size = sizeof(struct dnsmsg_result) + n * sizeof(struct dns_rr) + clen + datalen;
	struct dnsmsg_result *r = calloc(1, size);

	if (!r)
		return NULL;
	r->refs = 1;
	r->size = size;
	r->rr = (struct dns_rr *)(r + 1);
	char *c = (char *)(r->rr + n);
	memcpy(c, canon, clen);
	r->canon = c;
	return r;
}

struct dnsmsg_result *dnsmsg_result_status(enum dns_status st, const char *canon)
{
	struct dnsmsg_result *r = result_alloc(0, 0, canon ? canon : "");

	if (r) {
		r->status = st;
		r->rcode = -1;
	}
	return r;
}

void dnsmsg_result_unref(struct dnsmsg_result *r)
{
	if (r && --r->refs == 0) {
		if (r->aux_free)
			r->aux_free(r->aux);
		free(r);
	}
}

long dnsmsg_result_set_aux(struct dnsmsg_result *r, void *aux, void (*aux_free)(void *), size_t bytes)
{
	long delta = (long)bytes - (long)r->aux_bytes;

	if (r->aux_free)
		r->aux_free(r->aux);
	r->aux = aux;
	r->aux_free = aux_free;
	r->aux_bytes = bytes;
	return delta;
}

/* Negative TTL from an SOA in the authority section (RFC 2308 5). */
static int soa_ttl(const unsigned char *m, size_t len, size_t pos, unsigned nscount,
		   uint32_t *ttl)
{
	for (unsigned i = 0; i < nscount; i++) {
		struct rrdesc d;
		uint16_t cls;
		size_t end;

		if (rr_frame(m, len, &pos, &d, &cls) < 0)
			return 0;
		if (d.type != T_SOA || cls != C_IN)
			continue;
		size_t lim = d.rdoff + d.rdlen;
		if (name_decode(m, lim, d.rdoff, NULL, NULL, &end) < 0)
			return 0;
		if (name_decode(m, lim, end, NULL, NULL, &end) < 0)
			return 0;
		if (end + 20 != lim)
			return 0;
		uint32_t min = get32(m + end + 16);
		if (min > TTL_MAX_SANE)
			min = 0;
		*ttl = d.ttl < min ? d.ttl : min;
		return 1;
	}
	return 0;
}

enum dnsmsg_err dnsmsg_parse(const unsigned char *m, size_t len, const char *qname,
			     uint16_t qtype, struct dnsmsg_result **out)
{
	struct rrdesc *ds = NULL;
	struct dnsmsg_result *r = NULL;
	char canon[DNSMSG_NAME_MAX + 1];
	enum dnsmsg_err err = DNSMSG_OK;
	size_t pos = 12, nd = 0, i;

	*out = NULL;
	if (len < 12)
		return DNSMSG_E_SHORT;
	if (!(m[2] & 0x80))
		return DNSMSG_E_NOTRESP;
	int rcode = m[3] & 0x0f;
	unsigned qd = get16(m + 4), an = get16(m + 6), ns = get16(m + 8);

	for (i = 0; i < qd; i++) {
		size_t end;
		if (name_decode(m, len, pos, NULL, NULL, &end) < 0)
			return DNSMSG_E_NAME;
		if (end + 4 > len)
			return DNSMSG_E_SHORT;
		pos = end + 4;
	}

	/* The smallest record is 11 bytes, so the message bounds the array. */
	size_t maxd = (len - pos) / 11;
	if (an < maxd)
		maxd = an;
	if (maxd) {
		ds = malloc(maxd * sizeof *ds);
		if (!ds)
			return DNSMSG_E_NOMEM;
	}
	for (i = 0; i < an; i++) {
		struct rrdesc d;
		uint16_t cls;
		if (i >= maxd || rr_frame(m, len, &pos, &d, &cls) < 0) {
			err = DNSMSG_E_SHORT;
			goto out;
		}
		if (cls == C_IN)
			ds[nd++] = d;
	}

	/* Follow CNAMEs from qname, looking only at this answer. */
	size_t clen = strlen(qname);
	if (clen > DNSMSG_NAME_MAX) {
		err = DNSMSG_E_NAME;
		goto out;
	}
	memcpy(canon, qname, clen + 1);
	uint32_t ttl = UINT32_MAX;
	unsigned chain = 0;
	int moved = 1, cut = 0;
	while (moved && qtype != DNS_T_CNAME) {
		moved = 0;
		for (i = 0; i < nd; i++) {
			if (ds[i].type != DNS_T_CNAME || !owner_is(m, len, &ds[i], canon))
				continue;
			char next[DNSMSG_NAME_MAX + 1];
			size_t end, nl;
			int rc = name_decode(m, ds[i].rdoff + ds[i].rdlen, ds[i].rdoff, next, &nl, &end);
			if (rc < 0 || end != ds[i].rdoff + ds[i].rdlen) {
				err = DNSMSG_E_RDATA;
				goto out;
			}
			/* A target we cannot name, a loop, or a chain too long to
			 * be sane: the answer is unusable. */
			if (rc > 0 || chain >= DNSMSG_MAX_CHAIN) {
				cut = 1;
				break;
			}
			if (ds[i].ttl < ttl)
				ttl = ds[i].ttl;
			memcpy(canon, next, nl + 1);
			chain++;
			moved = 1;
			break;
		}
	}

	/* Size the records of the asked type owned by canon. */
	size_t n = 0, datalen = 0;
	for (i = 0; i < nd && n < DNSMSG_MAX_RR; i++) {
		int skip;
		long need;
		if (ds[i].type != qtype || !owner_is(m, len, &ds[i], canon))
			continue;
		need = rr_need(m, &ds[i], &skip);
		if (need < 0) {
			err = DNSMSG_E_RDATA;
			goto out;
		}
		if (skip)
			continue;
		n++;
		datalen += (size_t)need;
	}
	if (rcode != DNSMSG_RCODE_NOERROR || cut)
		n = datalen = 0;    /* records beside an error rcode are not used */

	r = result_alloc(n, datalen, canon);
	if (!r) {
		err = DNSMSG_E_NOMEM;
		goto out;
	}
	r->rcode = rcode;
	r->chain = chain;
	r->n = n;
	unsigned char *data = (unsigned char *)r->canon + strlen(r->canon) + 1;
	size_t k = 0;
	for (i = 0; i < nd && k < n; i++) {
		int skip;
		long need;
		if (ds[i].type != qtype || !owner_is(m, len, &ds[i], canon))
			continue;
		need = rr_need(m, &ds[i], &skip);
		if (skip)
			continue;
		rr_fill(m, &ds[i], &r->rr[k++], data);
		data += need;
		if (ds[i].ttl < ttl)
			ttl = ds[i].ttl;
	}

	uint32_t nttl = 0;
	int have_soa = soa_ttl(m, len, pos, ns, &nttl);
	switch (cut ? -1 : rcode) {
	case DNSMSG_RCODE_NOERROR:
		r->status = n ? DNS_S_OK : DNS_S_NODATA;
		break;
	case DNSMSG_RCODE_NXDOMAIN:
		r->status = DNS_S_NXDOMAIN;
		break;
	default:
		r->status = DNS_S_SERVFAIL;
		break;
	}
	if (r->status == DNS_S_NODATA || r->status == DNS_S_NXDOMAIN) {
		r->neg_ttl_known = have_soa;
		if (have_soa && nttl < ttl)
			ttl = nttl;
		if (r->status == DNS_S_NODATA && chain > 0 && !have_soa)
			r->chase = 1;
	}
	r->ttl = ttl == UINT32_MAX ? 0 : ttl;
	*out = r;
out:
	free(ds);
	return err;
}

int dnsmsg_check_name(const char *name, size_t len)
{
	size_t lab = 0;

	if (len == 0 || len > DNSMSG_NAME_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (name[i] == 0)
			return -1;
		if (name[i] == '.') {
			if (lab == 0)
				return -1;
			lab = 0;
		} else if (++lab > DNSMSG_LABEL_MAX) {
			return -1;
		}
	}
	return lab == 0 ? -1 : 0;
}

int dnsmsg_build_query(unsigned char *buf, size_t bufsize, const char *name,
		       uint16_t type, uint16_t id, uint16_t edns_size)
{
	size_t len = strlen(name), o = 12;

	if (dnsmsg_check_name(name, len) < 0 || bufsize < 12 + len + 2 + 4 + 11)
		return -1;
	memset(buf, 0, 12);
	buf[0] = (unsigned char)(id >> 8);
	buf[1] = (unsigned char)id;
	buf[2] = 0x01;              /* RD */
	buf[5] = 1;                 /* QDCOUNT */
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		buf[o++] = (unsigned char)l;
		memcpy(buf + o, p, l);
		o += l;
		p += l;
		if (*p == '.')
			p++;
	}
	buf[o++] = 0;
	buf[o++] = (unsigned char)(type >> 8);
	buf[o++] = (unsigned char)type;
	buf[o++] = 0;
	buf[o++] = C_IN;
	if (edns_size) {
		buf[11] = 1;            /* ARCOUNT */
		buf[o++] = 0;           /* root owner */
		buf[o++] = 0;
		buf[o++] = 41;          /* OPT */
		buf[o++] = (unsigned char)(edns_size >> 8);
		buf[o++] = (unsigned char)edns_size;
		memset(buf + o, 0, 6);  /* extended rcode, version, flags, rdlen */
		o += 6;
	}
	return (int)o;
}

const char *dnsmsg_strerror(enum dnsmsg_err e)
{
	switch (e) {
	case DNSMSG_OK: return "ok";
	case DNSMSG_E_SHORT: return "message truncated or records overrun it";
	case DNSMSG_E_NAME: return "malformed name (bad label, pointer loop, too long)";
	case DNSMSG_E_RDATA: return "malformed record data";
	case DNSMSG_E_NOTRESP: return "not a response";
	case DNSMSG_E_NOMEM: return "out of memory";
	}
	return "unknown";
}
