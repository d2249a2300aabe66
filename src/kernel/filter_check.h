/* Filters that name something which does not exist say so at start: a
 * cgroup path, a namespace, a container, a process, a process name.
 */
#ifndef TT_FILTER_CHECK_H
#define TT_FILTER_CHECK_H

#include "filter.h"

/* One warning for each of f's filters that names nothing on this machine
 * now. Returns how many were given.
 */
int filter_check_exists(const struct filter *f);

#endif
