/* What a cgroup path says about a container: the runtime's container id
 * and a Kubernetes pod's UID, as container runtimes and the kubelet name
 * their cgroups. Pure string work; src/kernel/cgroups.c finds the paths.
 */
#ifndef TT_CGROUP_PATH_H
#define TT_CGROUP_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CGROUP_CONTAINER_ID_LEN 64	/* hex digits */
#define CGROUP_SHORT_ID_LEN 12		/* as docker ps shows it */
#define CGROUP_POD_UID_LEN 36		/* 8-4-4-4-12 */

struct cgroup_ids {
	char container_id[CGROUP_CONTAINER_ID_LEN + 1];	/* "" when none */
	char pod_uid[CGROUP_POD_UID_LEN + 1];		/* "" when none */
};

/* A socket's cgroup as output shows it. */
struct cgroup_info {
	uint64_t id;
	const char *path;	/* relative to the cgroup2 root ("/" for it); NULL: gone */
	struct cgroup_ids ids;
};

/* How output and filters learn about a cgroup id: NULL when id is 0 or
 * nothing can be said (no resolver, as in replay).
 */
typedef const struct cgroup_info *(*cgroup_lookup_fn)(void *ctx, uint64_t id);

/* The container id and pod UID in path, read only where the runtimes put
 * their cgroups, anchored at the cgroup root (docs/containers.md):
 *   /system.slice/ or /machine.slice/ then docker-<id>.scope,
 *     cri-containerd-<id>.scope, crio-<id>.scope or libpod-<id>.scope;
 *   /docker/<id> (docker's cgroupfs driver);
 *   /kubepods[.slice]/[<qos>/]<pod>/<container>: the pod's UID from
 *     pod<uid> (dashes) or kubepods-…-pod<uid>.slice (underscores), the
 *     container a runtime scope or a bare <id>.
 * <id> is 64 lowercase hex digits. Anything below such a cgroup is inside
 * that container; the same names anywhere else (a user's delegated
 * subtree) name none.
 */
void cgroup_path_parse(const char *path, struct cgroup_ids *ids);

/* The cgroup2 mount point in /proc/self/mountinfo text: the first
 * "cgroup2" filesystem. Returns false when there is none (a v1-only host).
 */
bool cgroup_path_find_mount(const char *mountinfo, char *out, size_t outlen);

/* Whether path is dir or inside it ("/a" holds "/a" and "/a/b", not "/ab"). */
bool cgroup_path_within(const char *path, const char *dir);

#endif
