/*
 * nullpolicy - a policy server that does nothing: every request gets
 * "action=dunno" at once.  It measures the benchmark harness's own ceiling
 * (load generator, kernel, loopback) in the same run as the real servers.
 *
 *   nullpolicy LISTEN        (inet:127.0.0.1:PORT or unix:PATH)
 */
#include "benchnet.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

/* A policy request ends with an empty line; Postfix never sends more than
 * a few kilobytes, so a client that sends more without one is cut off. */
#define NULL_MAXREQ 65536

static void
null_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr p;

	(void)arg;
	for (;;) {
		p = evbuffer_search(in, "\n\n", 2, NULL);
		if (p.pos < 0)
			break;
		evbuffer_drain(in, (size_t)p.pos + 2);
		evbuffer_add(bufferevent_get_output(bev), "action=dunno\n\n", 14);
	}
	if (evbuffer_get_length(in) > NULL_MAXREQ)
		bufferevent_free(bev);
}

static void
null_event(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void
null_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct bufferevent *bev;

	(void)sa;
	(void)salen;
	(void)arg;
	bev = bufferevent_socket_new(evconnlistener_get_base(l), fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(fd);
		return;
	}
	bufferevent_setcb(bev, null_read, NULL, null_event, NULL);
	bufferevent_enable(bev, EV_READ);
}

static void
null_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct event_base *base;
	struct evconnlistener *l;
	struct event *sigterm, *sigint;

	if (argc != 2 || benchnet_parse(argv[1], &ss, &len) != 0) {
		fprintf(stderr, "usage: nullpolicy inet:HOST:PORT|unix:PATH\n");
		return 2;
	}
	benchnet_nofile();
	signal(SIGPIPE, SIG_IGN);
	if (ss.ss_family == AF_UNIX)
		unlink(((struct sockaddr_un *)&ss)->sun_path);
	base = event_base_new();
	if (base == NULL)
		return 1;
	l = evconnlistener_new_bind(base, null_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4096,
	    (struct sockaddr *)&ss, (int)len);
	if (l == NULL) {
		fprintf(stderr, "nullpolicy: cannot listen on %s: %s\n", argv[1],
		    strerror(errno));
		return 1;
	}
	sigterm = evsignal_new(base, SIGTERM, null_stop, base);
	sigint = evsignal_new(base, SIGINT, null_stop, base);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	event_base_dispatch(base);
	evconnlistener_free(l);
	event_free(sigterm);
	event_free(sigint);
	event_base_free(base);
	return 0;
}
