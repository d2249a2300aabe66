/* The live kernel side: probe what the kernel offers, load and attach the
 * BPF programs, read the ring buffer, account for lost records, and read
 * the counters the programs keep (connections by state, ports in use).
 */
#ifndef TT_TRACER_H
#define TT_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel_probe.h"
#include "tcptrail.h"

struct tracer;

/* Called for every record, in ring-buffer order. A TT_EV_HISTORY record is
 * a whole struct tt_history.
 */
typedef void (*tracer_event_fn)(const struct tt_event *e, void *arg);

struct tracer_config {
	uint32_t ring_mb;	/* 0: sized from sockets_at_start */
	/* every transition as a record (the live stream); else only what
	 * the histories and the watches need
	 */
	bool live_states;
	bool watch_close_wait;	/* CLOSE_WAIT entries are wanted (leaks) */
	bool count_ports;	/* ports in use per destination are wanted */
	uint32_t max_destinations;
	uint32_t max_listeners;
	uint32_t retransmits_per_s;	/* live retransmit records, all CPUs */
	/* sockets the machine held at start: sizes what is kept per accepted
	 * connection until its history
	 */
	uint64_t sockets_at_start;
	tracer_event_fn on_event;
	void *arg;
};

/* What the running kernel let us attach. */
struct tracer_features {
	bool kept_lives;	/* socket storage: a history per socket from the kernel */
	bool synack;		/* tcp:tcp_retransmit_synack */
	bool send_reset;	/* tcp:tcp_send_reset */
	bool send_reset_reason;	/* ... with its reason argument (v6.10+) */
	bool receive_reset;	/* tcp:tcp_receive_reset */
	bool retransmit;	/* tcp:tcp_retransmit_skb */
	bool retransmit_err;	/* ... with the retransmit's result (6.x) */
	bool listen_overflow;	/* skb:kfree_skb with TCP_LISTEN_OVERFLOW */
	bool accept;		/* syscalls:sys_exit_accept4 and sys_exit_accept */
	bool shutdown;		/* syscalls:sys_enter/exit_shutdown */
};

/* Load and attach. On failure returns negative errno after printing one
 * plain sentence saying what is needed.
 */
int tracer_open(struct tracer **out, const struct tracer_config *cfg);
void tracer_close(struct tracer *t);

const struct rst_reasons *tracer_rst_reasons(const struct tracer *t);
const struct tracer_features *tracer_features(const struct tracer *t);

/* The kernel's tick rate (snapshot_hz()), so that the programs can turn
 * socket timestamps kept in ticks into ms; 0 leaves those ages unknown.
 */
void tracer_set_hz(struct tracer *t, uint32_t hz);

/* Wait up to timeout_ms for a wakeup, then deliver everything waiting.
 * Returns records delivered or negative errno (-EINTR is not an error).
 */
int tracer_poll(struct tracer *t, int timeout_ms);

/* Records lost in the kernel since start, by enum tt_lost_cause (the
 * causes counted by programs; kernel_skipped and filter_skipped come from
 * tracer_skips()).
 */
void tracer_lost(struct tracer *t, uint64_t by_cause[TT_LOST_N_CAUSES]);

/* Program runs the kernel skipped (a tracing program is not re-entered on
 * a CPU), cumulative since start. Needs the kernel's recursion_misses
 * (5.12); earlier kernels re-enter, and nothing is skipped.
 */
struct tracer_skips {
	uint64_t records;	/* records lost: transitions nothing caught,
				 * skipped reset, SYN-ACK and accept runs
				 */
	uint64_t filter;	/* skipped runs of the drop-reason filter */
	uint64_t caught;	/* skipped transitions the catcher recorded */
	uint64_t missed;	/* transitions the first program skipped */
};
/* twice: transitions the reader dropped as recorded twice. Each was a
 * catcher record of a transition the first had recorded (its mark gone),
 * not a skipped run caught: left in caught, it would cancel a real loss.
 */
void tracer_skips(struct tracer *t, uint64_t twice, struct tracer_skips *s);

/* Move the lost-record attributions out of the kernel: fn once per socket
 * that lost records, at most the map's size per call. Returns how many
 * records those were, so that a total above it means some losses named no
 * socket.
 */
uint64_t tracer_drain_lost_cookies(struct tracer *t,
				   void (*fn)(uint64_t cookie, void *arg), void *arg);

/* Sockets entering minus leaving each state since load, all CPUs: add a
 * snapshot's counts taken at a known reading to get the gauge.
 */
void tracer_state_deltas(struct tracer *t, int64_t deltas[TT_TCP_MAX_STATES]);

/* Ports in use per destination, as the kernel counts them (kept lives
 * only): fn for each destination; destinations at 0 twice running are
 * removed. Returns destinations read, or negative errno.
 */
typedef void (*tracer_dest_fn)(const struct tt_dest_key *k, int64_t in_use, void *arg);
int tracer_dest_use(struct tracer *t, tracer_dest_fn fn, void *arg);

/* Retransmit records not written, over the per-second budget, since load. */
uint64_t tracer_retransmits_unwritten(struct tracer *t);

/* Handshakes and accepts per listener end, as the kernel counts them
 * (kept lives only). Returns entries read, or negative errno.
 */
typedef void (*tracer_listen_fn)(const struct tt_listen_key *k,
				 const struct tt_listen_counts *c, void *arg);
int tracer_listen_counts(struct tracer *t, tracer_listen_fn fn, void *arg);

#endif
