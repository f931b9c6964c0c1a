/*
 * server - one process's loop.  Accepts on the shared listeners up to
 * Max_Connections (then pauses accepting until one closes), or serves the
 * single spawn connection; SIGTERM/SIGINT stop accepting and let the
 * checks in flight finish within a grace period; SIGHUP swaps in a newly
 * loaded config when it loads, and keeps the old one when it does not.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "conn.h"
#include "log.h"
#include "loop.h"
#include "spread.h"

#define SERVER_GRACE_MAX 30     /* seconds to finish checks on SIGTERM */
#define ACCEPT_RETRY_MS 500     /* pause after EMFILE and the like */
#define ACCEPT_BURST 16         /* connections accepted per loop iteration */
#define SPREAD_TICK_MS 500      /* the busy share is over this much time */

static void iter_end_soon(struct srv *s);

int
server_idle_timeout(const struct srv *s)
{
	return s->conf->idle_timeout > 0 ? s->conf->idle_timeout : 3600;
}

int
server_request_timeout(const struct srv *s)
{
	return s->conf->request_timeout > 0 ? s->conf->request_timeout : 90;
}

static int
max_connections(const struct srv *s)
{
	return s->conf->max_connections > 0 ? s->conf->max_connections : 1024;
}

/*
 * The listeners are watched when nothing holds accepting back: a full
 * Max_Connections or an accept error (paused), the per-iteration burst
 * (throttled), another worker being the one to take new connections
 * (yielded, see spread.h), or a stop.
 */
static void
accept_sync(struct srv *s)
{
	bool want = !s->accept_paused && !s->accept_throttled && !s->accept_yielded &&
		    !s->stopping;

	if (s->accept_on == want)
		return;
	for (size_t i = 0; i < s->nlev; i++) {
		if (want)
			evconnlistener_enable(s->lev[i]);
		else
			evconnlistener_disable(s->lev[i]);
	}
	s->accept_on = want;
}

static void spread_sync(struct srv *s);

static void
accept_pause(struct srv *s, bool pause)
{
	s->accept_paused = pause;
	spread_sync(s);
}

static int64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * The busy share is measured while the worker holds connections; the
 * tick also runs while it leaves new connections to another worker, as
 * the net under a wake-up lost to a race (spread.c).
 */
static void
spread_tick_sync(struct srv *s)
{
	struct timeval tv = { 0, SPREAD_TICK_MS * 1000 };
	bool want = !s->stopping && (s->nconns > 0 || s->accept_yielded);
	bool on = evtimer_pending(s->ev_tick, NULL);

	if (want && !on) {
		s->tick_wall = clock_ns(CLOCK_MONOTONIC);
		s->tick_cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
		evtimer_add(s->ev_tick, &tv);
	} else if (!want && on) {
		evtimer_del(s->ev_tick);
	}
}

/* Tell the board how many connections this worker holds and how busy
 * it is, and take or leave new connections as it says. */
static void
spread_sync(struct srv *s)
{
	if (s->sp == NULL) {
		accept_sync(s);
		return;
	}
	if (s->nconns == 0)
		s->busy_pct = 0;
	spread_report(s->sp, s->slot, s->nconns, s->busy_pct, s->accept_paused);
	s->accept_yielded = !spread_may_accept(s->sp, s->slot);
	accept_sync(s);
	spread_tick_sync(s);
}

static void
spread_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;
	int64_t wall = clock_ns(CLOCK_MONOTONIC), cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	int64_t dw = wall - s->tick_wall, dc = cpu - s->tick_cpu;

	(void)fd;
	(void)what;
	s->busy_pct = dw <= 0 || dc <= 0 ? 0 : dc >= dw ? 100 : (unsigned)(dc * 100 / dw);
	s->tick_wall = wall;
	s->tick_cpu = cpu;
	spread_sync(s);
}

static void
spread_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;

	(void)fd;
	(void)what;
	spread_wake_drain(s->sp, s->slot);
	spread_sync(s);
}

void
server_conn_closed(struct srv *s, struct conn *c)
{
	(void)c;
	if ((s->spawn || s->stopping) && s->nconns == 0) {
		event_base_loopexit(s->base, NULL);
		return;
	}
	if (s->accept_paused && !s->stopping && (int)s->nconns < max_connections(s) &&
	    !event_pending(s->accept_retry, EV_TIMEOUT, NULL))
		s->accept_paused = false;
	spread_sync(s);
}

static void
peer_name(const struct sockaddr *sa, int is_unix, char *out, size_t outlen)
{
	char addr[INET6_ADDRSTRLEN];

	if (is_unix || sa->sa_family == AF_UNIX) {
		snprintf(out, outlen, "unix");
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
		snprintf(out, outlen, "%s:%u", addr, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
		snprintf(out, outlen, "[%s]:%u", addr, ntohs(in6->sin6_port));
	} else {
		snprintf(out, outlen, "?");
	}
}

static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int salen,
	  void *arg)
{
	struct srv *s = arg;
	char peer[80];

	(void)lev;
	(void)salen;
	if (s->stopping) {
		close(fd);
		return;
	}
	peer_name(sa, 0, peer, sizeof(peer));
	/* close-on-exec already: LEV_OPT_CLOSE_ON_EXEC makes libevent use accept4(SOCK_CLOEXEC) */
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
		int one = 1;

		/* replies are small and complete: Nagle would hold pipelined ones back */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (conn_new(s, fd, fd, peer) != NULL)
		s->naccepted++;
	if ((int)s->nconns >= max_connections(s)) {
		log_warn("%u connections (Max_Connections): not accepting more until one closes",
			 s->nconns);
		accept_pause(s, true);
	}
	/*
	 * The workers share the listening sockets and each accepts until
	 * the queue is empty: without a bound, the first worker awake would
	 * take a whole burst of connections (and keep them: Postfix reuses
	 * them).  ACCEPT_BURST per iteration, and the rest go to whichever
	 * worker polls next.
	 */
	if (s->accepted_iter++ == 0)
		iter_end_soon(s);
	if (s->accepted_iter >= ACCEPT_BURST)
		s->accept_throttled = true;
	spread_sync(s);
}

static void
accept_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;

	(void)fd;
	(void)what;
	if (!s->stopping && (int)s->nconns < max_connections(s))
		accept_pause(s, false);
}

static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct srv *s = arg;
	struct timeval tv = { 0, ACCEPT_RETRY_MS * 1000 };
	int e = EVUTIL_SOCKET_ERROR();

	(void)lev;
	/* out of fds or memory: stop accepting a moment instead of spinning */
	log_err("accept: %s; pausing for %d ms", evutil_socket_error_to_string(e), ACCEPT_RETRY_MS);
	accept_pause(s, true);
	event_add(s->accept_retry, &tv);
}

static void
grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;

	(void)fd;
	(void)what;
	log_warn("stop: grace period over, closing %u connection%s", s->nconns,
		 s->nconns == 1 ? "" : "s");
	while (s->conns != NULL)
		conn_abort(s->conns, "server stopping");
	event_base_loopexit(s->base, NULL);
}

static void
stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct srv *s = arg;
	int grace = server_request_timeout(s) + 1;
	struct timeval tv;

	(void)what;
	if (s->stopping)
		return;
	s->stopping = true;
	if (grace > SERVER_GRACE_MAX)
		grace = SERVER_GRACE_MAX;
	tv.tv_sec = grace;
	tv.tv_usec = 0;
	if (!s->spawn)
		log_info("%s: stopping, %u open connection%s", sig == SIGTERM ? "SIGTERM" : "SIGINT",
			 s->nconns, s->nconns == 1 ? "" : "s");
	for (size_t i = 0; i < s->nlev; i++)
		evconnlistener_free(s->lev[i]);
	s->nlev = 0;
	/* closed, not just unwatched: new clients get a refusal, not a hang */
	if (s->ls != NULL)
		listen_close_fds(s->ls);
	for (struct conn *c = s->conns; c != NULL; c = conn_next(c))
		conn_shutdown(c);
	if (s->nconns == 0)
		event_base_loopexit(s->base, NULL);
	else
		evtimer_add(s->ev_grace, &tv);
}

void
server_count_reply(struct srv *s, const char *action)
{
	enum server_reply_kind k = SR_OTHER;

	if (strncmp(action, "prepend", 7) == 0)
		k = SR_PREPEND;
	else if (strncmp(action, "dunno", 5) == 0)
		k = SR_DUNNO;
	else if (action[0] == '5' || strncmp(action, "reject", 6) == 0)
		k = SR_REJECT;
	else if (action[0] == '4' || strncmp(action, "defer", 5) == 0)
		k = SR_DEFER;
	s->nreply[k]++;
}

/*
 * SIGUSR1: one line with what this process has done since it started and
 * holds now; each worker writes its own (the supervisor passes the signal
 * on), so `grep stats:` gives a line per worker.
 */
static void
usr1_cb(evutil_socket_t sig, short what, void *arg)
{
	struct srv *s = arg;
	struct dns_stats d;
	char who[32] = "";
	unsigned long served = 0;

	(void)sig;
	(void)what;
	for (int k = 0; k < SERVER_REPLY_KINDS; k++)
		served += s->nreply[k];
	dns_get_stats(s->dns, &d);
	if (s->sp != NULL)
		snprintf(who, sizeof(who), "worker %d, ", s->slot + 1);
	log_info("stats: %sup %lld s; %u connection%s (%lu accepted, %s); %lu requests: "
		 "%lu prepend, %lu dunno, %lu reject, %lu defer, %lu other; "
		 "DNS: %lu queries sent, %lu answers from cache, %lu shared, %lu in flight, "
		 "%lu waiting; cache %lu entries, %zu bytes; CPU %.2f s",
		 who, (long long)(time(NULL) - s->started), s->nconns, s->nconns == 1 ? "" : "s",
		 s->naccepted, s->spawn ? "spawn" : s->accept_on ? "accepting" : "not accepting",
		 served, s->nreply[SR_PREPEND], s->nreply[SR_DUNNO], s->nreply[SR_REJECT],
		 s->nreply[SR_DEFER], s->nreply[SR_OTHER], d.queries_sent, d.cache_hits, d.shared,
		 d.in_flight, d.waiting, d.cache_entries, d.cache_bytes,
		 (double)clock_ns(CLOCK_PROCESS_CPUTIME_ID) / 1e9);
}

static void
hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct srv *s = arg;
	char err[512];
	struct conf *nc;

	(void)sig;
	(void)what;
	/*
	 * The Python reader runs on defaults when the file cannot be read;
	 * at a reload that would silently drop the admin's settings (the
	 * usual cause being a file the unprivileged user cannot read), so
	 * the running config is kept instead.
	 */
	if (access(s->opts->conf_path, R_OK) < 0 && errno != ENOENT) {
		log_err("SIGHUP: cannot read %s: %s; keeping the previous configuration",
			s->opts->conf_path, strerror(errno));
		return;
	}
	err[0] = '\0';
	nc = conf_load(s->opts->conf_path, err, sizeof(err));
	if (nc == NULL) {
		log_err("SIGHUP: %s; keeping the previous configuration",
			err[0] != '\0' ? err : s->opts->conf_path);
		return;
	}
	/* checks in flight keep their reference to the old one */
	conf_unref(s->conf);
	s->conf = nc;
	log_info("SIGHUP: configuration reloaded from %s", s->opts->conf_path);
}

/*
 * The end of a loop iteration: an event made active when there is
 * something to do there runs after the callbacks already active in this
 * iteration.  Log lines are queued while the loop runs and written
 * together here, so the requests answered in one iteration cost one
 * write(2) or sendmmsg(2); listeners throttled by accept_cb are watched
 * again (libevent folds the disable and enable of one iteration into no
 * epoll_ctl at all).
 */
static void
iter_end_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;

	(void)fd;
	(void)what;
	log_flush();
	s->accepted_iter = 0;
	if (s->accept_throttled) {
		s->accept_throttled = false;
		accept_sync(s);
	}
}

static void
iter_end_soon(struct srv *s)
{
	event_active(s->ev_iter_end, EV_TIMEOUT, 0);
}

static void
log_pending(void *arg)
{
	iter_end_soon(arg);
}

static int
dns_setup(struct srv *s, char *err, size_t errlen)
{
	const char *servers[CONF_MAX_DNS + 1];
	struct dns_opts o;

	memset(&o, 0, sizeof(o));
	if (s->opts->dns_servers != NULL && s->opts->dns_servers[0] != NULL) {
		o.servers = s->opts->dns_servers;
	} else if (s->conf->ndns > 0) {
		for (size_t i = 0; i < s->conf->ndns; i++)
			servers[i] = s->conf->dns_servers[i];
		servers[s->conf->ndns] = NULL;
		o.servers = servers;
	}
	o.timeout_ms = s->conf->dns_timeout_ms;
	o.tries = s->conf->dns_tries;
	o.cache_bytes = s->conf->dns_cache_bytes;
	if (dns_ctx_new(&s->dns, &o, err, errlen) != 0)
		return -1;
	s->dnsloop = loop_dns_attach(s->base, s->dns);
	if (s->dnsloop == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * epoll(7) refuses regular files, so `policyd-spf < requests > replies`
 * (which works with the Python server) would stall; poll(2) takes them.
 */
static bool
is_regular(int fd)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

static struct event_base *
base_new(int in_fd, int out_fd)
{
	struct event_config *cfg;
	struct event_base *base;

	if (!is_regular(in_fd) && !is_regular(out_fd))
		return event_base_new();
	if ((cfg = event_config_new()) == NULL)
		return NULL;
	event_config_avoid_method(cfg, "epoll");
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

int
server_run(const struct server_opts *opts, struct conf *conf, struct listen_set *ls,
	   int in_fd, int out_fd, struct spread *sp, int slot)
{
	struct srv srv, *s = &srv;
	char err[512];
	int rc = 1;

	memset(s, 0, sizeof(*s));
	s->opts = opts;
	s->conf = conf_ref(conf);
	s->ls = ls;
	s->spawn = in_fd >= 0;
	s->started = time(NULL);
	s->sp = in_fd >= 0 ? NULL : sp;
	s->slot = slot;
	s->base = base_new(in_fd, out_fd);
	if (s->base == NULL) {
		log_err("cannot create the event loop");
		goto out;
	}
	if (dns_setup(s, err, sizeof(err)) < 0) {
		log_err("DNS: %s", err);
		goto out;
	}
	s->ev_term = evsignal_new(s->base, SIGTERM, stop_cb, s);
	s->ev_int = evsignal_new(s->base, SIGINT, stop_cb, s);
	s->ev_hup = evsignal_new(s->base, SIGHUP, hup_cb, s);
	s->ev_usr1 = evsignal_new(s->base, SIGUSR1, usr1_cb, s);
	s->ev_grace = evtimer_new(s->base, grace_cb, s);
	s->accept_retry = evtimer_new(s->base, accept_retry_cb, s);
	s->ev_iter_end = event_new(s->base, -1, 0, iter_end_cb, s);
	if (s->ev_iter_end != NULL)
		log_batch(log_pending, s);
	if (s->ev_term == NULL || s->ev_int == NULL || s->ev_hup == NULL || s->ev_usr1 == NULL ||
	    s->ev_grace == NULL || evsignal_add(s->ev_usr1, NULL) < 0 ||
	    s->accept_retry == NULL || s->ev_iter_end == NULL || evsignal_add(s->ev_term, NULL) < 0 ||
	    evsignal_add(s->ev_int, NULL) < 0 || evsignal_add(s->ev_hup, NULL) < 0) {
		log_err("cannot set up signal handling");
		goto out;
	}
	if (s->spawn) {
		if (conn_new(s, in_fd, out_fd, "stdin") == NULL)
			goto out;
	} else {
		for (size_t i = 0; ls != NULL && i < ls->n; i++) {
			s->lev[s->nlev] = evconnlistener_new(s->base, accept_cb, s,
							     LEV_OPT_CLOSE_ON_EXEC, -1, ls->fd[i]);
			if (s->lev[s->nlev] == NULL) {
				log_err("%s: cannot watch the listening socket", ls->name[i]);
				goto out;
			}
			evconnlistener_set_error_cb(s->lev[s->nlev], accept_error_cb);
			s->nlev++;
		}
		s->accept_on = true;
		if (s->sp != NULL) {
			s->ev_tick = event_new(s->base, -1, EV_PERSIST, spread_tick_cb, s);
			s->ev_wake = event_new(s->base, spread_wake_fd(s->sp, s->slot),
					       EV_READ | EV_PERSIST, spread_wake_cb, s);
			if (s->ev_tick == NULL || s->ev_wake == NULL || event_add(s->ev_wake, NULL) < 0) {
				log_err("cannot set up the worker board");
				goto out;
			}
			spread_sync(s);
		}
	}
	if (s->nconns > 0 || s->nlev > 0)
		event_base_dispatch(s->base);
	rc = 0;
out:
	while (s->conns != NULL)
		conn_abort(s->conns, "server exiting");
	for (size_t i = 0; i < s->nlev; i++)
		evconnlistener_free(s->lev[i]);
	if (s->dnsloop != NULL)
		loop_dns_detach(s->dnsloop);
	if (s->dns != NULL)
		dns_ctx_free(s->dns);
	if (s->ev_term != NULL)
		event_free(s->ev_term);
	if (s->ev_int != NULL)
		event_free(s->ev_int);
	if (s->ev_hup != NULL)
		event_free(s->ev_hup);
	if (s->ev_usr1 != NULL)
		event_free(s->ev_usr1);
	if (s->ev_grace != NULL)
		event_free(s->ev_grace);
	if (s->accept_retry != NULL)
		event_free(s->accept_retry);
	if (s->ev_tick != NULL)
		event_free(s->ev_tick);
	if (s->ev_wake != NULL)
		event_free(s->ev_wake);
	log_batch(NULL, NULL);          /* writes what is queued; later lines go out at once */
	if (s->ev_iter_end != NULL)
		event_free(s->ev_iter_end);
	if (s->base != NULL)
		event_base_free(s->base);
	conf_unref(s->conf);
	return rc;
}
