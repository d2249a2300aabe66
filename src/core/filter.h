/* Which connections the user wants to see: family, ports, and where the
 * socket lives (network namespace, cgroup subtree, container).
 */
#ifndef TT_FILTER_H
#define TT_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cgroup_path.h"

struct port_set {
	bool active;
	uint64_t bits[65536 / 64];
};

struct filter {
	bool ipv4, ipv6;	/* families shown; both true by default */
	struct port_set lports, rports;
	uint32_t netns;		/* 0: any */
	const char *cgroup;	/* a cgroup path: that subtree; NULL: any */
	char container[CGROUP_CONTAINER_ID_LEN + 1];	/* an id prefix; "": any */
	/* how a socket's cgroup id becomes a path (needed by the two above) */
	cgroup_lookup_fn lookup;
	void *lookup_ctx;
};

void filter_init(struct filter *f);

/* Add ports from "80,443,8000-8100" to set. On error returns -1 and puts a
 * sentence in err.
 */
int filter_parse_ports(struct port_set *set, const char *spec, char *err, size_t errlen);

bool filter_match(const struct filter *f, int family, uint16_t lport, uint16_t rport);
/* Listeners have no remote end: family, local port, and where it lives. */
bool filter_match_listener(const struct filter *f, int family, uint16_t lport, uint32_t netns,
			   uint64_t cgroup);
/* A destination's port use: family, remote port and namespace. */
bool filter_match_destination(const struct filter *f, int family, uint16_t rport,
			      uint32_t netns);
/* Where the socket lives: its namespace and its cgroup id (0: not known,
 * which a cgroup or container filter does not keep).
 */
bool filter_match_where(const struct filter *f, uint32_t netns, uint64_t cgroup);

/* --container: at least 4 lowercase hex digits, at most 64. On error
 * returns -1 and puts a sentence in err.
 */
int filter_parse_container(struct filter *f, const char *spec, char *err, size_t errlen);

#endif
