/*
 * loop - libevent <-> dns_ctx glue (see loop.h).
 *
 * c-ares opens few sockets (one UDP per server, TCP when an answer is
 * truncated), so the sockets are kept in a short list.  The timer is not
 * re-armed on every query sent: a wake-up marks it stale and activates a
 * "rearm" event, which libevent coalesces to once per loop iteration, so
 * ares_timeout() (linear in the queries outstanding) is not called per
 * query.
 */
#include <stdlib.h>

#include "loop.h"

struct sockev {
	struct sockev *next;
	struct loop_dns *ld;
	struct event *ev;
	int fd;
	short what;
};

struct loop_dns {
	struct event_base *base;
	struct dns_ctx *ctx;
	struct event *timer;
	struct event *rearm;
	struct sockev *socks;
};

static void rearm_now(struct loop_dns *ld)
{
	struct timeval tv;

	if (dns_next_timeout(ld->ctx, &tv))
		evtimer_add(ld->timer, &tv);
	else
		evtimer_del(ld->timer);
}

static void on_sock(evutil_socket_t fd, short what, void *arg)
{
	struct sockev *s = arg;
	struct loop_dns *ld = s->ld;

	/* s may be freed inside dns_process (c-ares closes the socket). */
	dns_process(ld->ctx, (what & EV_READ) ? (int)fd : -1, (what & EV_WRITE) ? (int)fd : -1);
	rearm_now(ld);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct loop_dns *ld = arg;

	(void)fd;
	(void)what;
	dns_process(ld->ctx, -1, -1);
	rearm_now(ld);
}

static void on_rearm(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	rearm_now(arg);
}

static void on_wake(void *arg)
{
	struct loop_dns *ld = arg;

	event_active(ld->rearm, EV_TIMEOUT, 0);
}

static void on_io(void *arg, int fd, bool want_read, bool want_write)
{
	struct loop_dns *ld = arg;
	struct sockev **pp, *s;
	short what = (short)((want_read ? EV_READ : 0) | (want_write ? EV_WRITE : 0));

	for (pp = &ld->socks; *pp && (*pp)->fd != fd; pp = &(*pp)->next)
		;
	s = *pp;
	if (!what) {
		if (s) {
			*pp = s->next;
			if (s->ev)
				event_free(s->ev);
			free(s);
		}
		return;
	}
	if (s && s->what == what)
		return;
	if (!s) {
		s = calloc(1, sizeof *s);
		if (!s)
			return;     /* the query times out instead */
		s->ld = ld;
		s->fd = fd;
		s->next = ld->socks;
		ld->socks = s;
	} else if (s->ev) {
		event_free(s->ev);
	}
	s->what = what;
	s->ev = event_new(ld->base, fd, what | EV_PERSIST, on_sock, s);
	if (s->ev)
		event_add(s->ev, NULL);
}

struct loop_dns *loop_dns_attach(struct event_base *base, struct dns_ctx *ctx)
{
	struct loop_dns *ld = calloc(1, sizeof *ld);

	if (!ld)
		return NULL;
	ld->base = base;
	ld->ctx = ctx;
	ld->timer = evtimer_new(base, on_timer, ld);
	ld->rearm = event_new(base, -1, 0, on_rearm, ld);
	if (!ld->timer || !ld->rearm) {
		if (ld->timer)
			event_free(ld->timer);
		if (ld->rearm)
			event_free(ld->rearm);
		free(ld);
		return NULL;
	}
	dns_set_io_cb(ctx, on_io, ld);
	dns_set_wake_cb(ctx, on_wake, ld);
	rearm_now(ld);
	return ld;
}

void loop_dns_detach(struct loop_dns *ld)
{
	if (!ld)
		return;
	dns_set_io_cb(ld->ctx, NULL, NULL);
	dns_set_wake_cb(ld->ctx, NULL, NULL);
	while (ld->socks) {
		struct sockev *s = ld->socks;
		ld->socks = s->next;
		if (s->ev)
			event_free(s->ev);
		free(s);
	}
	event_free(ld->timer);
	event_free(ld->rearm);
	free(ld);
}
