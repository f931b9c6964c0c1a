/*
 * test_dns - the parts of lib/dns that need no DNS server: timers (order,
 * cancel, re-arming from a callback), names refused before any query,
 * server list syntax, and freeing a context with queries outstanding.
 * Answers from a real server are t/dns.t's job.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "tap.h"

static char order[64];
static size_t norder;
static struct dns_ctx *gctx;
static int rearmed;

static void mark(void *arg)
{
	if (norder < sizeof order - 1)
		order[norder++] = *(const char *)arg;
}

/* Re-arms itself with 0 ms: must not spin inside one dns_process(). */
static void again(void *arg)
{
	(void)arg;
	if (++rearmed < 1000)
		dns_timer_start(gctx, 0, again, NULL);
}

/* Drive the context until no timer is due or the deadline passes. */
static void run_for(struct dns_ctx *ctx, long ms)
{
	long long end = dns_now_ms() + ms;

	while (dns_now_ms() < end) {
		struct timeval tv;
		int wait = 5;
		if (dns_next_timeout(ctx, &tv)) {
			long t = (long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
			if (t < wait)
				wait = (int)t;
		}
		poll(NULL, 0, wait);
		dns_process(ctx, -1, -1);
	}
}

static int answers;
static enum dns_status last;

static void on_answer(void *arg, const struct dns_answer *a)
{
	(void)arg;
	answers++;
	last = a->status;
}

static void test_timers(struct dns_ctx *ctx)
{
	static const char a = 'a', b = 'b', c = 'c', d = 'd';
	struct timeval tv;

	ok(dns_next_timeout(ctx, &tv) == NULL, "idle: no timeout");
	dns_timer_start(ctx, 60, mark, (void *)&c);
	dns_timer_start(ctx, 20, mark, (void *)&a);
	struct dns_timer *t = dns_timer_start(ctx, 30, mark, (void *)&d);
	dns_timer_start(ctx, 40, mark, (void *)&b);
	dns_timer_start(ctx, 20, mark, (void *)&a);
	ok(dns_next_timeout(ctx, &tv) != NULL && tv.tv_sec == 0 && tv.tv_usec <= 20000,
	   "next timeout is the earliest timer");
	dns_timer_stop(t);
	dns_timer_stop(NULL);
	long long t0 = dns_now_ms();
	run_for(ctx, 150);
	order[norder] = 0;
	is_str(order, "aabc", "timers fire in order, the stopped one never");
	ok(dns_now_ms() - t0 >= 60, "not before their time");
	ok(dns_next_timeout(ctx, &tv) == NULL, "all fired: no timeout");

	gctx = ctx;
	dns_timer_start(ctx, 0, again, NULL);
	dns_process(ctx, -1, -1);
	is_int(rearmed, 1, "a timer started by a timer waits for the next round");
	run_for(ctx, 20);
	ok(rearmed > 1, "and then runs");
	while (rearmed < 1000)
		dns_process(ctx, -1, -1);

	/* Many timers, stopped out of order: the heap stays consistent. */
	struct dns_timer *ts[200];
	for (int i = 0; i < 200; i++)
		ts[i] = dns_timer_start(ctx, 1000 + (i * 7919) % 500, mark, (void *)&a);
	for (int i = 0; i < 200; i += 2)
		dns_timer_stop(ts[i]);
	for (int i = 199; i > 0; i -= 2)
		dns_timer_stop(ts[i]);
	ok(dns_next_timeout(ctx, &tv) == NULL, "200 timers stopped out of order: none left");
}

static void test_names(struct dns_ctx *ctx)
{
	static const char *bad[] = {
		"", ".", "a..b", ".a", "a.b..",
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.com",
	};
	char longname[300];
	struct dns_stats st;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		answers = 0;
		struct dns_query *q = dns_query(ctx, bad[i], DNS_T_TXT, on_answer, NULL);
		ok(q == NULL && answers == 1 && last == DNS_S_ERROR, "bad name refused at once");
	}
	memset(longname, 'a', sizeof longname);
	for (int i = 1; i < 299; i += 2)
		longname[i] = '.';
	longname[255] = 0;                  /* 255 octets, ends in a label */
	answers = 0;
	ok(dns_query(ctx, longname, DNS_T_A, on_answer, NULL) == NULL && last == DNS_S_ERROR,
	   "255-octet name refused");
	answers = 0;
	ok(dns_query(ctx, "example.com", 0, on_answer, NULL) == NULL && last == DNS_S_ERROR,
	   "type 0 refused");
	dns_get_stats(ctx, &st);
	is_int(st.queries_sent, 0, "no query sent for any of them");
	is_str(dns_status_str(DNS_S_NXDOMAIN), "NXDOMAIN", "status names");
}

static void test_servers(void)
{
	static const char *const good[][3] = {
		{ "127.0.0.1", NULL }, { "127.0.0.1:5353", NULL }, { "::1", NULL },
		{ "[::1]:5353", "192.0.2.1:53", NULL }, { "[2001:db8::1]", NULL },
	};
	static const char *const badl[][2] = {
		{ "localhost", NULL }, { "127.0.0.1:0", NULL }, { "127.0.0.1:65536", NULL },
		{ "[::1", NULL }, { "[::1]x", NULL }, { "1.2.3.4:53x", NULL }, { "", NULL },
	};
	char err[256];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct dns_opts o = { .servers = good[i] };
		struct dns_ctx *ctx;
		int rc = dns_ctx_new(&ctx, &o, err, sizeof err);
		ok(rc == 0, "server list accepted");
		if (rc != 0)
			printf("# %s: %s\n", good[i][0], err);
		dns_ctx_free(ctx);
	}
	for (size_t i = 0; i < sizeof badl / sizeof badl[0]; i++) {
		struct dns_opts o = { .servers = badl[i] };
		struct dns_ctx *ctx;
		err[0] = 0;
		int rc = dns_ctx_new(&ctx, &o, err, sizeof err);
		ok(rc < 0 && ctx == NULL && err[0], "bad server refused with a message");
	}
	const char *none[] = { NULL };
	struct dns_opts o = { .servers = none };
	struct dns_ctx *ctx;
	ok(dns_ctx_new(&ctx, &o, err, sizeof err) < 0, "empty server list refused");
}

static void test_free_pending(void)
{
	/* A loopback socket nobody reads: the queries stay pending. */
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sin;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	char addr[64];
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) < 0) {
		ok(0, "silent loopback socket");
		return;
	}
	snprintf(addr, sizeof addr, "127.0.0.1:%u", ntohs(sin.sin_port));
	const char *srv[] = { addr, NULL };
	struct dns_opts o = { .servers = srv, .timeout_ms = 5000, .cache_bytes = 10000 };
	struct dns_ctx *ctx;
	char err[256];
	struct dns_stats st;

	if (!ok(dns_ctx_new(&ctx, &o, err, sizeof err) == 0, "context with a silent server")) {
		close(fd);
		return;
	}
	answers = 0;
	struct dns_query *q1 = dns_query(ctx, "example.com", DNS_T_TXT, on_answer, NULL);
	struct dns_query *q2 = dns_query(ctx, "EXAMPLE.com.", DNS_T_TXT, on_answer, NULL);
	struct dns_query *q3 = dns_query(ctx, "example.org", DNS_T_TXT, on_answer, NULL);
	dns_get_stats(ctx, &st);
	ok(q1 && q2 && q3, "queries pending");
	is_int(st.queries_sent, 2, "same name, other case: one query");
	is_int(st.shared, 1, "counted as shared");
	dns_cancel(q1);
	dns_cancel(q3);             /* last waiter: abandoned, c-ares keeps it */
	q3 = dns_query(ctx, "example.org", DNS_T_TXT, on_answer, NULL);
	dns_get_stats(ctx, &st);
	is_int(st.queries_sent, 3, "a new lookup does not join an abandoned query");
	dns_timer_start(ctx, 10000, mark, NULL);
	dns_ctx_free(ctx);
	is_int(answers, 0, "freeing the context calls no callback (and leaks nothing)");
	close(fd);
}

int main(void)
{
	const char *srv[] = { "127.0.0.1:9", NULL };
	struct dns_opts o = { .servers = srv };
	struct dns_ctx *ctx;
	char err[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!ok(dns_ctx_new(&ctx, &o, err, sizeof err) == 0, "context"))
		return tap_done();
	test_timers(ctx);
	test_names(ctx);
	dns_ctx_free(ctx);
	test_servers();
	test_free_pending();
	return tap_done();
}
