/*
 * loadgen - drives a Postfix policy server the way Postfix's smtpd
 * processes do: C connections kept open, one request at a time on each,
 * the recipients of one message one after another on the same connection.
 *
 * Every reply is checked against the expected one from the corpus; a fast
 * wrong answer is not a result, so mismatches are counted and printed.
 * The first request on each connection is a warm-up (the Python server
 * starts a process per connection; Postfix's spawn does the same once per
 * smtpd): the clock, the CPU and the counters start once every connection
 * has had its first answer.  When the corpus runs out it starts again with
 * the instance attribute made unique (".p<pass>"), so replays stay correct.
 *
 *   loadgen -s inet:127.0.0.1:PORT|unix:PATH -r requests.txt -e expected.txt
 *           [-c CONNS] [-n MAXREQ] [-d SECONDS] [-w WARMUPSECONDS]
 *           [-p SERVERPID] [-q]
 *
 * Prints key=value lines: requests, seconds, rps, p50_ms ... max_ms,
 * mismatches, errors, cpu_s, peak_rss_kb, and count.<reply class>=N.
 */
#include "benchnet.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#define LG_MAXCLASS	32
#define LG_MAXCONNECTING 256	/* connects in flight: stay under the backlog */
#define LG_GRACE	30.0	/* seconds to wait for answers after the end */
#define LG_MAXREPLY	65536

struct lg_req {
	const char	*pre;	/* up to and including "instance=" */
	size_t		 prelen;
	const char	*inst;
	size_t		 instlen;
	const char	*post;	/* the rest, ending in the empty line */
	size_t		 postlen;
	const char	*exp;	/* expected normalised reply */
};

struct lg_msg {
	size_t		 first;
	size_t		 n;
};

enum lg_cstate { C_CONNECTING, C_WARMUP, C_WAITING, C_BUSY, C_DONE };

struct lg_conn {
	struct bufferevent *bev;
	enum lg_cstate	 state;
	size_t		 msg;		/* absolute message number */
	size_t		 k;		/* recipient within the message */
	int		 measured;	/* request in flight counts */
	double		 t_sent;
};

struct lg_class {
	char		 name[160];
	uint64_t	 n;
};

static struct {
	const char	*target;
	struct sockaddr_storage ss;
	socklen_t	 sslen;
	int		 nconn;
	uint64_t	 maxreq;
	double		 maxsec;
	int		 quiet;
	long		 serverpid;

	char		*reqbuf, *expbuf;
	struct lg_req	*req;
	size_t		 nreq;
	struct lg_msg	*msg;
	size_t		 nmsg;

	struct event_base *base;
	struct lg_conn	*conn;
	int		 nstarted, nconnecting, nwarm, nopen;
	size_t		 nextmsg;
	int		 measuring, stopping;
	double		 t0, t1;
	double		 cpu0, cpu1;
	uint64_t	 sent, done, mismatches, errors, warm_mismatch;
	uint64_t	 inwin;		/* answers inside [t0, t1]: the rate's numerator */
	uint32_t	*lat;		/* microseconds, measured requests */
	uint64_t	 nlat, caplat;
	struct lg_class	 cls[LG_MAXCLASS];
	int		 ncls;
	uint64_t	 peak_rss_kb;
	struct event	*sampler, *deadline, *warmlimit;
	double		 warmsec;
	uint64_t	 notwarm;	/* connections given up in the warm-up */
} lg;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
		fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "loadgen: cannot read %s\n", path);
		exit(2);
	}
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Split the corpus into requests and group consecutive ones that share an
 * instance into messages. */
static void
load(const char *reqpath, const char *exppath)
{
	size_t len, elen, cap = 1024;
	char *p, *end, *e;

	lg.reqbuf = slurp(reqpath, &len);
	lg.expbuf = slurp(exppath, &elen);
	lg.req = calloc(cap, sizeof(*lg.req));
	p = lg.reqbuf;
	end = lg.reqbuf + len;
	e = lg.expbuf;
	while (p < end) {
		char *stop = strstr(p, "\n\n"), *ins, *nl;
		struct lg_req *r;

		if (stop == NULL)
			break;
		if (lg.nreq == cap) {
			cap *= 2;
			lg.req = realloc(lg.req, cap * sizeof(*lg.req));
		}
		if (lg.req == NULL)
			exit(1);
		r = &lg.req[lg.nreq];
		ins = strstr(p, "\ninstance=");
		if (ins == NULL || ins > stop) {
			fprintf(stderr, "loadgen: request %zu has no instance\n", lg.nreq);
			exit(2);
		}
		ins += 10;
		nl = strchr(ins, '\n');
		r->pre = p;
		r->prelen = (size_t)(ins - p);
		r->inst = ins;
		r->instlen = (size_t)(nl - ins);
		r->post = nl;
		r->postlen = (size_t)(stop + 2 - nl);
		if (*e == '\0') {
			fprintf(stderr, "loadgen: fewer expected lines than requests\n");
			exit(2);
		}
		r->exp = e;
		e = strchr(e, '\n');
		if (e == NULL) {
			fprintf(stderr, "loadgen: expected file must end in a newline\n");
			exit(2);
		}
		*e++ = '\0';
		lg.nreq++;
		p = stop + 2;
	}
	if (lg.nreq == 0) {
		fprintf(stderr, "loadgen: no requests in %s\n", reqpath);
		exit(2);
	}
	lg.msg = calloc(lg.nreq, sizeof(*lg.msg));
	for (size_t i = 0; i < lg.nreq; i++) {
		struct lg_req *r = &lg.req[i];
		struct lg_msg *m = lg.nmsg ? &lg.msg[lg.nmsg - 1] : NULL;

		if (m != NULL && lg.req[m->first].instlen == r->instlen &&
		    memcmp(lg.req[m->first].inst, r->inst, r->instlen) == 0)
			m->n++;
		else {
			lg.msg[lg.nmsg].first = i;
			lg.msg[lg.nmsg].n = 1;
			lg.nmsg++;
		}
	}
}

/*
 * CPU and memory of the server under test: every process descending from
 * SERVERPID (socat and its forked Python servers, or our daemon and its
 * workers).  Children that exited were reaped by their parent, so their
 * time is in the parent's cutime/cstime and the sum stays continuous.
 */
static long
proc_stat(long pid, long *ppid, double *cpu, uint64_t *rss_kb)
{
	char path[64], buf[1024], *rp;
	unsigned long ut, st;
	long cut, cst, rss, pp;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	if (rp == NULL)
		return -1;
	/* fields after the name: state ppid pgrp session tty tpgid flags
	 * minflt cminflt majflt cmajflt utime stime cutime cstime prio nice
	 * threads itreal starttime vsize rss */
	if (sscanf(rp + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu "
	    "%ld %ld %*d %*d %*d %*d %*u %*u %ld", &pp, &ut, &st, &cut, &cst,
	    &rss) != 6)
		return -1;
	*ppid = pp;
	*cpu = (double)(ut + st + (unsigned long)cut + (unsigned long)cst) /
	    (double)sysconf(_SC_CLK_TCK);
	*rss_kb = (uint64_t)rss * (uint64_t)(sysconf(_SC_PAGESIZE) / 1024);
	return 0;
}

static void
tree_usage(double *cpu, uint64_t *rss_kb)
{
	DIR *d;
	struct dirent *de;
	long *pids = NULL, *ppids = NULL;
	double *cpus = NULL;
	uint64_t *rss = NULL;
	size_t n = 0, cap = 0;
	char *in;

	*cpu = 0;
	*rss_kb = 0;
	if (lg.serverpid <= 0 || (d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		long pid, pp;
		double c;
		uint64_t r;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtol(de->d_name, NULL, 10);
		if (proc_stat(pid, &pp, &c, &r) != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 512;
			pids = realloc(pids, cap * sizeof(*pids));
			ppids = realloc(ppids, cap * sizeof(*ppids));
			cpus = realloc(cpus, cap * sizeof(*cpus));
			rss = realloc(rss, cap * sizeof(*rss));
			if (!pids || !ppids || !cpus || !rss)
				exit(1);
		}
		pids[n] = pid;
		ppids[n] = pp;
		cpus[n] = c;
		rss[n] = r;
		n++;
	}
	closedir(d);
	/* mark the tree: repeat until no new member (trees are shallow) */
	in = calloc(n ? n : 1, 1);
	for (int changed = 1; changed;) {
		changed = 0;
		for (size_t i = 0; i < n; i++) {
			if (in[i])
				continue;
			if (pids[i] == lg.serverpid)
				in[i] = changed = 1;
			else
				for (size_t j = 0; j < n; j++)
					if (in[j] && pids[j] == ppids[i]) {
						in[i] = changed = 1;
						break;
					}
		}
	}
	for (size_t i = 0; i < n; i++)
		if (in[i]) {
			*cpu += cpus[i];
			*rss_kb += rss[i];
		}
	free(in);
	free(pids);
	free(ppids);
	free(cpus);
	free(rss);
}

static void
sample(evutil_socket_t fd, short what, void *arg)
{
	double cpu;
	uint64_t rss;

	(void)fd;
	(void)what;
	(void)arg;
	tree_usage(&cpu, &rss);
	if (rss > lg.peak_rss_kb)
		lg.peak_rss_kb = rss;
}

/*
 * The check compares a normalised form of the reply: the action class and
 * what decides it (header name, SPF result, identity; or the reject code
 * and the scope from the URL).  gen.py writes expected.txt in this form.
 */
static void
normalise(const char *line, char *out, size_t outlen)
{
	const char *a = line, *s;
	char w1[32] = "", w2[32] = "", w3[64] = "";

	if (strncmp(a, "action=", 7) != 0) {
		snprintf(out, outlen, "noaction");
		return;
	}
	a += 7;
	if (strncasecmp(a, "prepend ", 8) == 0) {
		const char *h = a + 8, *colon = strchr(h, ':'), *id;

		if (colon == NULL) {
			snprintf(out, outlen, "prepend ?");
			return;
		}
		snprintf(w1, sizeof(w1), "%.*s", (int)(colon - h < 31 ? colon - h : 31), h);
		sscanf(colon + 1, " %31s", w2);
		id = strstr(h, "identity=");
		if (id != NULL)
			sscanf(id + 9, "%63[^; ]", w3);
		snprintf(out, outlen, "prepend %s %s %s", w1, w2, w3[0] ? w3 : "-");
		return;
	}
	if (strncasecmp(a, "dunno", 5) == 0 && (a[5] == '\0' || a[5] == ' ')) {
		snprintf(out, outlen, "dunno");
		return;
	}
	s = strstr(a, "Why?s=");
	if (s != NULL)
		sscanf(s + 6, "%63[^;]", w3);
	if (isdigit((unsigned char)a[0])) {
		sscanf(a, "%31s", w1);
		if (sscanf(a + strlen(w1), " %31[0-9.]", w2) != 1 || strchr(w2, '.') == NULL)
			w2[0] = '\0';
		snprintf(out, outlen, "reject %s%s%s %s", w1, w2[0] ? " " : "", w2,
		    w3[0] ? w3 : "-");
		return;
	}
	if (strncasecmp(a, "defer_if_permit", 15) == 0) {
		if (sscanf(a + 15, " %31[0-9.]", w2) != 1 || strchr(w2, '.') == NULL)
			w2[0] = '\0';
		snprintf(out, outlen, "defer defer_if_permit%s%s %s", w2[0] ? " " : "",
		    w2, w3[0] ? w3 : "-");
		return;
	}
	snprintf(out, outlen, "other %.40s", a);
}

static void
count_class(const char *norm)
{
	for (int i = 0; i < lg.ncls; i++)
		if (strcmp(lg.cls[i].name, norm) == 0) {
			lg.cls[i].n++;
			return;
		}
	if (lg.ncls < LG_MAXCLASS) {
		snprintf(lg.cls[lg.ncls].name, sizeof(lg.cls[0].name), "%s", norm);
		lg.cls[lg.ncls++].n = 1;
	} else
		lg.cls[LG_MAXCLASS - 1].n++;
}

static struct lg_req *
cur_req(struct lg_conn *c)
{
	struct lg_msg *m = &lg.msg[c->msg % lg.nmsg];

	return &lg.req[m->first + c->k];
}

static void
send_req(struct lg_conn *c)
{
	struct lg_req *r = cur_req(c);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t pass = c->msg / lg.nmsg;

	evbuffer_add(out, r->pre, r->prelen);
	evbuffer_add(out, r->inst, r->instlen);
	if (pass > 0)
		evbuffer_add_printf(out, ".p%zu", pass);
	evbuffer_add(out, r->post, r->postlen);
	c->measured = lg.measuring && !lg.stopping;
	c->t_sent = now();
	c->state = C_BUSY;
	lg.sent++;
}

static void finish(void);

static void
conn_close(struct lg_conn *c)
{
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
		lg.nopen--;
	}
	c->state = C_DONE;
	if (lg.nopen == 0)
		finish();
}

static void
stop_now(void)
{
	if (lg.stopping)
		return;
	lg.stopping = 1;
	lg.t1 = now();
	{
		uint64_t rss;

		tree_usage(&lg.cpu1, &rss);
		if (rss > lg.peak_rss_kb)
			lg.peak_rss_kb = rss;
	}
	/* answers still owed get a bounded grace period */
	{
		struct timeval tv = { (time_t)LG_GRACE, 0 };

		event_del(lg.deadline);
		event_add(lg.deadline, &tv);
	}
	/* connections between requests are done now; busy ones close when
	 * their answer arrives */
	for (int i = 0; i < lg.nstarted; i++)
		if (lg.conn[i].state == C_WAITING || lg.conn[i].state == C_CONNECTING)
			conn_close(&lg.conn[i]);
}

/* Next request on a connection: the next recipient, else a new message. */
static void
next(struct lg_conn *c)
{
	if (lg.measuring && !lg.stopping &&
	    (lg.done >= lg.maxreq || now() - lg.t0 >= lg.maxsec))
		stop_now();
	if (lg.stopping) {
		conn_close(c);
		return;
	}
	if (c->k + 1 < lg.msg[c->msg % lg.nmsg].n)
		c->k++;
	else {
		c->msg = lg.nextmsg++;
		c->k = 0;
	}
	send_req(c);
}

static void
begin_measuring(void)
{
	uint64_t rss;

	lg.measuring = 1;
	lg.t0 = now();
	tree_usage(&lg.cpu0, &rss);
	for (int i = 0; i < lg.nconn; i++)
		if (lg.conn[i].state == C_WAITING)
			next(&lg.conn[i]);
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct lg_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	for (;;) {
		struct evbuffer_ptr p = evbuffer_search(in, "\n\n", 2, NULL);
		char *reply, *line, norm[160];
		struct lg_req *r;
		double dt;

		if (p.pos < 0) {
			if (evbuffer_get_length(in) > LG_MAXREPLY) {
				lg.errors++;
				conn_close(c);
			}
			return;
		}
		if (c->state != C_BUSY && c->state != C_WARMUP) {
			lg.errors++;	/* an answer nobody asked for */
			conn_close(c);
			return;
		}
		reply = malloc((size_t)p.pos + 1);
		if (reply == NULL)
			exit(1);
		evbuffer_remove(in, reply, (size_t)p.pos);
		reply[p.pos] = '\0';
		evbuffer_drain(in, 2);
		dt = now() - c->t_sent;
		line = strstr(reply, "action=");
		if (line != NULL && line != reply && line[-1] != '\n')
			line = NULL;
		if (line != NULL)
			line[strcspn(line, "\n")] = '\0';
		normalise(line ? line : "", norm, sizeof(norm));
		r = cur_req(c);
		if (strcmp(norm, r->exp) != 0) {
			if (c->measured)
				lg.mismatches++;
			else
				lg.warm_mismatch++;
			if (!lg.quiet && lg.mismatches + lg.warm_mismatch <= 10)
				fprintf(stderr, "loadgen: MISMATCH request %zu (%.*s): "
				    "expected \"%s\", got \"%s\" [%s]\n",
				    (size_t)(r - lg.req), (int)r->instlen, r->inst,
				    r->exp, norm, line ? line : reply);
		}
		free(reply);
		if (c->measured) {
			lg.done++;
			if (!lg.stopping)
				lg.inwin++;
			count_class(norm);
			if (lg.nlat < lg.caplat) {
				uint64_t us = (uint64_t)(dt * 1e6);

				lg.lat[lg.nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
			}
		}
		if (c->state == C_WARMUP) {
			c->state = C_WAITING;
			if (++lg.nwarm == lg.nconn)
				begin_measuring();
			continue;
		}
		c->state = C_WAITING;
		next(c);
		if (c->bev == NULL)
			return;
	}
}

static void start_conns(void);

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct lg_conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		lg.nconnecting--;
		c->msg = lg.nextmsg++;
		c->k = 0;
		send_req(c);
		c->state = C_WARMUP;
		start_conns();
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (c->state == C_CONNECTING) {
			lg.nconnecting--;
			fprintf(stderr, "loadgen: connect to %s: %s\n", lg.target,
			    strerror(EVUTIL_SOCKET_ERROR()));
		} else if (!lg.quiet)
			fprintf(stderr, "loadgen: server closed connection %d (%s)\n",
			    (int)(c - lg.conn), (what & BEV_EVENT_EOF) ? "eof" : "error");
		lg.errors++;
		if (c->state == C_WARMUP || c->state == C_CONNECTING) {
			/* it never warms up: keep the barrier reachable */
			if (++lg.nwarm == lg.nconn && !lg.measuring)
				begin_measuring();
		}
		conn_close(c);
		start_conns();
	}
}

static void
start_conns(void)
{
	while (lg.nstarted < lg.nconn && lg.nconnecting < LG_MAXCONNECTING) {
		struct lg_conn *c = &lg.conn[lg.nstarted++];

		c->bev = bufferevent_socket_new(lg.base, -1, BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL) {
			fprintf(stderr, "loadgen: out of memory/descriptors\n");
			exit(1);
		}
		lg.nopen++;
		lg.nconnecting++;
		c->state = C_CONNECTING;
		bufferevent_setcb(c->bev, conn_read, NULL, conn_event, c);
		bufferevent_enable(c->bev, EV_READ);
		if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&lg.ss,
		    (int)lg.sslen) != 0) {
			/* the event callback has not run: account here */
			lg.nconnecting--;
			lg.errors++;
			fprintf(stderr, "loadgen: connect: %s\n", strerror(errno));
			if (++lg.nwarm == lg.nconn && !lg.measuring)
				begin_measuring();
			conn_close(c);
		}
	}
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (!lg.stopping) {
		fprintf(stderr, "loadgen: warm-up did not finish in time\n");
		lg.errors++;
		if (!lg.measuring)
			lg.t0 = now();
		stop_now();
	}
	finish();
}

/* Connections that are not up and answered by now are given up (counted
 * as errors), so a server that stops accepting cannot hold the run. */
static void
on_warmlimit(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (lg.measuring)
		return;
	fprintf(stderr, "loadgen: %d of %d connections not up and answered after %.0f s: "
	    "giving them up\n", lg.nconn - lg.nwarm, lg.nconn, lg.warmsec);
	lg.nstarted = lg.nconn;		/* start no more */
	for (int i = 0; i < lg.nconn; i++) {
		struct lg_conn *c = &lg.conn[i];

		if (c->state == C_CONNECTING || c->state == C_WARMUP ||
		    (c->bev == NULL && c->state != C_DONE)) {
			lg.errors++;
			lg.notwarm++;
			conn_close(c);
		}
	}
	if (lg.nopen > 0)
		begin_measuring();
}

static void
on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	lg.errors++;
	if (!lg.measuring)
		lg.t0 = now();
	stop_now();
	finish();
}

static void
finish(void)
{
	event_base_loopbreak(lg.base);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double q)
{
	size_t i;

	if (lg.nlat == 0)
		return 0;
	i = (size_t)(q * (double)(lg.nlat - 1) + 0.5);
	return lg.lat[i] / 1000.0;
}

static void
report(void)
{
	double secs = lg.t1 - lg.t0;
	uint64_t busy = 0;

	for (int i = 0; i < lg.nstarted; i++)
		if (lg.conn[i].state == C_BUSY || lg.conn[i].state == C_WARMUP)
			busy++;
	qsort(lg.lat, lg.nlat, sizeof(*lg.lat), cmp_u32);
	printf("target=%s\nconns=%d\nrequests=%llu\nwarmup=%d\nseconds=%.3f\n",
	    lg.target, lg.nconn, (unsigned long long)lg.done, lg.nconn,
	    secs > 0 ? secs : 0);
	printf("sent=%llu\n", (unsigned long long)lg.sent);
	printf("connections_lost_in_warmup=%llu\n", (unsigned long long)lg.notwarm);
	/* answers that arrive in the grace period are checked and timed but
	 * are not part of the rate (nor of the CPU per request) */
	printf("answered_in_window=%llu\n", (unsigned long long)lg.inwin);
	printf("rps=%.1f\n", secs > 0 ? (double)lg.inwin / secs : 0);
	printf("p50_ms=%.3f\np90_ms=%.3f\np99_ms=%.3f\nmax_ms=%.3f\n",
	    pct(0.50), pct(0.90), pct(0.99), lg.nlat ? lg.lat[lg.nlat - 1] / 1000.0 : 0);
	printf("mismatches=%llu\nwarmup_mismatches=%llu\nerrors=%llu\nunanswered=%llu\n",
	    (unsigned long long)lg.mismatches, (unsigned long long)lg.warm_mismatch,
	    (unsigned long long)lg.errors, (unsigned long long)busy);
	if (lg.serverpid > 0) {
		double cpu = lg.cpu1 - lg.cpu0;

		printf("cpu_s=%.3f\ncpu_ms_per_req=%.4f\npeak_rss_kb=%llu\n", cpu,
		    lg.inwin ? cpu * 1000.0 / (double)lg.inwin : 0,
		    (unsigned long long)lg.peak_rss_kb);
	}
	for (int i = 0; i < lg.ncls; i++)
		printf("count.%s=%llu\n", lg.cls[i].name, (unsigned long long)lg.cls[i].n);
}

static void
usage(void)
{
	fprintf(stderr, "usage: loadgen -s inet:HOST:PORT|unix:PATH -r requests -e expected\n"
	    "               [-c conns] [-n maxreq] [-d seconds] [-w warmupseconds]\n"
	    "               [-p serverpid] [-q]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *reqpath = NULL, *exppath = NULL;
	struct event *sigint, *sigterm;
	struct timeval tv;
	int ch;

	lg.nconn = 8;
	lg.maxreq = 10000;
	lg.maxsec = 10;
	lg.warmsec = 0;
	while ((ch = getopt(argc, argv, "s:r:e:c:n:d:p:qw:")) != -1) {
		switch (ch) {
		case 's': lg.target = optarg; break;
		case 'r': reqpath = optarg; break;
		case 'e': exppath = optarg; break;
		case 'c': lg.nconn = atoi(optarg); break;
		case 'n': lg.maxreq = strtoull(optarg, NULL, 10); break;
		case 'd': lg.maxsec = atof(optarg); break;
		case 'p': lg.serverpid = atol(optarg); break;
		case 'q': lg.quiet = 1; break;
		case 'w': lg.warmsec = atof(optarg); break;
		default: usage();
		}
	}
	if (lg.target == NULL || reqpath == NULL || exppath == NULL ||
	    lg.nconn < 1 || lg.maxreq < 1 || lg.maxsec <= 0 ||
	    benchnet_parse(lg.target, &lg.ss, &lg.sslen) != 0)
		usage();
	if (lg.warmsec <= 0)
		lg.warmsec = 60 + lg.nconn / 200;
	benchnet_nofile();
	signal(SIGPIPE, SIG_IGN);
	load(reqpath, exppath);
	lg.caplat = lg.maxreq + (uint64_t)lg.nconn;
	lg.lat = malloc(lg.caplat * sizeof(*lg.lat));
	lg.conn = calloc((size_t)lg.nconn, sizeof(*lg.conn));
	lg.base = event_base_new();
	if (lg.lat == NULL || lg.conn == NULL || lg.base == NULL)
		return 1;
	sigint = evsignal_new(lg.base, SIGINT, on_signal, NULL);
	sigterm = evsignal_new(lg.base, SIGTERM, on_signal, NULL);
	evsignal_add(sigint, NULL);
	evsignal_add(sigterm, NULL);
	lg.sampler = event_new(lg.base, -1, EV_PERSIST, sample, NULL);
	tv.tv_sec = 0;
	tv.tv_usec = 100000;
	if (lg.serverpid > 0)
		event_add(lg.sampler, &tv);
	/* everything, warm-up included, is bounded: connects plus the run
	 * plus a grace period for the last answers */
	lg.deadline = evtimer_new(lg.base, on_deadline, NULL);
	tv.tv_sec = (time_t)(lg.maxsec + LG_GRACE + 60 + lg.nconn / 100);
	tv.tv_usec = 0;
	event_add(lg.deadline, &tv);
	lg.warmlimit = evtimer_new(lg.base, on_warmlimit, NULL);
	tv.tv_sec = (time_t)lg.warmsec;
	tv.tv_usec = 0;
	event_add(lg.warmlimit, &tv);
	start_conns();
	event_base_dispatch(lg.base);
	if (!lg.stopping) {
		if (!lg.measuring)
			lg.t0 = now();
		stop_now();
	}
	report();
	for (int i = 0; i < lg.nstarted; i++)
		if (lg.conn[i].bev != NULL)
			bufferevent_free(lg.conn[i].bev);
	event_free(lg.sampler);
	event_free(lg.deadline);
	event_free(lg.warmlimit);
	event_free(sigint);
	event_free(sigterm);
	event_base_free(lg.base);
	free(lg.conn);
	free(lg.lat);
	free(lg.req);
	free(lg.msg);
	free(lg.reqbuf);
	free(lg.expbuf);
	return lg.mismatches || lg.warm_mismatch ? 3 : lg.errors ? 4 : 0;
}
