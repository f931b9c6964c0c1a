/*
 * conn - the connection state machine.
 *
 *   OPEN   reading requests; complete ones wait in a short queue and are
 *          decided one at a time, replies leave in request order.
 *   DRAIN  no more input (EOF, bad input, server stopping): answer what
 *          is queued, flush, then close.
 *   (closed: freed)
 *
 * Every event handler only records what happened and then calls
 * conn_step(), which parses, starts the next check, decides which events
 * to wait for, and closes when there is nothing left to do.  The policy's
 * completion callback never re-enters conn_step(): it queues the reply and
 * activates the `kick` event, so a connection is never freed under the
 * policy module's feet.
 *
 * Bad input rule (documented in policyd-spf(8)): a line longer than
 * ATTR_LINE_MAX, a request over ATTR_REQ_MAX bytes or ATTR_MAX attributes
 * is logged once and the connection goes to DRAIN without a reply for the
 * bad request (Postfix's README: log and disconnect; Postfix retries and
 * then applies its default action).  A line that does not match
 * name=value is logged and ignored, as the Python server does.
 */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "asan.h"
#include "attr.h"
#include "log.h"
#include "policy.h"
#include "server.h"

enum conn_state { CS_OPEN, CS_DRAIN };

#define LOG_LINE_DISPLAY 4000     /* a request line as shown in logs (log.c cuts at 4096) */
#define CONN_OUT_MIN  512         /* reply buffer: one reply with its headers */
#define REQ_POOL_MAX  32          /* finished requests kept for reuse, per process */

struct conn {
	struct srv *srv;
	struct conn *prev, *next;
	int in_fd, out_fd;
	bool sock;                      /* sockets both ways: recv/send */
	char peer[80];
	enum conn_state state;
	bool eof;

	/*
	 * Input not parsed yet: ilen bytes at ip.  While read_cb's conn_step()
	 * runs, ip points into read_cb's stack buffer, so the usual request
	 * (read whole, parsed at once) is never copied; what is left over (a
	 * partial line, or lines waiting for room in the queue) is moved to
	 * pend, which exists only while it holds something.
	 */
	const char *ip;
	size_t ilen;
	size_t scanned;                 /* bytes at ip known to hold no LF */
	bool ip_stack;                  /* ip is in read_cb's buffer */
	char *pend;
	size_t pend_cap;
	/* replies not written yet: obuf[ooff..olen); freed once all are written */
	char *obuf;
	size_t ooff, olen, ocap;
	struct event *ev_read, *ev_write, *ev_idle, *ev_deadline, *ev_kick;
	bool reading, writing;
	struct timeval idle_at;         /* loop time ev_idle was last armed at */
	int idle_secs;                  /* ... for this long */

	/* the request being read (NULL until its first line) and the complete ones */
	struct attr_req *cur;
	struct attr_req *q[CONN_QUEUE_MAX];
	size_t qhead, qlen;

	struct policy_session *ps;
	struct policy_check *pc;
	bool check_running;
	bool in_start;                  /* inside policy_check_start() */
	unsigned long nreq;
};

static void conn_step(struct conn *c);
static void conn_free(struct conn *c);

static int
debug_level(const struct conn *c)
{
	return c->srv->conf != NULL && c->srv->conf->py != NULL ? c->srv->conf->py->debug_level : 1;
}

/*
 * Re-arming at the same loop time (a read and its reply in one callback)
 * would set the same deadline: libevent takes `now` from the loop's
 * cached time.  Skipping it saves a timer update per request.
 */
static void
arm_idle(struct conn *c)
{
	struct timeval tv = { server_idle_timeout(c->srv), 0 }, now = { 0, 0 };

	if (event_base_gettimeofday_cached(c->srv->base, &now) == 0 && tv.tv_sec == c->idle_secs &&
	    now.tv_sec == c->idle_at.tv_sec && now.tv_usec == c->idle_at.tv_usec &&
	    event_pending(c->ev_idle, EV_TIMEOUT, NULL))
		return;
	event_add(c->ev_idle, &tv);
	c->idle_at = now;
	c->idle_secs = (int)tv.tv_sec;
}

static size_t
out_pending(const struct conn *c)
{
	return c->olen - c->ooff;
}

/* Room for n more reply bytes at obuf + olen; NULL when out of memory. */
static char *
out_room(struct conn *c, size_t n)
{
	if (c->ocap - c->olen < n && c->ooff > 0) {
		memmove(c->obuf, c->obuf + c->ooff, c->olen - c->ooff);
		c->olen -= c->ooff;
		c->ooff = 0;
	}
	if (c->ocap - c->olen < n) {
		size_t cap = c->ocap != 0 ? c->ocap : CONN_OUT_MIN;
		char *b;

		while (cap - c->olen < n)
			cap *= 2;
		b = realloc(c->obuf, cap);
		if (b == NULL)
			return NULL;
		c->obuf = b;
		c->ocap = cap;
	}
	return c->obuf + c->olen;
}

static void
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/*
 * Requests (each with its arena) are reused through a small pool of the
 * process, not kept per connection: no malloc per request, and an idle
 * connection holds no request memory.  One event loop per process, so
 * no locking.
 */
static struct attr_req *req_pool[REQ_POOL_MAX];
static size_t req_pool_len;

static struct attr_req *
req_get(void)
{
	struct attr_req *r;

	if (req_pool_len > 0)
		return req_pool[--req_pool_len];
	r = malloc(sizeof(*r));
	if (r != NULL)
		attr_req_init(r);
	return r;
}

static void
req_put(struct attr_req *r)
{
	if (r == NULL)
		return;
	/* (not under ASan: it should see a use of a request after its end) */
	if (req_pool_len < REQ_POOL_MAX && !PSPF_ASAN) {
		attr_req_reset(r);      /* frees a big arena */
		req_pool[req_pool_len++] = r;
	} else {
		attr_req_clear(r);
		free(r);
	}
}

/* Forget the partial request and all unparsed input. */
static void
drop_input(struct conn *c)
{
	req_put(c->cur);
	c->cur = NULL;
	c->ip = NULL;
	c->ilen = 0;
	c->scanned = 0;
	c->ip_stack = false;
	free(c->pend);
	c->pend = NULL;
	c->pend_cap = 0;
}

/* Bad input: one log line, forget the partial request, answer what came before. */
static void
conn_bad(struct conn *c, const char *why)
{
	log_err("%s: %s; closing connection after %zu queued repl%s", c->peer, why, c->qlen +
		(c->check_running ? 1 : 0), c->qlen + (c->check_running ? 1 : 0) == 1 ? "y" : "ies");
	drop_input(c);
	c->state = CS_DRAIN;
}

/* A request line in a log line (kept out of the per-line path: its buffer is big). */
static void __attribute__((noinline))
log_line(bool nomatch, const char *line, size_t len)
{
	char disp[LOG_LINE_DISPLAY];

	attr_line_display(line, len, disp, sizeof(disp));
	if (nomatch)
		log_info("ERROR: Could not match line \"%s\"", disp);
	else
		log_info("Read line: \"%s\"", disp);
}

/* The rarer outcomes of a line: end of request, no match, bound hit. */
static void __attribute__((noinline))
line_result(struct conn *c, int rc, const char *err, const char *line, size_t len, int dbg)
{
	if (rc == ATTR_END) {
		if (dbg >= 4)
			log_info("Found the end of entry");
		c->q[(c->qhead + c->qlen) % CONN_QUEUE_MAX] = c->cur;
		c->qlen++;
		c->cur = NULL;
	} else if (rc == ATTR_NOMATCH) {
		if (dbg >= 0)
			log_line(true, line, len);
	} else if (rc == ATTR_BOUND) {
		char why[128];

		snprintf(why, sizeof(why), "bad request: %s (limits: %d bytes per line, %d per request, "
			 "%d attributes)", err, ATTR_LINE_MAX, ATTR_REQ_MAX, ATTR_MAX);
		conn_bad(c, why);
	}
}

static inline void
handle_line(struct conn *c, const char *line, size_t len, int dbg)
{
	const char *err = NULL;
	int rc;

	if (dbg >= 4)
		log_line(false, line, len);
	if (c->cur == NULL && (c->cur = req_get()) == NULL) {
		conn_bad(c, "out of memory");
		return;
	}
	rc = attr_req_add_line(c->cur, line, len, &err);
	if (rc != ATTR_OK)
		line_result(c, rc, err, line, len, dbg);
}

/* Split complete lines off the input while there is room in the queue. */
static void
conn_parse(struct conn *c)
{
	int dbg = debug_level(c);

	while (c->state == CS_OPEN && c->qlen < CONN_QUEUE_MAX && c->ilen > 0) {
		const char *nl = memchr(c->ip + c->scanned, '\n', c->ilen - c->scanned), *line;
		size_t len;

		if (nl == NULL) {
			c->scanned = c->ilen;
			if (c->ilen > ATTR_LINE_MAX)
				conn_bad(c, "bad request: line too long");
			return;
		}
		len = (size_t)(nl - c->ip);
		if (len > ATTR_LINE_MAX) {
			conn_bad(c, "bad request: line too long");
			return;
		}
		/* past the line first: bad input in it drops all input (conn_bad) */
		line = c->ip;
		c->ip += len + 1;
		c->ilen -= len + 1;
		c->scanned = 0;
		handle_line(c, line, len, dbg);
	}
}

/*
 * After parsing: unparsed input still on read_cb's stack moves to pend
 * (-1 when out of memory); none left frees pend.
 */
static int
keep_input(struct conn *c)
{
	if (c->ilen == 0) {
		c->ip = NULL;
		c->ip_stack = false;
		free(c->pend);
		c->pend = NULL;
		c->pend_cap = 0;
		return 0;
	}
	if (!c->ip_stack)
		return 0;
	/* pend is empty whenever ip is on the stack (read_cb appends otherwise) */
	free(c->pend);
	c->pend = malloc(c->ilen);
	c->pend_cap = c->ilen;
	if (c->pend == NULL) {
		c->pend_cap = 0;
		return -1;
	}
	memcpy(c->pend, c->ip, c->ilen);
	c->ip = c->pend;
	c->ip_stack = false;
	return 0;
}

/*
 * Add freshly read bytes behind the unparsed input in pend.  The input
 * stays bounded: we read only while the queue has room, i.e. after
 * conn_parse() took every complete line, so what is left is at most one
 * line (ATTR_LINE_MAX) before this read's CONN_READ_CHUNK; pend is at
 * most twice that.
 */
static int
pend_append(struct conn *c, const char *buf, size_t n)
{
	size_t off = (size_t)(c->ip - c->pend);

	if (off > 0) {
		memmove(c->pend, c->ip, c->ilen);
		c->ip = c->pend;
	}
	if (c->pend_cap - c->ilen < n) {
		/* doubling: a line trickling in byte by byte is not copied over and over */
		size_t cap = c->ilen + n > 2 * c->pend_cap ? c->ilen + n : 2 * c->pend_cap;
		char *p = realloc(c->pend, cap);

		if (p == NULL)
			return -1;
		c->pend = p;
		c->pend_cap = cap;
		c->ip = p;
	}
	memcpy(c->pend + c->ilen, buf, n);
	c->ilen += n;
	return 0;
}

/* A reply may only be one line: no CR, LF or other control bytes, never empty. */
static void
queue_reply(struct conn *c, const char *action)
{
	size_t len = action != NULL ? strlen(action) : 0, i = 0;
	bool fixed = false;
	char *o;

	if (len == 0) {
		log_err("%s: internal error: empty action; answering dunno", c->peer);
		action = "dunno";
		len = 5;
	}
	o = out_room(c, 7 + len + 2);
	if (o == NULL) {
		/* as when the reply could not be queued before: the client times out */
		log_err("%s: out of memory for a reply", c->peer);
		return;
	}
	memcpy(o, "action=", 7);
	memcpy(o + 7, action, len);
	memcpy(o + 7 + len, "\n\n", 2);
	c->olen += 7 + len + 2;
	o += 7;
	/* bytes below 0x20 eight at a time (tabs are allowed, and rare) */
	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, o + i, 8);
		if ((w - 0x2020202020202020ull) & ~w & 0x8080808080808080ull) {
			for (size_t j = i; j < i + 8; j++) {
				if ((unsigned char)o[j] < 0x20 && o[j] != '\t') {
					o[j] = ' ';
					fixed = true;
				}
			}
		}
	}
	for (; i < len; i++) {
		if ((unsigned char)o[i] < 0x20 && o[i] != '\t') {
			o[i] = ' ';
			fixed = true;
		}
	}
	if (fixed)
		log_err("%s: control bytes in reply replaced by blanks", c->peer);
}

static void
check_done(void *arg, const char *action)
{
	struct conn *c = arg;

	queue_reply(c, action);
	c->pc = NULL;
	c->check_running = false;
	if (!c->in_start)       /* armed only once policy_check_start() returned */
		event_del(c->ev_deadline);
	c->nreq++;
	server_count_reply(c->srv, action);
	if (!c->in_start)
		event_active(c->ev_kick, EV_TIMEOUT, 0);
}

/*
 * Backstop: the policy answers on its own before Request_Timeout; if it
 * ever does not, Postfix must still get an answer before its own timeout.
 * The answer is the one a DNS temperror gets by default: accept (dunno),
 * or defer with TempError_Defer = True.
 */
static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	const char *td = c->srv->conf->py != NULL ? c->srv->conf->py->temperror_defer : NULL;
	bool defer = td != NULL && strcmp(td, "True") == 0;

	(void)fd;
	(void)what;
	if (!c->check_running)
		return;
	log_err("%s: check did not finish within %d s; answering %s", c->peer,
		server_request_timeout(c->srv) + 1, defer ? "defer_if_permit" : "dunno");
	policy_check_cancel(c->pc);
	c->pc = NULL;
	c->check_running = false;
	queue_reply(c, defer ? "defer_if_permit 4.7.24 SPF check timed out" : "dunno");
	conn_step(c);
}

static void
start_check(struct conn *c)
{
	struct attr_req *r = c->q[c->qhead];
	struct timeval tv = { server_request_timeout(c->srv) + 1, 0 };
	struct policy_check *pc;

	c->check_running = true;
	c->in_start = true;
	pc = policy_check_start(c->ps, c->srv->conf, c->srv->dns, r, check_done, c);
	c->in_start = false;
	c->q[c->qhead] = NULL;
	c->qhead = (c->qhead + 1) % CONN_QUEUE_MAX;
	c->qlen--;
	req_put(r);
	if (c->check_running) {
		c->pc = pc;
		/* not before: most checks answer from the caches within
		 * policy_check_start(); the deadline is the same, as the loop's
		 * cached time has not moved */
		event_add(c->ev_deadline, &tv);
	}
}

static bool
try_write(struct conn *c)
{
	while (out_pending(c) > 0) {
		ssize_t n = c->sock ? send(c->out_fd, c->obuf + c->ooff, out_pending(c), MSG_NOSIGNAL)
				    : write(c->out_fd, c->obuf + c->ooff, out_pending(c));

		if (n > 0) {
			c->ooff += (size_t)n;
			arm_idle(c);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return true;
		if (debug_level(c) >= 2 || (errno != EPIPE && errno != ECONNRESET))
			log_info("%s: write: %s; closing connection", c->peer,
				 n < 0 ? strerror(errno) : "nothing written");
		return false;
	}
	/* an idle connection holds no buffer (and a reply fits malloc's fast bins) */
	free(c->obuf);
	c->obuf = NULL;
	c->ooff = c->olen = c->ocap = 0;
	return true;
}

static void
conn_step(struct conn *c)
{
	bool want_read, want_write;

	for (;;) {
		conn_parse(c);
		/* EOF: the input is done once no complete line is left in it */
		if (c->eof && c->state == CS_OPEN && c->qlen < CONN_QUEUE_MAX) {
			if ((c->cur != NULL && c->cur->bytes > 0) || c->ilen > 0) {
				/* an unfinished request is dropped, as Python does */
				if (debug_level(c) >= 2)
					log_info("%s: EOF in the middle of a request, discarded", c->peer);
				drop_input(c);
			}
			c->state = CS_DRAIN;
		}
		if (c->check_running || c->qlen == 0 || out_pending(c) >= CONN_OUT_MAX)
			break;
		start_check(c);
		/* answered synchronously: take the next one */
	}
	if (keep_input(c) < 0) {
		log_err("%s: out of memory, closing connection", c->peer);
		conn_free(c);
		return;
	}
	if (!try_write(c)) {
		conn_free(c);
		return;
	}
	if (c->state == CS_DRAIN && !c->check_running && c->qlen == 0 &&
	    out_pending(c) == 0) {
		conn_free(c);
		return;
	}
	want_read = c->state == CS_OPEN && !c->eof && c->qlen < CONN_QUEUE_MAX &&
		    out_pending(c) < CONN_OUT_MAX;
	want_write = out_pending(c) > 0;
	if (want_read != c->reading) {
		if (want_read)
			event_add(c->ev_read, NULL);
		else
			event_del(c->ev_read);
		c->reading = want_read;
	}
	if (want_write != c->writing) {
		if (want_write)
			event_add(c->ev_write, NULL);
		else
			event_del(c->ev_write);
		c->writing = want_write;
	}
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	char buf[CONN_READ_CHUNK];
	ssize_t n;

	(void)fd;
	(void)what;
	/* not evbuffer_read(): it asks the kernel with ioctl(FIONREAD) how
	 * much there is before every read, one more syscall per request */
	n = c->sock ? recv(c->in_fd, buf, sizeof(buf), 0) : read(c->in_fd, buf, sizeof(buf));
	if (n > 0) {
		if (c->ilen == 0) {
			c->ip = buf;
			c->ilen = (size_t)n;
			c->ip_stack = true;
		} else if (pend_append(c, buf, (size_t)n) < 0) {
			log_err("%s: out of memory, closing connection", c->peer);
			conn_free(c);
			return;
		}
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		if (errno != ECONNRESET || debug_level(c) >= 2)
			log_info("%s: read: %s; closing connection", c->peer, strerror(errno));
		conn_free(c);
		return;
	}
	if (n == 0)
		c->eof = true;
	else
		arm_idle(c);
	conn_step(c);
}

static void
write_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_step(arg);
}

static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_step(arg);
}

static void
idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->check_running) {
		arm_idle(c);    /* the check's deadline guards this case */
		return;
	}
	if (out_pending(c) > 0)
		conn_abort(c, "client does not read its replies");
	else
		conn_abort(c, "idle timeout");
}

struct conn *
conn_new(struct srv *s, int in_fd, int out_fd, const char *peer)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct stat st;

	if (c == NULL)
		return NULL;
	c->srv = s;
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	/* recv(2)/send(2) skip the file layer read(2)/write(2) go through:
	 * measurably less kernel time per request */
	c->sock = fstat(in_fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
		  (in_fd == out_fd || (fstat(out_fd, &st) == 0 && S_ISSOCK(st.st_mode)));
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	set_nonblock(in_fd);
	if (out_fd != in_fd)
		set_nonblock(out_fd);
	c->ev_read = event_new(s->base, in_fd, EV_READ | EV_PERSIST, read_cb, c);
	c->ev_write = event_new(s->base, out_fd, EV_WRITE | EV_PERSIST, write_cb, c);
	c->ev_idle = evtimer_new(s->base, idle_cb, c);
	c->ev_deadline = evtimer_new(s->base, deadline_cb, c);
	c->ev_kick = event_new(s->base, -1, 0, kick_cb, c);
	c->ps = policy_session_new();
	conn_link(c, &s->conns);
	s->nconns++;
	if (c->ev_read == NULL || c->ev_write == NULL ||
	    c->ev_idle == NULL || c->ev_deadline == NULL || c->ev_kick == NULL || c->ps == NULL) {
		log_err("%s: out of memory, closing connection", peer);
		conn_free(c);
		return NULL;
	}
	arm_idle(c);
	/* first step from the loop, so the caller's pointer stays valid */
	event_active(c->ev_kick, EV_TIMEOUT, 0);
	return c;
}

void
conn_link(struct conn *c, struct conn **head)
{
	c->prev = NULL;
	c->next = *head;
	if (*head != NULL)
		(*head)->prev = c;
	*head = c;
}

struct conn *
conn_next(const struct conn *c)
{
	return c->next;
}

void
conn_shutdown(struct conn *c)
{
	if (c->state == CS_OPEN) {
		drop_input(c);
		c->state = CS_DRAIN;
	}
	event_active(c->ev_kick, EV_TIMEOUT, 0);
}

void
conn_abort(struct conn *c, const char *why)
{
	log_info("%s: %s, closing connection%s", c->peer, why,
		 c->check_running ? " (a check was in progress, not answered)" : "");
	conn_free(c);
}

static void
conn_free(struct conn *c)
{
	struct srv *s = c->srv;

	if (c->check_running && c->pc != NULL)
		policy_check_cancel(c->pc);
	c->pc = NULL;
	c->check_running = false;
	if (c->ps != NULL)
		policy_session_free(c->ps);
	drop_input(c);
	for (size_t i = 0; i < CONN_QUEUE_MAX; i++)
		req_put(c->q[i]);
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	if (c->ev_idle != NULL)
		event_free(c->ev_idle);
	if (c->ev_deadline != NULL)
		event_free(c->ev_deadline);
	if (c->ev_kick != NULL)
		event_free(c->ev_kick);
	free(c->obuf);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->nconns--;
	close(c->in_fd);
	if (c->out_fd != c->in_fd)
		close(c->out_fd);
	free(c);
	server_conn_closed(s, NULL);
}
