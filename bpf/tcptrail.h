/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one header shared by the BPF programs and userspace: event records and
 * socket-snapshot records. Only __u8..__u64 and fixed-size arrays, so both
 * compilers lay the structs out identically (userspace asserts the sizes).
 */
#ifndef TCPTRAIL_H
#define TCPTRAIL_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
/* Userspace must not slip kernel-only type names into shared code. */
#pragma GCC poison u8 u16 u32 u64 s8 s16 s32 s64
#endif

#define TT_COMM_LEN 16
#define TT_ADDR_LEN 16 /* IPv4 uses the first 4 bytes */

/* What a ring-buffer record reports. Values are part of the --record file
 * format: append, never renumber.
 */
enum tt_event_type {
	TT_EV_STATE = 1,	    /* sock:inet_sock_set_state */
	TT_EV_SYNACK_RETRANS = 2,   /* tcp:tcp_retransmit_synack */
	TT_EV_RESET_SENT = 3,	    /* tcp:tcp_send_reset */
	TT_EV_RESET_RECV = 4,	    /* tcp:tcp_receive_reset */
	TT_EV_LISTEN_OVERFLOW = 5,  /* skb:kfree_skb, reason TCP_LISTEN_OVERFLOW */
	TT_EV_ACCEPT = 6,	    /* syscalls:sys_exit_accept4/accept returned this
				     * socket; pid/comm are the accepting task's.
				     * Since format 6 without a tuple (family 0):
				     * its history has it
				     */
	TT_EV_HISTORY = 7,	    /* a connection's whole life, sent once at its
				     * CLOSE: a struct tt_history (kernels where
				     * tracing programs keep socket storage)
				     */
	TT_EV_CLOSE_WAIT = 8,	    /* a transition into CLOSE_WAIT, laid out as
				     * TT_EV_STATE, sent for the leak watch when
				     * the live stream is off: not shown
				     */
	TT_EV_RETRANSMIT = 9,	    /* tcp:tcp_retransmit_skb: newstate the socket's
				     * state, oldstate its congestion state
				     * (icsk_ca_state), reason the kernel's error
				     * (6.x kernels that pass one; 0 otherwise)
				     */
};

/* Why records were lost in the kernel: the index of the per-CPU counters in
 * the lost_events map. Values are part of the --record format (the LOST
 * frame's cause): append, never renumber.
 */
enum tt_lost_cause {
	TT_LOST_RING_FULL = 0,	    /* the ring buffer had no room */
	TT_LOST_KERNEL_SKIPPED = 1, /* a program run skipped, not repaired (userspace) */
	TT_LOST_FILTER_SKIPPED = 2, /* the drop-reason filter skipped (userspace) */
	TT_LOST_NO_STORAGE = 3,	    /* the kernel could not give a socket its storage */
	TT_LOST_CHILD_START = 4,    /* a passive child's first record found no room
				     * to wait for its identity
				     */
	TT_LOST_NO_TUPLE = 5,	    /* a reset or overflow whose packet could not be read */
	TT_LOST_UNNAMED_ACCEPT = 6, /* accept() of a socket no transition had named */
	TT_LOST_SHUTDOWN_MARK = 7,  /* a shutdown() marker gone before its exit:
				     * that call's fin_by may read close
				     */
	TT_LOST_ACCEPT_INFO = 8,    /* an accept's facts found no room to wait
				     * for its history
				     */
	TT_LOST_PORT_COUNT = 9,	    /* a connect not counted for its destination
				     * (the ports table full)
				     */
	TT_LOST_LISTEN_COUNT = 10,  /* a handshake or accept not counted for its
				     * listener (the listeners table full)
				     */
	/* counted in userspace only: a state change the kernel made without
	 * running the programs at all (no run, no recursion miss), found as
	 * sockets the count by state still holds in a state the kernel's own
	 * sockets have left
	 */
	TT_LOST_UNSEEN_CHANGE = 11,
	TT_LOST_N_CAUSES
};

enum tt_event_flags {
	/* The program ran in the task that holds the socket lock (a syscall on
	 * this socket, or the owner draining its backlog in release_sock()).
	 * Only then do pid/comm name the socket's user; in softirq they name
	 * whatever task happened to be interrupted.
	 */
	TT_F_OWNER_CTX = 1 << 0,
	/* The socket in a reset event was a timewait or request socket. */
	TT_F_MINISOCK = 1 << 1,
	/* -> CLOSE: the socket was never attached to a file (a passive child
	 * that closed while still in its listener's accept queue).
	 */
	TT_F_UNACCEPTED = 1 << 2,
	/* -> CLOSE with sk_err ETIMEDOUT: the socket's state when it gave up. */
	TT_F_UNACKED = 1 << 3,	    /* sent data the peer never acknowledged */
	TT_F_UNSENT = 1 << 4,	    /* data queued but not sent (zero window) */
	TT_F_KEEPALIVE = 1 << 5,    /* SO_KEEPALIVE was on */
	TT_F_USER_TIMEOUT = 1 << 6, /* TCP_USER_TIMEOUT was set */
	/* TT_EV_RETRANSMIT: the kernel said how the retransmit went (reason). */
	TT_F_RESULT = 1 << 7,
};

/* Which call sent the FIN, in the 'reason' of a -> FIN_WAIT1 record. */
enum tt_fin_call {
	TT_FIN_CALL_UNKNOWN = 0,	/* no shutdown() hook on this kernel */
	TT_FIN_CALL_CLOSE = 1,
	TT_FIN_CALL_SHUTDOWN = 2,
};

/* Socket state numbers: the kernel's TCP_* values, also exported as BPF_TCP_*
 * in the BPF UAPI, so they are stable across kernels.
 */
enum tt_tcp_state {
	TT_TCP_ESTABLISHED = 1,
	TT_TCP_SYN_SENT,
	TT_TCP_SYN_RECV,
	TT_TCP_FIN_WAIT1,
	TT_TCP_FIN_WAIT2,
	TT_TCP_TIME_WAIT,
	TT_TCP_CLOSE,
	TT_TCP_CLOSE_WAIT,
	TT_TCP_LAST_ACK,
	TT_TCP_LISTEN,
	TT_TCP_CLOSING,
	TT_TCP_NEW_SYN_RECV,
	TT_TCP_MAX_STATES,
};

/* Counters a socket carries when it reaches CLOSE. */
struct tt_close_info {
	__u64 bytes_acked;
	__u64 bytes_received;
	__u32 total_retrans;
	__u32 srtt_us;
	__s16 sk_err;
	/* Only when sk_err is ETIMEDOUT, else 0: what the timers had done. */
	__u8 probes;		/* icsk_probes_out: keepalive/zero-window probes unanswered */
	__u8 rto_retrans;	/* icsk_retransmits: timeouts of the unacknowledged data */
	__u32 ack_idle_ms;	/* since the peer's last ACK (tp->rcv_tstamp); ~0 unknown */
};

/* A handshake's figures, on the transition to ESTABLISHED. */
struct tt_estab_info {
	/* passive, SYN-ACK retransmitted: when the first SYN-ACK left
	 * (tcp_request_sock.snt_synack, monotonic us); 0 unknown
	 */
	__u64 synack_us;
	/* the first RTT sample: for a passive child whose SYN-ACK was not
	 * retransmitted, first SYN-ACK to completing ACK (tcp_synack_rtt_meas())
	 */
	__u32 srtt_us;
	__u32 retrans;		/* SYNs (active) or SYN-ACKs (passive) retransmitted */
	__u64 pad[2];
};

/* A listener's queues, snapshotted when it retransmits a SYN-ACK. */
struct tt_queue_info {
	__u32 acceptq_len;
	__u32 acceptq_max;
	__u32 synq_len;
	__u32 drops;
};

struct tt_event {
	__u64 ts_ns;	    /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 cookie;	    /* socket cookie; for SYN-ACK events, the listener's */
	__u8 saddr[TT_ADDR_LEN]; /* local address, from this socket's view */
	__u8 daddr[TT_ADDR_LEN]; /* remote address */
	__u32 netns;	    /* network namespace inode number */
	__u32 pid;	    /* tgid of the current task */
	__u32 tid;
	__u16 sport;	    /* local port, host order */
	__u16 dport;	    /* remote port, host order */
	__u16 family;	    /* AF_INET or AF_INET6 */
	__u8 type;	    /* enum tt_event_type */
	__u8 flags;	    /* enum tt_event_flags */
	__u8 oldstate;
	__u8 newstate;	    /* for resets: the socket's state */
	__u16 reason;	    /* resets: enum sk_rst_reason where the kernel has it;
			     * -> FIN_WAIT1: enum tt_fin_call
			     */
	char comm[TT_COMM_LEN];
	union {
		struct tt_close_info close;	/* -> CLOSE */
		struct tt_estab_info estab;	/* -> ESTABLISHED */
		struct tt_queue_info queue;
	};
	__u64 cgroup;	    /* the socket's cgroup v2 id (a listener's for its
			     * events); 0: not known
			     */
};

/* The state of a snapshot record that ends a listeners-only walk. */
#define TT_SNAP_END 0xff

/* One socket seen by the iter/tcp snapshot. */
struct tt_sock_record {
	__u64 cookie;
	union {
		__u64 inode;	/* socket inode: what /proc/PID/fd links name */
		__u64 listener;	/* request sockets (NEW_SYN_RECV): the
				 * listener's cookie
				 */
	};
	__u8 saddr[TT_ADDR_LEN];
	__u8 daddr[TT_ADDR_LEN];
	__u32 netns;
	__u32 uid;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u8 state;
	__u8 pad;
	/* ms since the last ACK from the peer (tp->rcv_tstamp); for CLOSE_WAIT a
	 * lower bound of the time since the FIN. ~0 when unknown.
	 */
	__u32 rcv_idle_ms;
	__u32 acceptq_len;  /* listeners: sk_ack_backlog */
	__u32 acceptq_max;  /* listeners: sk_max_ack_backlog */
	__u32 synq_len;	    /* listeners: request sockets waiting */
	__u32 drops;	    /* listeners: sk_drops */
	/* listeners: ms since the listener last answered a SYN with a SYN
	 * cookie (the kernel stamps this at most once a second); ~0 if never.
	 */
	__u32 cookie_idle_ms;
	/* request sockets: SYN-ACKs retransmitted for it (its peer has not
	 * completed the handshake); 0 for others
	 */
	__u32 req_retrans;
	/* timewait sockets: ms until the kernel frees it (and its port); ~0
	 * unknown
	 */
	__u32 tw_left_ms;
	__u64 cgroup;	    /* cgroup v2 id (request sockets: the listener's); 0: none */
};

/* Per-CPU state of the programs: the transitions the first state program
 * recorded lately, for the catcher to confirm (state.bpf.c explains it),
 * and the bytes not yet announced to the reader. A power of two.
 */
#define TT_NEST_MARKS 64
struct tt_nest {
	__u64 marks[TT_NEST_MARKS];	/* a ring, the newest at pushed - 1 */
	__u32 pushed;
	__u32 unwoken;	/* bytes submitted since this CPU last woke the reader */
	__u32 catching;	/* a catcher run is under way on this CPU */
	__u32 spare;
	__u64 caught;	/* transitions the catcher recorded */
	/* sockets entering minus leaving each state on this CPU since load
	 * (the gauge of connections by state: userspace adds the start-up
	 * snapshot's counts)
	 */
	__s64 by_state[16];
};

/* A connection's life as the kernel keeps it, in the socket's own BPF
 * storage (BPF_MAP_TYPE_SK_STORAGE, freed with the socket), and sent whole
 * at its CLOSE. The states before CLOSE, each with when it began.
 */
#define TT_HIST_STATES 10

enum tt_hist_flags {
	/* the life began before tracing: its first state began no later than
	 * entered[0], the trace's start
	 */
	TT_H_PREEXISTING = 1 << 0,
	TT_H_TRUNCATED = 1 << 1,    /* more states than fit: the first and the last kept */
	TT_H_GAP = 1 << 2,	    /* a transition did not follow from the last state */
	TT_H_OWNER_SEEN = 1 << 3,   /* owner_pid/comm: a task holding the socket's lock */
	TT_H_HS_SEEN = 1 << 4,	    /* the handshake's figures are kept */
	TT_H_PORT_COUNTED = 1 << 5, /* counted in its destination's ports in use */
	TT_H_FIN_CALL = 1 << 6,	    /* fin_call says which call sent our FIN */
	TT_H_RST_RECV = 1 << 7,	    /* a reset arrived */
	TT_H_RST_SENT = 1 << 8,	    /* we sent a reset before CLOSE (a timer gave
				     * up), in state rst_sent_in
				     */
	TT_H_SENT = 1 << 9,	    /* sent at CLOSE; the catcher frees it */
};

struct tt_conn_store {
	__u64 entered[TT_HIST_STATES];	/* CLOCK_MONOTONIC ns */
	__u8 states[TT_HIST_STATES];
	__u8 nstates;
	__u8 fin_call;		/* enum tt_fin_call */
	__u16 flags;		/* enum tt_hist_flags */
	/* the state the last reset we sent left from (TT_H_RST_SENT); 0 in
	 * recordings before it was kept
	 */
	__u8 rst_sent_in;
	__u8 pad;
	__u32 owner_pid;	/* the last task that held the socket's lock */
	char owner_comm[TT_COMM_LEN];
	/* the handshake, as struct tt_estab_info has it */
	__u32 hs_srtt_us;
	__u64 synack_us;
	__u32 hs_retrans;
	/* the RTT and the last delivery-rate sample when it left ESTABLISHED:
	 * its data's, without the close handshake's samples (0: it never left
	 * ESTABLISHED but to CLOSE)
	 */
	__u32 data_srtt_us;
	__u32 data_rttvar_us;
	__u32 data_rate_delivered;
	__u32 data_rate_interval_us;
	__u32 pad2;
};

/* What accept() said of a passive socket, kept by cookie until its history. */
struct tt_accept_info {
	__u64 ts_ns;		/* 0: never accepted (or not seen) */
	__u32 pid;
	__u32 pad;
	char comm[TT_COMM_LEN];
};

/* How the connection delivered, read once at its CLOSE from tcp_sock: the
 * facts `ss -ti` shows while a socket lives.
 */
enum tt_delivery_flags {
	TT_D_READ = 1 << 0,	    /* the facts below were read */
	TT_D_CHRONO = 1 << 1,	    /* busy/rwnd/sndbuf times known (the tick rate is) */
	/* the three times are in ticks, as the kernel sends them: the tracer
	 * turns them into ns (or clears TT_D_CHRONO) before anything reads
	 * them, so no division is done at a CLOSE
	 */
	TT_D_TICKS = 1 << 2,
};

struct tt_delivery {
	__u32 srtt_us;		/* smoothed RTT */
	__u32 rttvar_us;	/* its mean deviation */
	__u32 rtt_min_us;	/* the windowed minimum */
	__u32 cwnd;		/* congestion window, segments */
	__u32 retrans_segs;	/* total_retrans */
	__u32 dsack_dups;
	__u32 reord_seen;
	__u32 ooo_packets;	/* rcv_ooopack: received out of order */
	__u64 bytes_retrans;
	__u64 bytes_sent;	/* payload sent, retransmits included */
	/* time sending data, limited by the peer's receive window, limited by
	 * our send buffer (the chrono counters; busy includes the other two,
	 * as tcpi_busy_time does)
	 */
	__u64 busy_ns;
	__u64 rwnd_limited_ns;
	__u64 sndbuf_limited_ns;
	__u32 rcvbuf;		/* final, autotuned */
	__u32 sndbuf;
	__u32 data_segs_in;
	__u32 data_segs_out;
	__u32 rate_delivered;	/* the last delivery-rate sample: segments... */
	__u32 rate_interval_us;	/* ...over this interval */
	__u32 mss;
	__u32 probes;		/* icsk_probes_out: window or keepalive probes unanswered */
	__u32 flags;		/* enum tt_delivery_flags */
	__u32 pad;
};

/* TT_EV_HISTORY: the CLOSE transition, as a TT_EV_STATE record would carry
 * it (tuple, close counters, flags), then the life before it, the accept,
 * and the delivery facts.
 */
struct tt_history {
	struct tt_event ev;
	struct tt_conn_store st;
	struct tt_accept_info acc;
	struct tt_delivery dl;
};

/* Ports in use per destination (connects holding a local port for it),
 * counted by the kernel where sockets keep storage.
 */
struct tt_dest_key {
	__u8 laddr[TT_ADDR_LEN];
	__u8 raddr[TT_ADDR_LEN];
	__u32 netns;
	__u16 rport;
	__u16 family;
};

/* One open descriptor of a TCP socket, from the iter/task_file walk. */
struct tt_file_record {
	__u64 cookie;
	__u32 pid;	    /* tgid: the process holding the descriptor */
	__u32 fd;
	char comm[TT_COMM_LEN];
};

/* Per CPU: the live retransmit records' budget for the current second. */
struct tt_retrans_budget {
	__u64 second;		/* bpf_ktime_get_ns() / 1e9 */
	__u32 sent;		/* records written this second */
	__u32 pad;
	__u64 suppressed;	/* records not written, over the budget, since load */
};

/* Handshakes completed and connections accepted per listener, counted by
 * the kernel where sockets keep storage (elsewhere userspace counts them
 * from records). The key is the listener's end as its children see it.
 */
struct tt_listen_key {
	__u8 laddr[TT_ADDR_LEN];
	__u32 netns;
	__u16 lport;
	__u16 family;
};

struct tt_listen_counts {
	__u64 handshakes;	/* children made: handshakes completed */
	__u64 accepts;		/* children accept() took */
};

#endif /* TCPTRAIL_H */
