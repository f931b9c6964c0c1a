/*
 * listen - the daemon's listening sockets, from Postfix-style endpoint
 * strings: inet:HOST:PORT (HOST may be [v6], a name, or "*" for every
 * address; inet:PORT alone means 127.0.0.1), unix:PATH.  Bound once at
 * start, as root if need be, before the privilege drop; shared by the
 * worker processes.
 */
#ifndef POLICYD_LISTEN_H
#define POLICYD_LISTEN_H

#include <stddef.h>
#include <sys/types.h>

#define LISTEN_MAX_FDS 32

struct listen_set {
	int fd[LISTEN_MAX_FDS];
	int is_unix[LISTEN_MAX_FDS];
	char *name[LISTEN_MAX_FDS];     /* as given, for logs */
	size_t n;
	char *unix_paths[LISTEN_MAX_FDS];  /* to unlink at exit */
	size_t npaths;
};

struct listen_unix_opts {
	int mode;          /* chmod after bind; -1 = 0666 */
	uid_t uid;         /* chown, (uid_t)-1 = leave */
	gid_t gid;         /* (gid_t)-1 = leave */
};

/* Split "inet:host:port" / "unix:path"; 0, or -1 with err.  Only syntax. */
int listen_parse(const char *spec, int *is_unix, char *host, size_t hostlen,
		 char *port, size_t portlen, char *err, size_t errlen);
/* Bind and listen one endpoint (may add several fds: a name with v4+v6). */
int listen_add(struct listen_set *ls, const char *spec, const struct listen_unix_opts *uo,
	       char *err, size_t errlen);
/* Stop listening (server stopping): close the fds, keep the paths for unlinking. */
void listen_close_fds(struct listen_set *ls);
/* Close everything; unlink the unix sockets we created when unlink_paths. */
void listen_close(struct listen_set *ls, int unlink_paths);

#endif
