/*
 * test_conf - the policyd-spf.conf reader on real files: every lexical
 * case of reference §2.1 that inih would get wrong (long lines, indented
 * lines, ';' in values), plus '#', '=', duplicates, unknown and wrongly
 * cased keys, empty values, Python int() forms, bad integers, our own
 * keys, conf_check() and the Per_User file.  t/policy-conf.t compares
 * the same reader with the Python one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "tap.h"

static char dir[] = "/tmp/test_conf.XXXXXX";
static char path[256];

static const char *write_file(const char *name, const char *text)
{
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	return path;
}

static struct conf *load(const char *text)
{
	char err[512];
	struct conf *c = conf_load(write_file("t.conf", text), err, sizeof err);

	if (!c)
		printf("# load failed: %s\n", err);
	return c;
}

static char reports[4096];
static void collect(void *arg, const char *line)
{
	(void)arg;
	strncat(reports, line, sizeof reports - strlen(reports) - 2);
	strcat(reports, "\n");
}

int main(void)
{
	struct conf *c;
	char err[512], big[5000];
	int x;

	log_open("test_conf", LOG_DEST_STDERR);
	if (!mkdtemp(dir))
		return 1;

	/* defaults */
	c = conf_defaults();
	is_int(c->py->debug_level, 1, "default debugLevel");
	is_str(c->py->helo_reject, "Fail", "default HELO_reject");
	is_str(c->py->skip_addresses, "127.0.0.0/8,::ffff:127.0.0.0/104,::1", "default skip_addresses");
	is_str(c->py->reason_message, "Message {rejectdefer} due to: {spf}. Please see {url}", "default Reason_Message");
	ok(c->py->no_mail == NULL && c->py->whitelist == NULL && !c->py->mock, "unset keys");
	ok(c->srs_escape && c->request_timeout > 0, "our defaults");
	conf_unref(c);

	/* long line: inih 55 cuts at 200 bytes */
	strcpy(big, "Whitelist = ");
	for (int i = 0; i < 200; i++)
		sprintf(big + strlen(big), "10.%d.0.0/16,", i);
	strcat(big, "192.0.2.0/24\nHELO_reject = Softfail\n");
	c = load(big);
	ok(c && strlen(c->py->whitelist) > 2000 && strstr(c->py->whitelist, ",192.0.2.0/24") != NULL,
	   "long line kept whole");
	ok(c && strcmp(c->py->helo_reject, "Softfail") == 0, "line after a long line");
	conf_unref(c);

	/* indented line: not a continuation (inih would append it) */
	c = load("Reason_Message = a {spf}\n    HELO_reject = Null\n");
	is_str(c->py->reason_message, "a {spf}", "indented line: previous value unchanged");
	is_str(c->py->helo_reject, "Null", "indented line is a key of its own");
	conf_unref(c);

	/* ';' in a value: kept (inih strips " ;...") */
	c = load("Reason_Message = rejected ; {spf} ;see {url}\n;HELO_reject = Null\n");
	is_str(c->py->reason_message, "rejected ; {spf} ;see {url}", "';' kept in value");
	is_str(c->py->helo_reject, "Fail", "line starting with ';' is an unknown key, not a comment");
	conf_unref(c);

	/* '#' anywhere cuts */
	c = load("HELO_reject = Softfail# comment\nMail_From_reject = # False\n#TestOnly = 0\n");
	is_str(c->py->helo_reject, "Softfail", "'#' mid-value cuts");
	is_str(c->py->mail_from_reject, "", "'#' right after '=' leaves an empty value");
	is_int(c->py->test_only, 1, "commented line ignored");
	conf_unref(c);

	/* '=' in a value drops the line */
	c = load("Reason_Message = a=b {spf}\nHELO_reject = x = y\n");
	is_str(c->py->reason_message, "Message {rejectdefer} due to: {spf}. Please see {url}", "'=' in value: line dropped");
	is_str(c->py->helo_reject, "Fail", "'=' twice: line dropped");
	conf_unref(c);

	/* duplicates, unknown, wrong case, empty */
	c = load("HELO_reject = Softfail\nHELO_reject = SPF_Not_Pass\nhelo_reject = False\nFrob = 1\n"
		 "Whitelist =\nskip_addresses=\nMock = False\nNo_Mail = True\n");
	is_str(c->py->helo_reject, "SPF_Not_Pass", "last of duplicates wins; wrongly cased key ignored");
	is_str(c->py->whitelist, "", "empty value is an empty string");
	is_str(c->py->skip_addresses, "", "empty skip_addresses kept empty");
	ok(c->py->mock, "Mock = False is true (Python bool of a non-empty str)");
	is_str(c->py->no_mail, "True", "No_Mail string");
	conf_unref(c);

	/* Python int() */
	is_int(conf_parse_pyint("007", &x), 0, "int: leading zeros");
	is_int(x, 7, "  value");
	is_int(conf_parse_pyint("-1_000", &x), 0, "int: sign and '_'");
	is_int(x, -1000, "  value");
	is_int(conf_parse_pyint("+0", &x), 0, "int: +0");
	is_int(conf_parse_pyint("1__0", &x), -1, "int: double '_'");
	is_int(conf_parse_pyint("_1", &x), -1, "int: leading '_'");
	is_int(conf_parse_pyint("1_", &x), -1, "int: trailing '_'");
	is_int(conf_parse_pyint("", &x), -1, "int: empty");
	is_int(conf_parse_pyint("0x10", &x), -1, "int: hex");
	is_int(conf_parse_pyint("2.5", &x), -1, "int: float");
	is_int(conf_parse_pyint("- 1", &x), -1, "int: blank after sign");
	is_int(conf_parse_pyint("99999999999999999999", &x), 0, "int: huge accepted");
	is_int(x, 2147483647, "  clamped to INT_MAX");
	is_int(conf_parse_pyint("-99999999999999999999", &x), 0, "int: huge negative");
	is_int(x, -2147483647 - 1, "  clamped to INT_MIN");

	/* bad integer stops start-up with FILE:LINE */
	c = conf_load(write_file("bad.conf", "# c\nHELO_reject = Fail\n\ndebugLevel = yes\n"), err, sizeof err);
	ok(c == NULL, "bad integer: no conf");
	snprintf(big, sizeof big, "%s:4: invalid literal for int() with base 10: 'yes' (debugLevel)", path);
	is_str(err, big, "bad integer: FILE:LINE and Python's text");

	/* missing file: defaults; directory: defaults */
	c = conf_load("/nonexistent/policyd-spf.conf", err, sizeof err);
	ok(c && c->py->debug_level == 1, "missing file gives defaults");
	ok(c && strcmp(c->py->authserv_id, "HOSTNAME") == 0, "missing file: HOSTNAME not replaced (as Python)");
	conf_unref(c);
	c = conf_load(dir, err, sizeof err);
	ok(c != NULL, "directory gives defaults");
	conf_unref(c);

	/* line ends */
	c = load("HELO_reject = Softfail\rMail_From_reject = False\r\nTestOnly = 0");
	is_str(c->py->helo_reject, "Softfail", "CR ends a line");
	is_str(c->py->mail_from_reject, "False", "CRLF ends a line");
	is_int(c->py->test_only, 0, "last line without newline");
	conf_unref(c);

	/* our keys */
	c = load("Listen = inet:127.0.0.1:10023, unix:/run/p.sock\nDNS_Servers = 127.0.0.1:5353\n"
		 "Socket_Mode = 0660\nWorkers = 2\nLog_Destination = stderr\nRequest_Timeout = 30\n"
		 "Envelope_From_Escape = No\nNAT_Warning_Interval = 5\n");
	ok(c && c->nlisten == 2 && strcmp(c->listen[1], "unix:/run/p.sock") == 0, "Listen list");
	ok(c && c->ndns == 1 && strcmp(c->dns_servers[0], "127.0.0.1:5353") == 0, "DNS_Servers");
	ok(c && c->socket_mode == 0660 && c->workers == 2 && c->log_stderr == 1, "Socket_Mode, Workers, Log_Destination");
	ok(c && c->request_timeout == 30 && !c->srs_escape && c->nat_warning_minutes == 5, "our policy keys");
	conf_unref(c);
	c = conf_load(write_file("bad2.conf", "Workers = many\n"), err, sizeof err);
	ok(c == NULL && strstr(err, ":1: Workers") != NULL, "bad value of our key stops start-up");

	/* conf_check reports everything with file and line */
	reports[0] = '\0';
	x = conf_check(write_file("chk.conf", "Frob = 1\nHELO_reject = fail\nReason_Message = {nope}\n"
				  "debugLevel = x\nTestOnly = y\nskip_addresses = 10.0.0.1/8\n"), collect, NULL);
	is_int(x, 2, "conf_check: two fatal problems");
	ok(strstr(reports, "chk.conf:1: ERROR: Unknown name \"Frob\"") != NULL, "conf_check: unknown key with line");
	ok(strstr(reports, "chk.conf:4: invalid literal") != NULL, "conf_check: bad int line 4");
	ok(strstr(reports, "chk.conf:5: invalid literal") != NULL, "conf_check: bad int line 5 too");
	ok(strstr(reports, "HELO_reject = 'fail'") != NULL, "conf_check: case-sensitive value warning");
	ok(strstr(reports, "Reason_Message: KeyError: 'nope'") != NULL, "conf_check: template");
	ok(strstr(reports, "has host bits set") != NULL, "conf_check: network list");

	/* Per_User */
	const char *pu_path = write_file("peruser", "# comment\nbob@example.net, HELO_reject=False|debugLevel=0\n"
					 "alice@example.net,Mail_From_reject=SPF_Not_Pass|TestOnly=1|Bogus=1|Lookup_Time=x\n"
					 "alice@example.net, HELO_reject=Null\n");
	char conftext[600];
	snprintf(conftext, sizeof conftext, "Per_User = text,%s\ndebugLevel = -1\n", pu_path);
	c = load(conftext);
	struct conf_peruser pu;
	conf_peruser_lookup(c, "alice@example.net", &pu);
	ok(pu.matched, "per-user: line matched");
	is_str(pu.py.mail_from_reject, "SPF_Not_Pass", "per-user override");
	is_str(pu.py.helo_reject, "Fail", "per-user: only the first matching line");
	is_int(pu.py.lookup_time, 20, "per-user: bad int ignored");
	is_int(pu.py.test_only, 1, "per-user: TestOnly is not a per-user key");
	conf_peruser_free(&pu);
	conf_peruser_lookup(c, "bob@example.net", &pu);
	ok(pu.matched && strcmp(pu.py.helo_reject, "False") == 0 && pu.py.debug_level == 0, "per-user: bob");
	conf_peruser_free(&pu);
	conf_peruser_lookup(c, "carol@example.net", &pu);
	ok(!pu.matched && strcmp(pu.py.helo_reject, "Fail") == 0, "per-user: no line, globals");
	conf_peruser_free(&pu);
	conf_unref(c);

	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
