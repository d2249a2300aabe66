/* Where reconstructed records go. Ingest calls these; the JSON and text
 * emitters and the unit tests' capture sink implement them.
 */
#ifndef TT_SINK_H
#define TT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "conn.h"
#include "filter.h"
#include "history.h"
#include "listen_watch.h"
#include "owner.h"
#include "tcptrail.h"

struct ports;
struct ports_alert;

/* Why kernel records were lost: enum tt_lost_cause, shared with the BPF
 * programs (values are part of the --record format).
 */
enum lost_cause {
	LOST_RING_FULL = TT_LOST_RING_FULL,
	LOST_KERNEL_SKIPPED = TT_LOST_KERNEL_SKIPPED,
	LOST_FILTER_SKIPPED = TT_LOST_FILTER_SKIPPED,
	LOST_NO_STORAGE = TT_LOST_NO_STORAGE,
	LOST_CHILD_START = TT_LOST_CHILD_START,
	LOST_NO_TUPLE = TT_LOST_NO_TUPLE,
	LOST_UNNAMED_ACCEPT = TT_LOST_UNNAMED_ACCEPT,
	LOST_SHUTDOWN_MARK = TT_LOST_SHUTDOWN_MARK,
	LOST_ACCEPT_INFO = TT_LOST_ACCEPT_INFO,
	LOST_PORT_COUNT = TT_LOST_PORT_COUNT,
	LOST_LISTEN_COUNT = TT_LOST_LISTEN_COUNT,
	LOST_UNSEEN_CHANGE = TT_LOST_UNSEEN_CHANGE,
	LOST_N_CAUSES = TT_LOST_N_CAUSES
};

static inline const char *lost_cause_name(uint8_t cause)
{
	static const char *const names[LOST_N_CAUSES] = {
		[LOST_RING_FULL] = "ring_full",
		[LOST_KERNEL_SKIPPED] = "kernel_skipped",
		[LOST_FILTER_SKIPPED] = "filter_skipped",
		[LOST_NO_STORAGE] = "no_storage",
		[LOST_CHILD_START] = "child_start",
		[LOST_NO_TUPLE] = "no_tuple",
		[LOST_UNNAMED_ACCEPT] = "unnamed_accept",
		[LOST_SHUTDOWN_MARK] = "shutdown_mark",
		[LOST_ACCEPT_INFO] = "accept_info",
		[LOST_PORT_COUNT] = "port_count",
		[LOST_LISTEN_COUNT] = "listen_count",
		[LOST_UNSEEN_CHANGE] = "unseen_change",
	};

	return cause < LOST_N_CAUSES ? names[cause] : "unknown";
}

/* Connection output. Every member may be NULL: a sink with nothing to say
 * about something leaves its slot empty.
 */
struct sink_ops {
	/* A state transition of a connection or listener. */
	void (*state)(void *ctx, const struct tt_event *e);
	/* Every state transition, whatever the filters, just before state()
	 * would be called for it (what a view must follow of each socket).
	 */
	void (*transition)(void *ctx, const struct tt_event *e);
	/* A connection's finished (or evicted) history. */
	void (*history)(void *ctx, const struct conn *c, const struct history_summary *s);
	/* Resets, SYN-ACK retransmits, listen overflows: reported as they come. */
	void (*event)(void *ctx, const struct tt_event *e);
	/* count records were lost in the kernel, for cause (enum lost_cause);
	 * total since start, all causes.
	 */
	void (*lost)(void *ctx, uint64_t ts_ns, uint64_t count, uint64_t total, uint8_t cause);
	/* c has been in CLOSE_WAIT for age_ns (at least, if lower_bound): held
	 * by the n owners; process_leaks counts the first owner's leaks now.
	 */
	void (*leak)(void *ctx, const struct conn *c, uint64_t ts_ns, uint64_t age_ns,
		     bool lower_bound, const struct owner *owners, size_t n,
		     uint32_t process_leaks);
	/* A reported leak left CLOSE_WAIT (closed, reset, or gone) after age_ns. */
	void (*leak_resolved)(void *ctx, const struct conn *c, uint64_t ts_ns, uint64_t age_ns);
	/* c completed its handshake, which took ns (tap only). */
	void (*handshake)(void *ctx, const struct conn *c, uint64_t ns);
	/* End of one batch of records: a chance to print aggregates. */
	void (*batch_end)(void *ctx);
};

struct sink {
	const struct sink_ops *ops;
	void *ctx;
};

/* Listener output: the same rule, NULL for nothing to say. */
struct listen_sink_ops {
	/* An alert started or cleared (already filtered). */
	void (*alert)(void *ctx, const struct lw_alert *a);
	/* A sample of every listener and namespace was taken at now_ns; f
	 * says which listeners are wanted.
	 */
	void (*sample)(void *ctx, const struct listen_watch *lw, uint64_t now_ns,
		       const struct filter *f);
	/* The ephemeral_ports alert of a destination started or cleared
	 * (already filtered).
	 */
	void (*ports_alert)(void *ctx, const struct ports_alert *a, const struct ports *p);
	/* The interval's destinations worth reporting (ports_hot()). */
	void (*ports)(void *ctx, struct ports *p, uint64_t now_ns, const struct filter *f);
};

struct listen_sink {
	const struct listen_sink_ops *ops;
	void *ctx;
};

/* Whether the filters keep listener l (NULL f: every one). */
static inline bool listen_sink_wanted(const struct filter *f, const struct lw_listener *l)
{
	return !f || filter_match_listener(f, l->family, l->addr, l->port, l->netns, l->cgroup,
					   l->pid, l->comm);
}

#endif
