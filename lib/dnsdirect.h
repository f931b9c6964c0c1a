/*
 * dnsdirect - our own small UDP/TCP transport for query names c-ares
 * refuses.
 *
 * From c-ares 1.20 on, ares_send() re-encodes the query and refuses any
 * name with a byte other than a letter, a digit, '-', '.', '_', '/' or '*'
 * (ARES_EBADNAME, "Misformatted domain name"), but SPF macro expansions
 * legitimately ask for names with '+', '=', ' ', ':', '[', bytes >= 0x80
 * and more (RFC 7208 7; its test suite has such names, and pyspf asks for
 * them).  Such names go out through this module on every c-ares version,
 * so the daemon behaves alike on Debian 12 (c-ares 1.18) and 13 (1.34);
 * every other name still goes through c-ares.
 *
 * The transport mirrors the channel: the same servers (read from the
 * c-ares channel at each query, so there is one source of truth), the same
 * timeout per try and tries per server, servers in the order c-ares lists
 * them (configured order on 1.18, its health order on 1.34), one fresh
 * non-blocking socket per try (so a random source port) and a random query
 * id; an answer counts only if it comes from the server asked, with our id
 * and our question.  A truncated UDP answer is asked again over TCP.  The
 * caller's callback has the signature and status codes of an ares_send()
 * callback, so lib/dns.c handles both transports' answers alike.
 *
 * Sockets are announced through the same kind of callback as c-ares'
 * sock_state_cb and served by dnsdirect_process(); tries are timed with
 * dns_timer_start() of the owning dns_ctx.  At most DNSDIRECT_MAX queries
 * are on the wire at once (each holds one socket; policyd/main.c keeps 64
 * descriptors over Max_Connections); more wait in line.  They also count
 * toward the dns_ctx's max_inflight like any wire query.
 */
#ifndef POLICYD_DNSDIRECT_H
#define POLICYD_DNSDIRECT_H

#include <ares.h>
#include <stdbool.h>

#include "dns.h"

#define DNSDIRECT_MAX 32

struct dnsdirect;

/* True if name (presentation form, '.' between labels) must not be handed
 * to c-ares: it holds a byte c-ares >= 1.20 would refuse. */
bool dnsdirect_wants(const char *name);

/* io is called as c-ares calls its sock_state_cb (data, fd, readable,
 * writable), with io_arg as data.  NULL when out of memory. */
struct dnsdirect *dnsdirect_new(struct dns_ctx *ctx, ares_channel ch, int timeout_ms, int tries,
				ares_sock_state_cb io, void *io_arg);
/* Every query still pending is called back with ARES_EDESTRUCTION. */
void dnsdirect_free(struct dnsdirect *d);

#define DNSDIRECT_TCP   1   /* over TCP from the start */
#define DNSDIRECT_IGNTC 2   /* a truncated UDP answer is the answer (as
			     * c-ares' ARES_FLAG_IGNTC): no TCP retry */

/*
 * Send the query msg (len bytes as dnsmsg_build_query made it; its id is
 * replaced) with flags 0 or the DNSDIRECT_ ones above.  cb is called
 * exactly once, never before this returns:
 * ARES_SUCCESS with the answer, ARES_ETIMEOUT or ARES_ECONNREFUSED when no
 * server answered, ARES_ESERVFAIL without servers, ARES_ENOMEM,
 * ARES_EDESTRUCTION from dnsdirect_free.  -1 (and no callback) if the
 * query cannot even be started.
 */
int dnsdirect_send(struct dnsdirect *d, const unsigned char *msg, int len, int flags,
		   ares_callback cb, void *arg);

/* Serve read_fd / write_fd if they are ours; false if neither is. */
bool dnsdirect_process(struct dnsdirect *d, int read_fd, int write_fd);

#endif
