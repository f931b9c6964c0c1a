/*
 * loop - drive a dns_ctx from a libevent event_base: one event per c-ares
 * socket (read and/or write as c-ares asks), and one timer re-armed from
 * dns_next_timeout() after every callback, so the same glue serves the
 * daemon and the `check` command.
 */
#ifndef POLICYD_LOOP_H
#define POLICYD_LOOP_H

#include <event2/event.h>

#include "dns.h"

struct loop_dns;

/* NULL on failure (out of memory).  Attach before the first query. */
struct loop_dns *loop_dns_attach(struct event_base *base, struct dns_ctx *ctx);
/* Remove every event; call before dns_ctx_free. */
void loop_dns_detach(struct loop_dns *ld);

#endif
