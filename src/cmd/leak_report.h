/* The one-shot CLOSE_WAIT report (tcptrail leaks). */
#ifndef TT_LEAK_REPORT_H
#define TT_LEAK_REPORT_H

#include "opts.h"

/* Print the CLOSE_WAIT sockets now, grouped by owning process, most first.
 * Returns the process exit status.
 */
int leak_report(const struct options *o);

#endif
