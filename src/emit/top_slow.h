/* `tcptrail top`'s connection lines: retransmits now, and the most limited
 * connections of the last minute with what held each back.
 */
#ifndef TT_TOP_SLOW_H
#define TT_TOP_SLOW_H

#include <stdint.h>
#include "sink.h"
#include "slow_conns.h"

#define TOP_SLOW_LINES (SLOW_CONNS_SHOWN + 2)
#define TOP_SLOW_LINE 320

struct top_slow;

/* NULL without memory. */
struct top_slow *top_slow_new(void);
/* NULL-safe. */
void top_slow_free(struct top_slow *ts);
/* Live retransmits over --retransmits-per-s so far (they count in the rate). */
void top_slow_set_unwritten(struct top_slow *ts, uint64_t unwritten);

/* A sink (ctx: struct top_slow): histories and retransmit records. */
extern const struct sink_ops top_slow_ops;

/* The section's lines for the frame at now_ns (a heading, then a column
 * header and a row per connection when there are any); returns how many.
 */
unsigned top_slow_lines(struct top_slow *ts, uint64_t now_ns,
			char lines[TOP_SLOW_LINES][TOP_SLOW_LINE]);

#endif
