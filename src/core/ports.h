/* Ephemeral-port use per destination: for each (network namespace, local
 * address, remote address, remote port) that this host connects to, the
 * sockets holding a local port for it (connecting or open), those in
 * TIME_WAIT, the namespace's usable port range, and the connects that
 * failed for want of a port, by process. Warns before connect() fails with
 * EADDRNOTAVAIL. Pure logic: ingest's tap, the kernel snapshot and the
 * namespace's sysctls feed it.
 *
 * A failed connect is the kernel's own fact: connect() moved the socket to
 * SYN_SENT, found no free local port (inet_hash_connect(): EADDRNOTAVAIL)
 * and closed it again, so its history ends without ever having a local
 * port. TIME_WAIT sockets are those of active connections that closed
 * first (their histories), recounted exactly from the kernel's timewait
 * sockets at every reconcile, each with the time it has left.
 */
#ifndef TT_PORTS_H
#define TT_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "conn_table.h"
#include "ports_ns.h"
#include "sink.h"
#include "tcptrail.h"

/* How long Linux keeps a timewait socket (TCP_TIMEWAIT_LEN, fixed). */
#define PORTS_TW_SECONDS 60
#define PORTS_TOP_PROCESSES 4

struct ports_process {
	uint32_t pid;
	char comm[TT_COMM_LEN];
	uint64_t cgroup;
	uint32_t failures;	/* in the interval */
};

struct ports_dest {
	uint32_t netns;
	uint16_t family;
	uint16_t rport;
	uint8_t laddr[TT_ADDR_LEN];
	uint8_t raddr[TT_ADDR_LEN];
	/* now */
	uint32_t in_use;	/* tracked active sockets holding a port for it */
	uint32_t time_wait;
	/* connects that failed for want of a port */
	uint64_t failures;	/* since first seen */
	uint32_t d_failures;	/* in the interval */
	struct ports_process top[PORTS_TOP_PROCESSES];
	uint8_t ntop;
	uint32_t other_failures;	/* in the interval, by processes past the top */
	/* the alert */
	bool alert;
	uint64_t alert_since_ns;
	uint32_t peak_used;
	bool failed_once;	/* a failure started the alert */
};

/* A start or clear of the ephemeral_ports alert. */
struct ports_alert {
	bool start;
	bool gone;		/* a clear because the namespace is gone */
	uint64_t ts_ns;
	const struct ports_dest *d;
	const struct ports_limits *lim;
	uint32_t range;		/* usable ports */
	bool tw_reusable;	/* TIME_WAIT ports can be reused here */
};

typedef void (*ports_alert_fn)(const struct ports_alert *a, void *arg);

struct ports_config {
	uint32_t max_dests;
	uint64_t clear_after_ns;	/* calm this long before a clear; 0: 10 s */
};

struct ports_stats {
	uint64_t evicted;	/* destinations pushed out of a full table */
	uint64_t failures;	/* failed connects, all destinations */
	uint64_t alerts;
};

struct ports;

struct ports *ports_new(const struct ports_config *cfg);
void ports_free(struct ports *p);

/* A sink for ingest's tap: histories (TIME_WAIT, failed connects). */
extern const struct sink_ops ports_sink_ops;

/* The kernel's sockets (a reconcile's snapshot, begun at now_ns): the
 * TIME_WAIT counts are rebuilt from its timewait sockets whose local port
 * is in their namespace's ephemeral range. A history that comes later
 * adds nothing for a TIME_WAIT the recount had: one closed before now_ns,
 * or one whose timewait socket the snapshot listed.
 */
void ports_reconcile(struct ports *p, const struct tt_sock_record *v, size_t n,
		     uint64_t now_ns);

/* Does the table hold a destination in namespace inum (its limits are
 * wanted)?
 */
bool ports_wants_netns(const struct ports *p, uint32_t inum);
/* The namespace inum is there now, with these limits. A namespace whose
 * inode number now names another (its cookie changed) is gone.
 */
void ports_set_limits(struct ports *p, uint32_t inum, const struct ports_limits *lim);
const struct ports_limits *ports_limits_of(const struct ports *p, uint32_t inum);

/* A walk of every namespace begins, and ends: whole (complete), every
 * namespace whose limits were known and that was not met again is gone.
 * A gone namespace's destinations are forgotten, each alert cleared (fn,
 * gone set): its sockets went with it, and its inode number may name the
 * next namespace made.
 */
void ports_netns_begin(struct ports *p);
void ports_netns_end(struct ports *p, bool complete, uint64_t now_ns, ports_alert_fn fn,
		     void *arg);

/* Usable ports of a destination's namespace (0: not known), and whether
 * its TIME_WAIT ports may be reused for new connects.
 */
uint32_t ports_range(const struct ports *p, const struct ports_dest *d);
bool ports_tw_reusable(const struct ports *p, const struct ports_dest *d);
/* The share of the range in use by the rule above, in per mille. */
uint32_t ports_used_permille(const struct ports *p, const struct ports_dest *d);

/* Where the kernel counts the connects per destination: begin, then each
 * destination's count, before ports_interval() with no table.
 */
void ports_in_use_begin(struct ports *p);
void ports_in_use(struct ports *p, const struct tt_dest_key *k, uint32_t n, uint64_t now_ns);

/* Where userspace tracks the connections: count the sockets in use from
 * the table (in place of ports_in_use()).
 */
void ports_count_table(struct ports *p, struct conn_table *t, uint64_t now_ns);

/* One interval ends at now_ns, the sockets in use counted (and the
 * namespaces of new destinations read): expire timewait sockets, evaluate
 * the alert (fn for each start and clear). Then ports_hot() lists the
 * destinations to report.
 */
void ports_interval(struct ports *p, uint64_t now_ns, ports_alert_fn fn, void *arg);

/* Destinations above half their range, alerted, or with failures in the
 * interval, most used first; valid until the next call into p.
 */
size_t ports_hot(struct ports *p, const struct ports_dest *const **v);

/* The interval's counts are cleared (after the records were written). */
void ports_interval_done(struct ports *p);

const struct ports_stats *ports_stats(const struct ports *p);

/* The alert rule, for a destination using 'used' of 'range' ports with
 * 'failures' in the interval: does it start, and is it calm (may clear)?
 */
bool ports_rule_starts(uint32_t used, uint32_t range, uint32_t failures);
bool ports_rule_calm(uint32_t used, uint32_t range, uint32_t failures);

#endif
