/*
 * dnsdirect - the direct transport of dnsdirect.h.
 *
 * One struct ddq per query, in one of two lists: on the wire (at most
 * DNSDIRECT_MAX, each with one socket and one timer) or in line.  A try
 * is: a new socket, connect() to the server (so the kernel drops datagrams
 * from anyone else and picks a random ephemeral port), send, and a timer of
 * timeout_ms.  The timer ending, an error on the socket or a bad TCP answer
 * moves to the next try on the next server; after tries x servers tries the
 * query ends with ARES_ETIMEOUT (or ARES_ECONNREFUSED if no try ever got as
 * far as waiting).  Every try waits timeout_ms (c-ares 1.18 doubles it
 * per round, 1.34 with our maxtimeout does not), so the whole query takes
 * at most timeout_ms x tries x servers.  A socket is closed when its try
 * ends, so a late answer to an earlier try is not taken; the server is
 * asked again instead.  A callback is never made from inside
 * dnsdirect_send: a query that cannot be sent at all ends from a 0 ms
 * timer.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "asan.h"
#include "dnsdirect.h"
#include "dnsmsg.h"

#if PSPF_ASAN
#include <sanitizer/asan_interface.h>
#endif

#define MAX_SRV      16
#define UDP_MAX      65536     /* largest datagram we read */
#define UDP_BURST    16        /* datagrams read per readiness event */

struct srv {
	struct sockaddr_storage udp, tcp;
	socklen_t len;
};

struct ddq {
	struct dnsdirect *d;
	struct ddq *prev, *next;
	ares_callback cb;
	void *arg;
	struct dns_timer *timer;
	int fd;
	bool on_wire;
	bool tcp;                   /* a UDP answer was truncated: TCP from now on */
	bool igntc;                 /* ... unless the caller takes it as it is */
	bool connecting;
	bool waited;                /* some try got as far as waiting for an answer */
	int end_status;             /* != 0: the timer ends the query with it */
	unsigned try, ntries, timeouts, nsrv;
	uint16_t id;
	size_t qlen, qname_end;     /* query bytes; end of the question name */
	size_t wpos;                /* TCP: bytes of framed query written */
	size_t rpos, rneed;         /* TCP: answer bytes read / announced */
	unsigned char hdr[2];
	unsigned char *rbuf;
	struct srv srv[MAX_SRV];
	unsigned char msg[2 + DNSMSG_QUERY_MAX];  /* length prefix for TCP, query */
};

struct dnsdirect {
	struct dns_ctx *ctx;
	ares_channel ch;
	int timeout_ms, tries;
	ares_sock_state_cb io;
	void *io_arg;
	struct ddq *wire, *line, *line_tail;
	unsigned nwire;
	unsigned char *ubuf;        /* UDP_MAX bytes, allocated on first use; see ubuf_in_use */
};

static void on_timer(void *arg);

/* c-ares' ares_is_hostnamech(): the bytes it lets through in a name. */
#define R8(c) [c] = 1, [c + 1] = 1, [c + 2] = 1, [c + 3] = 1, [c + 4] = 1, [c + 5] = 1, \
	[c + 6] = 1, [c + 7] = 1
static const unsigned char hostnamech[256] = {
	R8('0'), ['8'] = 1, ['9'] = 1,
	R8('A'), R8('I'), R8('Q'), ['Y'] = 1, ['Z'] = 1,
	R8('a'), R8('i'), R8('q'), ['y'] = 1, ['z'] = 1,
	['-'] = 1, ['.'] = 1, ['_'] = 1, ['/'] = 1, ['*'] = 1,
};
#undef R8

bool dnsdirect_wants(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;

	while (hostnamech[*p])
		p++;
	return *p != 0;         /* stopped before the end: a byte c-ares refuses */
}

struct dnsdirect *dnsdirect_new(struct dns_ctx *ctx, ares_channel ch, int timeout_ms, int tries,
				ares_sock_state_cb io, void *io_arg)
{
	struct dnsdirect *d = calloc(1, sizeof *d);

	if (!d)
		return NULL;
	d->ctx = ctx;
	d->ch = ch;
	d->timeout_ms = timeout_ms > 0 ? timeout_ms : 2000;
	d->tries = tries > 0 ? tries : 1;
	d->io = io;
	d->io_arg = io_arg;
	return d;
}

/* ---- lists ---- */

static void unlink_q(struct ddq **head, struct ddq **tail, struct ddq *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		*head = q->next;
	if (q->next)
		q->next->prev = q->prev;
	else if (tail)
		*tail = q->prev;
	q->prev = q->next = NULL;
}

static void push_wire(struct dnsdirect *d, struct ddq *q)
{
	q->prev = NULL;
	q->next = d->wire;
	if (d->wire)
		d->wire->prev = q;
	d->wire = q;
	q->on_wire = true;
	d->nwire++;
}

/* ---- sockets ---- */

static void sock_close(struct ddq *q)
{
	if (q->fd < 0)
		return;
	if (q->d->io)
		q->d->io(q->d->io_arg, q->fd, 0, 0);
	close(q->fd);
	q->fd = -1;
	q->connecting = false;
	free(q->rbuf);
	q->rbuf = NULL;
	q->rpos = q->rneed = q->wpos = 0;
}

static void sock_want(struct ddq *q, bool r, bool w)
{
	if (q->d->io)
		q->d->io(q->d->io_arg, q->fd, r, w);
}

static uint16_t random_id(void)
{
	static uint32_t fallback;
	uint16_t id;

	if (getrandom(&id, sizeof id, GRND_NONBLOCK) == (ssize_t)sizeof id)
		return id;
	/* No entropy yet (early boot): still never the same id twice in a row. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fallback = fallback * 1103515245u + 12345u + (uint32_t)ts.tv_nsec;
	return (uint16_t)(fallback >> 16);
}

/* Start try q->try on its server; 0 when it is under way. */
static int try_one(struct ddq *q)
{
	const struct srv *s = &q->srv[q->try % q->nsrv];
	const struct sockaddr *sa = (const struct sockaddr *)(q->tcp ? &s->tcp : &s->udp);
	unsigned char *m = q->msg + 2;

	q->id = random_id();
	m[0] = (unsigned char)(q->id >> 8);
	m[1] = (unsigned char)q->id;
	q->fd = socket(sa->sa_family, (q->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK |
		       SOCK_CLOEXEC, 0);
	if (q->fd < 0)
		return -1;
	if (connect(q->fd, sa, s->len) < 0) {
		if (!q->tcp || errno != EINPROGRESS) {
			sock_close(q);
			return -1;
		}
	}
	if (q->tcp) {
		q->connecting = true;
		sock_want(q, false, true);
	} else {
		if (send(q->fd, m, q->qlen, MSG_NOSIGNAL) != (ssize_t)q->qlen) {
			sock_close(q);
			return -1;
		}
		sock_want(q, true, false);
	}
	q->timer = dns_timer_start(q->d->ctx, q->d->timeout_ms, on_timer, q);
	if (!q->timer) {
		sock_close(q);
		return -1;
	}
	q->waited = true;
	return 0;
}

/* From q->try on, start the first try that gets under way; 0 if one did,
 * else the status the query ends with. */
static int run_tries(struct ddq *q)
{
	for (; q->try < q->ntries; q->try++)
		if (try_one(q) == 0)
			return 0;
	return q->timeouts || q->waited ? ARES_ETIMEOUT : ARES_ECONNREFUSED;
}

/* ---- ending a query ---- */

static void q_free(struct ddq *q)
{
	sock_close(q);
	if (q->timer) {
		dns_timer_stop(q->timer);
		q->timer = NULL;
	}
	free(q);
}

static void line_drain(struct dnsdirect *d);

/* Call back and free q (not in line); then let the line move. */
static void finish(struct ddq *q, int status, unsigned char *abuf, int alen)
{
	struct dnsdirect *d = q->d;
	ares_callback cb = q->cb;
	void *arg = q->arg;
	unsigned timeouts = q->timeouts;
	unsigned char *own = NULL;

	if (q->on_wire) {
		unlink_q(&d->wire, NULL, q);
		q->on_wire = false;
		d->nwire--;
	}
	if (abuf == q->rbuf) {
		own = q->rbuf;          /* keep the TCP answer past q_free */
		q->rbuf = NULL;
	}
	q_free(q);
	cb(arg, status, (int)timeouts, abuf, alen);
	free(own);
	/* The callback may have sent more; fill free slots from the line. */
	line_drain(d);
}

/* End q from a 0 ms timer, so the caller of dnsdirect_send is not called
 * back before it returns; -1 if even that timer cannot be had. */
static int end_later(struct ddq *q, int status)
{
	q->end_status = status;
	q->timer = dns_timer_start(q->d->ctx, 0, on_timer, q);
	return q->timer ? 0 : -1;
}

/* Put q on the wire (a free slot is known to exist).  Failing to, q ends
 * through a timer; -1 (q off the wire, not called back) if even that
 * cannot be had. */
static int start(struct ddq *q)
{
	struct dnsdirect *d = q->d;
	struct ares_addr_port_node *list = NULL, *n;
	int rc;

	push_wire(d, q);
	/* Deprecated from c-ares 1.24 for ares_get_servers_csv, which 1.18
	 * lacks; this one works on both and gives addresses, not text. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	if (ares_get_servers_ports(d->ch, &list) != ARES_SUCCESS)
		list = NULL;
#pragma GCC diagnostic pop
	for (n = list; n && q->nsrv < MAX_SRV; n = n->next) {
		struct srv *s = &q->srv[q->nsrv];
		int up = n->udp_port ? n->udp_port : 53, tp = n->tcp_port ? n->tcp_port : 53;

		memset(s, 0, sizeof *s);
		if (n->family == AF_INET) {
			struct sockaddr_in *u = (struct sockaddr_in *)&s->udp;
			u->sin_family = AF_INET;
			u->sin_addr = n->addr.addr4;
			s->len = sizeof *u;
			memcpy(&s->tcp, u, sizeof *u);
			u->sin_port = htons((uint16_t)up);
			((struct sockaddr_in *)&s->tcp)->sin_port = htons((uint16_t)tp);
		} else if (n->family == AF_INET6) {
			struct sockaddr_in6 *u = (struct sockaddr_in6 *)&s->udp;
			u->sin6_family = AF_INET6;
			memcpy(&u->sin6_addr, &n->addr.addr6, sizeof u->sin6_addr);
			s->len = sizeof *u;
			memcpy(&s->tcp, u, sizeof *u);
			u->sin6_port = htons((uint16_t)up);
			((struct sockaddr_in6 *)&s->tcp)->sin6_port = htons((uint16_t)tp);
		} else {
			continue;
		}
		q->nsrv++;
	}
	if (list)
		ares_free_data(list);
	if (q->nsrv == 0) {
		rc = ARES_ESERVFAIL;
	} else {
		q->ntries = (unsigned)d->tries * q->nsrv;
		rc = run_tries(q);
		if (rc == 0)
			return 0;
	}
	if (end_later(q, rc) == 0)
		return 0;
	unlink_q(&d->wire, NULL, q);
	q->on_wire = false;
	d->nwire--;
	return -1;
}

static void line_drain(struct dnsdirect *d)
{
	while (d->line && d->nwire < DNSDIRECT_MAX) {
		struct ddq *n = d->line;
		unlink_q(&d->line, &d->line_tail, n);
		if (start(n) < 0)
			finish(n, ARES_ENOMEM, NULL, 0);
	}
}

int dnsdirect_send(struct dnsdirect *d, const unsigned char *msg, int len, int flags,
		   ares_callback cb, void *arg)
{
	struct ddq *q;
	size_t o = 12;

	if (!d || len < 17 || (size_t)len > DNSMSG_QUERY_MAX)
		return -1;
	/* Where the question name ends, to match answers against it. */
	while (o < (size_t)len && msg[o])
		o += 1 + msg[o];
	if (o + 5 > (size_t)len)
		return -1;
	q = calloc(1, sizeof *q);
	if (!q)
		return -1;
	q->d = d;
	q->cb = cb;
	q->arg = arg;
	q->fd = -1;
	q->tcp = (flags & DNSDIRECT_TCP) != 0;
	q->igntc = (flags & DNSDIRECT_IGNTC) != 0;
	q->qlen = (size_t)len;
	q->qname_end = o + 1;
	q->msg[0] = (unsigned char)(len >> 8);
	q->msg[1] = (unsigned char)len;
	memcpy(q->msg + 2, msg, (size_t)len);
	if (d->nwire >= DNSDIRECT_MAX) {
		q->prev = d->line_tail;
		if (d->line_tail)
			d->line_tail->next = q;
		else
			d->line = q;
		d->line_tail = q;
		return 0;
	}
	if (start(q) < 0) {
		q_free(q);
		return -1;
	}
	return 0;
}

/* ---- timers ---- */

/* Drop the try under way and start the one q->try and q->tcp now name,
 * or end q when there is none left. */
static void retry(struct ddq *q)
{
	int rc;

	sock_close(q);
	if (q->timer) {
		dns_timer_stop(q->timer);
		q->timer = NULL;
	}
	rc = run_tries(q);
	if (rc)
		finish(q, rc, NULL, 0);
}

/* The try under way failed (timer, refused, reset, bad answer): next one. */
static void next_try(struct ddq *q)
{
	q->try++;
	retry(q);
}

static void on_timer(void *arg)
{
	struct ddq *q = arg;

	q->timer = NULL;            /* freed as it fired */
	if (q->end_status) {
		finish(q, q->end_status, NULL, 0);
		return;
	}
	q->timeouts++;
	next_try(q);
}

/* ---- answers ---- */

static int lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Is a (n bytes) the answer to q's try under way?  The sender was checked
 * by the kernel (connected socket) or is the TCP peer. */
static bool matches(const struct ddq *q, const unsigned char *a, size_t n)
{
	const unsigned char *m = q->msg + 2;
	unsigned qd;

	if (n < 12 || a[0] != m[0] || a[1] != m[1] || !(a[2] & 0x80))
		return false;
	qd = (unsigned)(a[4] << 8 | a[5]);
	/* An old server may refuse EDNS0 with a bare FORMERR header. */
	if (qd == 0 && (a[3] & 0x0f) == DNSMSG_RCODE_FORMERR)
		return true;
	if (qd != 1 || n < q->qname_end + 4)
		return false;
	for (size_t i = 12; i < q->qname_end; i++)
		if (lc(a[i]) != lc(m[i]))
			return false;
	return memcmp(a + q->qname_end, m + q->qname_end, 4) == 0;
}

/* Switch q to TCP on the same server, without using up a try. */
static void to_tcp(struct ddq *q)
{
	q->tcp = true;
	retry(q);
}

/*
 * Every UDP answer is read into the one ubuf and must be used up by the
 * callback: a pointer kept into it would silently read the next
 * datagram.  Under ASan the buffer is poisoned outside udp_read, so such
 * a read is reported instead.
 */
static void ubuf_in_use(unsigned char *b, bool in_use)
{
#if PSPF_ASAN
	if (in_use)
		ASAN_UNPOISON_MEMORY_REGION(b, UDP_MAX);
	else
		ASAN_POISON_MEMORY_REGION(b, UDP_MAX);
#else
	(void)b;
	(void)in_use;
#endif
}

/* Read up to UDP_BURST datagrams into buf until q's answer is among them. */
static void udp_take(struct ddq *q, unsigned char *buf)
{
	for (int i = 0; i < UDP_BURST; i++) {
		ssize_t n = recv(q->fd, buf, UDP_MAX, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			next_try(q);        /* ICMP unreachable and the like */
			return;
		}
		if (!matches(q, buf, (size_t)n))
			continue;           /* not ours: keep waiting */
		if ((buf[2] & 0x02) && !q->igntc) {
			to_tcp(q);
			return;
		}
		finish(q, ARES_SUCCESS, buf, (int)n);
		return;
	}
}

static void udp_read(struct ddq *q)
{
	struct dnsdirect *d = q->d;
	unsigned char *buf;

	if (!d->ubuf) {
		d->ubuf = malloc(UDP_MAX);
		if (!d->ubuf) {
			finish(q, ARES_ENOMEM, NULL, 0);
			return;
		}
	}
	/* d outlives the callback (finish goes on with d after it), but q may not */
	buf = d->ubuf;
	ubuf_in_use(buf, true);
	udp_take(q, buf);
	ubuf_in_use(buf, false);
}

static void tcp_write(struct ddq *q)
{
	if (q->connecting) {
		int err = 0;
		socklen_t el = sizeof err;
		if (getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			next_try(q);
			return;
		}
		q->connecting = false;
	}
	while (q->wpos < q->qlen + 2) {
		ssize_t n = send(q->fd, q->msg + q->wpos, q->qlen + 2 - q->wpos, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			next_try(q);
			return;
		}
		q->wpos += (size_t)n;
	}
	sock_want(q, true, false);
}

static void tcp_read(struct ddq *q)
{
	for (;;) {
		unsigned char *dst;
		size_t want;
		if (q->rpos < 2) {
			dst = q->hdr + q->rpos;
			want = 2 - q->rpos;
		} else {
			dst = q->rbuf + (q->rpos - 2);
			want = q->rneed - (q->rpos - 2);
		}
		ssize_t n = recv(q->fd, dst, want, 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0) {
			next_try(q);        /* reset, or closed before the answer */
			return;
		}
		q->rpos += (size_t)n;
		if (q->rpos == 2) {
			q->rneed = (size_t)(q->hdr[0] << 8 | q->hdr[1]);
			if (q->rneed < 12) {
				next_try(q);
				return;
			}
			q->rbuf = malloc(q->rneed);
			if (!q->rbuf) {
				finish(q, ARES_ENOMEM, NULL, 0);
				return;
			}
		} else if (q->rpos > 2 && q->rpos - 2 == q->rneed) {
			if (!matches(q, q->rbuf, q->rneed)) {
				next_try(q);
				return;
			}
			finish(q, ARES_SUCCESS, q->rbuf, (int)q->rneed);
			return;
		}
	}
}

bool dnsdirect_process(struct dnsdirect *d, int read_fd, int write_fd)
{
	struct ddq *q;

	if (!d || !d->wire || (read_fd < 0 && write_fd < 0))
		return false;
	for (q = d->wire; q; q = q->next)
		if (q->fd >= 0 && (q->fd == read_fd || q->fd == write_fd))
			break;
	if (!q)
		return false;
	if (q->fd == write_fd && q->tcp && q->wpos < q->qlen + 2) {
		int fd = q->fd;
		tcp_write(q);
		/* q may be gone; only read if the same try is still waiting. */
		if (read_fd != fd)
			return true;
		for (q = d->wire; q && q->fd != fd; q = q->next)
			;
		if (!q || q->wpos < q->qlen + 2)
			return true;
	}
	if (q->fd == read_fd) {
		if (q->tcp)
			tcp_read(q);
		else
			udp_read(q);
	}
	return true;
}

void dnsdirect_free(struct dnsdirect *d)
{
	if (!d)
		return;
	while (d->line) {
		struct ddq *q = d->line;
		unlink_q(&d->line, &d->line_tail, q);
		ares_callback cb = q->cb;
		void *arg = q->arg;
		q_free(q);
		cb(arg, ARES_EDESTRUCTION, 0, NULL, 0);
	}
	while (d->wire) {
		struct ddq *q = d->wire;
		unlink_q(&d->wire, NULL, q);
		d->nwire--;
		ares_callback cb = q->cb;
		void *arg = q->arg;
		q_free(q);
		cb(arg, ARES_EDESTRUCTION, 0, NULL, 0);
	}
	if (d->ubuf)
		ubuf_in_use(d->ubuf, true);
	free(d->ubuf);
	free(d);
}
