/* Parsing /proc/net/netstat, read inside each namespace by the listener
 * sampler. Pure text parsing: unit-tested without a kernel.
 */
#ifndef TT_NETSTAT_H
#define TT_NETSTAT_H

#include <stdint.h>
#include "listen_watch.h"

/* Fill counters (indexed by enum lw_counter) from the TcpExt lines of
 * /proc/net/netstat text. Returns 0, or -1 if no TcpExt section was found.
 */
int netstat_parse(const char *text, uint64_t counters[LW_N_COUNTERS]);

#endif
