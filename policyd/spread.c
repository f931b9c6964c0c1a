/*
 * spread - the shared board of the workers (see spread.h for the rule and
 * why).  Each slot is written by its own worker only, with relaxed
 * atomics: a stale read costs at most one connection accepted by the
 * worker that was the choice a moment ago.  A wake-up lost to two
 * workers reporting at once is caught by the server's slow tick, which
 * looks again while a worker is not accepting.
 */
#include "spread.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

struct spread_slot {
	_Alignas(64) atomic_uint conns;   /* a cache line per writer */
	atomic_uint busy;
	atomic_bool alive;
	atomic_bool full;               /* not accepting for its own reasons */
};

struct spread {
	int n;
	struct spread_slot *slot;       /* shared mapping of n slots */
	int *wake;                      /* an eventfd per worker, inherited */
};

struct spread *
spread_new(int n)
{
	struct spread *sp;

	if (n <= 0 || (sp = calloc(1, sizeof(*sp))) == NULL)
		return NULL;
	sp->n = n;
	sp->slot = mmap(NULL, (size_t)n * sizeof(*sp->slot), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	sp->wake = malloc((size_t)n * sizeof(*sp->wake));
	if (sp->slot == MAP_FAILED || sp->wake == NULL) {
		if (sp->slot == MAP_FAILED)
			sp->slot = NULL;
		spread_free(sp);
		return NULL;
	}
	for (int i = 0; i < n; i++)
		sp->wake[i] = -1;
	for (int i = 0; i < n; i++) {
		atomic_init(&sp->slot[i].conns, 0);
		atomic_init(&sp->slot[i].busy, 0);
		atomic_init(&sp->slot[i].alive, true);
		atomic_init(&sp->slot[i].full, false);
		sp->wake[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (sp->wake[i] < 0) {
			spread_free(sp);
			return NULL;
		}
	}
	return sp;
}

void
spread_free(struct spread *sp)
{
	if (sp == NULL)
		return;
	if (sp->wake != NULL)
		for (int i = 0; i < sp->n; i++)
			if (sp->wake[i] >= 0)
				close(sp->wake[i]);
	free(sp->wake);
	if (sp->slot != NULL)
		munmap(sp->slot, (size_t)sp->n * sizeof(*sp->slot));
	free(sp);
}

static void
wake(const struct spread *sp, int i)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is full, so it is readable anyway */
	if (write(sp->wake[i], &one, sizeof(one)) < 0)
		return;
}

/* The worker that should accept: the first alive one with room, or -1
 * when every one is full or busy (then all of them accept). */
static int
choice(const struct spread *sp)
{
	for (int i = 0; i < sp->n; i++) {
		const struct spread_slot *s = &sp->slot[i];

		if (atomic_load_explicit(&s->alive, memory_order_relaxed) &&
		    !atomic_load_explicit(&s->full, memory_order_relaxed) &&
		    atomic_load_explicit(&s->conns, memory_order_relaxed) < SPREAD_FILL &&
		    atomic_load_explicit(&s->busy, memory_order_relaxed) < SPREAD_BUSY_PCT)
			return i;
	}
	return -1;
}

/* The choice went from before to after: the worker it went to starts
 * accepting, the one it left stops (both at once when it is -1). */
static void
moved(const struct spread *sp, int self, int before, int after)
{
	if (after == before)
		return;
	for (int i = 0; i < sp->n; i++)
		if (i != self && (before < 0 || after < 0 || i == before || i == after))
			wake(sp, i);
}

void
spread_slot_clear(struct spread *sp, int i)
{
	int before = choice(sp);

	atomic_store_explicit(&sp->slot[i].alive, false, memory_order_relaxed);
	atomic_store_explicit(&sp->slot[i].conns, 0, memory_order_relaxed);
	atomic_store_explicit(&sp->slot[i].busy, 0, memory_order_relaxed);
	atomic_store_explicit(&sp->slot[i].full, false, memory_order_relaxed);
	moved(sp, i, before, choice(sp));
}

int
spread_wake_fd(const struct spread *sp, int i)
{
	return sp->wake[i];
}

void
spread_wake_drain(const struct spread *sp, int i)
{
	uint64_t v;

	if (read(sp->wake[i], &v, sizeof(v)) < 0)
		return;         /* EAGAIN: already drained */
}

void
spread_report(struct spread *sp, int i, unsigned conns, unsigned busy_pct, bool full)
{
	struct spread_slot *s = &sp->slot[i];
	int before;

	if (atomic_load_explicit(&s->conns, memory_order_relaxed) == conns &&
	    atomic_load_explicit(&s->busy, memory_order_relaxed) == busy_pct &&
	    atomic_load_explicit(&s->full, memory_order_relaxed) == full &&
	    atomic_load_explicit(&s->alive, memory_order_relaxed))
		return;
	before = choice(sp);
	atomic_store_explicit(&s->conns, conns, memory_order_relaxed);
	atomic_store_explicit(&s->busy, busy_pct, memory_order_relaxed);
	atomic_store_explicit(&s->full, full, memory_order_relaxed);
	atomic_store_explicit(&s->alive, true, memory_order_relaxed);
	moved(sp, i, before, choice(sp));
}

bool
spread_may_accept(const struct spread *sp, int i)
{
	int c = choice(sp);

	return c < 0 || c == i;
}
