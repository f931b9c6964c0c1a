/*
 * spf_eval - internals of the check_host() state machine (spf_eval.c),
 * shared with the small helpers in spf_util.c.
 */
#ifndef POLICYD_SPF_EVAL_H
#define POLICYD_SPF_EVAL_H

#include <stdbool.h>
#include <stddef.h>

/* Client address in every form the macros and matching need. */
struct spf_client {
	bool v6;
	unsigned char addr[16];   /* 4 bytes used for IPv4 */
	char i[80];               /* %{i}: dotted quad / dot-separated upper-case nibbles */
	char c[48];               /* %{c}: readable form, IPv6 compressed as Python prints it */
	char rev[96];             /* PTR query name (…in-addr.arpa / …ip6.arpa) */
};

/*
 * Parse a client address; IPv4-mapped IPv6 becomes IPv4 (RFC 7208 5).
 * On failure err gets Python's ipaddress wording.
 */
int spf_client_parse(struct spf_client *cl, const char *ip, char *err, size_t errlen);

/* Python bytes repr (b'...'), as pyspf puts it in "Non-ascii characters found". */
void spf_bytes_repr(char *out, size_t outlen, const unsigned char *s, size_t len);

/*
 * The name as pydns sends it: labels with non-ASCII (UTF-8) characters
 * become xn-- punycode labels (no nameprep beyond ASCII lower case).
 * Returns a new string, NULL when out of memory.
 */
char *spf_idna_name(const char *name);

#endif
