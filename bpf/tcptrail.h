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

/* Per-CPU state of the programs: nesting of the state-change programs
 * (tcptrail.bpf.c explains it; userspace sums deferred and caught over the
 * CPUs) and the records not yet announced to the reader.
 */
struct tt_nest {
	__u32 depth;	/* 1: handle_set_state is busy on this CPU; 2: so is the catcher */
	__u32 unwoken;	/* records submitted since this CPU last woke the reader */
	__u64 deferred;	/* nested runs of handle_set_state that left the transition
			 * to the catcher
			 */
	__u64 caught;	/* transitions the catcher recorded */
};

/* One open descriptor of a TCP socket, from the iter/task_file walk. */
struct tt_file_record {
	__u64 cookie;
	__u32 pid;	    /* tgid: the process holding the descriptor */
	__u32 fd;
	char comm[TT_COMM_LEN];
};

#endif /* TCPTRAIL_H */
