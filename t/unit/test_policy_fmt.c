/*
 * test_policy_fmt - the reply and header strings of reference §5, byte for
 * byte, and the decision of §4 for every row of the result-to-action
 * matrix, with SPF results given directly (no DNS: policy_decide is pure).
 * t/policy.t asserts the same over the protocol with a real DNS server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "policy_cache.h"
#include "policy_decide.h"
#include "policy_fmt.h"
#include "tap.h"

static char dir[] = "/tmp/test_policy_fmt.XXXXXX";

static struct conf *conf_text(const char *text)
{
	char path[256], err[256];
	FILE *f;
	struct conf *c;

	snprintf(path, sizeof path, "%s/c.conf", dir);
	if (!(f = fopen(path, "w")) || fputs(text, f) < 0 || fclose(f))
		exit(1);
	if (!(c = conf_load(path, err, sizeof err))) {
		printf("# %s\n", err);
		exit(1);
	}
	return c;
}

struct in {
	const char *conf;
	const char *ip, *helo, *sender, *rcv, *instance, *qid;
	enum spf_result hr, mr;
	const char *hexp, *mexp;      /* explanation texts */
	const char *htxt, *mtxt;      /* first TXT strings */
};

static char *decide(const struct in *in, struct policy_cache *cache)
{
	struct conf *c = conf_text(in->conf ? in->conf : "debugLevel = -1\n");
	struct pd_req r = { 0 };
	const char *o = NULL;
	char *out;

	r.conf = c;
	r.py = c->py;
	r.gdebug = c->py->debug_level;
	r.client_address = in->ip;
	r.helo_name = in->helo;
	r.sender = in->sender;
	r.rcv = in->rcv ? in->rcv : "example.net";
	r.instance = in->instance;
	r.queue_id = in->qid;
	r.cache = cache;
	pd_prepare(&r);
	if (cache && pd_replay(&r, &o))
		goto done;
	if (r.helo_spf.run) {
		pd_spf_set(&r, &r.helo_spf, in->hr, in->hexp,
			   in->hr == SPF_PERMERROR ? "Unknown mechanism found: moo" : "DNS Timeout",
			   in->htxt, in->htxt ? strlen(in->htxt) : 0);
	}
	if (r.mfrom_spf.run) {
		pd_spf_set(&r, &r.mfrom_spf, in->mr, in->mexp,
			   in->mr == SPF_PERMERROR ? "Unknown mechanism found: moo" : "DNS Timeout",
			   in->mtxt, in->mtxt ? strlen(in->mtxt) : 0);
	}
	o = pd_decide(&r);
done:
	out = o ? strdup(o) : NULL;
	pd_req_free(&r);
	conf_unref(c);
	return out;
}

static void t_decide(const struct in *in, const char *want, const char *name)
{
	char *got = decide(in, NULL);

	is_str(got, want, name);
	free(got);
}

static int starts(const struct in *in, const char *prefix)
{
	char *got = decide(in, NULL);
	int r = got && strncmp(got, prefix, strlen(prefix)) == 0;

	if (!r)
		printf("# got: '%s'\n", got ? got : "(null)");
	free(got);
	return r;
}

/* the action word of a decision: reject, defer, prepend, dunno, ... */
static const char *verb(const char *a)
{
	if (!a)
		return "(null)";
	if (!strncmp(a, "550", 3))
		return "R";
	if (!strncmp(a, "defer_if_permit", 15))
		return "D";
	if (!strncmp(a, "prepend", 7))
		return "P";
	if (!strncmp(a, "dunno", 5))
		return "dunno";
	return a;
}

#define RS "Received-SPF: "
#define DETAIL(id, env) "identity=" id "; client-ip=198.51.100.7; helo=mx.example.org; envelope-from=" env "; receiver=example.net "

int main(void)
{
	char *s, why[256];

	log_open("test_policy_fmt", LOG_DEST_STDERR);
	if (!mkdtemp(dir))
		return 1;

	/* --- strings --- */
	s = pf_received_spf(NULL, "Pass", "mailfrom", "mailfrom", "192.0.2.10", "mail.pass.example.com",
			    "alice@pass.example.com", "example.net");
	is_str(s, "Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.10; helo=mail.pass.example.com; envelope-from=alice@pass.example.com; receiver=example.net ",
	       "Received-SPF mailfrom, trailing space");
	free(s);
	s = pf_auth_results(NULL, "mx.Example.NET", "None", "no SPF record", "helo", "[198.51.100.7]", "198.51.100.7",
			    "[198.51.100.7]", "<>", "example.net");
	is_str(s, "Authentication-Results: mx.example.net; spf=none (no SPF record) smtp.helo=\"[198.51.100.7]\" (client-ip=198.51.100.7; helo=[198.51.100.7]; envelope-from=<>; receiver=example.net)",
	       "AR helo: authserv-id lower-cased, q() quoting");
	free(s);
	s = pf_auth_results(NULL, "mx.example.net", "Permerror", "SPF Permanent Error: Unknown mechanism found: moo", "mailfrom",
			    "permerror.example.com", "198.51.100.7", "unknown.example.net",
			    "alice@permerror.example.com", "example.net");
	is_str(s, "Authentication-Results: mx.example.net; spf=permerror (SPF Permanent Error: Unknown mechanism found: moo) smtp.mailfrom=permerror.example.com (client-ip=198.51.100.7; helo=unknown.example.net; envelope-from=alice@permerror.example.com; receiver=example.net)",
	       "AR mailfrom");
	free(s);
	s = pf_ar_quote(NULL, "a\"b\\c d");
	is_str(s, "\"a\\\"b\\\\c d\"", "q(): escapes quote and backslash");
	free(s);
	s = pf_ar_quote(NULL, "x@y z");
	is_str(s, "x@y z", "q(): '@' means unquoted");
	free(s);
	s = pf_bypass_header(NULL, false, "", "SPF check N/A for local connections - ", "127.0.0.1", "localhost",
			     "alice@pass.example.com", "example.net");
	is_str(s, "X-Comment: SPF check N/A for local connections - client-ip=127.0.0.1; helo=localhost; envelope-from=alice@pass.example.com; receiver=example.net ",
	       "X-Comment bypass header");
	free(s);
	s = pf_bypass_header(NULL, true, "mx.example.net", "SPF skipped for whitelisted relay - ", "203.0.113.5",
			     "mail.pass.example.com", "", "<UNKNOWN>");
	is_str(s, "Authentication-Results: mx.example.net; none (SPF skipped for whitelisted relay -  client-ip=203.0.113.5; helo=mail.pass.example.com; envelope-from=; receiver=<UNKNOWN>)",
	       "AR bypass: two spaces");
	free(s);

	s = pf_reject_text(NULL, "Message {rejectdefer} due to: {spf}. Please see {url}", false, "SPF fail - not authorized",
			   "mfrom", "alice@fail.example.com", "198.51.100.7", "example.net", why, sizeof why);
	is_str(s, "Message rejected due to: SPF fail - not authorized. Please see http://www.openspf.net/Why?s=mfrom;id=alice@fail.example.com;ip=198.51.100.7;r=example.net",
	       "default Reason_Message");
	free(s);
	s = pf_reject_text(NULL, "{{{rejectdefer}}} [{spf:>12}] [{spf:*^9.3}] {url!s:.10} {spf!r}", true, "abc", "helo",
			   "h", "1.2.3.4", "r", why, sizeof why);
	is_str(s, "{deferred} [         abc] [***abc***] http://www 'abc'", "template: braces, specs, conversions");
	free(s);
	s = pf_reject_text(NULL, "{nope} {spf}", false, "x", "helo", "h", "1.2.3.4", "r", why, sizeof why);
	is_str(why, "KeyError: 'nope'", "unknown field: Python's error");
	is_str(s, "Message rejected due to: x. Please see http://www.openspf.net/Why?s=helo;id=h;ip=1.2.3.4;r=r",
	       "unknown field: default template used");
	free(s);
	s = pf_reject_text(NULL, "{} {spf", false, "x", "helo", "h", "1.2.3.4", "r", why, sizeof why);
	ok(why[0] != '\0' && s && !strncmp(s, "Message rejected", 16), "positional field: fallback");
	free(s);
	s = pf_reject_text(NULL, "}{spf}", false, "x", "helo", "h", "1.2.3.4", "r", why, sizeof why);
	is_str(why, "Single '}' encountered in format string", "single '}'");
	free(s);

	s = pf_envelope_from(NULL, "srs0=hhh=tt=a-very-long-original-domain.example=al@forwarder.example", true);
	is_str(s, "\"srs0\\=hhh\\=tt\\=a-very-long-original-domain.example\\=al@forwarder.example\"", "SRS: quoted, '=' escaped");
	free(s);
	s = pf_envelope_from(NULL, "srs0=hhh=tt=orig.example=al@forwarder.example", false);
	is_str(s, "srs0=hhh=tt=orig.example=al@forwarder.example", "SRS: Python form when escaping is off");
	free(s);
	s = pf_envelope_from(NULL, "alice@example.org", true);
	is_str(s, "alice@example.org", "no '=': unchanged");
	free(s);
	s = pf_received_spf(NULL, "Pass", "x\ry\nz", "helo", "1.2.3.4", "h\x01", "<>", "r");
	ok(s && !strpbrk(s, "\r\n\x01"), "CR, LF and controls cannot reach a header");
	free(s);

	const char *l[3] = { "Pass", "it's", "helo" };
	s = pf_pylist(l, 3);
	is_str(s, "['Pass', \"it's\", 'helo']", "Python list repr");
	free(s);

	/* --- decisions: reference §5.4 examples --- */
	struct in in = { .ip = "198.51.100.7", .helo = "mx.example.org", .sender = "alice@fail.example.com",
			 .hr = SPF_NONE, .mr = SPF_FAIL };
	t_decide(&in, "550 5.7.23 Message rejected due to: SPF fail - not authorized. Please see http://www.openspf.net/Why?s=mfrom;id=alice@fail.example.com;ip=198.51.100.7;r=example.net",
		 "mfrom fail rejects");
	in.mr = SPF_PERMERROR;
	in.conf = "debugLevel = -1\nPermError_reject = True\n";
	t_decide(&in, "550 5.7.24 Message rejected due to: SPF Permanent Error: Unknown mechanism found: moo. Please see http://www.openspf.net/Why?s=mfrom;id=alice@fail.example.com;ip=198.51.100.7;r=example.net",
		 "permerror with PermError_reject: 5.7.24");
	in.mr = SPF_TEMPERROR;
	in.conf = "debugLevel = -1\nTempError_Defer = True\n";
	t_decide(&in, "defer_if_permit 4.7.24 Message deferred due to: SPF Temporary Error: DNS Timeout. Please see http://www.openspf.net/Why?s=mfrom;id=alice@fail.example.com;ip=198.51.100.7;r=example.net",
		 "temperror with TempError_Defer: 4.7.24");
	in.conf = "debugLevel = -1\nTempError_Defer = True\nSPF_Enhanced_Status_Codes = No\n";
	t_decide(&in, "defer_if_permit Message deferred due to: SPF Temporary Error: DNS Timeout. Please see http://www.openspf.net/Why?s=mfrom;id=alice@fail.example.com;ip=198.51.100.7;r=example.net",
		 "SPF_Enhanced_Status_Codes = No");
	in.mr = SPF_PASS;
	in.conf = NULL;
	t_decide(&in, "prepend " RS "Pass (mailfrom) " DETAIL("mailfrom", "alice@fail.example.com"), "pass prepends MAIL FROM header");
	in.mr = SPF_NONE;
	in.hr = SPF_SOFTFAIL;
	t_decide(&in, "prepend " RS "Softfail (domain owner discourages use of this host) " DETAIL("helo", "alice@fail.example.com"),
		 "MAIL FROM None, HELO not None: HELO header");
	in.hr = SPF_NONE;
	t_decide(&in, "prepend " RS "None (mailfrom) " DETAIL("mailfrom", "alice@fail.example.com"), "both None: MAIL FROM header");
	in.hr = SPF_FAIL;
	in.mr = SPF_PASS;
	t_decide(&in, "550 5.7.23 Message rejected due to: SPF fail - not authorized. Please see http://www.openspf.net/Why?s=helo;id=mx.example.org;ip=198.51.100.7;r=example.net",
		 "HELO fail wins over MAIL FROM pass");
	in.mr = SPF_FAIL;
	in.mexp = "198.51.100.7 is not one of exp.example.com's designated mail servers.";
	in.hr = SPF_NONE;
	t_decide(&in, "550 5.7.23 Message rejected due to: 198.51.100.7 is not one of exp.example.com's designated mail servers.. Please see http://www.openspf.net/Why?s=mfrom;id=alice@fail.example.com;ip=198.51.100.7;r=example.net",
		 "exp= text replaces the reason ('..')");
	in.mexp = NULL;

	/* null sender */
	struct in nul = { .ip = "192.0.2.10", .helo = "mail.pass.example.com", .sender = "", .hr = SPF_PASS };
	t_decide(&nul, "prepend Received-SPF: Pass (sender SPF authorized) identity=helo; client-ip=192.0.2.10; helo=mail.pass.example.com; envelope-from=<>; receiver=example.net ",
		 "null sender: HELO header with <>");
	nul.conf = "debugLevel = -1\nHELO_reject = No_Check\n";
	t_decide(&nul, "dunno", "null sender, HELO No_Check: dunno");
	nul.conf = "debugLevel = -1\nHELO_pass_restriction = spf_fin, passed_spf\n";
	t_decide(&nul, "spf_fin, passed_spf", "HELO_pass_restriction verbatim");

	/* --- the matrix of §4.7.1, MAIL FROM scope --- */
	static const char *pol[] = { "Fail", "Softfail", "SPF_Not_Pass", "False", "fail", "Null" };
	static const enum spf_result res[] = { SPF_PASS, SPF_FAIL, SPF_SOFTFAIL, SPF_NEUTRAL, SPF_NONE, SPF_PERMERROR, SPF_TEMPERROR };
	/* rows: result; columns: policy; with pe/te off and on */
	static const char *want_off[7][6] = {
		{ "P", "P", "P", "P", "P", "P" },
		{ "R", "R", "R", "P", "P", "P" },
		{ "P", "R", "R", "P", "P", "P" },
		{ "P", "P", "R", "P", "P", "P" },
		{ "P", "P", "P", "P", "P", "P" },
		{ "P", "P", "P", "P", "P", "P" },
		{ "P", "P", "P", "P", "P", "P" },
	};
	static const char *want_on[7][6] = {
		{ "P", "P", "P", "P", "P", "P" },
		{ "R", "R", "R", "P", "P", "P" },
		{ "P", "R", "R", "P", "P", "P" },
		{ "P", "P", "R", "P", "P", "P" },
		{ "P", "P", "P", "P", "P", "P" },
		{ "R", "R", "R", "P", "R", "R" },
		{ "D", "D", "D", "P", "D", "D" },
	};
	for (int on = 0; on < 2; on++)
		for (int p = 0; p < 6; p++)
			for (int i = 0; i < 7; i++) {
				char conf[256], name[200];
				struct in m = { .ip = "198.51.100.7", .helo = "mx.example.org", .sender = "a@b.example",
						.hr = SPF_NONE, .mr = res[i], .conf = conf };
				char *got;

				snprintf(conf, sizeof conf, "debugLevel = -1\nHELO_reject = No_Check\nMail_From_reject = %s\n%s",
					 pol[p], on ? "PermError_reject = True\nTempError_Defer = True\n" : "");
				got = decide(&m, NULL);
				snprintf(name, sizeof name, "mfrom matrix: %s, Mail_From_reject=%s, pe/te %s",
					 spf_result_title(res[i]), pol[p], on ? "on" : "off");
				is_str(verb(got), (on ? want_on : want_off)[i][p], name);
				free(got);
			}
	/* HELO scope with Null */
	for (int i = 0; i < 7; i++) {
		char name[200];
		struct in h = { .ip = "198.51.100.7", .helo = "mx.example.org", .sender = "",
				.hr = res[i], .conf = "debugLevel = -1\nHELO_reject = Null\nPermError_reject = True\nTempError_Defer = True\n" };
		char *got = decide(&h, NULL);
		static const char *w[7] = { "P", "R", "P", "P", "P", "R", "D" };

		snprintf(name, sizeof name, "HELO Null, null sender: %s", spf_result_title(res[i]));
		is_str(verb(got), w[i], name);
		free(got);
		h.sender = "a@none.example";
		h.mr = SPF_NONE;
		got = decide(&h, NULL);
		snprintf(name, sizeof name, "HELO Null, sender: %s gives no HELO decision", spf_result_title(res[i]));
		ok(!strncmp(got, "prepend Received-SPF: ", 22), name);
		free(got);
	}

	/* Reject_Not_Pass_Domains, reversed matching */
	struct in rn = { .ip = "198.51.100.7", .helo = "mx.example.org", .sender = "alice@softfail.example.com",
			 .hr = SPF_NONE, .mr = SPF_SOFTFAIL,
			 .conf = "debugLevel = -1\nReject_Not_Pass_Domains = mail.softfail.example.com\n" };
	t_decide(&rn, "550 5.7.23 Message rejected due to: Receiver policy for SPF Softfail. Please see http://www.openspf.net/Why?s=mfrom;id=alice@softfail.example.com;ip=198.51.100.7;r=example.net",
		 "Reject_Not_Pass_Domains: listed sub-domain matches the sender domain");
	rn.conf = "debugLevel = -1\nReject_Not_Pass_Domains = example.com\n";
	t_decide(&rn, "prepend " RS "Softfail (mailfrom) identity=mailfrom; client-ip=198.51.100.7; helo=mx.example.org; envelope-from=alice@softfail.example.com; receiver=example.net ",
		 "Reject_Not_Pass_Domains: a listed parent does not match");

	/* No_Mail */
	struct in nm = { .ip = "198.51.100.7", .helo = "mx.example.org", .sender = "alice@fail.example.com",
			 .hr = SPF_NONE, .mr = SPF_FAIL, .mtxt = "v=spf1 -all", .conf = "debugLevel = -1\nNo_Mail = True\n" };
	ok(starts(&nm, "550 5.7.23"), "No_Mail: v=spf1 -all rejects");
	nm.mtxt = "v=spf1 ip4:192.0.2.0/24 -all";
	ok(starts(&nm, "prepend Received-SPF: Fail (mailfrom)"), "No_Mail: other record prepends");

	/* pass restriction corner: only HELO_pass_restriction, both pass */
	struct in pr = { .ip = "192.0.2.10", .helo = "mx.example.org", .sender = "a@pass.example", .hr = SPF_PASS,
			 .mr = SPF_PASS, .conf = "debugLevel = -1\nHELO_pass_restriction = hold_pass\n" };
	t_decide(&pr, "hold_pass", "HELO_pass_restriction alone, both pass: the restriction (Python: action=None)");
	pr.conf = "debugLevel = -1\nMail_From_pass_restriction = mf_pass\n";
	t_decide(&pr, "mf_pass", "Mail_From_pass_restriction");
	pr.hr = SPF_FAIL;
	ok(starts(&pr, "550 5.7.23"), "Mail_From_pass_restriction does not beat a HELO reject");

	/* TestOnly, Prospective, Header_Type None, AR */
	in = (struct in){ .ip = "198.51.100.7", .helo = "mx.example.org", .sender = "alice@fail.example.com",
			  .hr = SPF_NONE, .mr = SPF_FAIL, .conf = "debugLevel = -1\nTestOnly = 0\n" };
	t_decide(&in, "dunno", "TestOnly = 0: reject becomes dunno");
	in.conf = "debugLevel = -1\nProspective = 192.0.2.1\n";
	ok(starts(&in, "550 5.7.23"), "Prospective: rejects still happen");
	in.mr = SPF_PASS;
	t_decide(&in, "dunno", "Prospective: prepend becomes dunno");
	in.conf = "debugLevel = -1\nHeader_Type = None\n";
	t_decide(&in, "dunno", "Header_Type = None");
	in.conf = "debugLevel = -1\nHeader_Type = AR\nAuthserv_Id = MX.example.net\n";
	t_decide(&in, "prepend Authentication-Results: mx.example.net; spf=pass (sender SPF authorized) smtp.mailfrom=fail.example.com (client-ip=198.51.100.7; helo=mx.example.org; envelope-from=alice@fail.example.com; receiver=example.net)",
		 "Header_Type = AR");
	in.conf = "debugLevel = -1\nHeader_Type = ar\n";
	ok(starts(&in, "prepend Received-SPF:"), "Header_Type = ar gives Received-SPF (case-sensitive)");

	/* SRS sender in the header */
	in.conf = NULL;
	in.sender = "srs0=hhh=tt=orig.example=al@forwarder.example";
	t_decide(&in, "prepend " RS "Pass (mailfrom) identity=mailfrom; client-ip=198.51.100.7; helo=mx.example.org; envelope-from=\"srs0\\=hhh\\=tt\\=orig.example\\=al@forwarder.example\"; receiver=example.net ",
		 "SRS envelope-from escaped by default");
	in.conf = "debugLevel = -1\nEnvelope_From_Escape = No\n";
	t_decide(&in, "prepend " RS "Pass (mailfrom) identity=mailfrom; client-ip=198.51.100.7; helo=mx.example.org; envelope-from=srs0=hhh=tt=orig.example=al@forwarder.example; receiver=example.net ",
		 "Envelope_From_Escape = No: Python form");

	/* instance cache: one header per message, replayed rejects */
	struct policy_cache *pc = pcache_new(3);
	in = (struct in){ .ip = "198.51.100.7", .helo = "mx.example.org", .sender = "alice@pass.example.com",
			  .hr = SPF_NONE, .mr = SPF_PASS, .instance = "i1" };
	s = decide(&in, pc);
	ok(!strncmp(s, "prepend", 7), "first recipient: prepend");
	free(s);
	s = decide(&in, pc);
	is_str(s, "dunno", "second recipient: dunno");
	free(s);
	in = (struct in){ .ip = "198.51.100.7", .helo = "mx.example.org", .sender = "alice@permerror.example.com",
			  .hr = SPF_NONE, .mr = SPF_PERMERROR, .instance = "i2", .rcv = "a.example",
			  .conf = "debugLevel = -1\nPermError_reject = True\n" };
	s = decide(&in, pc);
	ok(!strncmp(s, "550 5.7.24", 10), "permerror reject 5.7.24");
	free(s);
	in.rcv = "b.example";
	s = decide(&in, pc);
	ok(!strncmp(s, "550 5.7.23 ", 11) && strstr(s, ";r=a.example"), "replayed as 5.7.23 with the first r= (as Python)");
	free(s);
	for (int i = 0; i < 5; i++) {
		char inst[16];
		snprintf(inst, sizeof inst, "x%d", i);
		pcache_put(pc, inst, (const char *[]){ "a", "b", "c", "prepend", "h", "prepend" }, 6);
	}
	is_int(pcache_count(pc), 3, "cache bounded");
	ok(pcache_get(pc, "i1") == NULL && pcache_get(pc, "x4") != NULL, "oldest evicted");
	pcache_free(pc);

	/* eviction follows store order (a store again makes an entry newest),
	 * across the entry array's growth; records may be stored from the cache */
	pc = pcache_new(20);
	for (int i = 0; i < 20; i++) {
		char inst[16];
		snprintf(inst, sizeof inst, "m%d", i);
		pcache_put(pc, inst, (const char *[]){ "Pass", inst, "mailfrom", "prepend", "h", "prepend" }, 6);
	}
	pcache_put(pc, "m0", (const char *[]){ "Fail", "long reason that does not fit the old buffer of this entry, "
					  "so the entry gets a new one: "
					  "0123456789012345678901234567890123456789", "helo", "reject", "t" }, 5);
	const struct pc_record *rec = pcache_get(pc, "m5");
	pcache_put(pc, "m5", (const char *const *)rec->f, rec->n);   /* from its own buffer */
	pcache_put(pc, "new1", (const char *[]){ "a" }, 1);
	pcache_put(pc, "new2", (const char *[]){ "b" }, 1);
	is_int(pcache_count(pc), 20, "cache of 20 full");
	ok(pcache_get(pc, "m1") == NULL && pcache_get(pc, "m2") == NULL && pcache_get(pc, "m3") != NULL,
	   "the two oldest stores evicted");
	rec = pcache_get(pc, "m0");
	ok(rec && rec->n == 5 && !strcmp(rec->f[0], "Fail") && !strcmp(rec->f[3], "reject") && rec->f[5] == NULL,
	   "re-stored entry kept, replaced");
	rec = pcache_get(pc, "m5");
	ok(rec && rec->n == 6 && !strcmp(rec->f[1], "m5") && !strcmp(rec->f[5], "prepend"),
	   "entry stored from its own strings");
	rec = pcache_get(pc, "new2");
	ok(rec && rec->n == 1 && !strcmp(rec->f[0], "b"), "new entry in an evicted slot");
	pcache_free(pc);

	/* sanitising: C0 controls but TAB, and DEL, become '?', anywhere in the text */
	{
		char t[64];
		const char *src = "ab\x01" "cdefgh\tij\x7f" "klmnopqrstuvwxyz\x1f\x80\xff\x1b";
		bool good = true;
		for (size_t len = 0; len <= strlen(src) && good; len++) {
			char want[64];
			memcpy(t, src, len);
			for (size_t i = 0; i < len; i++) {
				unsigned char ch = (unsigned char)src[i];
				want[i] = ((ch < 0x20 && ch != '\t') || ch == 0x7f) ? '?' : src[i];
			}
			pf_sanitize_n(t, len);
			if (memcmp(t, want, len) != 0) {
				printf("# length %zu\n", len);
				good = false;
			}
		}
		ok(good, "pf_sanitize_n at every length");
		struct pf_arena a = { NULL };
		char *j = pf_join(&a, (struct pf_piece[]){ PF_LIT("x\ty "), PF_RAW("a\rb"), PF_RAW(NULL), PF_CLEAN("z") }, 4);
		is_str(j, "x\ty a?b(null)z", "pf_join: raw parts sanitised, NULL as (null)");
		for (int i = 0; i < 100; i++)
			(void)pf_join(&a, (struct pf_piece[]){ PF_RAW(src) }, 1);
		pf_arena_reset(&a);
		j = pf_strndup(&a, "abc", 2);
		is_str(j, "ab", "arena reused after reset");
		pf_arena_free(&a);
	}

	/* queue id prefix */
	char q[64];
	pd_qid_prefix(NULL, q, sizeof q);
	is_str(q, "", "no queue_id: no prefix");
	pd_qid_prefix("", q, sizeof q);
	is_str(q, ": ", "empty queue_id: ': '");
	pd_qid_prefix("4XyZ", q, sizeof q);
	is_str(q, "4XyZ: ", "queue_id prefix");

	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
