/* Where reconstructed records go. Ingest calls these; the JSON and text
 * emitters and the unit tests' capture sink implement them.
 */
#ifndef TT_SINK_H
#define TT_SINK_H

#include <stdint.h>
#include "conn.h"
#include "history.h"
#include "tcptrail.h"

struct sink_ops {
	/* A state transition of a connection or listener. */
	void (*state)(void *ctx, const struct tt_event *e);
	/* A connection's finished (or evicted) history. */
	void (*history)(void *ctx, const struct conn *c, const struct history_summary *s);
	/* Resets, SYN-ACK retransmits, listen overflows: reported as they come. */
	void (*event)(void *ctx, const struct tt_event *e);
	/* count records were lost in the kernel (total since start). */
	void (*lost)(void *ctx, uint64_t ts_ns, uint64_t count, uint64_t total);
};

struct sink {
	const struct sink_ops *ops;
	void *ctx;
};

#endif
