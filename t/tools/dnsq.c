/*
 * dnsq - run DNS lookups through lib/dns on a libevent loop, as the daemon
 * does, and print every answer; the DNS tests (t/dns.t) read its output.
 *
 *   dnsq [-s host[:port]]... [-t timeout_ms] [-r tries] [-c cache_bytes]
 *        [-m max_inflight] [-x] QUERY... [--sleep=MS QUERY...]...
 *
 * QUERY is TYPE:name (TYPE one of A AAAA TXT MX PTR CNAME NS or a number),
 * or cancel:TYPE:name to start a lookup and cancel it at once.  The queries
 * between two --sleep= run concurrently; the rounds run one after another
 * with the given pause.  -x: the first answer of a round cancels the other
 * lookups of the round still waiting (re-entrancy of the fan-out).  -a N:
 * an answer off the wire starts the same lookup again from inside the
 * callback, N times in all (printed as "#I again #J").
 *
 * Output, one line per answer, then its records indented:
 *   #I TYPE name status=S ttl=N cache=yes|no canon=C n=N
 *   #I   A 192.0.2.1 ttl=N
 *   #I   TXT strings=N first=N len=N "text"
 * and at the end: stats sent=N hits=N shared=N entries=N bytes=N maxbytes=N
 *   maxinflight=N (the most wire queries seen out at once)
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "loop.h"
#include "dns.h"

#define MAXQ 4096

struct q {
	int idx, type;
	const char *name;
	struct dns_query *h;
	bool waiting;
};

static struct event_base *base;
static struct dns_ctx *ctx;
static struct q qs[MAXQ];
static int round_lo, round_hi, outstanding;
static bool cancel_others;
static int again_left, nq;
static size_t max_bytes_seen;
static unsigned long max_inflight_seen;

static const struct { const char *name; int type; } types[] = {
	{ "A", DNS_T_A }, { "AAAA", DNS_T_AAAA }, { "TXT", DNS_T_TXT }, { "MX", DNS_T_MX },
	{ "PTR", DNS_T_PTR }, { "CNAME", DNS_T_CNAME }, { "NS", DNS_T_NS },
};

static int type_parse(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strlen(types[i].name) == len && strncasecmp(types[i].name, s, len) == 0)
			return types[i].type;
	return atoi(s);
}

static const char *type_name(int t)
{
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (types[i].type == t)
			return types[i].name;
	return "TYPE?";
}

static void print_bytes(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] >= 0x7f || p[i] == '"' || p[i] == '\\')
			printf("\\%03u", p[i]);
		else
			putchar(p[i]);
	}
}

static void on_answer(void *arg, const struct dns_answer *a)
{
	struct q *q = arg;
	struct dns_stats st;
	char buf[64];

	q->waiting = false;
	q->h = NULL;
	outstanding--;
	printf("#%d %s %s status=%s ttl=%u cache=%s canon=%s n=%zu\n", q->idx, type_name(q->type),
	       q->name, dns_status_str(a->status), a->ttl, a->from_cache ? "yes" : "no",
	       a->canon ? a->canon : "", a->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct dns_rr *rr = &a->rr[i];
		printf("#%d   %s ", q->idx, type_name(rr->type));
		switch (rr->type) {
		case DNS_T_A:
		case DNS_T_AAAA:
			inet_ntop(rr->type == DNS_T_A ? AF_INET : AF_INET6, rr->data, buf, sizeof buf);
			printf("%s", buf);
			break;
		case DNS_T_TXT:
			printf("strings=%u first=%zu len=%zu \"", rr->nstrings, rr->first_len, rr->len);
			print_bytes(rr->data, rr->len);
			putchar('"');
			break;
		case DNS_T_MX:
			printf("%u %s", rr->pref, (const char *)rr->data);
			break;
		default:
			print_bytes(rr->data, rr->len);
			break;
		}
		printf(" ttl=%u\n", rr->ttl);
	}
	dns_get_stats(ctx, &st);
	if (st.cache_bytes > max_bytes_seen)
		max_bytes_seen = st.cache_bytes;
	/* An answer off the wire: its own slot was just freed. */
	if (!a->from_cache && a->status != DNS_S_ERROR && st.in_flight + 1 > max_inflight_seen)
		max_inflight_seen = st.in_flight + 1;
	if (cancel_others) {
		cancel_others = false;
		for (int i = round_lo; i < round_hi; i++) {
			if (qs[i].waiting && qs[i].h) {
				dns_cancel(qs[i].h);
				qs[i].waiting = false;
				qs[i].h = NULL;
				outstanding--;
				printf("#%d cancelled\n", i);
			}
		}
	}
	if (again_left > 0 && !a->from_cache && nq < MAXQ) {
		struct q *n = &qs[nq];
		again_left--;
		*n = *q;
		n->idx = nq++;
		n->waiting = true;
		round_hi = nq;
		outstanding++;
		printf("#%d again #%d\n", q->idx, n->idx);
		n->h = dns_query(ctx, n->name, n->type, on_answer, n);
	}
	fflush(stdout);
	if (outstanding == 0)
		event_base_loopbreak(base);
}

static int usage(void)
{
	fprintf(stderr, "usage: dnsq [-s server]... [-t ms] [-r tries] [-c bytes] [-m max] [-x] "
		"TYPE:name... [--sleep=MS TYPE:name...]...\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *servers[17];
	int nserv = 0, opt, rc = 0;
	struct dns_opts o = { 0 };
	char err[256];

	while ((opt = getopt(argc, argv, "+s:t:r:c:m:a:x")) != -1) {
		switch (opt) {
		case 's':
			if (nserv == 16)
				return usage();
			servers[nserv++] = optarg;
			break;
		case 't': o.timeout_ms = atoi(optarg); break;
		case 'r': o.tries = atoi(optarg); break;
		case 'c': o.cache_bytes = (size_t)strtoull(optarg, NULL, 10); break;
		case 'm': o.max_inflight = atoi(optarg); break;
		case 'a': again_left = atoi(optarg); break;
		case 'x': cancel_others = true; break;
		default: return usage();
		}
	}
	servers[nserv] = NULL;
	if (nserv)
		o.servers = servers;
	if (optind >= argc)
		return usage();

	base = event_base_new();
	if (!base || dns_ctx_new(&ctx, &o, err, sizeof err) < 0) {
		fprintf(stderr, "dnsq: %s\n", base ? err : "event_base_new failed");
		return 1;
	}
	struct loop_dns *ld = loop_dns_attach(base, ctx);
	if (!ld) {
		fprintf(stderr, "dnsq: loop_dns_attach failed\n");
		return 1;
	}

	for (int ai = optind; ai < argc;) {
		bool x = cancel_others;
		round_lo = nq;
		outstanding = 0;
		/* Start the round's queries, then run the loop until they are in. */
		for (; ai < argc && strncmp(argv[ai], "--sleep=", 8) != 0; ai++) {
			const char *s = argv[ai];
			bool cancel = strncmp(s, "cancel:", 7) == 0;
			if (cancel)
				s += 7;
			const char *colon = strchr(s, ':');
			if (!colon || nq == MAXQ) {
				rc = usage();
				goto out;
			}
			struct q *q = &qs[nq];
			q->idx = nq++;
			q->type = type_parse(s, (size_t)(colon - s));
			q->name = colon + 1;
			q->waiting = true;
			outstanding++;
			round_hi = nq;
			q->h = dns_query(ctx, q->name, q->type, on_answer, q);
			if (cancel && q->waiting) {
				dns_cancel(q->h);
				q->waiting = false;
				q->h = NULL;
				outstanding--;
				printf("#%d cancelled\n", q->idx);
			}
		}
		round_hi = nq;
		if (outstanding > 0)
			event_base_dispatch(base);
		cancel_others = x;
		if (ai < argc) {
			long ms = atol(argv[ai] + 8);
			fflush(stdout);
			usleep((useconds_t)ms * 1000);
			ai++;
		}
	}
out:;
	struct dns_stats st;
	dns_get_stats(ctx, &st);
	printf("stats sent=%lu hits=%lu shared=%lu entries=%lu bytes=%zu maxbytes=%zu "
	       "maxinflight=%lu\n", st.queries_sent, st.cache_hits, st.shared, st.cache_entries,
	       st.cache_bytes, max_bytes_seen, max_inflight_seen);
	loop_dns_detach(ld);
	dns_ctx_free(ctx);
	event_base_free(base);
	return rc;
}
