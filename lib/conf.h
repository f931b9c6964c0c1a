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
};

/*
 * Load a config file.  Missing file: defaults (logged as the Python server
 * logs it).  Returns NULL and fills err ("FILE:LINE: what") when the
 * server must not start (bad integer, unreadable file).
 */
struct conf *conf_load(const char *path, char *err, size_t errlen);
struct conf *conf_ref(struct conf *c);
void conf_unref(struct conf *c);

#endif
