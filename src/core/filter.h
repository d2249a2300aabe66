/* Which connections the user wants to see: family, ports, addresses, the
 * owning process, and where the socket lives (network namespace, cgroup
 * subtree, container). Options of one kind are ORed, kinds are ANDed.
 */
#ifndef TT_FILTER_H
#define TT_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cgroup_path.h"
#include "tcptrail.h"

struct port_set {
	bool active;
	uint64_t bits[65536 / 64];
};

/* Addresses and prefixes: 192.0.2.0/24, 2001:db8::/32, 10.0.0.1. */
#define FILTER_MAX_ADDRS 16

struct addr_set {
	uint8_t n;
	struct {
		uint16_t family;	/* AF_INET or AF_INET6 */
		uint8_t len;		/* prefix length */
		uint8_t addr[TT_ADDR_LEN];
	} v[FILTER_MAX_ADDRS];
};

struct filter {
	bool ipv4, ipv6;	/* families shown; both true by default */
	struct port_set lports, rports;
	struct port_set ports;	/* either end (--port) */
	struct addr_set laddrs, raddrs, addrs;	/* addrs: either end */
	uint32_t pid;		/* 0: any; else only sockets this process owns */
	char comm[TT_COMM_LEN];	/* "": any */
	uint32_t netns;		/* 0: any */
	const char *cgroup;	/* a cgroup path: that subtree; NULL: any */
	char container[CGROUP_CONTAINER_ID_LEN + 1];	/* an id prefix; "": any */
	/* how a socket's cgroup id becomes a path (needed by the two above) */
	cgroup_lookup_fn lookup;
	void *lookup_ctx;
};

/* What a filter is matched against. Unknown parts: pid 0, comm NULL,
 * addresses NULL; a filter on them does not keep the subject.
 */
struct filter_subject {
	int family;
	const uint8_t *laddr, *raddr;
	uint16_t lport, rport;
	bool has_rport;		/* false: a listener, with no remote end */
	uint32_t netns;
	uint64_t cgroup;
	uint32_t pid;
	const char *comm;
};

void filter_init(struct filter *f);

/* Whether f selects anything at all (some option was given). */
bool filter_active(const struct filter *f);

/* Add ports from "80,443,8000-8100" to set. On error returns -1 and puts a
 * sentence in err.
 */
int filter_parse_ports(struct port_set *set, const char *spec, char *err, size_t errlen);

/* Add addresses and prefixes from "192.0.2.1,2001:db8::/32" to set. On
 * error returns -1 and puts a sentence in err.
 */
int filter_parse_addrs(struct addr_set *set, const char *spec, char *err, size_t errlen);

/* --comm: a process name as the kernel keeps it (at most 15 bytes). */
int filter_parse_comm(struct filter *f, const char *spec, char *err, size_t errlen);

bool filter_match_subject(const struct filter *f, const struct filter_subject *s);

/* Family and ports only (what a record without owner or place has). */
bool filter_match(const struct filter *f, int family, uint16_t lport, uint16_t rport);
/* Listeners have no remote end: the remote port and address filters do
 * not apply to them.
 */
bool filter_match_listener(const struct filter *f, int family, const uint8_t *laddr,
			   uint16_t lport, uint32_t netns, uint64_t cgroup, uint32_t pid,
			   const char *comm);
/* A destination's port use: family, remote end and namespace (the owner
 * and cgroup filters do not apply: many processes share a destination).
 */
bool filter_match_destination(const struct filter *f, int family, const uint8_t *raddr,
			      uint16_t rport, uint32_t netns);
/* Where the socket lives: its namespace and its cgroup id (0: not known,
 * which a cgroup or container filter does not keep).
 */
bool filter_match_where(const struct filter *f, uint32_t netns, uint64_t cgroup);

/* --container: 4 to 64 hex digits (a prefix of the id; upper case is read
 * as lower case, as container runtimes print ids). On error returns -1 and
 * puts a sentence in err.
 */
int filter_parse_container(struct filter *f, const char *spec, char *err, size_t errlen);

#endif
