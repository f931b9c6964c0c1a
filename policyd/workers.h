/*
 * workers - optional worker processes: the parent binds the listeners,
 * drops privileges, forks N workers that each run their own event loop,
 * DNS context and cache on the shared sockets, restarts a worker that
 * dies, and forwards SIGTERM/SIGINT/SIGHUP/SIGUSR1 to them.
 */
#ifndef POLICYD_WORKERS_H
#define POLICYD_WORKERS_H

#include "conf.h"
#include "listen.h"
#include "server.h"

/* Returns the exit status once every worker has stopped. */
int workers_run(int n, const struct server_opts *opts, struct conf *conf,
		struct listen_set *ls);

#endif
