/* tcptrail top: the tracing loop configured for the listener view alone.
 * Connections are still tracked (they feed the listener counts and the
 * destinations' port use) but not printed or summarised.
 */
#include "top.h"
#include "trace.h"

int top_main(struct options *o)
{
	struct trace_profile p = { .view = TRACE_TOP };

	/* histories feed the most limited connections, unprinted */
	o->states = false;
	o->histories = true;
	/* Connections are tracked in full, as when tracing: they feed the
	 * listener counts, the ports each destination uses and the metrics.
	 */
	p.connections = true;
	p.max_conns = o->max_conns;
	if (!o->metrics)
		o->leak_after_s = 0;
	o->listeners = true;
	return trace_run(o, &p);
}
