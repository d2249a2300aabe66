/* Two sinks as one. */
#include "sink_tee.h"

#define BOTH(op, ...)                                              \
	do {                                                       \
		const struct sink_tee *t = ctx;                    \
		if (t->a.ops && t->a.ops->op)                      \
			t->a.ops->op(t->a.ctx, __VA_ARGS__);       \
		if (t->b.ops && t->b.ops->op)                      \
			t->b.ops->op(t->b.ctx, __VA_ARGS__);       \
	} while (0)

static void tee_state(void *ctx, const struct tt_event *e)
{
	BOTH(state, e);
}

static void tee_history(void *ctx, const struct conn *c, const struct history_summary *s)
{
	BOTH(history, c, s);
}

static void tee_event(void *ctx, const struct tt_event *e)
{
	BOTH(event, e);
}

static void tee_lost(void *ctx, uint64_t ts_ns, uint64_t count, uint64_t total, uint8_t cause)
{
	BOTH(lost, ts_ns, count, total, cause);
}

static void tee_handshake(void *ctx, const struct conn *c, uint64_t ns)
{
	BOTH(handshake, c, ns);
}

const struct sink_ops sink_tee_ops = {
	.state = tee_state,
	.history = tee_history,
	.event = tee_event,
	.lost = tee_lost,
	.handshake = tee_handshake,
};
