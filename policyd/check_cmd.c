/*
 * check_cmd - `policyd-spf check --ip IP --sender ADDR --helo NAME ...`.
 *
 * Prints the result word on line 1; for fail the explanation on line 2
 * (the record's exp= text, else --default-explanation, else pyspf's
 * "SPF fail - not authorized"); for permerror and temperror the problem
 * text on line 2.  The exit status tells the result:
 *   0 pass, 1 fail, 2 softfail, 3 neutral, 4 none, 5 permerror,
 *   6 temperror, 64 usage error, 70 internal error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "check_cmd.h"
#include "dns.h"
#include "loop.h"
#include "spf.h"

#define EX_USAGE_ 64
#define EX_SOFTWARE_ 70
#define MAX_SERVERS 16
struct cmd_state {
	struct event_base *base;
	bool done;
	enum spf_result result;
	char *explanation, *problem;
};

static void on_trace(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "trace: %s\n", line);
}

static void on_done(void *arg, const struct spf_response *res)
{
	struct cmd_state *st = arg;
	st->done = true;
	st->result = res->result;
	if (res->explanation)
		st->explanation = strdup(res->explanation);
	if (res->problem)
		st->problem = strdup(res->problem);
	if (st->base)
		event_base_loopbreak(st->base);
}

static int usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "policyd-spf check: %s\n", msg);
	fprintf(stderr,
		"usage: policyd-spf check --ip IP --sender ADDR --helo NAME\n"
		"       [--dns-server HOST[:PORT]]... [--default-explanation TEXT] [--trace]\n"
		"       [--dns-timeout-ms N] [--void-limit N] [--timeout SECONDS] [--receiver NAME]\n");
	return EX_USAGE_;
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

int check_cmd_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "sender", required_argument, NULL, 's' },
		{ "helo", required_argument, NULL, 'h' },
		{ "dns-server", required_argument, NULL, 'd' },
		{ "default-explanation", required_argument, NULL, 'e' },
		{ "trace", no_argument, NULL, 't' },
		{ "dns-timeout-ms", required_argument, NULL, 'T' },
		{ "void-limit", required_argument, NULL, 'v' },
		{ "timeout", required_argument, NULL, 'W' },
		{ "receiver", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ip = NULL, *sender = NULL, *helo = NULL, *dexp = NULL, *receiver = NULL;
	const char *servers[MAX_SERVERS + 1];
	int nservers = 0;
	bool do_trace = false;
	long dns_timeout = 0, void_limit = 2, timeout_s = 20;

	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'i': ip = optarg; break;
		case 's': sender = optarg; break;
		case 'h': helo = optarg; break;
		case 'e': dexp = optarg; break;
		case 'r': receiver = optarg; break;
		case 't': do_trace = true; break;
		case 'd':
			if (nservers == MAX_SERVERS)
				return usage("too many --dns-server options");
			servers[nservers++] = optarg;
			break;
		case 'T':
			if (!parse_long(optarg, 1, 600000, &dns_timeout))
				return usage("--dns-timeout-ms wants 1..600000");
			break;
		case 'v':
			if (!parse_long(optarg, -1000, 1000, &void_limit))
				return usage("--void-limit wants -1000..1000");
			break;
		case 'W':
			if (!parse_long(optarg, -1, 86400, &timeout_s))
				return usage("--timeout wants -1..86400 seconds (0 = none)");
			break;
		case 'H':
			usage(NULL);
			return 0;
		default:
			return usage("unknown option or missing argument");
		}
	}
	if (optind < argc)
		return usage("unexpected argument");
	if (ip == NULL || sender == NULL || helo == NULL)
		return usage("--ip, --sender and --helo are required");
	servers[nservers] = NULL;

	struct dns_opts dopts = {
		.servers = nservers ? servers : NULL,
		.timeout_ms = (int)dns_timeout,
		.tries = 0,
		.cache_bytes = 1u << 20,
	};
	char err[256];
	struct dns_ctx *dns;
	if (dns_ctx_new(&dns, &dopts, err, sizeof(err)) != 0) {
		fprintf(stderr, "policyd-spf check: DNS setup failed: %s\n", err);
		return EX_SOFTWARE_;
	}
	struct cmd_state st = { .base = event_base_new() };
	struct loop_dns *ld = st.base ? loop_dns_attach(st.base, dns) : NULL;
	if (ld == NULL) {
		fprintf(stderr, "policyd-spf check: event loop setup failed\n");
		if (st.base)
			event_base_free(st.base);
		dns_ctx_free(dns);
		return EX_SOFTWARE_;
	}

	struct spf_request req = {
		.ip = ip,
		.sender = sender,
		.helo = helo,
		.receiver = receiver,
		.void_limit = (int)void_limit,
		.lookup_limit = 0,
		.timeout_ms = timeout_s > 0 ? timeout_s * 1000 : (timeout_s < 0 ? -1 : 0),
		.default_exp = dexp,
		.trace = do_trace ? on_trace : NULL,
	};
	spf_check_start(dns, &req, on_done, &st);
	/* a check always ends: by an answer, a DNS timeout or its deadline */
	while (!st.done)
		if (event_base_loop(st.base, EVLOOP_ONCE) != 0)
			break;
	loop_dns_detach(ld);
	dns_ctx_free(dns);
	event_base_free(st.base);
	if (!st.done) {
		fprintf(stderr, "policyd-spf check: internal error: the check did not complete\n");
		free(st.explanation);
		free(st.problem);
		return EX_SOFTWARE_;
	}
	static const int code[] = {
		[SPF_PASS] = 0, [SPF_FAIL] = 1, [SPF_SOFTFAIL] = 2, [SPF_NEUTRAL] = 3,
		[SPF_NONE] = 4, [SPF_PERMERROR] = 5, [SPF_TEMPERROR] = 6,
	};
	printf("%s\n", spf_result_word(st.result));
	if (st.result == SPF_FAIL)
		printf("%s\n", st.explanation ? st.explanation : "SPF fail - not authorized");
	else if (st.problem && (st.result == SPF_PERMERROR || st.result == SPF_TEMPERROR))
		printf("%s\n", st.problem);
	free(st.explanation);
	free(st.problem);
	if (fflush(stdout) != 0)
		return EX_SOFTWARE_;
	return code[st.result];
}
