/* The namespaces the port watch knows: each one's ephemeral-port limits,
 * and whether the last walk of every namespace met it again (those it did
 * not are gone). A namespace's inode number is given to the next namespace
 * made once it is gone, so an entry also holds the namespace's cookie: a
 * cookie that changed under the same number is another namespace. Pure
 * logic; src/kernel/listen_sampler.c reads the sysctls.
 */
#ifndef TT_PORTS_NS_H
#define TT_PORTS_NS_H

#include <stdbool.h>
#include <stdint.h>

/* A namespace's port limits (-1: unknown). */
struct ports_limits {
	int32_t lo, hi;		/* net.ipv4.ip_local_port_range */
	int32_t reserved;	/* ip_local_reserved_ports inside that range */
	int32_t tw_reuse;	/* net.ipv4.tcp_tw_reuse: 0, 1, 2 (loopback only) */
	/* which namespace the inode number names (SO_NETNS_COOKIE, never
	 * reused): 0 unknown (before 5.14)
	 */
	uint64_t cookie;
};

/* The table of namespaces (ports_ns.c's). */
struct ports_ns;

/* A table for max namespaces; NULL when memory is short. */
struct ports_ns *ports_ns_new(uint32_t max);
/* Free t (NULL is fine). */
void ports_ns_free(struct ports_ns *t);

/* The limits known for inum (the namespace it named until the walk under
 * way ends, if replaced); NULL if none.
 */
const struct ports_limits *ports_ns_limits(const struct ports_ns *t, uint32_t inum);

/* The walk met inum with these limits. A full table leaves a new one out
 * (its range unknown).
 */
void ports_ns_set(struct ports_ns *t, uint32_t inum, const struct ports_limits *lim);

/* A walk of every namespace begins; it ends, whole (complete) or not:
 * gone(inum) for each namespace gone (not met by a whole walk) or
 * replaced, while its old limits are still known; then the gone are
 * forgotten and the replaced take their new limits.
 */
void ports_ns_begin(struct ports_ns *t);
void ports_ns_end(struct ports_ns *t, bool complete, void (*gone)(uint32_t inum, void *arg),
		  void *arg);

#endif
