/*
 * log - syslog or stderr, one line per message.
 *
 * Control bytes are written as #ooo (three octal digits), the way rsyslog
 * escapes them on receipt, so a message logged here looks the same in
 * mail.log as the Python server's and can never span two lines.  The
 * format buffer is bounded; longer messages are cut and end in "...".
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_FMT_MAX 4096

static char log_ident[64] = "policyd-spf";
static enum log_dest log_dest = LOG_DEST_SYSLOG;
static int log_opened;
static pid_t log_pid;              /* getpid() once per process, not per line */

static void
log_forked(void)
{
	log_pid = getpid();
}

void
log_open(const char *ident, enum log_dest dest)
{
	const char *base;

	if (ident != NULL && *ident != '\0') {
		base = strrchr(ident, '/');
		base = base != NULL ? base + 1 : ident;
		if (*base != '\0')
			snprintf(log_ident, sizeof(log_ident), "%s", base);
	}
	if (log_opened)
		closelog();
	else
		pthread_atfork(NULL, NULL, log_forked);  /* workers are forked after this */
	log_pid = getpid();
	log_dest = dest;
	openlog(log_ident, LOG_PID, LOG_MAIL);
	log_opened = 1;
}

/*
 * Escape control bytes into out (room for 4x + 1) so one message stays one
 * line.  TAB is kept: the Python server sends it raw and syslogd escapes
 * it itself where it must.
 */
static void
log_escape(const char *in, char *out)
{
	const unsigned char *s = (const unsigned char *)in;
	char *o = out;

	for (; *s != '\0'; s++) {
		if ((*s < 0x20 && *s != '\t') || *s == 0x7F) {
			*o++ = '#';
			*o++ = (char)('0' + ((*s >> 6) & 7));
			*o++ = (char)('0' + ((*s >> 3) & 7));
			*o++ = (char)('0' + (*s & 7));
		} else {
			*o++ = (char)*s;
		}
	}
	*o = '\0';
}

void
log_msg(int prio, const char *fmt, ...)
{
	static char buf[LOG_FMT_MAX];
	static char esc[LOG_FMT_MAX * 4 + 1];
	va_list ap;
	int n;

	if (!log_opened)
		log_open(NULL, LOG_DEST_SYSLOG);
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		memcpy(buf + sizeof(buf) - 4, "...", 4);
	log_escape(buf, esc);
	if (log_dest == LOG_DEST_STDERR) {
		/* one write per line, so worker processes do not interleave */
		char line[sizeof(esc) + 96];
		int len = snprintf(line, sizeof(line), "%s[%ld]: %s\n", log_ident,
				   (long)log_pid, esc);

		if (len > 0) {
			if ((size_t)len >= sizeof(line))
				len = (int)sizeof(line) - 1;
			if (write(STDERR_FILENO, line, (size_t)len) < 0) {
				/* nowhere left to report it */
			}
		}
	} else {
		syslog(prio, "%s", esc);
	}
}
