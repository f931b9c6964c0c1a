/*
 * spf2check - one SPF check through libspf2 (Debian libspf2-dev), the
 * second opinion of t/spf-libspf2.t.  Not part of the product: libspf2
 * resolves through the system resolver, so the test runs this inside a
 * network namespace whose /etc/resolv.conf names t/dnsd.py.
 *
 *   spf2check --ip IP --sender ADDR --helo NAME [--default-explanation T]
 *
 * Prints the result word (and the explanation on line 2 for fail), exit
 * status 0 pass, 1 fail, 2 softfail, 3 neutral, 4 none, 5 permerror,
 * 6 temperror, 7 when libspf2 gave no usable result, 64 on bad usage:
 * the same contract as `policyd-spf check`.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spf2/spf.h>

static int
usage(void)
{
	fprintf(stderr, "usage: spf2check --ip IP --sender ADDR --helo NAME"
	    " [--default-explanation TEXT]\n");
	return 64;
}

/* The result word as policyd-spf prints it, and its exit status. */
static const char *
result_word(SPF_result_t r, int *status)
{
	switch (r) {
	case SPF_RESULT_PASS: *status = 0; return "pass";
	case SPF_RESULT_FAIL: *status = 1; return "fail";
	case SPF_RESULT_SOFTFAIL: *status = 2; return "softfail";
	case SPF_RESULT_NEUTRAL: *status = 3; return "neutral";
	case SPF_RESULT_NONE: *status = 4; return "none";
	case SPF_RESULT_PERMERROR: *status = 5; return "permerror";
	case SPF_RESULT_TEMPERROR: *status = 6; return "temperror";
	default: *status = 7; return "invalid";
	}
}

int
main(int argc, char **argv)
{
	const char *ip = NULL, *sender = NULL, *helo = NULL, *defexp = NULL;
	SPF_server_t *srv;
	SPF_request_t *req;
	SPF_response_t *resp = NULL, *eresp = NULL;
	SPF_errcode_t err;
	const char *word, *exp;
	int i, status;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "check") == 0)
			continue;
		if (i + 1 >= argc)
			return usage();
		if (strcmp(argv[i], "--ip") == 0)
			ip = argv[++i];
		else if (strcmp(argv[i], "--sender") == 0)
			sender = argv[++i];
		else if (strcmp(argv[i], "--helo") == 0)
			helo = argv[++i];
		else if (strcmp(argv[i], "--default-explanation") == 0)
			defexp = argv[++i];
		else
			return usage();
	}
	if (ip == NULL || sender == NULL || helo == NULL)
		return usage();

	srv = SPF_server_new(SPF_DNS_RESOLV, 0);
	if (srv == NULL) {
		fprintf(stderr, "spf2check: SPF_server_new failed\n");
		return 7;
	}
	if (defexp != NULL &&
	    SPF_server_set_explanation(srv, defexp, &eresp) != SPF_E_SUCCESS)
		fprintf(stderr, "spf2check: cannot set the default explanation\n");
	if (eresp != NULL)
		SPF_response_free(eresp);

	req = SPF_request_new(srv);
	if (strchr(ip, ':') != NULL)
		err = SPF_request_set_ipv6_str(req, ip);
	else
		err = SPF_request_set_ipv4_str(req, ip);
	if (err != SPF_E_SUCCESS) {
		fprintf(stderr, "spf2check: bad ip %s: %s\n", ip, SPF_strerror(err));
		SPF_request_free(req);
		SPF_server_free(srv);
		return 7;
	}
	/* The HELO name first: an empty sender then becomes postmaster@HELO. */
	if (*helo != '\0')
		SPF_request_set_helo_dom(req, helo);
	if (SPF_request_set_env_from(req, sender) != 0)
		fprintf(stderr, "spf2check: env_from %s refused\n", sender);

	err = SPF_request_query_mailfrom(req, &resp);
	if (resp == NULL) {
		fprintf(stderr, "spf2check: no response (%s)\n", SPF_strerror(err));
		SPF_request_free(req);
		SPF_server_free(srv);
		return 7;
	}
	word = result_word(SPF_response_result(resp), &status);
	printf("%s\n", word);
	if (status == 1) {
		exp = SPF_response_get_explanation(resp);
		printf("%s\n", exp != NULL ? exp : "");
	}
	if (err != SPF_E_SUCCESS)
		fprintf(stderr, "spf2check: %s\n", SPF_strerror(err));
	SPF_response_free(resp);
	SPF_request_free(req);
	SPF_server_free(srv);
	return status;
}
