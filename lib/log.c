/*
 * log - syslog or stderr, one line per message, written in batches.
 *
 * Control bytes are written as #ooo (three octal digits), the way rsyslog
 * escapes them on receipt, so a message logged here looks the same in
 * mail.log as the Python server's and can never span two lines.  A
 * message is bounded (LOG_FMT_MAX bytes before escaping); longer ones are
 * cut and end in "...".
 *
 * Every request logs a line, so this is on the hot path: a message is
 * formatted, escaped and prefixed in one pass straight into the batch
 * buffer (the few conversions the code uses are done here; any other
 * format falls back to vsnprintf), and a batch goes out in one write(2)
 * (stderr) or one sendmmsg(2) (syslog).  Syslog is our own /dev/log
 * client instead of syslog(3), which builds each line in a malloc'ed
 * stream and sends it alone: the datagrams are the same bytes glibc
 * sends, "<pri>Mmm dd hh:mm:ss ident[pid]: msg".
 */
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LOG_FMT_MAX 4096        /* a message before escaping, with its NUL */
#define LOG_CUT (LOG_FMT_MAX - 4)       /* bytes kept of a longer one, then "..." */
#define LOG_PREFIX_MAX 128      /* "<pri>Mmm dd hh:mm:ss " + ident[pid]: */
#define LOG_LINE_MAX (LOG_PREFIX_MAX + (LOG_FMT_MAX - 1) * 4 + 4)
#define LOG_BATCH_BYTES (64 * 1024)
#define LOG_BATCH_LINES 256
#define LOG_RECONNECT_S 1       /* no /dev/log: try again at most this often */
#define LOG_PATH "/dev/log"

static char log_ident[64] = "policyd-spf";
static enum log_dest log_dest = LOG_DEST_SYSLOG;
static int log_opened;
static pid_t log_pid;              /* getpid() once per process, not per line */
static char log_tag[96];           /* "ident[pid]: " */
static size_t log_tag_len;

/* the queue: lines back to back, each ending in '\n' (stderr) or NUL (syslog) */
static char lb_buf[LOG_BATCH_BYTES];
static size_t lb_len;
static struct { uint32_t off, len; } lb_line[LOG_BATCH_LINES];  /* len without the NUL */
static size_t lb_n;
static void (*lb_pending)(void *);
static void *lb_arg;

/* the /dev/log client */
static int sl_fd = -1;
static int sl_stream;              /* SOCK_STREAM: each message ends in NUL */
static time_t sl_failed_at;        /* last connect that failed, 0 = none */

/* RFC 3164 timestamp, formatted once per second */
static time_t ts_sec = -1;
static char ts_buf[16];

static void
log_set_tag(void)
{
	int n = snprintf(log_tag, sizeof(log_tag), "%s[%ld]: ", log_ident, (long)log_pid);

	log_tag_len = n > 0 && (size_t)n < sizeof(log_tag) ? (size_t)n : 0;
}

static void
log_forked(void)
{
	log_pid = getpid();
	log_set_tag();
}

static void
log_prefork(void)
{
	/* else the child would write the parent's queued lines a second time */
	log_flush();
}

void
log_open(const char *ident, enum log_dest dest)
{
	const char *base;

	log_flush();            /* queued lines are formatted for the old destination */
	if (ident != NULL && *ident != '\0') {
		base = strrchr(ident, '/');
		base = base != NULL ? base + 1 : ident;
		if (*base != '\0')
			snprintf(log_ident, sizeof(log_ident), "%s", base);
	}
	if (!log_opened)
		pthread_atfork(log_prefork, NULL, log_forked);  /* workers are forked after this */
	log_pid = getpid();
	log_set_tag();
	log_dest = dest;
	log_opened = 1;
}

/* ---- formatting ---------------------------------------------------------- */

struct fmt {
	char *out;
	size_t pos;             /* bytes written to out */
	size_t raw;             /* message bytes so far, before escaping */
	size_t cut_pos;         /* pos when raw was LOG_CUT */
	int cut;                /* longer than LOG_FMT_MAX - 1: cut at cut_pos */
	int stop;               /* cut, or a NUL ended the message */
};

static int
unsafe(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7F;
}

/* Length of the leading run of bytes copied as they are, eight at a time. */
static size_t
safe_run(const unsigned char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	size_t i = 0;

	while (i + 8 <= n) {
		uint64_t x, y;

		memcpy(&x, s + i, 8);
		y = x ^ (ones * 0x7F);
		/* any byte < 0x20 (TAB included), or any byte == 0x7F */
		if ((((x - ones * 0x20) & ~x) | ((y - ones) & ~y)) & highs) {
			for (size_t k = 0; k < 8; k++)
				if (unsafe(s[i + k]))
					return i + k;
		}
		i += 8;
	}
	while (i < n && !unsafe(s[i]))
		i++;
	return i;
}

/*
 * Append n message bytes, escaped.  Exactly as formatting the whole
 * message into a LOG_FMT_MAX buffer, cutting it to LOG_CUT bytes + "..."
 * when it did not fit, and escaping up to the first NUL.
 */
static void
fmt_put(struct fmt *f, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;

	while (n > 0 && !f->stop) {
		size_t room = LOG_FMT_MAX - 1 - f->raw, k;

		if (room == 0) {
			f->cut = 1;
			f->stop = 1;
			break;
		}
		k = safe_run(s, n < room ? n : room);
		if (f->raw <= LOG_CUT && f->raw + k >= LOG_CUT)
			f->cut_pos = f->pos + (LOG_CUT - f->raw);
		memcpy(f->out + f->pos, s, k);
		f->pos += k;
		f->raw += k;
		s += k;
		n -= k;
		if (n == 0 || f->raw == LOG_FMT_MAX - 1)
			continue;
		if (*s == '\0') {
			f->stop = 1;
			break;
		}
		if (f->raw == LOG_CUT)
			f->cut_pos = f->pos;
		f->out[f->pos++] = '#';
		f->out[f->pos++] = (char)('0' + ((*s >> 6) & 7));
		f->out[f->pos++] = (char)('0' + ((*s >> 3) & 7));
		f->out[f->pos++] = (char)('0' + (*s & 7));
		f->raw++;
		s++;
		n--;
	}
}

static void
fmt_num(struct fmt *f, unsigned long long v, int neg)
{
	char d[24], *p = d + sizeof(d);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	if (neg)
		*--p = '-';
	fmt_put(f, p, (size_t)(d + sizeof(d) - p));
}

static void
fmt_signed(struct fmt *f, long long v)
{
	fmt_num(f, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v, v < 0);
}

/*
 * The conversions the code logs with: %s %.*s %.Ns %d %i %u %c, the l
 * and z forms of the integers, %%.  Returns -1 at anything else (flags, widths, other
 * conversions) before consuming its argument: the caller starts over
 * with vsnprintf.
 */
static int
fmt_fast(struct fmt *f, const char *fmt, va_list ap)
{
	const char *p = fmt;

	while (*p != '\0' && !f->stop) {
		const char *q = strchr(p, '%');
		int prec = -1, lng = 0, sz = 0;

		if (q == NULL) {
			fmt_put(f, p, strlen(p));
			break;
		}
		if (q > p)
			fmt_put(f, p, (size_t)(q - p));
		if (f->stop)
			break;
		p = q + 1;
		if (*p == '.') {
			p++;
			if (*p == '*') {
				prec = va_arg(ap, int);
				p++;
			} else {
				prec = 0;
				while (*p >= '0' && *p <= '9' && prec < 100000)
					prec = prec * 10 + (*p++ - '0');
			}
			if (*p != 's')
				return -1;
		}
		if (*p == 'l') {
			lng = 1;
			p++;
		} else if (*p == 'z') {
			sz = 1;
			p++;
		}
		switch (*p) {
		case 's': {
			const char *s;

			if (lng || sz)
				return -1;
			s = va_arg(ap, const char *);
			if (s == NULL)
				s = "(null)";
			fmt_put(f, s, prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s));
			break;
		}
		case 'd':
		case 'i':
			if (sz)
				fmt_signed(f, va_arg(ap, ssize_t));
			else if (lng)
				fmt_signed(f, va_arg(ap, long));
			else
				fmt_signed(f, va_arg(ap, int));
			break;
		case 'u':
			if (sz)
				fmt_num(f, va_arg(ap, size_t), 0);
			else if (lng)
				fmt_num(f, va_arg(ap, unsigned long), 0);
			else
				fmt_num(f, va_arg(ap, unsigned), 0);
			break;
		case 'c': {
			char c;

			if (lng || sz)
				return -1;
			c = (char)va_arg(ap, int);
			fmt_put(f, &c, 1);
			break;
		}
		case '%':
			if (lng || sz)
				return -1;
			fmt_put(f, "%", 1);
			break;
		default:
			return -1;
		}
		p++;
	}
	return 0;
}

static void
fmt_slow(struct fmt *f, const char *fmt, va_list ap)
{
	static char buf[LOG_FMT_MAX];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n < 0)
		return;
	fmt_put(f, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	if ((size_t)n >= sizeof(buf) && !f->stop)
		f->cut = f->stop = 1;
}

/* ---- prefixes ------------------------------------------------------------ */

static size_t
put_uint(char *out, unsigned v)
{
	char d[12];
	size_t n = 0, i;

	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		out[i] = d[n - 1 - i];
	return n;
}

static void
two_digits(char *out, int v, char pad)
{
	v = v < 0 ? 0 : v % 100;
	out[0] = v >= 10 ? (char)('0' + v / 10) : pad;
	out[1] = (char)('0' + v % 10);
}

/* "Mmm dd hh:mm:ss" in the C locale, as glibc's "%h %e %T" */
static const char *
timestamp(void)
{
	static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;

	if (now == ts_sec)
		return ts_buf;
	if (localtime_r(&now, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	memcpy(ts_buf, mon[tm.tm_mon >= 0 && tm.tm_mon < 12 ? tm.tm_mon : 0], 3);
	ts_buf[3] = ' ';
	two_digits(ts_buf + 4, tm.tm_mday, ' ');
	ts_buf[6] = ' ';
	two_digits(ts_buf + 7, tm.tm_hour, '0');
	ts_buf[9] = ':';
	two_digits(ts_buf + 10, tm.tm_min, '0');
	ts_buf[12] = ':';
	two_digits(ts_buf + 13, tm.tm_sec, '0');
	ts_buf[15] = '\0';
	ts_sec = now;
	return ts_buf;
}

static size_t
syslog_prefix(char *out, int prio)
{
	size_t n = 0;

	if ((prio & LOG_FACMASK) == 0)
		prio |= LOG_MAIL;
	prio &= LOG_FACMASK | LOG_PRIMASK;
	out[n++] = '<';
	n += put_uint(out + n, (unsigned)prio);
	out[n++] = '>';
	memcpy(out + n, timestamp(), 15);
	n += 15;
	out[n++] = ' ';
	memcpy(out + n, log_tag, log_tag_len);
	return n + log_tag_len;
}

void
log_msg(int prio, const char *fmt, ...)
{
	struct fmt f;
	va_list ap, ap2;
	size_t pre;
	int was_empty;

	if (!log_opened)
		log_open(NULL, LOG_DEST_SYSLOG);
	if (lb_n == LOG_BATCH_LINES || sizeof(lb_buf) - lb_len < LOG_LINE_MAX)
		log_flush();
	was_empty = lb_n == 0;
	f.out = lb_buf + lb_len;
	if (log_dest == LOG_DEST_STDERR) {
		memcpy(f.out, log_tag, log_tag_len);
		pre = log_tag_len;
	} else {
		pre = syslog_prefix(f.out, prio);
	}
	f.pos = pre;
	f.raw = f.cut_pos = 0;
	f.cut = f.stop = 0;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	if (fmt_fast(&f, fmt, ap) < 0) {
		f.pos = pre;
		f.raw = f.cut_pos = 0;
		f.cut = f.stop = 0;
		fmt_slow(&f, fmt, ap2);
	}
	va_end(ap2);
	va_end(ap);
	if (f.cut) {
		memcpy(f.out + f.cut_pos, "...", 3);
		f.pos = f.cut_pos + 3;
	}
	f.out[f.pos] = log_dest == LOG_DEST_STDERR ? '\n' : '\0';
	lb_line[lb_n].off = (uint32_t)lb_len;
	lb_line[lb_n].len = (uint32_t)(log_dest == LOG_DEST_STDERR ? f.pos + 1 : f.pos);
	lb_n++;
	lb_len += f.pos + 1;
	if (lb_pending == NULL)
		log_flush();
	else if (was_empty)
		lb_pending(lb_arg);
}

/* ---- output -------------------------------------------------------------- */

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Several lines per write, but no write over PIPE_BUF unless it is one
 * line: pipe writes up to PIPE_BUF are atomic, so the lines of several
 * worker processes sharing a pipe never interleave mid-line.
 */
static void
flush_stderr(void)
{
	size_t i = 0;

	while (i < lb_n) {
		size_t start = lb_line[i].off, end = start + lb_line[i].len;

		for (i++; i < lb_n && lb_line[i].off + lb_line[i].len - start <= PIPE_BUF; i++)
			end = lb_line[i].off + lb_line[i].len;
		if (write_all(STDERR_FILENO, lb_buf + start, end - start) < 0)
			return;         /* nowhere left to report it */
	}
}

static void
sl_close(void)
{
	if (sl_fd >= 0)
		close(sl_fd);
	sl_fd = -1;
}

static int
sl_connect(void)
{
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	struct sockaddr_un sun;
	time_t now = time(NULL);

	if (sl_fd >= 0)
		return 0;
	/* /dev/log missing: one attempt a second, not one per line */
	if (sl_failed_at != 0 && now - sl_failed_at < LOG_RECONNECT_S && now >= sl_failed_at)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, LOG_PATH, sizeof(LOG_PATH));
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		sl_fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
		if (sl_fd < 0)
			break;
		if (connect(sl_fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			sl_stream = types[i] == SOCK_STREAM;
			sl_failed_at = 0;
			return 0;
		}
		sl_close();
		if (errno != EPROTOTYPE)
			break;
	}
	sl_failed_at = now;
	return -1;
}

/* Send lines [i0, lb_n) once; returns the index of the first line not sent. */
static size_t
sl_send(size_t i0)
{
	struct mmsghdr mm[LOG_BATCH_LINES];
	struct iovec iov[LOG_BATCH_LINES];
	size_t i = i0;

	if (sl_stream) {
		/* NUL-terminated messages, back to back in the buffer */
		size_t start = lb_line[i0].off;

		return write_all(sl_fd, lb_buf + start, lb_len - start) == 0 ? lb_n : i0;
	}
	memset(mm, 0, sizeof(mm[0]) * (lb_n - i0));
	for (size_t k = i0; k < lb_n; k++) {
		iov[k - i0].iov_base = lb_buf + lb_line[k].off;
		iov[k - i0].iov_len = lb_line[k].len;
		mm[k - i0].msg_hdr.msg_iov = &iov[k - i0];
		mm[k - i0].msg_hdr.msg_iovlen = 1;
	}
	while (i < lb_n) {
		int r = sendmmsg(sl_fd, mm + (i - i0), (unsigned)(lb_n - i), MSG_NOSIGNAL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		i += (size_t)r;
	}
	return i;
}

static void
flush_syslog(void)
{
	size_t i = 0;

	if (sl_connect() < 0)
		return;
	i = sl_send(0);
	if (i < lb_n) {
		/* as syslog(3): the daemon may have restarted; reconnect, try again once */
		sl_close();
		sl_failed_at = 0;
		if (sl_connect() == 0)
			i = sl_send(i);
		if (i < lb_n)
			sl_close();     /* the rest is lost; reconnect next time */
	}
}

void
log_flush(void)
{
	if (lb_n == 0)
		return;
	if (log_dest == LOG_DEST_STDERR)
		flush_stderr();
	else
		flush_syslog();
	lb_n = 0;
	lb_len = 0;
}

void
log_batch(void (*pending)(void *arg), void *arg)
{
	log_flush();
	lb_pending = pending;
	lb_arg = arg;
}
