/* The tracing loop shared by `tcptrail` and `tcptrail top`: attach, read the
 * ring buffer, feed the reconstruction, run the periodic jobs from one timer
 * table, write. What the loop shows is configuration, not branches in it.
 */
#ifndef TT_TRACE_H
#define TT_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include "opts.h"

enum trace_view {
	TRACE_RECORDS,	/* connection records, and listener records or alert lines */
	TRACE_TOP,	/* the listener view alone (tcptrail top) */
};

struct trace_profile {
	enum trace_view view;
	/* Connections are reported: reconcile with the kernel's socket list
	 * (at start, after losses, and periodically) and print the summary.
	 */
	bool connections;
	uint32_t max_conns;	/* connection table size */
};

/* Trace until SIGINT/SIGTERM or --duration. Returns the exit status. */
int trace_run(const struct options *o, const struct trace_profile *p);

/* tcptrail (the default command). */
int trace_main(struct options *o);

#endif
