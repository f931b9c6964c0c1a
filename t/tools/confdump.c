/*
 * confdump - load a policyd-spf.conf with lib/conf and print the Python
 * keys one per line, sorted, as Python's repr() shows the values the
 * Python reader stores (t/policy-conf.t compares this with the Python
 * reader's own dump).  Log lines go to stderr.  Exit 1 when the file stops
 * start-up, printing the error.
 *
 *   confdump FILE            Python keys
 *   confdump --ours FILE     our own keys too
 *   confdump --check FILE    conf_check() report
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "pystr.h"

struct item { const char *k; char *v; };

static int cmp(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->k, ((const struct item *)b)->k);
}

static void report(void *arg, const char *line)
{
	(void)arg;
	printf("%s\n", line);
}

int main(int argc, char **argv)
{
	char err[1024];
	struct conf *c;
	struct item it[64];
	size_t n = 0;
	int ours = 0;

	log_open("policyd-spf", LOG_DEST_STDERR);
	if (argc == 3 && strcmp(argv[1], "--check") == 0)
		return conf_check(argv[2], report, NULL) ? 1 : 0;
	if (argc == 3 && strcmp(argv[1], "--ours") == 0) {
		ours = 1;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: confdump [--ours|--check] FILE\n");
		return 2;
	}
	if (!(c = conf_load(argv[1], err, sizeof err))) {
		printf("ERROR %s\n", err);
		return 1;
	}
	const struct conf_py *p = c->py;
#define VLEN(s) (strlen(s) * 4 + 16)
#define S(name, f) do { if (p->f) { it[n].k = name; it[n].v = malloc(VLEN(p->f)); if (!it[n].v) return 1; pystr_repr(p->f, it[n].v, VLEN(p->f)); n++; } } while (0)
#define I(name, f) do { it[n].k = name; if (!(it[n].v = malloc(16))) return 1; snprintf(it[n].v, 16, "%d", p->f); n++; } while (0)
#define B(name, f) do { it[n].k = name; it[n].v = strdup(p->f ? "True" : "False"); if (!it[n].v) return 1; n++; } while (0)
	I("debugLevel", debug_level);
	I("TestOnly", test_only);
	if (p->has_default_seed_only)
		I("defaultSeedOnly", default_seed_only);
	S("HELO_reject", helo_reject);
	S("Mail_From_reject", mail_from_reject);
	S("PermError_reject", permerror_reject);
	S("TempError_Defer", temperror_defer);
	S("HELO_pass_restriction", helo_pass_restriction);
	S("Mail_From_pass_restriction", mail_from_pass_restriction);
	S("Prospective", prospective);
	S("skip_addresses", skip_addresses);
	S("Whitelist", whitelist);
	S("HELO_Whitelist", helo_whitelist);
	S("Domain_Whitelist", domain_whitelist);
	S("Domain_Whitelist_PTR", domain_whitelist_ptr);
	if (p->no_mail)
		S("No_Mail", no_mail);
	else {
		it[n].k = "No_Mail";
		if (!(it[n++].v = strdup("False")))
			return 1;
	}
	S("Reject_Not_Pass_Domains", reject_not_pass_domains);
	S("Per_User", per_user);
	S("SPF_Enhanced_Status_Codes", spf_enhanced_status_codes);
	S("Header_Type", header_type);
	S("Hide_Receiver", hide_receiver);
	S("Authserv_Id", authserv_id);
	I("Lookup_Time", lookup_time);
	I("Whitelist_Lookup_Time", whitelist_lookup_time);
	I("Void_Limit", void_limit);
	S("Reason_Message", reason_message);
	B("Mock", mock);
	S("Socket", m_socket);
	S("PidFile", m_pidfile);
	S("UserID", m_userid);
	I("UMask", m_umask);
	qsort(it, n, sizeof it[0], cmp);
	for (size_t i = 0; i < n; i++) {
		printf("%s=%s\n", it[i].k, it[i].v);
		free(it[i].v);
	}
	if (ours) {
		for (size_t i = 0; i < c->nlisten; i++)
			printf("+Listen=%s\n", c->listen[i]);
		for (size_t i = 0; i < c->ndns; i++)
			printf("+DNS_Servers=%s\n", c->dns_servers[i]);
		printf("+Socket_Mode=%o\n+Workers=%d\n+Log_Destination=%s\n+Max_Connections=%d\n"
		       "+Idle_Timeout=%d\n+Request_Timeout=%d\n+DNS_Cache_Size=%zu\n"
		       "+Envelope_From_Escape=%s\n+NAT_Warning_Interval=%d\n+DNS_Timeout=%d\n+DNS_Tries=%d\n+SERVFAIL_Is_Temperror=%s\n",
		       c->socket_mode < 0 ? 0 : c->socket_mode, c->workers, c->log_stderr ? "stderr" : "syslog",
		       c->max_connections, c->idle_timeout, c->request_timeout, c->dns_cache_bytes,
		       c->srs_escape ? "Yes" : "No", c->nat_warning_minutes, c->dns_timeout_ms, c->dns_tries,
		       c->servfail_temperror ? "Yes" : "No");
		printf("+User=%s\n+Group=%s\n+Socket_Owner=%s\n", c->user ? c->user : "",
		       c->group ? c->group : "", c->socket_owner ? c->socket_owner : "");
	}
	conf_unref(c);
	return 0;
}
