/*
 * spf-probe - test helper: runs the same SPF check N times at once on one
 * dns_ctx (so the later ones share queries or hit the cache), then once
 * more after all are done (every answer from the cache: dns_query calls
 * back synchronously), and prints one line per check:
 *   result|explanation|problem|mechanism|first_txt|lookups|voids|cache_hits
 * Used by t/engine.t; not installed.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "spf.h"

#define MAX_FDS 64

static struct { int fd; bool rd, wr; } w[MAX_FDS];
static int nw;
static int outstanding;

static void on_io(void *arg, int fd, bool rd, bool wr)
{
	(void)arg;
	int k;
	for (k = 0; k < nw; k++)
		if (w[k].fd == fd)
			break;
	if (!rd && !wr) {
		if (k < nw)
			w[k] = w[--nw];
		return;
	}
	if (k == nw && nw < MAX_FDS)
		nw++;
	if (k < MAX_FDS) {
		w[k].fd = fd;
		w[k].rd = rd;
		w[k].wr = wr;
	}
}

static void on_done(void *arg, const struct spf_response *r)
{
	(void)arg;
	printf("%s|%s|%s|%s|%s|%u|%u|%u\n", spf_result_word(r->result),
	       r->explanation ? r->explanation : "", r->problem ? r->problem : "",
	       r->mechanism ? r->mechanism : "", r->first_txt ? r->first_txt : "", r->lookups, r->voids,
	       r->cache_hits);
	outstanding--;
}

static void on_trace(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "trace: %s\n", line);
}

static void run(struct dns_ctx *dns)
{
	while (outstanding > 0) {
		struct timeval tv, *tp = dns_next_timeout(dns, &tv);
		int ms = tp ? (int)(tp->tv_sec * 1000 + (tp->tv_usec + 999) / 1000) : -1;
		if (!tp && nw == 0) {
			fprintf(stderr, "spf-probe: checks outstanding but nothing to wait for\n");
			exit(70);
		}
		struct pollfd p[MAX_FDS];
		int n = nw;
		for (int k = 0; k < n; k++) {
			p[k].fd = w[k].fd;
			p[k].events = (short)((w[k].rd ? POLLIN : 0) | (w[k].wr ? POLLOUT : 0));
			p[k].revents = 0;
		}
		int r = poll(p, (nfds_t)n, ms);
		if (r < 0 && errno != EINTR)
			exit(70);
		if (r <= 0) {
			dns_process(dns, -1, -1);
			continue;
		}
		for (int k = 0; k < n; k++)
			if (p[k].revents)
				dns_process(dns, (p[k].revents & ~POLLOUT) ? p[k].fd : -1,
					    (p[k].revents & POLLOUT) ? p[k].fd : -1);
	}
}

int main(int argc, char **argv)
{
	const char *servers[2] = { NULL, NULL };
	struct spf_request req = { .void_limit = SPF_VOID_LIMIT_DEFAULT };
	int parallel = 1, cancel = 0;
	long dns_ms = 0;
	static const struct option opts[] = {
		{ "dns-server", 1, NULL, 'd' }, { "ip", 1, NULL, 'i' },     { "sender", 1, NULL, 's' },
		{ "helo", 1, NULL, 'h' },       { "void-limit", 1, NULL, 'v' },
		{ "timeout-ms", 1, NULL, 'T' }, { "dns-timeout-ms", 1, NULL, 'D' },
		{ "parallel", 1, NULL, 'p' },   { "default-exp", 1, NULL, 'e' },
		{ "trace", 0, NULL, 't' },      { "cancel", 0, NULL, 'c' },
		{ "servfail-void", 0, NULL, 'S' }, { NULL, 0, NULL, 0 },
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': servers[0] = optarg; break;
		case 'i': req.ip = optarg; break;
		case 's': req.sender = optarg; break;
		case 'h': req.helo = optarg; break;
		case 'v': req.void_limit = atoi(optarg); break;
		case 'T': req.timeout_ms = atol(optarg); break;
		case 'D': dns_ms = atol(optarg); break;
		case 'p': parallel = atoi(optarg); break;
		case 'e': req.default_exp = optarg; break;
		case 't': req.trace = on_trace; break;
		case 'c': cancel = 1; break;
		case 'S': req.servfail_void = true; break;
		default: return 64;
		}
	}
	if (!servers[0] || !req.ip || !req.sender || !req.helo || parallel < 1 || parallel > 1000)
		return 64;
	struct dns_opts o = { .servers = servers, .timeout_ms = (int)dns_ms, .cache_bytes = 1 << 20 };
	struct dns_ctx *dns;
	char err[256];
	if (dns_ctx_new(&dns, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "spf-probe: %s\n", err);
		return 70;
	}
	dns_set_io_cb(dns, on_io, NULL);
	struct spf_check **cs = calloc((size_t)parallel, sizeof(*cs));
	for (int k = 0; k < parallel; k++) {
		outstanding++;
		cs[k] = spf_check_start(dns, &req, on_done, NULL);
	}
	if (cancel) {
		/* cancel everything still running: nothing may be printed for them */
		for (int k = 0; k < parallel; k++)
			if (cs[k]) {
				spf_check_cancel(cs[k]);
				outstanding--;
			}
		printf("cancelled\n");
	}
	run(dns);
	outstanding++;
	struct spf_check *again = spf_check_start(dns, &req, on_done, NULL);
	if (again && !cancel)
		printf("second round not answered from the cache\n");
	run(dns);
	free(cs);
	dns_ctx_free(dns);
	return 0;
}
