/* Two sinks as one: every call goes to both (each where it has the slot).
 * Ingest has one tap; the metrics and the port watch both listen on it.
 */
#ifndef TT_SINK_TEE_H
#define TT_SINK_TEE_H

#include "sink.h"

struct sink_tee {
	struct sink a, b;	/* an empty slot: ops with nothing set */
};

/* A sink (ctx: struct sink_tee). */
extern const struct sink_ops sink_tee_ops;

#endif
