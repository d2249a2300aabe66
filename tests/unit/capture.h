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

struct capture {
	int nstates, nevents, nlost;
	uint64_t lost_total;
	int nhist;
	struct captured_history hist[CAPTURE_MAX];
};

extern const struct sink_ops capture_ops;

/* An ingest with a small table and a 10 ms grace, feeding cap. */
struct ingest *capture_ingest(struct capture *cap, uint32_t max_conns);

/* Names of a captured history's states joined by spaces, for comparison. */
const char *capture_states(const struct captured_history *h);

#endif
