/*
 * checkconf - `--check-config`: every problem of a configuration file, one
 * per line as FILE:LINE: what, from the reader (conf_check) and from the
 * daemon's own settings (listen endpoints, users, groups, DNS servers);
 * and the command-line settings main.c shares with it.
 */
#ifndef POLICYD_CHECKCONF_H
#define POLICYD_CHECKCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

#define MAX_CLI_LISTEN CONF_MAX_LISTEN
#define MAX_CLI_DNS CONF_MAX_DNS

/* The command line (main.c); NULL / -1 / false when not given. */
struct cli {
	const char *conf_path;
	const char *listen[MAX_CLI_LISTEN];
	size_t nlisten;
	const char *dns[MAX_CLI_DNS + 1];
	size_t ndns;
	const char *user, *group;
	int workers;            /* -1: from config */
	bool foreground;
	bool check_config;
};

/* Report on stdout; exit status 0 when the server would start, else 1. */
int checkconf_run(const struct cli *cli);
/*
 * Build the DNS context the servers will build, once, so that a bad
 * server address stops start-up instead of failing in every worker.
 */
int checkconf_dns(const struct cli *cli, const struct conf *c, char *err, size_t errlen);

#endif
