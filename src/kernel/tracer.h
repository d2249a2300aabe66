/* The live kernel side: probe what the kernel offers, load and attach the
 * BPF programs, read the ring buffer, account for lost records.
 */
#ifndef TT_TRACER_H
#define TT_TRACER_H

#include <stdbool.h>
#include <stdint.h>
#include "tcptrail.h"

struct tracer;

/* Called for every record, in ring-buffer order. */
typedef void (*tracer_event_fn)(const struct tt_event *e, void *arg);

struct tracer_config {
	uint32_t ring_mb;
	tracer_event_fn on_event;
	void *arg;
};

/* What the running kernel let us attach. */
struct tracer_features {
	bool synack;		/* tcp:tcp_retransmit_synack */
	bool send_reset;	/* tcp:tcp_send_reset */
	bool send_reset_reason;	/* ... with its reason argument (v6.10+) */
	bool receive_reset;	/* tcp:tcp_receive_reset */
	bool listen_overflow;	/* skb:kfree_skb with TCP_LISTEN_OVERFLOW */
	bool accept;		/* syscalls:sys_exit_accept4 and sys_exit_accept */
	bool shutdown;		/* syscalls:sys_enter/exit_shutdown */
};

/* Load and attach. On failure returns negative errno after printing one
 * plain sentence saying what is needed.
 */
int tracer_open(struct tracer **out, const struct tracer_config *cfg);
void tracer_close(struct tracer *t);


#define MAX_RST_REASONS 64

/* Names of enum sk_rst_reason values from the kernel's BTF ("NOT_SPECIFIED",
 * ...), indexed by value; n is 0 where the kernel has none.
 */
struct rst_reasons {
	const char *names[MAX_RST_REASONS];
	uint32_t n;
	char *storage;
};

/* Load from the running kernel's BTF (replay uses this without a tracer). */
void tracer_load_rst_reasons(struct rst_reasons *r);
void tracer_free_rst_reasons(struct rst_reasons *r);

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

/* Total records lost since start (ring buffer full). */
uint64_t tracer_lost_total(struct tracer *t);

/* Program runs the kernel skipped (a tracing program is not re-entered on
 * a CPU), cumulative since start. Needs the kernel's recursion_misses
 * (5.12); earlier kernels re-enter, and the deferred counter covers them.
 */
struct tracer_skips {
	uint64_t records;	/* records lost: nested transitions nothing caught,
				 * skipped reset and SYN-ACK runs
				 */
	uint64_t filter;	/* skipped runs of the drop-reason filter */
	uint64_t caught;	/* nested transitions the second program recorded */
};
void tracer_skips(struct tracer *t, struct tracer_skips *s);

/* Move the lost-record attributions out of the kernel: fn once per socket
 * that lost records. Returns how many records those were, so that a total
 * above it means some losses named no socket.
 */
uint64_t tracer_drain_lost_cookies(struct tracer *t,
				   void (*fn)(uint64_t cookie, void *arg), void *arg);

#endif
