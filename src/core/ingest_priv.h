/* What ingest's modules share: the ingest itself (ingest.c: records into
 * histories; ingest_reconcile.c: the kernel's list of sockets against the
 * table; ingest_leak.c: CLOSE_WAIT leaks found and reported).
 */
#ifndef TT_INGEST_PRIV_H
#define TT_INGEST_PRIV_H

#include "ingest.h"

/* A closed history waiting out its grace period. */
struct pending_close {
	uint64_t cookie;
	uint64_t closed_ns;
};

/* Where the kernel keeps lives, a closed history waits out its grace
 * period whole, outside the table: the table is for the CLOSE_WAIT watch,
 * and a close costs no table work.
 */
struct kept_close {
	struct conn c;
	struct tt_delivery dl;
};

/* A reset sent after CLOSE (tcp_disconnect(), __tcp_close()) comes right
 * behind its history in the ring: it is looked for among this many of the
 * latest closes.
 */
#define KEPT_RESET_SCAN 256

struct ingest {
	struct ingest_config cfg;
	struct sink sink;
	struct sink tap;	/* ops never NULL (empty when none) */
	struct conn_table *table;
	struct pending_close *pending;	/* FIFO ring, in close order */
	uint32_t pending_cap, pending_head, pending_len;
	struct kept_close *kept;	/* the same for kept lives (cap pending_cap) */
	uint32_t kept_head, kept_len;
	uint64_t clock_ns;	/* latest time seen: records or expiry */
	bool seeded;		/* the start-up snapshot has been reconciled */
	struct ingest_stats stats;
	/* counted for a debugger's eyes, reported nowhere */
	uint64_t forced;	/* closes finished before their grace ended */
	uint64_t accepts_unmatched; /* accept() of a socket not tracked */
	struct leak_stats leaks;
	/* tracked sockets by their current state (the metrics gauge) */
	uint32_t by_state[TT_TCP_MAX_STATES];
};

/* Insert cookie's connection, evicting the least recently used when full. */
struct conn *ingest_insert_evicting(struct ingest *in, uint64_t cookie);
/* c enters (delta 1) or leaves (-1) the gauge of its current state. */
void ingest_count_state(struct ingest *in, const struct conn *c, int delta);
/* Emit c's history (listeners have none) and forget c. */
void ingest_finish(struct ingest *in, struct conn *c);
/* When c entered CLOSE_WAIT (its last state). */
uint64_t ingest_close_wait_since(const struct conn *c);
/* c passes the output filters. */
bool ingest_wanted_conn(const struct ingest *in, const struct conn *c);

#endif
