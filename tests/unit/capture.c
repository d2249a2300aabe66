/* Capture sink for the unit tests. */
#include <string.h>
#include "capture.h"
#include "tcp_names.h"

static void cap_state(void *ctx, const struct tt_event *e)
{
	(void)e;
	((struct capture *)ctx)->nstates++;
}

static void cap_history(void *ctx, const struct conn *c, const struct history_summary *s)
{
	struct capture *cap = ctx;

	if (cap->nhist == CAPTURE_MAX)
		return;
	cap->hist[cap->nhist].conn = *c;
	cap->hist[cap->nhist].sum = *s;
	cap->nhist++;
}

static void cap_event(void *ctx, const struct tt_event *e)
{
	(void)e;
	((struct capture *)ctx)->nevents++;
}

static void cap_lost(void *ctx, uint64_t ts, uint64_t count, uint64_t total, uint8_t cause)
{
	struct capture *cap = ctx;

	(void)ts;
	(void)count;
	cap->nlost++;
	cap->lost_total = total;
	cap->lost_cause = cause;
}

static void cap_leak(void *ctx, const struct conn *c, uint64_t ts, uint64_t age_ns,
		     bool lower_bound, const struct owner *owners, size_t n,
		     uint32_t process_leaks)
{
	struct capture *cap = ctx;

	(void)ts;
	(void)owners;
	if (cap->nleaks < CAPTURE_MAX) {
		cap->leaks[cap->nleaks].cookie = c->cookie;
		cap->leaks[cap->nleaks].age_ns = age_ns;
		cap->leaks[cap->nleaks].lower_bound = lower_bound;
		cap->leaks[cap->nleaks].nowners = n;
		cap->leaks[cap->nleaks].held = process_leaks;
	}
	cap->nleaks++;
}

static void cap_leak_resolved(void *ctx, const struct conn *c, uint64_t ts, uint64_t age_ns)
{
	struct capture *cap = ctx;

	(void)ts;
	if (cap->nresolved < CAPTURE_MAX) {
		cap->resolved[cap->nresolved].cookie = c->cookie;
		cap->resolved[cap->nresolved].age_ns = age_ns;
	}
	cap->nresolved++;
}

static void cap_batch_end(void *ctx)
{
	((struct capture *)ctx)->nbatches++;
}

const struct sink_ops capture_ops = {
	.state = cap_state,
	.history = cap_history,
	.event = cap_event,
	.lost = cap_lost,
	.leak = cap_leak,
	.leak_resolved = cap_leak_resolved,
	.batch_end = cap_batch_end,
};

struct ingest *capture_ingest(struct capture *cap, uint32_t max_conns)
{
	struct ingest_config cfg = {
		.max_conns = max_conns,
		.close_grace_ns = 10 * 1000000ull,
		.states = true,
		.histories = true,
		.leak_after_ns = 30 * 1000000000ull,
	};
	struct sink sink = { &capture_ops, cap };

	memset(cap, 0, sizeof(*cap));
	return ingest_new(&cfg, &sink);
}

const char *capture_states(const struct captured_history *h)
{
	static char buf[256];
	size_t len = 0;

	buf[0] = 0;
	for (int i = 0; i < h->sum.nstates; i++) {
		const char *name = tcp_state_name(h->sum.states[i]);

		if (len + strlen(name) + 2 >= sizeof(buf))
			break;
		if (i)
			buf[len++] = ' ';
		strcpy(buf + len, name);
		len += strlen(name);
	}
	return buf;
}
