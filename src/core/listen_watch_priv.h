/* What the listener watch's modules share (listen_watch.c: the table and
 * its samples; listen_watch_owner.c: owners and accept waits). Tests may
 * include it to look inside.
 */
#ifndef TT_LISTEN_WATCH_PRIV_H
#define TT_LISTEN_WATCH_PRIV_H

#include "latency.h"
#include "listen_watch.h"

/* A listener's accept() figures, made on its first accept. */
struct lw_accepts {
	struct latency_hist interval;	/* waits since the last sample */
	struct latency_series pending;	/* the same, in the exposition's buckets */
	struct latency_series last;	/* pending as the last sample closed it */
};

/* A table slot: the listener as the outputs see it, then what only the
 * watch keeps of it. The listener comes first, so every listener of the
 * table is its slot (listen_watch_slot).
 */
struct lw_slot {
	struct lw_listener l;
	/* the last sample's totals: the next one's deltas start there */
	uint32_t prev_drops, prev_synq;
	uint64_t prev_synack, prev_overflows, prev_handshakes, prev_accepted;
	/* owner search: when next, and how long after a miss */
	uint64_t owner_next_ns, owner_backoff_ns;
	uint64_t counts_gen;	/* the sample whose kernel counts were set */
};

/* A namespace's counters as last read: the next sample's deltas start
 * there.
 */
struct lw_ns_counts {
	uint32_t inum;
	uint64_t v[LW_N_COUNTERS];
};

struct listen_watch {
	struct lw_config cfg;
	struct lw_slot *tab;	/* [0, nsorted) sorted by cookie; new ones after */
	size_t n, nsorted;
	const struct lw_listener **rank;
	/* namespaces of this sample (sorted by inum at its end) and the last,
	 * kept whole while this one fills
	 */
	struct lw_netns *ns, *prev;
	size_t nns, ns_cap;
	/* the counters of those of them that had any, sorted the same way */
	struct lw_ns_counts *counts, *prev_counts;
	size_t ncounts, nprev_counts;
	struct lw_request *req;
	size_t nreq;
	uint64_t gen;			/* sample number */
	unsigned known;			/* this sample's enum lw_known */
	/* the last request matched by its local end, and that end */
	struct lw_listener *last_match;
	uint16_t last_match_family;
	uint8_t last_match_addr[TT_ADDR_LEN];
	uint64_t last_sample_ns;
	struct lw_stats stats;
};

/* The slot of l, a listener of the table (never one made elsewhere). */
static inline struct lw_slot *listen_watch_slot(struct lw_listener *l)
{
	return (struct lw_slot *)l;
}

/* The listener whose socket is cookie; NULL if not in the table. */
struct lw_listener *listen_watch_find(struct listen_watch *lw, uint64_t cookie);

#endif
