/*
 * benchnet - socket address parsing shared by the benchmark tools
 * (loadgen, nullpolicy, dnsdelay).
 */
#ifndef BENCHNET_H
#define BENCHNET_H

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

/* "inet:H:P", "tcp:H:P", "udp:H:P", "H:P", "[v6]:P" or "unix:PATH".
 * Returns 0, or -1 for a spec it cannot read. */
int benchnet_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len);

/* Raise the open-file soft limit to the hard limit (10,000 connections). */
void benchnet_nofile(void);

#endif
