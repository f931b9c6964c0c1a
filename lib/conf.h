/*
 * conf - policyd-spf.conf, read exactly as the Python policyd-spf reads it
 * (reference §2.1), plus the settings of our own daemon under key names the
 * Python reader merely logs as unknown, so one file serves both.
 *
 * A struct conf is immutable once loaded and reference-counted: checks in
 * flight keep the one they started with across a SIGHUP reload.
 *
 * OWNER NOTE: the policy work fills in the Python keys; the daemon fields
 * below are the contract with policyd/ and must keep these names.
 */
#ifndef POLICYD_CONF_H
#define POLICYD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CONF_DEFAULT_PATH "/etc/postfix-policyd-spf-python/policyd-spf.conf"
#define CONF_MAX_LISTEN 16
#define CONF_MAX_DNS    8

/*
 * The Python keys.  A string is NULL when the key is unset (Python's
 * dict.get() gives None); "" when set to an empty value -- the two differ
 * for skip_addresses only, but the distinction is kept everywhere so the
 * semantics stay Python's.  Integers are Python int() of the value,
 * clamped to the range of int.
 */
struct conf_py {
	int debug_level;               /* debugLevel, 1 */
	int test_only;                 /* TestOnly, 1 */
	bool has_default_seed_only;    /* defaultSeedOnly present: warning per request */
	int default_seed_only;
	char *helo_reject;             /* HELO_reject, "Fail" */
	char *mail_from_reject;        /* Mail_From_reject, "Fail" */
	char *permerror_reject;        /* PermError_reject, "False" */
	char *temperror_defer;         /* TempError_Defer, "False" */
	char *helo_pass_restriction;   /* unset */
	char *mail_from_pass_restriction;
	char *prospective;
	char *skip_addresses;          /* "127.0.0.0/8,::ffff:127.0.0.0/104,::1" */
	char *whitelist;
	char *helo_whitelist;
	char *domain_whitelist;
	char *domain_whitelist_ptr;
	char *no_mail;                 /* NULL = Python's bool False default */
	char *reject_not_pass_domains;
	char *per_user;
	char *spf_enhanced_status_codes; /* "Yes" */
	char *header_type;             /* "SPF" */
	char *hide_receiver;           /* "No" */
	char *authserv_id;             /* "HOSTNAME", replaced by gethostname() */
	int lookup_time;               /* 20 */
	int whitelist_lookup_time;     /* 10 */
	int void_limit;                /* 2 */
	char *reason_message;          /* "Message {rejectdefer} due to: {spf}. Please see {url}" */
	bool mock;                     /* Python bool(str): any non-empty value */
	char *pu_authserv_id;          /* per-user "Authserv-Id": stored, never used (Python) */
	/* milter-only keys: accepted, kept only so conf dumps can show them */
	char *m_socket, *m_pidfile, *m_userid, *m_internalhosts, *m_macrolist;
	int m_umask;
	bool m_inthosts;
	/* keys set from the file (or a per-user line) that Python's defaults
	 * dict lacks, in the order they were set: the dict's order */
	unsigned char added[48];
	size_t nadded;
};

struct conf {
	int refs;
	char *path;

	/* --- Python policyd-spf keys: filled in by lib/conf.c (see the
	 *     reference §2.3); types as the Python reader gives them. --- */
	struct conf_py *py;

	/* --- our own keys (daemon) --- */
	char *listen[CONF_MAX_LISTEN];  /* Listen = inet:HOST:PORT, unix:PATH (comma list) */
	size_t nlisten;
	char *dns_servers[CONF_MAX_DNS];/* DNS_Servers = host[:port],... ; none = resolv.conf */
	size_t ndns;
	int socket_mode;                /* Socket_Mode (octal), -1 = leave */
	char *socket_owner;             /* Socket_Owner = user[:group] */
	char *user, *group;             /* User, Group: drop to these */
	int workers;                    /* Workers, 0 = number of cores */
	int log_stderr;                 /* Log_Destination = syslog|stderr */
	int max_connections;            /* Max_Connections */
	int idle_timeout;               /* Idle_Timeout (s) */
	int request_timeout;            /* Request_Timeout (s): answer before Postfix gives up */
	size_t dns_cache_bytes;         /* DNS_Cache_Size */

	/* --- our own keys (policy) --- */
	bool srs_escape;                /* Envelope_From_Escape = Yes|No (default Yes) */
	int nat_warning_minutes;        /* NAT_Warning_Interval (min), 0 = off; default 60 */
	int dns_timeout_ms;             /* DNS_Timeout (ms per try), 0 = dns default */
	int dns_tries;                  /* DNS_Tries, 0 = dns default */
	bool servfail_temperror;        /* SERVFAIL_Is_Temperror = Yes|No (default No: as pydns, no record) */
};

/*
 * Load a config file.  Missing file: defaults (logged as the Python server
 * logs it).  Returns NULL and fills err ("FILE:LINE: what") when the
 * server must not start (bad integer, unreadable file).
 */
struct conf *conf_load(const char *path, char *err, size_t errlen);
/* The same from memory (name is used in messages); for tests and fuzzing. */
struct conf *conf_load_buf(const char *name, const char *data, size_t len, char *err, size_t errlen);
struct conf *conf_ref(struct conf *c);
void conf_unref(struct conf *c);

/*
 * The built-in defaults, without reading any file (what the Python server
 * runs with when the file is missing).  NULL only when out of memory.
 */
struct conf *conf_defaults(void);

/*
 * Check a file without loading it for use: every problem, one per line,
 * "FILE:LINE: what" (also what the Python server would merely log, such
 * as unknown keys and '=' in values, and the settings that make the
 * Python server crash on every request).  Calls report for each; returns
 * the count of problems that stop start-up (bad integers, unreadable
 * file), so 0 means the file can be used.
 */
typedef void conf_report_fn(void *arg, const char *line);
int conf_check(const char *path, conf_report_fn *report, void *arg);

/*
 * Python's int() on a stripped string, ASCII digits: optional sign,
 * leading zeros and single '_' between digits allowed.  Out of int range
 * clamps.  Returns 0 or -1.
 */
int conf_parse_pyint(const char *s, int *out);

/* Python repr() of the settings dict, for the "Config: " log line; malloc'd. */
char *conf_py_repr(const struct conf_py *p);

/*
 * The Python keys that a per-user line (Per_User = text,<path>) may set,
 * applied over a copy of the global settings.  Values point into
 * pu->buf; the copy is only valid as long as both pu and the conf live.
 */
struct conf_peruser {
	struct conf_py py;     /* effective settings for this request */
	bool matched;          /* a line for this recipient was found */
	char **owned;          /* the overriding strings */
	size_t nowned;
};
/*
 * Look up recipient in the Per_User file of c.  Always fills pu->py (the
 * global settings when nothing matched).  Errors are logged as the
 * Python server logs them; where Python crashes, the global settings are
 * used and an error is logged (see policyd-spf.conf(5)).
 */
void conf_peruser_lookup(const struct conf *c, const char *recipient, struct conf_peruser *pu);
void conf_peruser_free(struct conf_peruser *pu);

#endif
