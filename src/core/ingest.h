/* Ingest: kernel records in, histories out. Owns the connection table and
 * the grace period that lets a reset sent right after CLOSE (tcp_disconnect()
 * and __tcp_close() set CLOSE first) still count toward the history.
 * No kernel access: live tracing, replay and unit tests all drive it.
 */
#ifndef TT_INGEST_H
#define TT_INGEST_H

#include <stdbool.h>
#include <stdint.h>
#include "conn_table.h"
#include "filter.h"
#include "leak_stats.h"
#include "owner.h"
#include "sink.h"
#include "tcptrail.h"

struct ingest_config {
	uint32_t max_conns;
	uint64_t close_grace_ns;
	bool states;		/* emit each state transition */
	bool states_explicit;	/* states was chosen, not a default (replay) */
	bool histories;		/* emit each finished history */
	const struct filter *filter; /* NULL: everything */
	uint64_t leak_after_ns;	/* CLOSE_WAIT this long is a leak; 0: off */
	/* NULL, or a sink given every finished history, event and loss,
	 * whatever the filter and the states/histories switches (metrics).
	 */
	const struct sink *tap;
	/* Lives come whole from the kernel (TT_EV_HISTORY): the table holds
	 * only sockets in CLOSE_WAIT (for leaks) and closes waiting out the
	 * grace period, and the count by state is the kernel's.
	 */
	bool kernel_lives;
};

struct ingest_stats {
	uint64_t records;	/* kernel records consumed */
	uint64_t histories;	/* connection histories finished */
	uint64_t incomplete;	/* of which incomplete */
	uint64_t evicted;	/* open sockets pushed out of a full table */
	uint64_t gaps;		/* histories with a missing transition */
	uint64_t lost;		/* kernel records lost, all causes */
	uint64_t lost_by_cause[LOST_N_CAUSES];
	uint64_t seeded;	/* sockets first learned of from a snapshot */
	uint64_t vanished;	/* tracked sockets gone without a CLOSE record */
	uint64_t leaks;		/* CLOSE_WAIT leaks reported */
	uint64_t leaks_resolved;
	uint64_t unwatched;	/* CLOSE_WAIT sockets pushed out of a full table */
	uint64_t repeated;	/* transitions recorded twice: the second dropped */
};

struct ingest;

/* NULL on allocation failure or a zero max_conns. */
struct ingest *ingest_new(const struct ingest_config *cfg, const struct sink *sink);
void ingest_free(struct ingest *in);
/* What a recording says of its live run (before any record): the kernel
 * kept the lives, and whether transitions were shown (the default unless
 * states_explicit).
 */
void ingest_set_recorded(struct ingest *in, bool kernel_lives, bool states);

/* One kernel record, in ring-buffer order. */
void ingest_event(struct ingest *in, const struct tt_event *e);

/* Compare what is tracked with the kernel's own list of sockets: v holds a
 * snapshot begun at started_ns, and every record queued before it ended has
 * been ingested. Live sockets never seen get a history (begun before tracing
 * if initial, else with records lost); tracked ones the kernel no longer has,
 * quiet since before the snapshot, are finished as vanished; a state the
 * records never reported is added and the history marked. This is how a
 * socket whose CLOSE record was lost still ends, and the table stays bounded
 * by what really exists.
 */
void ingest_reconcile(struct ingest *in, const struct tt_sock_record *v, size_t n,
		      uint64_t started_ns, bool initial);

/* Kernel records were lost: count of them, for cause (enum lost_cause). */
void ingest_lost(struct ingest *in, uint64_t ts_ns, uint64_t count, uint8_t cause);
void ingest_mark_lost(struct ingest *in, uint64_t cookie);
void ingest_mark_all_lost(struct ingest *in);

/* Finish histories whose CLOSE is older than the grace period at now_ns. */
void ingest_expire(struct ingest *in, uint64_t now_ns);

/* Finish every closed history now (end of input). */
void ingest_flush(struct ingest *in);

/* CLOSE_WAIT leak detection. Fills cookies (at most max) with sockets in
 * CLOSE_WAIT for at least leak_after_ns at now_ns and not yet reported;
 * returns how many. The caller finds their owners, then reports each.
 */
size_t ingest_leak_candidates(struct ingest *in, uint64_t now_ns, uint64_t *cookies,
			      size_t max);
void ingest_report_leak(struct ingest *in, uint64_t cookie, uint64_t now_ns,
			const struct owner *owners, size_t n);

/* The socket's cgroup is id, if nothing said otherwise (v1-only hosts,
 * where a leak's owner is what tells it).
 */
void ingest_note_cgroup(struct ingest *in, uint64_t cookie, uint64_t id);

/* e is an accept record not yet ingested: how long its socket waited in
 * the accept queue. False if its handshake's completion was not seen. A
 * record without a tuple (family 0: the kernel side leaves it out) gets its
 * tracked connection's, so that its listener can be found.
 */
bool ingest_accept_wait(const struct ingest *in, struct tt_event *e, uint64_t *wait_ns);

/* Tell the sink a batch of records ended (aggregating views print now). */
void ingest_batch_end(struct ingest *in);

const struct ingest_stats *ingest_stats(const struct ingest *in);
const struct leak_stats *ingest_leak_stats(const struct ingest *in);
/* Tracked sockets by current state: TT_TCP_MAX_STATES counts. */
const uint32_t *ingest_tracked(const struct ingest *in);
struct conn_table *ingest_table(struct ingest *in);

#endif
