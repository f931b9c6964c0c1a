/*
 * log - the process's one log sink: syslog (ident policyd-spf, LOG_PID,
 * facility mail, as the Python server) or stderr for foreground runs.
 * Under spawn(8) stderr is the policy socket, so only syslog is allowed.
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

#endif
