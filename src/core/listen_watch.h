/* Listen queues per listener: samples of every listener's queues, the live
 * SYN-ACK retransmit and overflow events between samples, the kernel's
 * per-namespace counters, and the SYN-flood and accept-queue alerts derived
 * from them. Pure logic: the sampler (listen_sampler.c) feeds it.
 */
#ifndef TT_LISTEN_WATCH_H
#define TT_LISTEN_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "latency.h"
#include "tcptrail.h"

/* The namespace counters, /proc/net/netstat TcpExt names. */
enum lw_counter {
	LW_LISTEN_OVERFLOWS,
	LW_LISTEN_DROPS,
	LW_REQQ_FULL_DROP,
	LW_REQQ_FULL_DO_COOKIES,
	LW_SYNCOOKIES_SENT,
	LW_SYNCOOKIES_RECV,
	LW_SYN_RETRANS,
	/* requests a peer reset before the handshake completed
	 * (tcp_check_req()): each also counts in the listener's sk_drops
	 */
	LW_EMBRYONIC_RSTS,
	LW_N_COUNTERS,
};

extern const char *const lw_counter_names[LW_N_COUNTERS];

/* The namespace sysctls that decide how a listener behaves under load. */
enum lw_sysctl {
	LW_SOMAXCONN,		/* net.core.somaxconn */
	LW_MAX_SYN_BACKLOG,	/* net.ipv4.tcp_max_syn_backlog */
	LW_SYNCOOKIES,		/* net.ipv4.tcp_syncookies */
	LW_ABORT_ON_OVERFLOW,	/* net.ipv4.tcp_abort_on_overflow */
	LW_SYNACK_RETRIES,	/* net.ipv4.tcp_synack_retries */
	LW_N_SYSCTLS,
};

extern const char *const lw_sysctl_names[LW_N_SYSCTLS];

enum lw_alert_kind {
	LW_SYN_FLOOD,		/* half-open requests that do not complete */
	LW_ACCEPTQ_FULL,
	/* the SYN queue overflows while handshakes complete: real clients
	 * and too small a backlog, not an attack
	 */
	LW_SYN_BACKLOG_OVERFLOW,
	LW_N_ALERTS,
};

/* What told a SYN-queue alert's kind (enum lw_alert_kind) apart. */
enum lw_evidence {
	LW_EVIDENCE_NONE = 0,
	LW_EVIDENCE_LISTENER,	/* its own handshakes and retransmitted requests */
	LW_EVIDENCE_NAMESPACE,	/* the namespace's SYN cookies sent and returned */
	LW_EVIDENCE_SYN_RATE,	/* its SYN rate, and how few SYNs became connections */
};

extern const char *const lw_alert_names[LW_N_ALERTS];

/* What made an alert start (bits). */
enum lw_cause {
	LW_CAUSE_SYNQ_NEAR_FULL = 1 << 0,
	LW_CAUSE_SYNACK_RETRANS = 1 << 1,
	LW_CAUSE_SYNCOOKIES = 1 << 2,
	LW_CAUSE_ACCEPTQ_AT_LIMIT = 1 << 3,
	/* SYNs a second above the floor and the listener's own baseline,
	 * most of them not becoming connections
	 */
	LW_CAUSE_SYN_RATE = 1 << 4,
};

/* What a sample's source of sockets can tell (listen_watch_sample_begin). */
enum lw_known {
	LW_KNOWN_SYNQ = 1 << 0,		/* a listener's SYN queue length */
	LW_KNOWN_COOKIES = 1 << 1,	/* when a listener last sent a SYN cookie */
	LW_KNOWN_ALL = LW_KNOWN_SYNQ | LW_KNOWN_COOKIES,
};

#define LW_TOP_SOURCES 5

/* Half-open requests from one address, or one /24 (IPv4) or /64 (IPv6). */
struct lw_source {
	uint8_t addr[TT_ADDR_LEN];
	uint16_t family;
	uint8_t prefix_len;	/* 32/128 for single addresses */
	uint32_t half_open;
};

struct lw_alert_state {
	bool active;
	uint32_t causes;	/* enum lw_cause, at start */
	uint8_t evidence;	/* enum lw_evidence, at start (SYN-queue alerts) */
	uint64_t since_ns;
	uint64_t calm_since_ns;	/* 0 while not calm */
	/* figures over the alert's life */
	uint32_t peak_synq, peak_acceptq;
	uint64_t drops, synack_retrans, overflows;
	uint64_t syns, peak_syn_rate;
};

/* A listener's accept() figures (listen_watch.c's). */
struct lw_accepts;

struct lw_listener {
	uint64_t cookie;
	uint64_t cgroup;	/* cgroup v2 id; 0: not known */
	uint32_t netns;
	uint16_t family;
	uint16_t port;
	uint8_t addr[TT_ADDR_LEN];
	uint32_t pid;		/* 0: owner not known yet */
	char comm[TT_COMM_LEN];

	/* the latest sample */
	uint32_t acceptq_len, acceptq_max;
	uint32_t synq_len, synq_max;	/* synq_max: the limit the kernel applies */
	/* sk_drops, cumulative, as the kernel counts (ss -ltnm: d...): SYNs
	 * and ACKs dropped at the door (ListenDrops) and the RSTs that ended
	 * requests (EmbryonicRsts) alike
	 */
	uint32_t drops;
	uint32_t cookie_idle_ms;	/* ~0: never sent a cookie */
	bool cookies_active;		/* sent SYN cookies in the last interval */
	/* what the sample's source could tell: without it synq_len and
	 * cookies_active mean nothing (shown as unknown)
	 */
	bool synq_known, cookies_known;
	bool have_deltas;		/* sampled twice: the d_ figures are real */
	uint32_t synq_retrans;		/* half-open requests with a SYN-ACK retransmitted */
	/* cumulative since first seen, from live events */
	uint64_t synack_retrans;
	uint64_t overflows;		/* third ACKs dropped: accept queue full */
	uint64_t handshakes;		/* completed: a child socket was made */
	uint64_t accepted;		/* children accept() returned */
	/* change over the last interval */
	uint32_t d_drops;
	uint64_t d_synack_retrans, d_overflows, d_handshakes, d_accepted;
	/* SYNs that reached it, by what became of them: dropped or reset
	 * (d_drops), a connection (d_handshakes), or still waiting (the SYN
	 * queue's growth). Cookies never returned and requests that expired
	 * are not in it (listen_alerts.c).
	 */
	uint64_t d_syns;
	uint64_t syn_rate;		/* d_syns a second */
	double syn_baseline;		/* its usual SYNs a second (listen_alerts.c) */
	/* a SYN-queue alert cleared: until then SYN-ACK retransmits of the
	 * requests it left cannot start one again
	 */
	uint64_t rearm_ns;
	/* accept-queue wait over the last interval: percentiles of the
	 * accepts whose handshake was seen (aw_n of them; 0: none)
	 */
	uint64_t aw_n, aw_p50_ns, aw_p99_ns, aw_max_ns;
	struct lw_accepts *acc;		/* NULL until its first timed accept */
	uint64_t interval_ns;		/* length of that interval */
	bool events_incomplete;		/* events were lost while watching it */

	struct lw_alert_state alert[LW_N_ALERTS];
	/* half-open requests in the latest sample, by source */
	struct lw_source top_addrs[LW_TOP_SOURCES];
	struct lw_source top_prefixes[LW_TOP_SOURCES];
	uint8_t n_top_addrs, n_top_prefixes;

	/* bookkeeping (the rest is listen_watch_priv.h's struct lw_slot) */
	bool sampled;			/* seen in at least one full sample */
	bool owner_not_visible;		/* searched, held by no process we can see */
	uint64_t seen_gen;
};

struct lw_netns {
	uint32_t inum;
	uint64_t interval_ns;		/* since the previous sample (when sampled) */
	bool have_counters;
	bool sampled;			/* counters read at least twice: deltas valid */
	uint64_t delta[LW_N_COUNTERS];
	int64_t sysctl[LW_N_SYSCTLS];	/* -1: unknown */
	uint32_t listeners;		/* listeners in the latest sample */
};

/* A condition started or cleared on a listener. */
struct lw_alert {
	enum lw_alert_kind kind;
	bool start;			/* false: cleared */
	uint64_t ts_ns;
	const struct lw_listener *l;
	const struct lw_alert_state *st;/* for a clear: the figures over its life */
	const struct lw_netns *ns;	/* NULL if its namespace was not read */
	bool gone;			/* cleared because the listener closed */
	uint64_t syn_threshold;		/* SYNs a second the rate cause needed */
};

struct lw_config {
	uint32_t max_listeners;
	uint32_t max_requests;		/* half-open requests tallied per sample */
	/* Alert thresholds; zero picks the default. */
	uint32_t synack_onset_per_s;	/* SYN-ACK retransmits a second */
	uint64_t clear_after_ns;	/* calm this long before a clear */
	uint32_t syn_rate_floor;	/* SYNs a second below which no rate is a flood */
	uint32_t syn_rate_factor;	/* times the listener's baseline */
	uint64_t syn_baseline_ns;	/* the baseline's time constant */
};

typedef void (*lw_alert_fn)(const struct lw_alert *a, void *arg);

struct lw_stats {
	uint64_t samples;
	uint64_t listeners_dropped;	/* beyond max_listeners, per sample */
	uint64_t requests_dropped;	/* beyond max_requests, per sample */
	uint64_t namespaces_dropped;	/* beyond max_listeners namespaces, per sample */
	uint64_t unmatched_events;	/* events for no listener we know */
	uint64_t accepts_untimed;	/* accept waits not kept: out of memory */
	uint64_t alerts;
};

struct listen_watch;

struct listen_watch *listen_watch_new(const struct lw_config *cfg);
void listen_watch_free(struct listen_watch *lw);

/* A live SYN-ACK retransmit or listen-overflow record; other types are
 * ignored.
 */
void listen_watch_event(struct listen_watch *lw, const struct tt_event *e);

/* accept() returned a child of one of the listeners (a TT_EV_ACCEPT record)
 * after it waited wait_ns in the accept queue (waited false: not known).
 */
void listen_watch_accept(struct listen_watch *lw, const struct tt_event *e, bool waited,
			 uint64_t wait_ns);
/* Where the kernel counts per listener: e's listener waited wait_ns to be
 * accepted (counted already).
 */
void listen_watch_accept_wait(struct listen_watch *lw, const struct tt_event *e,
			      uint64_t wait_ns);
/* l's accept-queue waits as the last sample closed them, in the
 * exposition's buckets; NULL before its first timed accept.
 */
const struct latency_series *listen_watch_accept_waits(const struct lw_listener *l);
/* The kernel's counts since load for the listener end k (between a
 * sample's begin and end).
 */
void listen_watch_set_counts(struct listen_watch *lw, const struct tt_listen_key *k,
			     const struct tt_listen_counts *c);

/* Events were lost: every listener's event counts may be short. */
void listen_watch_mark_lost(struct listen_watch *lw);

/* One sample: begin (saying what the source of sockets can tell: enum
 * lw_known), then every listener and request socket (a listener before its
 * requests) and every namespace's counters, then end, which computes the
 * deltas, the top sources and the alerts (calling fn for each start and
 * clear). A request without its listener's cookie (sock_diag) is matched
 * to a listener by namespace, address and port.
 */
void listen_watch_sample_begin(struct listen_watch *lw, unsigned known);
void listen_watch_sample_sock(struct listen_watch *lw, const struct tt_sock_record *r);
void listen_watch_sample_netns(struct listen_watch *lw, uint32_t inum, bool have_counters,
		     const uint64_t counters[LW_N_COUNTERS],
		     const int64_t sysctls[LW_N_SYSCTLS]);
void listen_watch_sample_end(struct listen_watch *lw, uint64_t now_ns, lw_alert_fn fn, void *arg);


/* Listeners, most pressed first (alerts, then queue fill, then drops). */
size_t listen_watch_listeners(const struct listen_watch *lw, const struct lw_listener *const **v);
/* Namespaces with listeners, by inum. */
size_t listen_watch_namespaces(const struct listen_watch *lw, const struct lw_netns **v);
const struct lw_netns *listen_watch_netns_find(const struct listen_watch *lw, uint32_t inum);

/* Listeners whose owner is not known and due to be looked for at now_ns
 * (new ones at once): their cookies, at most max. *fresh: whether one of
 * them was never looked for (every other one a search missed before).
 */
size_t listen_watch_unowned(const struct listen_watch *lw, uint64_t now_ns, uint64_t *cookies,
			    size_t max, bool *fresh);
/* A search did not find cookie's owner: it is held by no process tcptrail
 * can see (another PID namespace, or a kernel socket). Said so in its
 * records; looked for again with a growing backoff.
 */
void listen_watch_owner_missed(struct listen_watch *lw, uint64_t cookie, uint64_t now_ns);
void listen_watch_set_owner(struct listen_watch *lw, uint64_t cookie, uint32_t pid,
		  const char comm[TT_COMM_LEN]);

const struct lw_stats *listen_watch_stats(const struct listen_watch *lw);

#endif
