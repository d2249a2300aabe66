/* Cgroup v2 ids to paths, container ids and pod UIDs. An id is the cgroup
 * directory's kernfs id; open_by_handle_at(2) on the cgroup2 mount turns it
 * into the directory, whose /proc/self/fd link is its path. Answers are
 * cached, a bounded table that is emptied when full; a cgroup removed by
 * the time it is looked up has no path, and is reported by id.
 */
#ifndef TT_CGROUPS_H
#define TT_CGROUPS_H

#include <stdbool.h>
#include <stdint.h>
#include "cgroup_path.h"

#define CGROUPS_CACHE_MAX 4096

struct cgroups;

/* NULL when the host has no cgroup2 mount (said once) or out of memory. */
struct cgroups *cgroups_open(void);
void cgroups_close(struct cgroups *cg);

/* The cgroup with this id; NULL for id 0 (not known). Valid until the next
 * call.
 */
const struct cgroup_info *cgroups_lookup(struct cgroups *cg, uint64_t id);

/* The same as a cgroup_lookup_fn (ctx: the cgroups). */
const struct cgroup_info *cgroups_lookup_cb(void *ctx, uint64_t id);

#endif
