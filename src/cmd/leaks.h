/* The one-shot CLOSE_WAIT report (tcptrail leaks). */
#ifndef TT_LEAKS_H
#define TT_LEAKS_H

#include "opts.h"

/* Print the CLOSE_WAIT sockets now, grouped by owning process, most first.
 * Returns the process exit status.
 */
int leaks_main(struct options *o);

#endif
