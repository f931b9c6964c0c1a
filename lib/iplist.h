/*
 * iplist - skip_addresses and Whitelist: comma lists of networks matched
 * with the semantics of Python's ipaddress module as spf_engine uses it
 * (reference §4.3): each entry strict IPv4Network, else IPv6Network; a
 * bare address is /32 or /128; IPv4 netmask and hostmask forms; host bits
 * set is an error; IPv4 and IPv6 never match each other; entries are not
 * trimmed.  Error texts are Python's, word for word, so the log line
 * "ERROR: <entry> in <option> not IP network.  Message: <text>. ..." is
 * the same.
 */
#ifndef POLICYD_IPLIST_H
#define POLICYD_IPLIST_H

#include <stdbool.h>
#include <stddef.h>

struct ip_addr {
	int version;              /* 4 or 6 */
	unsigned char b[16];      /* network order; IPv4 in b[0..3] */
};

/* Python ipaddress.ip_address(s).  0, or -1 with why = Python's text. */
int iplist_parse_addr(const char *s, struct ip_addr *a, char *why, size_t whylen);

/*
 * Is ip inside one of the networks of list (as spf_engine's loop over
 * list.split(','))?  Returns 1 (match), 0 (no match) or -1: an entry (or
 * ip) raised ValueError; then *bad and *badlen are the entry the Python loop
 * was at and why its message: the caller logs and ignores the rest.
 */
int iplist_match(const char *list, const char *ip, const char **bad, size_t *badlen,
		 char *why, size_t whylen);

/* Every entry of list is a valid network: 0, or -1 with why naming it. */
int iplist_check(const char *list, char *why, size_t whylen);

/* Private (RFC 1918, RFC 6598 CGN, IPv6 ULA, link-local) address: for the
 * NAT warning. */
bool iplist_is_private(const struct ip_addr *a);

#endif
