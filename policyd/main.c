/*
 * main - the command line: `policyd-spf [options] [CONFIG]` runs the
 * policy server (spawn mode on stdin/stdout without a listen setting,
 * daemon mode with one), `policyd-spf check ...` is the one-off checker.
 * Nothing here forks into the background: spawn(8), systemd and container
 * runtimes supervise the process.
 *
 * Exit status: 0 normal end (EOF in spawn mode, SIGTERM/SIGINT);
 * 1 -h/--help (as the Python server), usage errors, a configuration that
 * stops start-up, or a start-up failure (bind, privilege drop, DNS setup).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_cmd.h"
#include "checkconf.h"
#include "conf.h"
#include "listen.h"
#include "log.h"
#include "privdrop.h"
#include "server.h"
#include "workers.h"

#ifndef PSPF_VERSION
#define PSPF_VERSION "0.9.0"
#endif


static void
usage(FILE *f)
{
	fputs("usage: policyd-spf [<configfilename>]\n"
	      "       policyd-spf [options] [<configfilename>]\n"
	      "       policyd-spf check [options] ...   (see policyd-spf(8))\n"
	      "options:\n"
	      "  -l, --listen inet:HOST:PORT|unix:PATH  listen (repeatable); none: serve stdin/stdout\n"
	      "      --dns-server HOST[:PORT]           DNS server (repeatable); default resolv.conf\n"
	      "  -f, --foreground                       log to stderr (daemon mode only)\n"
	      "  -u, --user USER, -g, --group GROUP     drop privileges to these\n"
	      "  -w, --workers N                        worker processes (default 0: one per CPU)\n"
	      "      --check-config                     check the configuration and exit\n"
	      "  -V, --version                          print the version and exit\n"
	      "  -h, --help                             this text (exit status 1)\n", f);
}

/* Under spawn(8) stderr is the policy socket: never write there. */
static bool
stderr_is_socket(void)
{
	struct stat st;

	return fstat(STDERR_FILENO, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* A start-up error: to syslog always, to the terminal when there is one. */
static void
fatal_msg(const char *msg)
{
	log_err("%s", msg);
	if (!stderr_is_socket())
		fprintf(stderr, "policyd-spf: %s\n", msg);
}

static int
parse_cli(int argc, char **argv, struct cli *cli)
{
	enum { OPT_DNS = 256, OPT_CHECK_CONFIG };
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "dns-server", required_argument, NULL, OPT_DNS },
		{ "foreground", no_argument, NULL, 'f' },
		{ "user", required_argument, NULL, 'u' },
		{ "group", required_argument, NULL, 'g' },
		{ "workers", required_argument, NULL, 'w' },
		{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char msg[256];
	int ch;

	memset(cli, 0, sizeof(*cli));
	cli->workers = -1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "l:fu:g:w:Vh?", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			if (cli->nlisten >= MAX_CLI_LISTEN) {
				fatal_msg("too many --listen options");
				return -1;
			}
			cli->listen[cli->nlisten++] = optarg;
			break;
		case OPT_DNS:
			if (cli->ndns >= MAX_CLI_DNS) {
				fatal_msg("too many --dns-server options");
				return -1;
			}
			cli->dns[cli->ndns++] = optarg;
			break;
		case 'f':
			cli->foreground = true;
			break;
		case 'u':
			cli->user = optarg;
			break;
		case 'g':
			cli->group = optarg;
			break;
		case 'w': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*optarg == '\0' || *end != '\0' || v < 0 || v > 256) {
				fatal_msg("--workers: expected a number from 0 to 256");
				return -1;
			}
			cli->workers = (int)v;
			break;
		}
		case OPT_CHECK_CONFIG:
			cli->check_config = true;
			break;
		case 'V':
			printf("policyd-spf %s\n", PSPF_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(1);
		case '?':
			if (strcmp(argv[optind - 1], "-?") == 0) {
				/* as the Python server */
				usage(stdout);
				exit(1);
			}
			snprintf(msg, sizeof(msg), "unknown option or missing argument: %s",
				 argv[optind - 1]);
			fatal_msg(msg);
			if (!stderr_is_socket())
				usage(stderr);
			return -1;
		}
	}
	if (optind < argc)
		cli->conf_path = argv[optind++];
	if (optind < argc)
		log_warn("ignoring extra arguments after the configuration file (first: %s)",
			 argv[optind]);
	if (cli->conf_path == NULL)
		cli->conf_path = CONF_DEFAULT_PATH;
	return 0;
}

/*
 * The usual soft limit of 1024 descriptors is below Max_Connections plus
 * listeners and DNS sockets: raise it to the hard limit (no privilege
 * needed) and say so when the connection cap still does not fit.
 */
static void
raise_fd_limit(const struct conf *c)
{
	struct rlimit rl;
	long need = (long)(c->max_connections > 0 ? c->max_connections : 1024) + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < need)
		log_warn("open file limit %ld is below Max_Connections + 64 (%ld): "
			 "connections beyond it are refused until others close",
			 (long)rl.rlim_cur, need);
}

static int
worker_count(int n)
{
	long cores;

	if (n > 0)
		return n;
	cores = sysconf(_SC_NPROCESSORS_ONLN);
	return cores > 0 ? (int)(cores > 256 ? 256 : cores) : 1;
}

int
main(int argc, char **argv)
{
	struct cli cli;
	struct server_opts opts;
	struct listen_set ls;
	struct listen_unix_opts uo;
	struct privdrop pd;
	struct conf *c;
	char err[512], msg[700];
	const char *const *listen_list;
	size_t nlisten;
	bool spawn, root = geteuid() == 0;
	int rc = 1, workers;

	signal(SIGPIPE, SIG_IGN);
	log_open(argv[0], LOG_DEST_SYSLOG);
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return check_cmd_main(argc - 1, argv + 1);
	if (parse_cli(argc, argv, &cli) < 0)
		return 1;
	if (cli.check_config)
		return checkconf_run(&cli);

	err[0] = '\0';
	c = conf_load(cli.conf_path, err, sizeof(err));
	if (c == NULL) {
		fatal_msg(err[0] != '\0' ? err : "cannot load the configuration");
		return 1;
	}
	listen_list = cli.nlisten > 0 ? cli.listen : (const char *const *)c->listen;
	nlisten = cli.nlisten > 0 ? cli.nlisten : c->nlisten;
	spawn = nlisten == 0;

	if (spawn && cli.foreground) {
		fatal_msg("--foreground needs a listen setting: in spawn mode stderr is the "
			  "policy socket");
		goto out;
	}
	if (!spawn && (cli.foreground || c->log_stderr))
		log_open(argv[0], LOG_DEST_STDERR);
	if (spawn && c->log_stderr)
		log_warn("Log_Destination = stderr ignored in spawn mode; logging to syslog");
	if (c->py != NULL && c->py->debug_level >= 3)
		log_info("Starting");

	cli.dns[cli.ndns] = NULL;
	if (checkconf_dns(&cli, c, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "DNS: %s", err);
		fatal_msg(msg);
		goto out;
	}
	memset(&opts, 0, sizeof(opts));
	opts.conf_path = cli.conf_path;
	opts.dns_servers = cli.ndns > 0 ? cli.dns : NULL;

	if (!root && (cli.user != NULL || cli.group != NULL || c->user != NULL || c->group != NULL))
		log_warn("not started as root: User/Group (--user/--group) ignored");
	if (root && privdrop_resolve(&pd, cli.user != NULL ? cli.user : c->user,
				     cli.group != NULL ? cli.group : c->group, err, sizeof(err)) < 0) {
		fatal_msg(err);
		goto out;
	}

	if (spawn) {
		if (root && privdrop_apply(&pd, err, sizeof(err)) < 0) {
			fatal_msg(err);
			goto out;
		}
		rc = server_run(&opts, c, NULL, STDIN_FILENO, STDOUT_FILENO, NULL, 0);
		goto out;
	}

	raise_fd_limit(c);
	memset(&ls, 0, sizeof(ls));
	memset(&uo, 0, sizeof(uo));
	uo.mode = c->socket_mode;
	uo.uid = (uid_t)-1;
	uo.gid = (gid_t)-1;
	if (c->socket_owner != NULL &&
	    privdrop_owner(c->socket_owner, &uo.uid, &uo.gid, err, sizeof(err)) < 0) {
		fatal_msg(err);
		goto out;
	}
	for (size_t i = 0; i < nlisten; i++) {
		if (listen_add(&ls, listen_list[i], &uo, err, sizeof(err)) < 0) {
			fatal_msg(err);
			listen_close(&ls, 1);
			goto out;
		}
	}
	if (root && privdrop_apply(&pd, err, sizeof(err)) < 0) {
		fatal_msg(err);
		listen_close(&ls, 1);
		goto out;
	}
	if (root && access(cli.conf_path, R_OK) < 0 && errno != ENOENT)
		log_warn("%s is not readable by %s: SIGHUP will keep the configuration read now",
			 cli.conf_path, pd.user);
	workers = worker_count(cli.workers >= 0 ? cli.workers : c->workers);
	msg[0] = '\0';
	for (size_t i = 0; i < nlisten; i++)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "%s%s", i ? " " : "",
			 listen_list[i]);
	log_info("listening on %s%s%s, %d worker%s", msg, root ? " as " : "",
		 root ? pd.user : "", workers, workers == 1 ? "" : "s");
	if (workers == 1)
		rc = server_run(&opts, c, &ls, -1, -1, NULL, 0);
	else
		rc = workers_run(workers, &opts, c, &ls);
	listen_close(&ls, 1);
out:
	if (rc == 0 && c->py != NULL && c->py->debug_level >= 3)
		log_info("Normal exit");
	conf_unref(c);
	return rc;
}
