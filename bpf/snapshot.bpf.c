// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Socket snapshot: iter/tcp writes one struct tt_sock_record per TCP socket of
 * the network namespace the reader opened the iterator in; iter/task_file one
 * struct tt_file_record per descriptor of a TCP socket, machine-wide.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "tcptrail.h"
#include "core_fixes.bpf.h"
#include "refuse.bpf.h"

#define AF_INET6 10

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* Set by userspace before each task_file walk: report only sockets in this
 * state (0: all).
 */
__u32 want_state;
/* Set by userspace before each iter/tcp walk: report only sockets whose
 * state's bit is set (0: all)...
 */
__u32 want_states;
/* ...and, when set, end the walk at the first socket past the listeners:
 * the iterator visits the listening hash first, and a reader that sees
 * this end record stops reading, so the established hash is not walked.
 */
__u32 stop_past_listeners;
/* When set, every socket walked is also counted by state here (the gauge's
 * baseline), whether or not its record is wanted.
 */
__u32 count_states;
__u64 state_counts[16];

/* The kernel's tick rate, measured by userspace (see snapshot_open()): no
 * kernel config file is needed. 0 while unknown.
 */
__u32 hz;
/* Calibration: with 'calibrate' set, a walk only stamps the tick count and
 * the monotonic clock at one instant, and reports no socket.
 */
__u32 calibrate;
__u64 cal_jiffies;
__u64 cal_ns;

/* ms since jiffies value 'then' (32-bit, as the kernel stores stamps);
 * ~0 while the tick rate is unknown.
 */
static __always_inline __u32 jiffies_ago_ms(__u32 then)
{
	__u32 ticks = (__u32)bpf_jiffies64() - then;

	if (!hz)
		return ~0u;
	return (__u32)((__u64)ticks * 1000 / hz);
}

/* When the listener last sent a SYN cookie: tcp_synq_overflow() stamps the
 * reuseport group when there is one, else the listener's ts_recent_stamp
 * (unused otherwise on a listener).
 */
static __always_inline __u32 syncookie_idle_ms(const struct sock *sk,
					       const struct tcp_sock *tp)
{
	struct sock_reuseport *reuse = BPF_CORE_READ(sk, sk_reuseport_cb);
	__u32 stamp;

	if (reuse)
		stamp = BPF_CORE_READ(reuse, synq_overflow_ts);
	else
		stamp = (__u32)BPF_CORE_READ(tp, rx_opt.ts_recent_stamp);
	return stamp ? jiffies_ago_ms(stamp) : ~0u;
}

static __always_inline void fill_addrs(struct tt_sock_record *r,
				       const struct sock_common *skc)
{
	r->family = skc->skc_family;
	r->netns = tt_sk_netns(skc);
	r->dport = bpf_ntohs(skc->skc_dport);
	r->sport = skc->skc_num;
	r->state = skc->skc_state;
	if (r->family == AF_INET6) {
		bpf_core_read(r->saddr, sizeof(r->saddr), &skc->skc_v6_rcv_saddr);
		bpf_core_read(r->daddr, sizeof(r->daddr), &skc->skc_v6_daddr);
	} else {
		BPF_CORE_READ_INTO((__u32 *)r->saddr, skc, skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)r->daddr, skc, skc_daddr);
	}
}

/* What the socket's kind has: a timewait socket its time left; a full
 * socket its owner's inode, cgroup, idle time, and a listener its queues.
 */
static __always_inline void fill_timers_and_queues(struct tt_sock_record *r,
						   struct sock_common *skc)
{
	struct tcp_sock *tp;

	r->tw_left_ms = ~0u;
	if (r->state == TT_TCP_TIME_WAIT) {
		const struct inet_timewait_sock *tw = (const struct inet_timewait_sock *)skc;
		long ticks = (long)(BPF_CORE_READ(tw, tw_timer.expires) - bpf_jiffies64());

		if (hz)
			r->tw_left_ms = ticks > 0 ? (__u32)((__u64)ticks * 1000 / hz) : 0;
	}
	/* Timewait and request sockets have no struct sock behind them. */
	tp = bpf_skc_to_tcp_sock(skc);
	if (tp) {
		const struct sock *sk = (const struct sock *)tp;
		struct socket *sock = BPF_CORE_READ(sk, sk_socket);

		r->sport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
		r->cgroup = tt_sk_cgroup(sk);
		if (sock)
			r->inode = BPF_CORE_READ(sock, file, f_inode, i_ino);
		r->rcv_idle_ms = jiffies_ago_ms(BPF_CORE_READ(tp, rcv_tstamp));
		r->cookie_idle_ms = ~0u;
		if (r->state == TT_TCP_LISTEN) {
			r->cookie_idle_ms = syncookie_idle_ms(sk, tp);
			r->acceptq_len = BPF_CORE_READ(sk, sk_ack_backlog);
			r->acceptq_max = BPF_CORE_READ(sk, sk_max_ack_backlog);
			r->synq_len = BPF_CORE_READ(&tp->inet_conn,
						   icsk_accept_queue.qlen.counter);
			r->drops = tt_sk_drops(sk);
		}
	}
}

SEC("iter/tcp")
int dump_tcp(struct bpf_iter__tcp *ctx)
{
	TT_REFUSE_IF(0);
	struct sock_common *skc = ctx->sk_common;
	struct seq_file *seq = ctx->meta->seq;
	struct tt_sock_record r = {};

	if (calibrate) {
		cal_jiffies = bpf_jiffies64();
		cal_ns = bpf_ktime_get_ns();
		/* one socket is enough: the reader stops here, and a
		 * machine of a million sockets is not walked for a clock
		 */
		r.state = TT_SNAP_END;
		bpf_seq_write(seq, &r, sizeof(r));
		return 0;
	}
	if (!skc)
		return 0;
	r.state = skc->skc_state;
	if (count_states)
		__sync_fetch_and_add(&state_counts[r.state & 15], 1);
	if (stop_past_listeners && r.state != TT_TCP_LISTEN) {
		/* one end record per socket from here: the reader's buffer
		 * fills after a few hundred, and it stops
		 */
		r.state = TT_SNAP_END;
		bpf_seq_write(seq, &r, sizeof(r));
		return 0;
	}
	if (want_states && !(want_states & (1u << (r.state & 31))))
		return 0;
	r.cookie = tt_sock_id(skc);
	r.uid = ctx->uid;
	fill_addrs(&r, skc);

	if (r.state == TT_TCP_NEW_SYN_RECV) {
		/* rsk_listener shares a union, so the verifier types it a scalar:
		 * read the listener's cookie from memory. The iterator visits
		 * listeners first and took their cookies, so it is set.
		 */
		struct request_sock *req = (struct request_sock *)skc;
		struct sock *listener = BPF_CORE_READ(req, __req_common.skc_listener);

		if (listener) {
			r.listener = tt_sock_id_read(listener);
			r.cgroup = tt_sk_cgroup(listener);
		}
		r.req_retrans = BPF_CORE_READ(req, num_retrans);
	}
	fill_timers_and_queues(&r, skc);
	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}

SEC("iter/task_file")
int dump_task_files(struct bpf_iter__task_file *ctx)
{
	TT_REFUSE_IF(1);
	struct file *file = ctx->file;
	struct task_struct *task = ctx->task;
	struct tt_file_record r = {};
	struct socket *sock;
	struct inode *inode;
	struct sock *sk;

	if (!file || !task)
		return 0;
	/* A socket's file has a sockfs inode and the socket as private data
	 * (an O_PATH file of a socket path has none). Everything past the
	 * file is read as plain memory: no helper is handed a pointer walked
	 * from it, which newer verifiers mark untrusted (bpf_sock_from_file()'s
	 * sock->sk, refused by 6.18.44).
	 */
	/* Most descriptors are not sockets: the test is two plain loads
	 * through the BTF pointer, not helper calls (a search walks every
	 * descriptor of the machine).
	 */
	inode = file->f_inode;
	if (!inode || (inode->i_mode & S_IFMT) != S_IFSOCK)
		return 0;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock)
		return 0;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || tt_sk_protocol(sk) != IPPROTO_TCP)
		return 0;
	if (want_state && BPF_CORE_READ(sk, __sk_common.skc_state) != want_state)
		return 0;
	/* Named already: every reader walks iter/tcp (or traces the socket)
	 * before it looks for owners, and the kernel keeps a cookie once
	 * assigned. A socket never named cannot be asked about.
	 */
	r.cookie = tt_sock_id_read(sk);
	if (!r.cookie)
		return 0;
	r.pid = task->tgid;
	r.fd = ctx->fd;
	BPF_CORE_READ_STR_INTO(&r.comm, task, comm);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
