/*
 * spread - which worker takes the next connection.  The workers fill up
 * in order: new connections go to the first worker that holds fewer than
 * SPREAD_FILL connections and was busy less than SPREAD_BUSY_PCT of the
 * last moment; when none is left, to whichever worker accepts first.
 *
 * Why not simply spread evenly: Postfix keeps its policy connections
 * open, so where a connection lands decides where its requests run for
 * its whole life.  A lightly loaded daemon spread over every core pays a
 * sleep and a wake-up (and on a VM an interprocessor interrupt) for
 * nearly every request, and keeps one cold DNS cache per worker; on one
 * worker the requests of several connections are served per wake-up from
 * one warm cache.  Measured with t/bench/profile.sh, 8 connections on 2
 * cores: 20 us of CPU per request spread over 2 workers, 16 us on one.
 * A worker that gets busy stops taking new connections, so load that
 * needs more cores still gets them.
 *
 * The board lives in a shared anonymous mapping the supervisor makes
 * before it forks; each worker writes only its own slot.  A worker that
 * finds the choice moved to another one wakes that one through its
 * eventfd, so a worker that is not taking connections waits without
 * polling.
 */
#ifndef POLICYD_SPREAD_H
#define POLICYD_SPREAD_H

#include <stdbool.h>

#define SPREAD_FILL 100          /* connections (Postfix's default process limit) */
#define SPREAD_BUSY_PCT 50       /* CPU share of the last moment */

struct spread;

/* Supervisor, before forking: the board for n workers.  NULL on error. */
struct spread *spread_new(int n);
/* Supervisor: worker i is gone (or never started); its slot no longer
 * holds connections and is passed over until its worker reports. */
void spread_slot_clear(struct spread *sp, int i);
void spread_free(struct spread *sp);

/* Worker i: the fd that becomes readable when it should look again. */
int spread_wake_fd(const struct spread *sp, int i);
/* Worker i: empty its wake-up fd. */
void spread_wake_drain(const struct spread *sp, int i);
/* Worker i: its connection count and busy share now, and whether it has
 * stopped accepting for a reason of its own (Max_Connections, out of
 * file descriptors): then it counts as full, or nobody would accept.
 * Wakes the workers the choice moved from and to. */
void spread_report(struct spread *sp, int i, unsigned conns, unsigned busy_pct, bool full);
/* Worker i: whether it should accept new connections now. */
bool spread_may_accept(const struct spread *sp, int i);

#endif
