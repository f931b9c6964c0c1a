/*
 * checkconf - see checkconf.h.  The daemon's keys are looked up in the
 * file directly (raw_key), so they are checked even when the reader stops
 * at an earlier error and has no struct conf to offer.
 */
#include "checkconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "listen.h"
#include "privdrop.h"

int
checkconf_dns(const struct cli *cli, const struct conf *c, char *err, size_t errlen)
{
	const char *servers[CONF_MAX_DNS + 1];
	struct dns_opts o;
	struct dns_ctx *ctx = NULL;

	memset(&o, 0, sizeof(o));
	if (cli->ndns > 0) {
		o.servers = cli->dns;
	} else if (c->ndns > 0) {
		for (size_t i = 0; i < c->ndns; i++)
			servers[i] = c->dns_servers[i];
		servers[c->ndns] = NULL;
		o.servers = servers;
	}
	o.timeout_ms = c->dns_timeout_ms;
	o.tries = c->dns_tries;
	if (dns_ctx_new(&ctx, &o, err, errlen) != 0)
		return -1;
	dns_ctx_free(ctx);
	return 0;
}

/*
 * The last `KEY = value` line of the file (the one that wins) and its
 * value, read the way the Python reader splits lines; 0 if none.  Used by
 * --check-config so that daemon settings are checked even when the
 * reader stops at an earlier error.
 */
static unsigned
raw_key(const char *path, const char *key, char *val, size_t vallen)
{
	FILE *f = fopen(path, "r");
	char buf[4096];
	unsigned ln = 0, found = 0;
	size_t kl = strlen(key);

	if (vallen > 0)
		val[0] = '\0';
	if (f == NULL)
		return 0;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		char *p = buf, *hash = strchr(buf, '#'), *e;

		ln++;
		if (hash != NULL)
			*hash = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, key, kl) != 0)
			continue;
		p += kl;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=' || strchr(p + 1, '=') != NULL)
			continue;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strlen(p);
		while (e > p && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		snprintf(val, vallen, "%s", p);
		found = ln;
	}
	fclose(f);
	return found;
}

static void
report_line(void *arg, const char *line)
{
	int *problems = arg;

	(void)problems;
	printf("%s\n", line);
}

/*
 * --check-config: the reader's own report (every line it would log or
 * stop at), then what would stop this daemon from starting.
 */
int
checkconf_run(const struct cli *cli)
{
	const char *path = cli->conf_path;
	char err[512], host[256], port[16], val[1024], user[256], group[256];
	unsigned ln, uln, gln;
	struct privdrop pd;
	int is_unix, fatal, problems = 0;

	fatal = conf_check(path, report_line, NULL);
	ln = raw_key(path, "Listen", val, sizeof(val));
	for (char *save = NULL, *tok = strtok_r(val, ",", &save); ln > 0 && tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ' || *tok == '\t')
			tok++;
		if (*tok != '\0' && listen_parse(tok, &is_unix, host, sizeof(host), port,
						 sizeof(port), err, sizeof(err)) < 0) {
			printf("%s:%u: Listen: %s\n", path, ln, err);
			problems++;
		}
	}
	for (size_t i = 0; i < cli->nlisten; i++) {
		if (listen_parse(cli->listen[i], &is_unix, host, sizeof(host), port, sizeof(port),
				 err, sizeof(err)) < 0) {
			printf("--listen: %s\n", err);
			problems++;
		}
	}
	uln = raw_key(path, "User", user, sizeof(user));
	gln = raw_key(path, "Group", group, sizeof(group));
	if (privdrop_resolve(&pd, cli->user != NULL ? cli->user : user,
			     cli->group != NULL ? cli->group : group, err, sizeof(err)) < 0) {
		if (cli->user != NULL || cli->group != NULL)
			printf("--user/--group: %s\n", err);
		else if (strstr(err, "group") != NULL && gln > 0)
			printf("%s:%u: Group: %s\n", path, gln, err);
		else if (uln > 0)
			printf("%s:%u: User: %s\n", path, uln, err);
		else
			printf("%s: %s\n", path, err);
		problems++;
	}
	ln = raw_key(path, "Socket_Owner", val, sizeof(val));
	if (ln > 0) {
		uid_t uid;
		gid_t gid;

		if (privdrop_owner(val, &uid, &gid, err, sizeof(err)) < 0) {
			printf("%s:%u: %s\n", path, ln, err);
			problems++;
		}
	}
	if (fatal == 0) {
		struct conf *c;

		err[0] = '\0';
		c = conf_load(path, err, sizeof(err));
		if (c != NULL && checkconf_dns(cli, c, err, sizeof(err)) < 0) {
			ln = raw_key(path, "DNS_Servers", val, sizeof(val));
			if (cli->ndns > 0)
				printf("--dns-server: %s\n", err);
			else if (ln > 0)
				printf("%s:%u: DNS_Servers: %s\n", path, ln, err);
			else
				printf("DNS: %s\n", err);
			problems++;
		}
		if (c != NULL)
			conf_unref(c);
	}
	ln = raw_key(path, "Workers", val, sizeof(val));
	if (ln > 0 && atol(val) > 256) {
		printf("%s:%u: Workers: at most 256\n", path, ln);
		problems++;
	}
	if (fatal == 0 && problems == 0)
		printf("%s: OK\n", path);
	return fatal == 0 && problems == 0 ? 0 : 1;
}

