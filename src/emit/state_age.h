/* When each socket made its last transition, for the text view's state
 * lines: the time spent in the old state, as tcpstates' MS column shows it.
 * The kernel keeps a socket's life in its own storage and sends only the
 * transition, so the text view remembers, by cookie, in a bounded
 * two-way set-associative table: a socket whose entry another took reads
 * as unknown, counted.
 */
#ifndef TT_STATE_AGE_H
#define TT_STATE_AGE_H

#include <stdbool.h>
#include <stdint.h>

struct state_age_slot {
	uint64_t cookie;	/* 0: free */
	uint64_t ts_ns;
};

struct state_age {
	struct state_age_slot *v;
	uint32_t mask;		/* slots - 1; the pair of a cookie starts even */
	uint64_t evicted;	/* entries a newer socket took */
};

/* A table of at least slots entries (rounded up to a power of 2, 2 at
 * least). Returns 0 or -ENOMEM.
 */
int state_age_init(struct state_age *a, uint32_t slots);
void state_age_free(struct state_age *a);

/* cookie made a transition at ts_ns. begins: its life starts with it (no
 * old state worth timing); ends: its life is over (forgotten). Returns the
 * time since its previous transition, or UINT64_MAX when not known (begun
 * before the trace, or forgotten for room, or begins).
 */
uint64_t state_age_step(struct state_age *a, uint64_t cookie, uint64_t ts_ns, bool begins,
			bool ends);

#endif
