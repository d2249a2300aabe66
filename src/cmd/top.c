/* tcptrail top: the tracing loop configured for the listener view alone.
 * Connections are still tracked (they feed the listener counts) but not
 * printed, reconciled or summarised.
 */
#include "top.h"
#include "trace.h"

/* No connection is printed: a token table will do. */
#define TOP_MAX_CONNS 1024

int top_main(struct options *o)
{
	struct trace_profile p = { TRACE_TOP, false, TOP_MAX_CONNS };

	o->states = o->histories = false;
	/* With --metrics, connections are counted: tracked in full, as when
	 * tracing.
	 */
	if (o->metrics) {
		p.connections = true;
		p.max_conns = o->max_conns;
	} else {
		o->snapshot = false;
		o->leak_after_s = 0;
	}
	o->listeners = true;
	return trace_run(o, &p);
}
