/* A sink that keeps what ingest emits, for assertions. */
#ifndef TT_TEST_CAPTURE_H
#define TT_TEST_CAPTURE_H

#include "ingest.h"
#include "sink.h"

#define CAPTURE_MAX 64

struct captured_history {
	struct conn conn;
	struct history_summary sum;
};

struct captured_leak {
	uint64_t cookie;
	uint64_t age_ns;
	bool lower_bound;
	size_t nowners;
	uint32_t held;
};

struct capture {
	int nstates, nevents, nlost, nleaks, nresolved, nbatches;
	struct captured_leak leaks[CAPTURE_MAX], resolved[CAPTURE_MAX];
	uint64_t lost_total;
	uint8_t lost_cause;
	int nhist;
	struct captured_history hist[CAPTURE_MAX];
};

extern const struct sink_ops capture_ops;

/* An ingest with a small table, a 10 ms grace and 30 s leak threshold,
 * feeding cap.
 */
struct ingest *capture_ingest(struct capture *cap, uint32_t max_conns);

/* Names of a captured history's states joined by spaces, for comparison. */
const char *capture_states(const struct captured_history *h);

#endif
