/* What the tracing loop and its periodic jobs share (trace.c sets it up
 * and runs the loop, trace_jobs.c holds the jobs). Private to src/cmd/.
 */
#ifndef TT_TRACE_PRIV_H
#define TT_TRACE_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include "emit.h"
#include "feed.h"
#include "filter.h"
#include "journal.h"
#include "keys.h"
#include "listen_sampler.h"
#include "metrics.h"
#include "metrics_http.h"
#include "outbuf.h"
#include "owners.h"
#include "ports.h"
#include "sink_tee.h"
#include "text_order.h"
#include "snapshot.h"
#include "timers.h"
#include "top_view.h"
#include "trace.h"
#include "tracer.h"

/* New leaks one check reports at most (the rest wait for the next), and
 * descriptors of CLOSE_WAIT sockets one check indexes at most.
 */
#define TRACE_LEAK_BATCH_MAX 65536
#define TRACE_LEAK_OWNERS_MAX OWNER_INDEX_MAX

/* Losses reported so far, per source (cumulative kernel counts). */
struct loss_seen {
	uint64_t by_cause[TT_LOST_N_CAUSES];	/* counted by the programs */
	uint64_t skipped, filter;
	uint64_t caught;	/* skipped transitions the catcher recorded */
	uint64_t missed;	/* transitions the first program skipped */
};

/* Everything one tracing run owns; trace.c's teardown releases it all. */
struct tracing {
	const struct options *o;
	const struct trace_profile *p;
	struct tracer *tr;
	struct snapshot *snap;
	struct feed feed;
	struct owner_index *owners;
	uint64_t *leak_cands;
	struct listen_sampler *sampler;	/* NULL without --listeners */
	struct listen_sink lsink;
	struct cgroups *cgroups;	/* NULL without cgroup2 */
	struct filter filter;		/* the options' filter, with the cgroup lookup */
	struct metrics metrics;
	struct metrics_http *http;	/* NULL without --metrics */
	struct ports *ports;		/* NULL without connections and listeners */
	struct sink_tee tap;		/* ingest's tap: metrics and ports */
	struct sink tap_sink;
	uint64_t published_ns;
	uint64_t losses_ns;	/* when the loss counters were last read */
	struct timers *timers;
	int reconcile_timer;
	uint64_t reconcile_ns;		/* what the last reconcile took */
	uint64_t first_loss_ns, last_loss_ns;	/* since the last reconcile */
	struct loss_seen lost;
	uint64_t retrans_unwritten;	/* live retransmit records past the limit */
	bool lost_since_reconcile;
	/* the kernel keeps the lives: histories come whole, the table here
	 * watches CLOSE_WAIT only, and the count by state is the kernel's
	 */
	bool kept;
	/* the count by state: the start-up snapshot's, and the kernel's
	 * deltas at that moment
	 */
	uint64_t base_states[16];
	int64_t base_deltas[TT_TCP_MAX_STATES];
	bool base_exact;	/* no state changed while the baseline was counted */
	uint64_t unseen;	/* state changes the programs never saw, reported */
	uint64_t unseen_prev;	/* the excess the last reconcile found */
	uint32_t gauge[TT_TCP_MAX_STATES];
	/* Without the startup snapshot, the first reconcile meets sockets
	 * that may predate us: it seeds them as such.
	 */
	bool seeded;
	bool stop;
	bool said_truncated;	/* the snapshot's bound, said once */
	int sample_err;		/* the last sample's failure, said once */
	/* outputs */
	int fd, rfd;		/* -o, --record (until the writer owns it) */
	struct outbuf out;
	struct journal_writer *journal;	/* --record's (the feed writes through it) */
	struct emitter em;
	struct text_order *order;	/* the text view's held lines */
	struct state_age ages;		/* its sockets' last transitions */
	struct top_view *tv;
	struct top_slow *slow;		/* top: the connection lines */
	struct keys *keys;		/* top's: q quits (NULL: no terminal) */
	struct sink sink;
	struct ingest_config icfg;
};

/* Read the kernel's sockets and reconcile (initial: the start-up one).
 * Returns 0, or -ENOMEM.
 */
int trace_reconcile(struct tracing *t, bool initial);
/* Count state changes the kernel made without running the programs. */
void trace_check_unseen(struct tracing *t, bool final);
/* Report records lost since the last call; true when connections' records
 * may have been lost (a reconcile then repairs what it can).
 */
bool trace_account_losses(struct tracing *t);
/* Register the periodic jobs this run needs. */
int trace_add_jobs(struct tracing *t, uint64_t now);
/* Connections by state (the metrics gauge, the summary's "still open"). */
const uint32_t *trace_tracked_states(struct tracing *t);
/* The kernel's per-listener counts into the listener watch (kept lives). */
void trace_listen_counts(struct listen_watch *lw, void *arg);

#endif
