/*
 * dnsdelay - a DNS forwarder that holds every query N milliseconds before
 * passing it on, over UDP and TCP, so a DNS server on loopback stands for
 * a resolver 20 ms away.  Answers come back at once; the delay is one-way,
 * which is all a client can see of a round trip.
 *
 *   dnsdelay -l 127.0.0.2:53 -u 127.0.0.1:53 -m 20 [-s statsfile]
 *
 * UDP: queries get a fresh 16-bit id on the one upstream socket so many
 * can be in flight; the slot table maps it back to the client.  TCP: each
 * client connection gets its own upstream connection; bytes towards the
 * server are delayed in chunks, in order.  On SIGTERM it writes the query
 * counts to the stats file (if given) and exits.
 */
#include "benchnet.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#define DD_SLOTS	65536
#define DD_UDPMAX	65535
#define DD_SLOT_TTL	10	/* seconds a query may wait for its answer */
#define DD_TCPMAX	(1 << 20)

struct dd_slot {
	int		 used;
	uint16_t	 client_id;
	struct sockaddr_storage from;
	socklen_t	 fromlen;
	unsigned char	*q;
	size_t		 qlen;
	struct event	*timer;		/* first the delay, then the expiry */
	int		 sent;
};

struct dd_chunk {
	struct dd_tcp	*t;
	unsigned char	*data;
	size_t		 len;
	struct event	*timer;
	struct dd_chunk	*next;
};

struct dd_tcp {
	struct bufferevent *client, *up;
	struct dd_chunk	*chunks;	/* pending, oldest first */
	int		 closing;
};

static struct {
	struct event_base *base;
	struct sockaddr_storage listen, upstream;
	socklen_t	 listenlen, upstreamlen;
	struct timeval	 delay;
	const struct timeval *common;	/* libevent's O(1) queue for equal timeouts */
	int		 udp, up;
	struct dd_slot	*slot;
	uint32_t	 next;
	uint64_t	 udp_q, tcp_conns, tcp_bytes, dropped;
	const char	*statsfile;
} dd;

static void
slot_free(struct dd_slot *s)
{
	if (s->timer != NULL)
		event_free(s->timer);
	free(s->q);
	memset(s, 0, sizeof(*s));
}

static void
slot_expire(evutil_socket_t fd, short what, void *arg)
{
	struct dd_slot *s = arg;

	(void)fd;
	(void)what;
	if (!s->sent) {
		/* the delay is over: pass the query on and wait for the answer */
		struct timeval ttl = { DD_SLOT_TTL, 0 };

		s->sent = 1;
		if (sendto(dd.up, s->q, s->qlen, 0, (struct sockaddr *)&dd.upstream,
		    dd.upstreamlen) < 0)
			dd.dropped++;
		free(s->q);
		s->q = NULL;
		evtimer_add(s->timer, &ttl);
		return;
	}
	dd.dropped++;
	slot_free(s);
}

static void
udp_query(evutil_socket_t fd, short what, void *arg)
{
	unsigned char buf[DD_UDPMAX];

	(void)what;
	(void)arg;
	for (int burst = 0; burst < 64; burst++) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
		    &fromlen);
		struct dd_slot *s = NULL;
		uint32_t i;

		if (n < 0)
			return;
		if (n < 12)
			continue;
		for (i = 0; i < DD_SLOTS; i++) {
			uint32_t k = (dd.next + i) % DD_SLOTS;

			if (!dd.slot[k].used) {
				s = &dd.slot[k];
				dd.next = k + 1;
				break;
			}
		}
		if (s == NULL) {
			dd.dropped++;
			continue;
		}
		dd.udp_q++;
		s->used = 1;
		s->client_id = (uint16_t)(buf[0] << 8 | buf[1]);
		s->from = from;
		s->fromlen = fromlen;
		s->q = malloc((size_t)n);
		if (s->q == NULL) {
			slot_free(s);
			continue;
		}
		memcpy(s->q, buf, (size_t)n);
		s->q[0] = (unsigned char)((s - dd.slot) >> 8);
		s->q[1] = (unsigned char)((s - dd.slot) & 0xff);
		s->qlen = (size_t)n;
		s->timer = evtimer_new(dd.base, slot_expire, s);
		if (s->timer == NULL) {
			slot_free(s);
			continue;
		}
		evtimer_add(s->timer, dd.common);
	}
}

static void
udp_answer(evutil_socket_t fd, short what, void *arg)
{
	unsigned char buf[DD_UDPMAX];

	(void)what;
	(void)arg;
	for (int burst = 0; burst < 64; burst++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct dd_slot *s;

		if (n < 0)
			return;
		if (n < 12)
			continue;
		s = &dd.slot[buf[0] << 8 | buf[1]];
		if (!s->used || !s->sent)
			continue;	/* late or unknown: the client has given up */
		buf[0] = (unsigned char)(s->client_id >> 8);
		buf[1] = (unsigned char)(s->client_id & 0xff);
		(void)sendto(dd.udp, buf, (size_t)n, 0, (struct sockaddr *)&s->from,
		    s->fromlen);
		slot_free(s);
	}
}

static void
tcp_free(struct dd_tcp *t)
{
	while (t->chunks != NULL) {
		struct dd_chunk *c = t->chunks;

		t->chunks = c->next;
		event_free(c->timer);
		free(c->data);
		free(c);
	}
	if (t->client != NULL)
		bufferevent_free(t->client);
	if (t->up != NULL)
		bufferevent_free(t->up);
	free(t);
}

static void
chunk_due(evutil_socket_t fd, short what, void *arg)
{
	struct dd_chunk *c = arg;
	struct dd_tcp *t = c->t;

	(void)fd;
	(void)what;
	/* chunks share one (common) timeout, so they fall due oldest first */
	for (struct dd_chunk **pp = &t->chunks; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	bufferevent_write(t->up, c->data, c->len);
	event_free(c->timer);
	free(c->data);
	free(c);
}

static void
tcp_client_read(struct bufferevent *bev, void *arg)
{
	struct dd_tcp *t = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct dd_chunk *c, **tail;
	size_t len = evbuffer_get_length(in);

	if (len == 0)
		return;
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->data = malloc(len)) == NULL) {
		free(c);
		tcp_free(t);
		return;
	}
	c->t = t;
	c->len = len;
	evbuffer_remove(in, c->data, len);
	dd.tcp_bytes += len;
	c->timer = evtimer_new(dd.base, chunk_due, c);
	for (tail = &t->chunks; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = c;
	evtimer_add(c->timer, dd.common);
}

static void
tcp_up_read(struct bufferevent *bev, void *arg)
{
	struct dd_tcp *t = arg;

	bufferevent_write_buffer(t->client, bufferevent_get_input(bev));
}

static void
tcp_event(struct bufferevent *bev, short what, void *arg)
{
	struct dd_tcp *t = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		tcp_free(t);
}

static void
tcp_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct dd_tcp *t;

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		close(fd);
		return;
	}
	dd.tcp_conns++;
	t->client = bufferevent_socket_new(dd.base, fd, BEV_OPT_CLOSE_ON_FREE);
	t->up = bufferevent_socket_new(dd.base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (t->client == NULL || t->up == NULL) {
		if (t->client == NULL)
			close(fd);
		tcp_free(t);
		return;
	}
	bufferevent_setcb(t->client, tcp_client_read, NULL, tcp_event, t);
	bufferevent_setcb(t->up, tcp_up_read, NULL, tcp_event, t);
	bufferevent_setwatermark(t->client, EV_READ, 0, DD_TCPMAX);
	bufferevent_enable(t->client, EV_READ);
	bufferevent_enable(t->up, EV_READ);
	if (bufferevent_socket_connect(t->up, (struct sockaddr *)&dd.upstream,
	    (int)dd.upstreamlen) != 0)
		tcp_free(t);
}

static void
on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(dd.base);
}

static void
write_stats(void)
{
	FILE *f;

	if (dd.statsfile == NULL || (f = fopen(dd.statsfile, "w")) == NULL)
		return;
	fprintf(f, "udp_queries=%llu\ntcp_connections=%llu\ntcp_bytes=%llu\n"
	    "dropped=%llu\n", (unsigned long long)dd.udp_q,
	    (unsigned long long)dd.tcp_conns, (unsigned long long)dd.tcp_bytes,
	    (unsigned long long)dd.dropped);
	fclose(f);
}

int
main(int argc, char **argv)
{
	const char *lspec = NULL, *uspec = NULL;
	struct evconnlistener *tl;
	struct event *qev, *aev, *sig1, *sig2;
	int ch, one = 1;
	long ms = 20;

	while ((ch = getopt(argc, argv, "l:u:m:s:")) != -1) {
		switch (ch) {
		case 'l': lspec = optarg; break;
		case 'u': uspec = optarg; break;
		case 'm': ms = atol(optarg); break;
		case 's': dd.statsfile = optarg; break;
		default: goto usage;
		}
	}
	if (lspec == NULL || uspec == NULL || ms < 0 ||
	    benchnet_parse(lspec, &dd.listen, &dd.listenlen) != 0 ||
	    benchnet_parse(uspec, &dd.upstream, &dd.upstreamlen) != 0 ||
	    dd.listen.ss_family == AF_UNIX || dd.upstream.ss_family == AF_UNIX) {
usage:
		fprintf(stderr, "usage: dnsdelay -l HOST:PORT -u HOST:PORT [-m ms] [-s statsfile]\n");
		return 2;
	}
	benchnet_nofile();
	signal(SIGPIPE, SIG_IGN);
	dd.slot = calloc(DD_SLOTS, sizeof(*dd.slot));
	dd.base = event_base_new();
	if (dd.slot == NULL || dd.base == NULL)
		return 1;
	dd.delay.tv_sec = ms / 1000;
	dd.delay.tv_usec = (ms % 1000) * 1000;
	dd.common = event_base_init_common_timeout(dd.base, &dd.delay);

	dd.udp = socket(dd.listen.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	dd.up = socket(dd.upstream.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (dd.udp < 0 || dd.up < 0)
		return 1;
	setsockopt(dd.udp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	{
		int sz = 4 << 20;

		setsockopt(dd.udp, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		setsockopt(dd.up, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	if (bind(dd.udp, (struct sockaddr *)&dd.listen, dd.listenlen) != 0) {
		fprintf(stderr, "dnsdelay: bind %s: %s\n", lspec, strerror(errno));
		return 1;
	}
	tl = evconnlistener_new_bind(dd.base, tcp_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
	    (struct sockaddr *)&dd.listen, (int)dd.listenlen);
	if (tl == NULL) {
		fprintf(stderr, "dnsdelay: listen %s: %s\n", lspec, strerror(errno));
		return 1;
	}
	qev = event_new(dd.base, dd.udp, EV_READ | EV_PERSIST, udp_query, NULL);
	aev = event_new(dd.base, dd.up, EV_READ | EV_PERSIST, udp_answer, NULL);
	sig1 = evsignal_new(dd.base, SIGTERM, on_signal, NULL);
	sig2 = evsignal_new(dd.base, SIGINT, on_signal, NULL);
	event_add(qev, NULL);
	event_add(aev, NULL);
	event_add(sig1, NULL);
	event_add(sig2, NULL);
	printf("ready\n");
	fflush(stdout);
	event_base_dispatch(dd.base);
	write_stats();
	for (uint32_t i = 0; i < DD_SLOTS; i++)
		if (dd.slot[i].used)
			slot_free(&dd.slot[i]);
	event_free(qev);
	event_free(aev);
	event_free(sig1);
	event_free(sig2);
	evconnlistener_free(tl);
	event_base_free(dd.base);
	close(dd.udp);
	close(dd.up);
	free(dd.slot);
	return 0;
}
