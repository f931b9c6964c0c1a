/*
 * test_dnsdirect - lib/dnsdirect below the engine: which names take the
 * direct path, that a dead or silent server ends in TIMEOUT within
 * timeout x tries, that no socket outlives its query (answer, timeout, or
 * the context freed with queries on the wire and in line), and that the
 * one UDP receive buffer, shared by all answers, is poisoned under ASan
 * once an answer's callback is over (t/dnsd.py answers; what the engine
 * makes of answers is t/dns-direct.t's job).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "asan.h"
#include "dns.h"
#include "dnsdirect.h"
#include "dnsmsg.h"
#include "tap.h"

#if PSPF_ASAN
#include <sanitizer/asan_interface.h>
#define POISONED(p, n) (__asan_region_is_poisoned((void *)(p), (size_t)(n)) == (void *)(p))
#define READABLE(p, n) (__asan_region_is_poisoned((void *)(p), (size_t)(n)) == NULL)
#else
#define POISONED(p, n) 0
#define READABLE(p, n) 1
#endif

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

/* ---- the shared UDP buffer, with t/dnsd.py answering ---- */

struct dnsd {
	pid_t pid;
	int in;                 /* its stdin: closing it stops it (--exit-on-stdin-eof) */
	int port;
	char zone[64];
};

/* t/dnsd.py from the top of the tree: the working directory (prove's),
 * else two levels above this binary (build/t/, build-asan/t/). */
static bool dnsd_path(char *out, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n;

	snprintf(out, len, "t/dnsd.py");
	if (access(out, R_OK) == 0)
		return true;
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	snprintf(out, len, "%s/../../t/dnsd.py", dirname(exe));
	return access(out, R_OK) == 0;
}

static bool dnsd_start(struct dnsd *s, const char *zone_yaml)
{
	char path[PATH_MAX + 32], line[64];
	int in[2], out[2], fd;
	size_t got = 0;

	s->pid = -1;
	s->in = -1;
	snprintf(s->zone, sizeof s->zone, "/tmp/test_dnsdirect.XXXXXX");
	if (!dnsd_path(path, sizeof path)) {
		printf("# t/dnsd.py not found (run from the top of the tree)\n");
		return false;
	}
	fd = mkstemp(s->zone);
	if (fd < 0)
		return false;
	if (write(fd, zone_yaml, strlen(zone_yaml)) != (ssize_t)strlen(zone_yaml)) {
		close(fd);
		return false;
	}
	close(fd);
	if (pipe2(in, O_CLOEXEC) < 0)
		return false;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return false;
	}
	s->pid = fork();
	if (s->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl("/usr/bin/python3", "python3", path, "--port", "0", "--zone", s->zone,
		      "--exit-on-stdin-eof", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s->in = in[1];
	if (s->pid < 0) {
		close(out[0]);
		return false;
	}
	/* "ready PORT\n", within 10 s */
	while (got < sizeof line - 1 && !memchr(line, '\n', got)) {
		struct pollfd p = { .fd = out[0], .events = POLLIN };
		ssize_t n;
		if (poll(&p, 1, 10000) <= 0 || (n = read(out[0], line + got, sizeof line - 1 - got)) <= 0)
			break;
		got += (size_t)n;
	}
	close(out[0]);
	line[got] = '\0';
	return sscanf(line, "ready %d", &s->port) == 1 && s->port > 0;
}

static void dnsd_stop(struct dnsd *s)
{
	int st;

	if (s->in >= 0)
		close(s->in);
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, &st, 0);
	}
	unlink(s->zone);
}

/* What an answer callback saw, and the pointer it kept. */
struct kept {
	int calls, status, alen;
	const unsigned char *abuf;
	bool whole;             /* every byte readable during the callback */
	unsigned ancount;
};

static void keep_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct kept *k = arg;

	(void)timeouts;
	k->calls++;
	k->status = status;
	k->abuf = abuf;
	k->alen = alen;
	k->whole = abuf != NULL && alen >= 12 && READABLE(abuf, alen);
	k->ancount = k->whole ? (unsigned)(abuf[6] << 8 | abuf[7]) : 0;
}

/* dnsdirect announces its sockets as c-ares does; on_io keeps the list */
static void on_sock(void *arg, ares_socket_t fd, int readable, int writable)
{
	on_io(arg, fd, readable != 0, writable != 0);
}

/* Serve d's sockets (on_io's list) and ctx's timers until k is called back. */
static void run_direct(struct dns_ctx *ctx, struct dnsdirect *d, struct kept *k, long ms)
{
	long long end = dns_now_ms() + ms;

	while (k->calls == 0 && dns_now_ms() < end) {
		struct pollfd p[MAXFD];
		int n = nfds;
		for (int i = 0; i < n; i++) {
			p[i].fd = fds[i];
			p[i].events = want[i];
			p[i].revents = 0;
		}
		int rc = poll(p, (nfds_t)n, 20);
		for (int i = 0; rc > 0 && i < n && k->calls == 0; i++)
			if (p[i].revents)
				dnsdirect_process(d, (p[i].revents & ~POLLOUT) ? p[i].fd : -1,
						  (p[i].revents & POLLOUT) ? p[i].fd : -1);
		dns_process(ctx, -1, -1);
	}
}

static bool ask(struct dns_ctx *ctx, struct dnsdirect *d, const char *name, struct kept *k)
{
	unsigned char msg[DNSMSG_QUERY_MAX];
	int len = dnsmsg_build_query(msg, sizeof msg, name, DNS_T_TXT, 0, DNSMSG_EDNS_SIZE);

	memset(k, 0, sizeof *k);
	if (len < 0 || dnsdirect_send(d, msg, len, 0, keep_answer, k) < 0)
		return false;
	run_direct(ctx, d, k, 5000);
	return k->calls == 1;
}

static void test_udp_buffer(void)
{
	static const char zone[] =
		"a+b.example.com:\n  - TXT: \"v=spf1 -all\"\n"
		"c=d.example.com:\n  - TXT: \"v=spf1 +all\"\n";
	struct dnsd srv;
	char addr[64], err[256];
	const char *servers[] = { addr, NULL };
	struct dns_opts o = { .servers = servers, .timeout_ms = 2000, .tries = 2 };
	struct dns_ctx *ctx = NULL;
	ares_channel ch = NULL;
	struct dnsdirect *d = NULL;
	struct kept k1, k2;
	struct ares_options ao;

	memset(&ao, 0, sizeof ao);
	printf("# PSPF_ASAN=%d\n", PSPF_ASAN);
	if (!ok(dnsd_start(&srv, zone), "t/dnsd.py ready"))
		goto out;
	snprintf(addr, sizeof addr, "127.0.0.1:%d", srv.port);
	if (!ok(dns_ctx_new(&ctx, &o, err, sizeof err) == 0, "context (for its timers)"))
		goto out;
	/* ares_init_options: ares_init is deprecated from 1.34 on (Debian 13) */
	if (!ok(ares_init_options(&ch, &ao, 0) == ARES_SUCCESS &&
		ares_set_servers_ports_csv(ch, addr) == ARES_SUCCESS,
		"c-ares channel naming the server"))
		goto out;
	d = dnsdirect_new(ctx, ch, 2000, 2, on_sock, NULL);
	if (!ok(d != NULL, "dnsdirect_new"))
		goto out;

	ok(ask(ctx, d, "a+b.example.com", &k1), "first answer called back");
	is_int(k1.status, ARES_SUCCESS, "  ARES_SUCCESS");
	ok(k1.whole && k1.ancount == 1, "  the whole answer readable in the callback, one record");
	if (PSPF_ASAN)
		ok(POISONED(k1.abuf, k1.alen), "ASan build: the answer's bytes are poisoned after its callback");
	else
		ok(k1.abuf != NULL, "plain build: the buffer is reused as it was (ASan checks the poisoning)");

	ok(ask(ctx, d, "c=d.example.com", &k2), "second answer called back");
	is_int(k2.status, ARES_SUCCESS, "  ARES_SUCCESS");
	ok(k2.whole && k2.ancount == 1, "  readable again in its callback");
	ok(k2.abuf == k1.abuf, "  in the same shared buffer");
	if (PSPF_ASAN)
		ok(POISONED(k2.abuf, k2.alen), "ASan build: poisoned again after the second callback");
	ok(nfds == 0, "no socket watched after the answers");
out:
	dnsdirect_free(d);
	if (ch)
		ares_destroy(ch);
	dns_ctx_free(ctx);
	dnsd_stop(&srv);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_wants();
	test_timeouts();
	test_free_pending();
	test_udp_buffer();
	return tap_done();
}
