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

/* Whether sockets carry cgroup v2 ids here: a cgroup2 hierarchy is mounted
 * (TCPTRAIL_CGROUP=v1 pretends it is not, for tests).
 */
bool cgroups_v2(void);

/* Where the cgroup2 hierarchy is mounted; NULL without one. */
const char *cgroups_mount(void);

/* NULL when out of memory. Without cgroup2 (a v1-only host) it attributes
 * by owning process instead, and says once that this is partial.
 */
struct cgroups *cgroups_open(void);

/* v1-only hosts: the cgroup of process pid, as an id cgroups_lookup()
 * knows (a synthetic one, outside the kernel's id range); 0 when it cannot
 * be read. Answers are kept a second: pids are reused.
 */
uint64_t cgroups_of_pid(struct cgroups *cg, uint32_t pid, uint64_t now_ns);
void cgroups_close(struct cgroups *cg);

/* The cgroup with this id; NULL for id 0 (not known). Valid until the next
 * call.
 */
const struct cgroup_info *cgroups_lookup(struct cgroups *cg, uint64_t id);

/* fn is told each id newly resolved (path NULL: gone), before any lookup
 * returns it: how a recording learns the names.
 */
void cgroups_observe(struct cgroups *cg, void (*fn)(void *ctx, uint64_t id, const char *path),
		     void *ctx);

/* The same as a cgroup_lookup_fn (ctx: the cgroups). */
const struct cgroup_info *cgroups_lookup_cb(void *ctx, uint64_t id);

#endif
