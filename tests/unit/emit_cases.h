/* One record of any type the emitters write, given as its emitter's
 * input, written through the real JSON and text emitters and read back:
 * the round-trip oracle shared by the extreme-value unit tests and the
 * writers' fuzz target (tests/fuzz/fuzz_emit.c).
 */
#ifndef TT_EMIT_CASES_H
#define TT_EMIT_CASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cgroup_path.h"
#include "history.h"
#include "listen_watch.h"
#include "owner.h"
#include "ports.h"

enum case_kind {
	CASE_STATE,
	CASE_RESET,		/* e.type says sent or received */
	CASE_SYNACK,
	CASE_OVERFLOW,
	CASE_RETRANSMIT,
	CASE_HISTORY,
	CASE_LOST,
	CASE_LEAK,
	CASE_LEAK_RESOLVED,
	CASE_LISTENER,
	CASE_NETNS,
	CASE_ALERT,
	CASE_PORTS_ALERT,
	CASE_PORTS,
	CASE_LEAK_PROCESS,
	CASE_N,
};

#define CASE_MAX_OWNERS 80
#define CASE_PATH_MAX 700
#define CASE_REASON_MAX 100

struct emit_case {
	enum case_kind kind;
	uint64_t ts;
	int64_t clock_offset;		/* wall time = monotonic + this */
	uint32_t own_netns;
	/* every cgroup id of the case resolves to this path, or is gone */
	bool cgroup_known;
	char cgroup_path[CASE_PATH_MAX + 1];
	struct cgroup_ids ids;
	/* the name the kernel gives every reset reason; "" for none */
	char reason[CASE_REASON_MAX + 1];
	/* state, reset, synack, overflow, retransmit */
	struct tt_event e;
	/* history, leak, leak_resolved; leak_process: pid, comm (OWNER_SEEN) */
	struct conn c;
	struct history_summary s;	/* its dl is set from the two below */
	struct tt_delivery dl;
	bool with_dl;
	/* lost: count, total, cause; leak_process: sockets in count */
	uint64_t count, total;
	uint8_t cause;
	/* leak, leak_resolved; leak_process: the oldest (DURATION_UNKNOWN) */
	uint64_t age;
	bool lower_bound;
	struct owner owners[CASE_MAX_OWNERS];
	size_t nowners;
	uint32_t process_leaks;
	/* listener, netns, alert */
	struct lw_listener l;
	struct lw_netns ns;
	struct lw_alert_state st;
	uint8_t alert_kind;		/* enum lw_alert_kind */
	bool start, gone, with_ns;
	uint64_t syn_threshold;		/* what the alert's SYN-rate cause needed */
	/* ports, ports alert */
	struct ports_dest d;
	struct ports_limits lim;
	bool with_lim;
};

/* What the last check measured of its JSON record. */
struct case_sizes {
	size_t record;		/* bytes, its newline included */
	size_t fixed;		/* scalars */
	size_t strings;		/* escaped strings outside lists */
	size_t lists;		/* lists whose length the input decides */
	size_t listed, cut;	/* items of those lists written, and cut */
	size_t text;		/* the text view's bytes (0: it shows none) */
};

/* Write k through both emitters and check every line: whole, within
 * OUTBUF_MAX_RECORD and each part of its budget, strict JSON whose values
 * read back equal k's (numbers, strings byte for byte, addresses, list
 * lengths and their cut counts), and a text line of printable ASCII whose
 * pid and comm unescape to k's. Returns 0, or -1 with the first
 * disagreement in why. sizes (may be NULL) gets what was measured.
 */
int emit_case_check(const struct emit_case *k, struct case_sizes *sizes, char *why, size_t len);

/* A case of kind with every field zero but what makes it well formed. */
void emit_case_init(struct emit_case *k, enum case_kind kind);

#endif
