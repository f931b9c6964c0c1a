/*
 * benchnet - socket address parsing shared by the benchmark tools.
 *
 * The tools speak "inet:HOST:PORT", "tcp:HOST:PORT", "[v6]:PORT" or
 * "unix:PATH", the same spelling policyd-spf's --listen uses, so run.sh
 * can hand one string to both sides.
 */
#include "benchnet.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
benchnet_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256];
	const char *p, *colon;
	long port;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;

		if (strlen(spec + 5) >= sizeof(un->sun_path))
			return -1;
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, spec + 5);
		*len = sizeof(*un);
		return 0;
	}
	p = spec;
	if (strncmp(p, "inet:", 5) == 0 || strncmp(p, "tcp:", 4) == 0 ||
	    strncmp(p, "udp:", 4) == 0)
		p = strchr(p, ':') + 1;
	if (*p == '[') {
		const char *rb = strchr(p, ']');

		if (rb == NULL || rb[1] != ':' || (size_t)(rb - p - 1) >= sizeof(host))
			return -1;
		memcpy(host, p + 1, (size_t)(rb - p - 1));
		host[rb - p - 1] = '\0';
		colon = rb + 1;
	} else {
		colon = strrchr(p, ':');
		if (colon == NULL || (size_t)(colon - p) >= sizeof(host))
			return -1;
		memcpy(host, p, (size_t)(colon - p));
		host[colon - p] = '\0';
	}
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port <= 0 || port > 65535)
		return -1;
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)port);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return -1;
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)port);
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -1;
		*len = sizeof(*s4);
	}
	return 0;
}

void
benchnet_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}
