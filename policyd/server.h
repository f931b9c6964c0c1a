/*
 * server - one process's event loop: the listeners it accepts on (none in
 * spawn mode, where stdin/stdout is the one connection), its connections,
 * its DNS context, the current configuration, and the signals that stop
 * it or reload the configuration.
 */
#ifndef POLICYD_SERVER_H
#define POLICYD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "dns.h"
#include "listen.h"

struct event_base;
struct evconnlistener;
struct conn;
struct loop_dns;
struct spread;

/* What a reply does, for the counts SIGUSR1 logs. */
enum server_reply_kind { SR_PREPEND, SR_DUNNO, SR_REJECT, SR_DEFER, SR_OTHER, SERVER_REPLY_KINDS };

/* The command-line settings that win over the file (NULL/-1 = not given). */
struct server_opts {
	const char *conf_path;
	const char *const *dns_servers;  /* NULL-terminated, or NULL */
};

struct srv {
	struct event_base *base;
	struct dns_ctx *dns;
	struct loop_dns *dnsloop;       /* the libevent glue for dns */
	struct conf *conf;              /* current; checks hold their own ref */
	const struct server_opts *opts;
	bool spawn;
	bool stopping;

	struct listen_set *ls;
	struct evconnlistener *lev[LISTEN_MAX_FDS];
	size_t nlev;
	bool accept_on;                 /* the listeners are watched */
	bool accept_paused;
	bool accept_throttled;          /* ACCEPT_BURST reached in this iteration */
	bool accept_yielded;            /* another worker takes new connections */
	unsigned accepted_iter;
	struct event *accept_retry;

	struct spread *sp;              /* the workers' board, or NULL */
	int slot;                       /* this worker's place on it */
	unsigned busy_pct;
	int64_t tick_wall, tick_cpu;    /* ns, at the last busy tick */
	struct event *ev_tick, *ev_wake;

	struct conn *conns;             /* doubly linked */
	unsigned nconns;
	unsigned long nreply[SERVER_REPLY_KINDS];   /* by server_reply_kind() */
	unsigned long naccepted;
	time_t started;

	struct event *ev_term, *ev_int, *ev_hup, *ev_usr1, *ev_grace;
	struct event *ev_iter_end;      /* end of a loop iteration: log lines, accept throttle */
};

/*
 * Run the loop until stopped: on the listeners of ls (daemon) or on the
 * one connection in_fd/out_fd (spawn, in_fd >= 0).  Takes a reference on
 * conf.  A worker of several gets the board sp and its slot on it (else
 * NULL, 0).  Returns the exit status.
 */
int server_run(const struct server_opts *opts, struct conf *conf, struct listen_set *ls,
	       int in_fd, int out_fd, struct spread *sp, int slot);

/* For conn.c */
void server_conn_closed(struct srv *s, struct conn *c);
/* Count a reply (its action line without "action="). */
void server_count_reply(struct srv *s, const char *action);
/* Seconds/milliseconds bounds from the current conf, with fallbacks. */
int server_idle_timeout(const struct srv *s);
int server_request_timeout(const struct srv *s);

#endif
