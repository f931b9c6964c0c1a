/*
 * test_dnsdirect - the parts of lib/dnsdirect that need no DNS server:
 * which names take the direct path, that a dead or silent server ends in
 * TIMEOUT within timeout x tries, and that no socket outlives its query
 * (answer, timeout, or the context freed with queries on the wire and in
 * line).  Answers from a real server are t/dns-direct.t's job.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns.h"
#include "dnsdirect.h"
#include "tap.h"

#define MAXFD 256

static int fds[MAXFD];
static short want[MAXFD];
static int nfds;
static int answers;
static enum dns_status last;

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void on_io(void *arg, int fd, bool r, bool w)
{
	int i;

	(void)arg;
	for (i = 0; i < nfds && fds[i] != fd; i++)
		;
	if (!r && !w) {
		if (i < nfds) {
			fds[i] = fds[--nfds];
			want[i] = want[nfds];
		}
		return;
	}
	if (i == nfds) {
		if (nfds == MAXFD)
			return;
		fds[nfds++] = fd;
	}
	want[i] = (short)((r ? POLLIN : 0) | (w ? POLLOUT : 0));
}

static void on_answer(void *arg, const struct dns_answer *a)
{
	(void)arg;
	answers++;
	last = a->status;
}

/* Drive ctx as the daemon's loop does until want answers or ms pass. */
static void run(struct dns_ctx *ctx, int want_answers, long ms)
{
	long long end = dns_now_ms() + ms;

	while (answers < want_answers && dns_now_ms() < end) {
		struct pollfd p[MAXFD];
		struct timeval tv;
		int wait = 20, n = nfds;
		if (dns_next_timeout(ctx, &tv)) {
			long t = (long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
			if (t < wait)
				wait = (int)t;
		}
		for (int i = 0; i < n; i++) {
			p[i].fd = fds[i];
			p[i].events = want[i];
			p[i].revents = 0;
		}
		int rc = poll(p, (nfds_t)n, wait);
		for (int i = 0; rc > 0 && i < n; i++)
			if (p[i].revents)
				dns_process(ctx, (p[i].revents & ~POLLOUT) ? p[i].fd : -1,
					    (p[i].revents & POLLOUT) ? p[i].fd : -1);
		dns_process(ctx, -1, -1);
	}
}

static void test_wants(void)
{
	const char *plain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._/*";
	int wrong = 0;
	char name[4] = "a?b";

	for (int c = 1; c < 256; c++) {
		name[1] = (char)c;
		bool expect = strchr(plain, c) == NULL;
		if (dnsdirect_wants(name) != expect) {
			printf("# byte %d: wants=%d\n", c, !expect);
			wrong++;
		}
	}
	ok(wrong == 0, "direct path exactly for bytes outside [A-Za-z0-9-._/*]");
	ok(!dnsdirect_wants("_spf.example.com"), "a plain name stays with c-ares");
	ok(dnsdirect_wants("user+tag._spf.example.com"), "'+' goes direct");
	ok(dnsdirect_wants("caf\xc3\xa9.example.com"), "bytes >= 0x80 go direct");
}

static int silent_socket(char *addr, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sin;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) < 0)
		return -1;
	snprintf(addr, len, "127.0.0.1:%u", ntohs(sin.sin_port));
	return fd;
}

static void test_timeouts(void)
{
	char addr[64], err[256];
	int sfd = silent_socket(addr, sizeof addr);
	const char *srv[] = { addr, NULL };
	const char *dead[] = { "127.0.0.1:9", NULL };
	struct dns_opts o = { .servers = srv, .timeout_ms = 150, .tries = 2 };
	struct dns_ctx *ctx;

	if (!ok(sfd >= 0, "silent loopback socket"))
		return;
	int base = open_fds();
	if (!ok(dns_ctx_new(&ctx, &o, err, sizeof err) == 0, "context with a silent server"))
		return;
	dns_set_io_cb(ctx, on_io, NULL);
	answers = 0;
	long long t0 = dns_now_ms();
	dns_query(ctx, "a+b.example.com", DNS_T_TXT, on_answer, NULL);
	run(ctx, 1, 3000);
	long long took = dns_now_ms() - t0;
	ok(answers == 1 && last == DNS_S_TIMEOUT, "silent server: TIMEOUT");
	printf("# silent server: %lld ms\n", took);
	ok(took >= 290 && took < 1500, "after 2 tries of 150 ms");
	ok(nfds == 0, "no socket watched after the timeout");
	dns_ctx_free(ctx);
	is_int(open_fds(), base, "every socket closed");

	o.servers = dead;
	if (!ok(dns_ctx_new(&ctx, &o, err, sizeof err) == 0, "context with a dead server"))
		return;
	dns_set_io_cb(ctx, on_io, NULL);
	answers = 0;
	t0 = dns_now_ms();
	dns_query(ctx, "a=b.example.com", DNS_T_A, on_answer, NULL);
	run(ctx, 1, 3000);
	took = dns_now_ms() - t0;
	ok(answers == 1 && last == DNS_S_TIMEOUT, "dead server (port unreachable): TIMEOUT");
	printf("# dead server: %lld ms\n", took);
	ok(took < 290, "without waiting for the timeouts");
	dns_ctx_free(ctx);
	is_int(open_fds(), base, "every socket closed");
	close(sfd);
}

/* Freed with queries on the wire, abandoned, and in line past the cap. */
static void test_free_pending(void)
{
	char addr[64], err[256], name[64];
	int sfd = silent_socket(addr, sizeof addr);
	const char *srv[] = { addr, NULL };
	struct dns_opts o = { .servers = srv, .timeout_ms = 5000, .max_inflight = 1000 };
	struct dns_ctx *ctx;
	struct dns_stats st;

	if (!ok(sfd >= 0, "silent loopback socket"))
		return;
	int base = open_fds();
	if (!ok(dns_ctx_new(&ctx, &o, err, sizeof err) == 0, "context"))
		return;
	dns_set_io_cb(ctx, on_io, NULL);
	answers = 0;
	for (int i = 0; i < DNSDIRECT_MAX + 10; i++) {
		snprintf(name, sizeof name, "n+%d.example.com", i);
		struct dns_query *q = dns_query(ctx, name, DNS_T_TXT, on_answer, NULL);
		if (i == 0 || i == DNSDIRECT_MAX + 5)
			dns_cancel(q);
	}
	dns_query(ctx, "plain.example.com", DNS_T_TXT, on_answer, NULL);
	run(ctx, 1, 100);
	dns_get_stats(ctx, &st);
	is_int(st.in_flight, DNSDIRECT_MAX + 11, "every query counts as in flight");
	is_int(nfds, DNSDIRECT_MAX + 1, "one socket per direct query on the wire, plus c-ares'");
	printf("# %d descriptors over the base\n", open_fds() - base);
	ok(open_fds() <= base + DNSDIRECT_MAX + 2, "no more sockets than that");
	dns_ctx_free(ctx);
	is_int(answers, 0, "freeing the context calls no callback");
	is_int(nfds, 0, "every socket unwatched");
	is_int(open_fds(), base, "every socket closed (and, under ASan, nothing leaked)");
	close(sfd);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_wants();
	test_timeouts();
	test_free_pending();
	return tap_done();
}
