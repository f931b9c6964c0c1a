/*
 * log - the process's one log sink: syslog (ident policyd-spf, LOG_PID,
 * facility mail, as the Python server) or stderr for foreground runs.
 * Under spawn(8) stderr is the policy socket, so only syslog is allowed.
 *
 * Syslog is spoken directly to /dev/log (RFC 3164 lines, as glibc's
 * syslog(3) sends them), so that lines can be sent in batches.  By default
 * every line is written at once; an event loop may instead ask for lines
 * to be queued and written together once per loop iteration.
 */
#ifndef POLICYD_LOG_H
#define POLICYD_LOG_H

#include <syslog.h>

enum log_dest { LOG_DEST_SYSLOG, LOG_DEST_STDERR };

/*
 * ident: argv[0] or a name; only its base name is used.  May be called
 * again to switch destination (after the config was read).  Before the
 * first call messages go to syslog under "policyd-spf".
 */
void log_open(const char *ident, enum log_dest dest);
/* One message, one line: CR, LF and other control bytes are escaped. */
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_err(...)  log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)

/*
 * Batching.  With pending != NULL, lines are queued (bounded; a full
 * queue is written out first) and pending(arg) is called when the queue
 * goes from empty to not empty: the caller arranges for log_flush() to
 * run soon, e.g. at the end of the current loop iteration.  With NULL,
 * the queue is flushed and every later line is written at once.  The
 * queue is also flushed before fork(2) (pthread_atfork).
 */
void log_batch(void (*pending)(void *arg), void *arg);
/* Write out the queued lines, if any. */
void log_flush(void);

#endif
