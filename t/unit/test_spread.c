/*
 * test_spread - the rule of policyd/spread: who takes new connections as
 * workers fill up, get busy, calm down and die, and which workers are
 * woken when the choice moves.  (t/proto-spread.t sees the same rule
 * from outside, through real workers and sockets.)
 */
#include <poll.h>
#include <stdbool.h>

#include "spread.h"
#include "tap.h"

static bool
woken(const struct spread *sp, int i)
{
	struct pollfd p = { .fd = spread_wake_fd(sp, i), .events = POLLIN };
	bool r = poll(&p, 1, 0) == 1;

	spread_wake_drain(sp, i);
	return r;
}

/* which of the n workers may accept, as a string of 0/1 */
static const char *
open_set(const struct spread *sp, int n)
{
	static char s[16];

	for (int i = 0; i < n; i++)
		s[i] = spread_may_accept(sp, i) ? '1' : '0';
	s[n] = '\0';
	return s;
}

int
main(void)
{
	struct spread *sp = spread_new(3);

	ok(sp != NULL, "a board for 3 workers");
	if (sp == NULL)
		return tap_done();
	is_str(open_set(sp, 3), "100", "at start only the first accepts");

	spread_report(sp, 0, SPREAD_FILL - 1, 0, false);
	is_str(open_set(sp, 3), "100", "one short of full: still the first");
	ok(!woken(sp, 1) && !woken(sp, 2), "and nobody else is woken");
	spread_report(sp, 0, SPREAD_FILL, 0, false);
	is_str(open_set(sp, 3), "010", "full: the second");
	ok(woken(sp, 1), "the second is woken to start accepting");
	ok(!woken(sp, 2), "the third is not");

	spread_report(sp, 1, 3, SPREAD_BUSY_PCT, false);
	is_str(open_set(sp, 3), "001", "the second busy: the third");
	ok(woken(sp, 2), "the third is woken");
	spread_report(sp, 2, 5, SPREAD_BUSY_PCT + 10, false);
	is_str(open_set(sp, 3), "111", "all full or busy: every worker accepts");
	ok(woken(sp, 0) && woken(sp, 1), "and the others are woken");

	spread_report(sp, 1, 3, SPREAD_BUSY_PCT - 1, false);
	is_str(open_set(sp, 3), "010", "the second calms down: back to it");
	ok(woken(sp, 0) && woken(sp, 2), "the others are woken to stop");
	spread_report(sp, 0, SPREAD_FILL - 1, 0, false);
	is_str(open_set(sp, 3), "100", "the first has room again: back to it");
	ok(woken(sp, 1) && !woken(sp, 2), "the second is woken to stop, the third is left alone");
	spread_report(sp, 0, SPREAD_FILL - 1, 0, false);
	ok(!woken(sp, 1), "an unchanged report wakes nobody");

	spread_slot_clear(sp, 0);
	is_str(open_set(sp, 3), "010", "the first dies: the second takes over");
	ok(woken(sp, 1), "and is woken");
	spread_report(sp, 0, 0, 0, false);
	is_str(open_set(sp, 3), "100", "its replacement reports: the first place again");
	ok(woken(sp, 1), "and the second is woken to stop");

	spread_report(sp, 0, 7, 0, true);
	is_str(open_set(sp, 3), "010", "the first stops accepting on its own (Max_Connections): passed over");
	ok(woken(sp, 1), "and the second is woken");
	spread_report(sp, 0, 6, 0, false);
	is_str(open_set(sp, 3), "100", "it accepts again: back to it");
	ok(woken(sp, 1), "and the second is woken to stop");

	spread_slot_clear(sp, 0);
	spread_slot_clear(sp, 1);
	spread_slot_clear(sp, 2);
	is_str(open_set(sp, 3), "111", "nobody alive on the board: nobody is held back");
	spread_free(sp);
	spread_free(NULL);
	ok(spread_new(0) == NULL, "no board for 0 workers");
	return tap_done();
}
