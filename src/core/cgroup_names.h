/* The cgroup names a recording carries, for replay: id -> path, container
 * and pod, as the live run resolved them. Bounded: past CGROUP_NAMES_MAX
 * ids, later ones are shown by id.
 */
#ifndef TT_CGROUP_NAMES_H
#define TT_CGROUP_NAMES_H

#include <stdint.h>
#include "cgroup_path.h"

#define CGROUP_NAMES_MAX 65536

struct cgroup_names;

struct cgroup_names *cgroup_names_new(void);
void cgroup_names_free(struct cgroup_names *t);

/* id is called path (NULL: it was gone); a later call for id replaces it. */
void cgroup_names_set(void *t, uint64_t id, const char *path);

/* A cgroup_lookup_fn (ctx: the table); NULL for ids never set. What it
 * returns stays valid until the next cgroup_names_set().
 */
const struct cgroup_info *cgroup_names_lookup(void *t, uint64_t id);

#endif
