/* Prometheus metrics: the counters and gauges the endpoint serves, kept by
 * the reader thread from the records it reconstructs. Pure state: the
 * exposition text is metrics_text.c's, the HTTP server metrics_http.c's.
 *
 * Cardinality is bounded by construction: connection series are labelled by
 * role, end, state and reset direction, and by container (at most
 * METRICS_CONTAINERS, then "other"); leak series by at most
 * METRICS_COMMS process names plus "other"; listener series by
 * (netns, laddr, lport), at most max_listeners of them, each kept for
 * linger_ns after its listener was last seen.
 */
#ifndef TT_METRICS_H
#define TT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cgroup_path.h"
#include "latency.h"
#include "history.h"
#include "leak_stats.h"
#include "listen_watch.h"
#include "sink.h"
#include "tcptrail.h"

/* Process names the leak gauge names; the rest are summed as "other". */
#define METRICS_COMMS 20
/* Containers the connection series name; later ones are summed as "other". */
#define METRICS_CONTAINERS 64
#define METRICS_ROLES (ROLE_PASSIVE + 1)	/* unknown, active, passive */
#define METRICS_ENDS END_N
#define METRICS_BUCKETS 16

/* Destinations the port gauge names: the most used of those past half
 * their range or alerted.
 */
#define METRICS_DESTS 64

/* Upper bounds (seconds) of the duration histogram's buckets, then +Inf. */
extern const double metrics_duration_bounds[METRICS_BUCKETS];

/* Time spent sending, and the parts of it a limit held back. */
enum metrics_limit {
	METRICS_LIM_BUSY,
	METRICS_LIM_RECEIVER,
	METRICS_LIM_SENDER_BUFFER,
	METRICS_LIMS,
};

enum metrics_reset_dir {
	METRICS_RST_SENT,
	METRICS_RST_RECEIVED,
	METRICS_RST_DIRS,
};

/* One listener series: the listeners with these labels (more than one
 * with SO_REUSEPORT) summed.
 */
struct metrics_listener {
	uint32_t netns;
	uint16_t family;
	uint16_t port;
	uint8_t addr[TT_ADDR_LEN];
	uint32_t acceptq, acceptq_limit;
	uint32_t synq, synq_limit;
	/* since tcptrail first saw each member (drops: since the socket began) */
	uint64_t drops, synack_retrans, overflows;
	/* segments retransmitted by the connections it accepted, counted when
	 * they closed (since tcptrail first saw the series)
	 */
	uint64_t retrans_segs;
	uint8_t alerts;		/* bit (1 << enum lw_alert_kind): active */
	struct latency_series accept_wait;	/* since tcptrail first saw it */
	char container[CGROUP_SHORT_ID_LEN + 1];
};

/* The connection figures of one container ("" for sockets in none). */
struct metrics_conns {
	char container[CGROUP_SHORT_ID_LEN + 1];	/* "other": past the limit */
	uint64_t closed[METRICS_ROLES][METRICS_ENDS];
	/* per bucket, not cumulative (the exposition sums them) */
	uint64_t duration_bucket[METRICS_ROLES][METRICS_BUCKETS + 1];
	double duration_sum_s[METRICS_ROLES];
	uint64_t resets[METRICS_RST_DIRS];
};

/* One destination's port use: (netns, raddr, rport), local addresses
 * folded into the most used.
 */
struct metrics_dest {
	uint32_t netns;
	uint16_t family;
	uint16_t rport;
	uint8_t raddr[TT_ADDR_LEN];
	uint32_t permille;
};

struct metrics_comm {
	char comm[TT_COMM_LEN];
	uint32_t leaked;	/* open leaks now */
};

struct metrics {
	/* by container: [0] is no container, then in order of appearance */
	struct metrics_conns conns[METRICS_CONTAINERS + 2];
	uint32_t nconns;
	uint64_t lost[LOST_N_CAUSES];
	struct latency_series handshake[METRICS_ROLES];
	/* from histories' delivery facts, at close */
	struct latency_series rtt[METRICS_ROLES];
	uint64_t retrans_segs[METRICS_ROLES];
	double limited_s[METRICS_LIMS];
	uint32_t tracked[TT_TCP_MAX_STATES];
	/* leaks by process name, most first; comms[ncomms - 1] may be "other" */
	struct metrics_comm comms[METRICS_COMMS + 1];
	uint32_t ncomms;
	bool listeners_on;	/* listener series are sampled (else not served) */
	/* sorted by labels; in a table whose bookkeeping is metrics.c's */
	struct metrics_listener *listeners;
	uint32_t nlisteners, max_listeners;
	uint64_t listeners_dropped;	/* series not kept: table full */
	struct metrics_dest dests[METRICS_DESTS];
	uint32_t ndests;
	uint32_t dests_dropped;	/* hot destinations not named now: the table is full */
	bool ports_on;
	/* the containers of cgroup ids; NULL: every series has container="" */
	cgroup_lookup_fn cgroup_lookup;
	void *cgroup_ctx;
};

/* Room for max_listeners series, each kept linger_ns after it was last
 * seen. Returns 0 or -ENOMEM.
 */
int metrics_init(struct metrics *m, uint32_t max_listeners, uint64_t linger_ns);
void metrics_free(struct metrics *m);

/* Copy src into dst, made by metrics_init() with the same max_listeners. */
void metrics_copy(struct metrics *dst, const struct metrics *src);

/* A sink (ctx: struct metrics) for ingest's tap: histories, handshakes,
 * resets, losses.
 */
extern const struct sink_ops metrics_sink_ops;

/* The tracked sockets by state and the open leaks by process, now. */
void metrics_connections(struct metrics *m, const uint32_t tracked[TT_TCP_MAX_STATES],
			 const struct leak_stats *ls);

/* A listener sample was taken at now_ns: update the listener series, and
 * forget those not seen for linger_ns.
 */
void metrics_listeners(struct metrics *m, const struct listen_watch *lw, uint64_t now_ns);

struct ports;

/* The port watch's interval ended: the destinations worth a gauge now. */
void metrics_ports(struct metrics *m, struct ports *p);

#endif
