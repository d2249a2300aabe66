// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kernel side of tcptrail: record TCP lifecycle facts into one ring buffer.
 * Nothing is interpreted here; userspace reconstructs histories.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "tcptrail.h"
#include "core_fixes.bpf.h"
#include "refuse.bpf.h"

#define AF_INET 2
#define AF_INET6 10

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Wake the reader only when this much is waiting; userspace also drains on a
 * short timer, so a quiet machine still sees events promptly.
 */
const volatile __u64 wakeup_bytes = 256 * 1024;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized from --ring-mb before load */
} events SEC(".maps");

/* Records that found the ring buffer full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost_events SEC(".maps");

/* Which sockets lost records, so their histories can be marked incomplete.
 * LRU: under a storm of losses the oldest attributions go first; userspace
 * notices the shortfall against lost_events and marks every open history.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} lost_cookies SEC(".maps");

/* A passive child whose LISTEN -> SYN_RECV record waits for its identity.
 * inet_csk_clone_lock() in older kernels (6.1, 6.12) sets the child's state
 * before it copies the request's ports, addresses and cookie, so at that
 * transition the child still looks like its listener. The record is kept
 * here, keyed by the child's address, and sent just before the child's next
 * transition, with its true tuple and id and the original time. LRU: only a
 * child whose next transition was never seen leaves an entry behind.
 */
struct child_start {
	__u64 ts_ns;
	__u32 pid;
	__u32 tid;
	__u8 flags;
	char comm[TT_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct child_start);
} child_starts SEC(".maps");

static __always_inline void count_lost(__u64 cookie)
{
	__u32 zero = 0;
	__u64 one = 1, *n;

	n = bpf_map_lookup_elem(&lost_events, &zero);
	if (n)
		(*n)++;
	if (!cookie)
		return;
	n = bpf_map_lookup_elem(&lost_cookies, &cookie);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&lost_cookies, &cookie, &one, BPF_NOEXIST);
}

static __always_inline struct tt_event *reserve_event(__u64 cookie)
{
	struct tt_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		count_lost(cookie);
	return e;
}

/* Per-CPU state of the programs: the nesting of the state-change programs
 * (explained at handle_set_state) and the count of records submitted since this CPU last woke the
 * reader, so that a submit needs no query of the ring's fill level.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tt_nest);
} nesting SEC(".maps");

static __always_inline struct tt_nest *nest_here(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&nesting, &zero);
}

/* Wake the reader once per wakeup_bytes of records from this CPU. */
static __always_inline void submit_event(struct tt_event *e, struct tt_nest *n)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (n && ++n->unwoken >= wakeup_bytes / sizeof(*e)) {
		n->unwoken = 0;
		flags = BPF_RB_FORCE_WAKEUP;
	}
	bpf_ringbuf_submit(e, flags);
}

/* Header fields every record has but comm. Only TT_F_OWNER_CTX lets
 * userspace present pid/comm as the socket's user.
 */
static __always_inline void fill_header(struct tt_event *e, __u8 type, __u64 cookie)
{
	__u64 id = bpf_get_current_pid_tgid();

	e->ts_ns = bpf_ktime_get_ns();
	e->cookie = cookie;
	e->type = type;
	e->flags = 0;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->reason = 0;
	e->cgroup = 0;
}

static __always_inline void fill_common(struct tt_event *e, __u8 type, __u64 cookie)
{
	fill_header(e, type, cookie);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

/* The programs read sockets through their tracepoints' BTF-typed arguments:
 * plain loads, which the verifier makes fault-safe, instead of one
 * probe-read helper call per field (tests/bench/prof.bpf.c prices both).
 *
 * Addresses, remote port, family and netns from the common part of any
 * socket (full, timewait or request). The local port is left to the caller:
 * full sockets keep it in inet_sport even after inet_put_port() zeroed
 * skc_num.
 */
static __always_inline void fill_sock_common(struct tt_event *e,
					     const struct sock_common *skc)
{
	e->family = skc->skc_family;
	e->netns = skc->skc_net.net->ns.inum;
	e->dport = bpf_ntohs(skc->skc_dport);
	if (e->family == AF_INET6) {
		__builtin_memcpy(e->saddr, &skc->skc_v6_rcv_saddr, sizeof(e->saddr));
		__builtin_memcpy(e->daddr, &skc->skc_v6_daddr, sizeof(e->daddr));
	} else {
		__builtin_memset(e->saddr, 0, sizeof(e->saddr));
		__builtin_memset(e->daddr, 0, sizeof(e->daddr));
		*(__u32 *)e->saddr = skc->skc_rcv_saddr;
		*(__u32 *)e->daddr = skc->skc_daddr;
	}
}

/* A full TCP socket: bpf_skc_to_tcp_sock() gave tp, typed for its fields.
 * comm is read only where it names the socket's user (TT_F_OWNER_CTX).
 */
static __always_inline void fill_tcp_sock(struct tt_event *e, const struct sock *sk,
					  const struct tcp_sock *tp)
{
	fill_sock_common(e, &sk->__sk_common);
	e->sport = bpf_ntohs(tp->inet_conn.icsk_inet.inet_sport);
	e->cgroup = tt_sk_cgroup_btf(sk);
	if (sk->sk_lock.owned) {
		e->flags |= TT_F_OWNER_CTX;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	} else {
		__builtin_memset(e->comm, 0, sizeof(e->comm));
	}
}

/* Tuple of an incoming segment, seen from the local socket: the segment's
 * destination is our local end. Used where no full socket is at hand.
 */
static __always_inline int fill_from_incoming_skb(struct tt_event *e,
						  const struct sk_buff *skb)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 th = BPF_CORE_READ(skb, transport_header);
	struct tcphdr tcp;
	__u8 version;

	if (!head || bpf_probe_read_kernel(&version, 1, head + nh))
		return -1;
	version >>= 4;
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (version == 4) {
		struct iphdr ip;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
			return -1;
		e->family = AF_INET;
		__builtin_memcpy(e->saddr, &ip.daddr, 4);
		__builtin_memcpy(e->daddr, &ip.saddr, 4);
	} else if (version == 6) {
		struct ipv6hdr ip6;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh))
			return -1;
		e->family = AF_INET6;
		__builtin_memcpy(e->saddr, &ip6.daddr, 16);
		__builtin_memcpy(e->daddr, &ip6.saddr, 16);
	} else {
		return -1;
	}
	if (bpf_probe_read_kernel(&tcp, sizeof(tcp), head + th))
		return -1;
	e->sport = bpf_ntohs(tcp.dest);
	e->dport = bpf_ntohs(tcp.source);
	e->netns = BPF_CORE_READ(skb, dev, nd_net.net, ns.inum);
	return 0;
}

/* When a retransmitted SYN-ACK's request first sent one, by the request's
 * tuple: the child that completes the handshake finds it here (the request
 * socket itself is out of reach from the child's transition). LRU: a
 * handshake that never completes leaves its entry to be pushed out.
 */
struct synack_key {
	__u8 saddr[TT_ADDR_LEN];
	__u8 daddr[TT_ADDR_LEN];
	__u32 netns;
	__u16 sport;
	__u16 dport;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct synack_key);
	__type(value, __u64);
} synack_first SEC(".maps");

/* Threads inside shutdown(SHUT_WR or SHUT_RDWR), set and cleared by the
 * syscall tracepoints: a FIN sent while the marker is up came from
 * shutdown(). LRU: a marker whose exit was skipped cannot pile up.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} shutting_down SEC(".maps");

/* The shutdown() hooks are attached: a FIN's call can be told. */
const volatile bool shutdown_hooked;

/* Ticks per second, measured by userspace (0 until then: ages unknown). */
__u32 hz;

static __always_inline void synack_key_of(struct synack_key *k, const struct tt_event *e)
{
	__builtin_memcpy(k->saddr, e->saddr, sizeof(k->saddr));
	__builtin_memcpy(k->daddr, e->daddr, sizeof(k->daddr));
	k->netns = e->netns;
	k->sport = e->sport;
	k->dport = e->dport;
}

static __always_inline bool in_shutdown(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	return bpf_map_lookup_elem(&shutting_down, &tid) != NULL;
}

/* The child was cloned with its listener's identity: keep its first record
 * until the identity is set (see child_starts).
 */
static __always_inline bool defer_child_start(const struct sock *sk, int oldstate,
					      int newstate)
{
	__u64 key = (__u64)sk, id;
	struct child_start cs = {};

	if (oldstate != TT_TCP_LISTEN || newstate != TT_TCP_SYN_RECV ||
	    sk->__sk_common.skc_dport != 0)
		return false;
	id = bpf_get_current_pid_tgid();
	cs.ts_ns = bpf_ktime_get_ns();
	cs.pid = id >> 32;
	cs.tid = (__u32)id;
	if (sk->sk_lock.owned) {
		cs.flags = TT_F_OWNER_CTX;
		bpf_get_current_comm(cs.comm, sizeof(cs.comm));
	}
	bpf_map_update_elem(&child_starts, &key, &cs, BPF_ANY);
	return true;
}

static __always_inline void send_child_start(struct sock *sk, const struct tcp_sock *tp,
					     __u64 cookie, struct tt_nest *n)
{
	__u64 key = (__u64)sk;
	struct child_start *cs = bpf_map_lookup_elem(&child_starts, &key);
	struct tt_event *e;

	if (!cs)
		return;
	e = reserve_event(cookie);
	if (e) {
		fill_header(e, TT_EV_STATE, cookie);
		fill_tcp_sock(e, sk, tp);
		e->ts_ns = cs->ts_ns;
		e->pid = cs->pid;
		e->tid = cs->tid;
		e->flags = cs->flags;
		__builtin_memcpy(e->comm, cs->comm, sizeof(e->comm));
		e->oldstate = TT_TCP_LISTEN;
		e->newstate = TT_TCP_SYN_RECV;
		__builtin_memset(&e->close, 0, sizeof(e->close));
		submit_event(e, n);
	}
	bpf_map_delete_elem(&child_starts, &key);
}

static __always_inline void fill_estab(struct tt_event *e, const struct tcp_sock *tp,
				       int oldstate)
{
	/* srtt_us is stored left-shifted by 3 (tcp_rtt_estimator()) */
	e->estab.srtt_us = tp->srtt_us >> 3;
	/* a child starts with its request's num_retrans
	 * (tcp_create_openreq_child()); a client counts its SYNs
	 */
	e->estab.retrans = tp->total_retrans;
	if (oldstate == TT_TCP_SYN_RECV && e->estab.retrans) {
		struct synack_key k;
		__u64 *us;

		synack_key_of(&k, e);
		us = bpf_map_lookup_elem(&synack_first, &k);
		if (us) {
			e->estab.synack_us = *us;
			bpf_map_delete_elem(&synack_first, &k);
		}
	}
}

#define TT_ETIMEDOUT 110	/* errno: the same number on every architecture Linux
				 * has BTF for but alpha, mips, parisc, sparc
				 */

static __always_inline void fill_close(struct tt_event *e, const struct sock *sk,
				       const struct tcp_sock *tp)
{
	const struct inet_connection_sock *icsk = &tp->inet_conn;
	unsigned long flags = sk->__sk_common.skc_flags;

	e->close.bytes_acked = tp->bytes_acked;
	e->close.bytes_received = tp->bytes_received;
	e->close.total_retrans = tp->total_retrans;
	e->close.srtt_us = tp->srtt_us >> 3;
	e->close.sk_err = sk->sk_err;
	e->close.ack_idle_ms = ~0u;
	/* Never grafted onto a struct socket (inet_accept()) and not orphaned
	 * by a close either: it never left the accept queue.
	 */
	if (!sk->sk_socket &&
	    !(flags & (1ul << bpf_core_enum_value(enum sock_flags, SOCK_DEAD))))
		e->flags |= TT_F_UNACCEPTED;
	if (e->close.sk_err != TT_ETIMEDOUT)
		return;
	/* tcp_write_err() purged the write queue (packets_out is 0 now), but
	 * the sequence numbers still say what was outstanding.
	 */
	__u32 una = tp->snd_una, nxt = tp->snd_nxt;

	if (una != nxt)
		e->flags |= TT_F_UNACKED;
	if (tp->write_seq != nxt)
		e->flags |= TT_F_UNSENT;
	if (flags & (1ul << bpf_core_enum_value(enum sock_flags, SOCK_KEEPOPEN)))
		e->flags |= TT_F_KEEPALIVE;
	if (icsk->icsk_user_timeout)
		e->flags |= TT_F_USER_TIMEOUT;
	e->close.probes = icsk->icsk_probes_out;
	e->close.rto_retrans = icsk->icsk_retransmits;
	if (hz) {
		__u32 ticks = (__u32)bpf_jiffies64() - tp->rcv_tstamp;

		e->close.ack_idle_ms = (__u32)((__u64)ticks * 1000 / hz);
	}
}

static __always_inline void record_set_state(struct sock *sk, int oldstate, int newstate,
					     struct tt_nest *n)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	struct tt_event *e;
	__u64 cookie;

	if (!tp)
		return;		/* not TCP */
	if (defer_child_start(sk, oldstate, newstate))
		return;
	cookie = tt_sock_id(sk);
	if (oldstate == TT_TCP_SYN_RECV)
		send_child_start(sk, tp, cookie, n);
	e = reserve_event(cookie);
	if (!e)
		return;
	fill_header(e, TT_EV_STATE, cookie);
	fill_tcp_sock(e, sk, tp);
	e->oldstate = oldstate;
	e->newstate = newstate;
	__builtin_memset(&e->estab, 0, sizeof(e->estab));
	if (newstate == TT_TCP_CLOSE)
		fill_close(e, sk, tp);
	else if (newstate == TT_TCP_ESTABLISHED)
		fill_estab(e, tp, oldstate);
	else if (newstate == TT_TCP_FIN_WAIT1 && shutdown_hooked)
		e->reason = in_shutdown() ? TT_FIN_CALL_SHUTDOWN : TT_FIN_CALL_CLOSE;
	submit_event(e, n);
}

/* Nested state changes. The kernel runs a tracing program at most once at a
 * time per CPU: when a softirq interrupts handle_set_state and changes a
 * socket's state, that run is skipped and only counted in the program's
 * recursion_misses. A second program on the same tracepoint has a guard of
 * its own, so it does run then: it records exactly the transitions that
 * arrive while handle_set_state is busy on this CPU. (Tracepoints run their
 * programs with preemption off, and softirqs do not nest, so one catcher
 * suffices.) Kernels that re-enter a program (no guard) are covered too: the
 * nested handle_set_state defers to the catcher. What still escapes is a
 * softirq landing in the few instructions of handle_set_state's run outside
 * the depth mark: userspace reads the counters, and skipped + deferred -
 * caught transitions are reported lost.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(handle_set_state, struct sock *sk, int oldstate, int newstate)
{
	TT_REFUSE_IF(0);
	struct tt_nest *n = nest_here();

	if (!n)
		return 0;
	if (n->depth) {
		n->deferred++;
		return 0;
	}
	n->depth = 1;
	record_set_state(sk, oldstate, newstate, n);
	n->depth = 0;
	return 0;
}

/* A transition while handle_set_state is busy on this CPU. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(handle_set_state_nested, struct sock *sk, int oldstate, int newstate)
{
	TT_REFUSE_IF(1);
	struct tt_nest *n = nest_here();

	/* depth 2 only where the kernel re-enters programs: this catcher
	 * is busy in an outer run and records nothing twice
	 */
	if (!n || n->depth != 1)
		return 0;
	n->depth = 2;
	n->caught++;
	record_set_state(sk, oldstate, newstate, n);
	n->depth = 1;
	return 0;
}

static __always_inline void remember_synack(const struct tt_event *e,
					    const struct request_sock *req)
{
	__u64 us = BPF_CORE_READ((const struct tcp_request_sock *)req, snt_synack);
	struct synack_key k;

	if (!us)
		return;
	synack_key_of(&k, e);
	bpf_map_update_elem(&synack_first, &k, &us, BPF_NOEXIST);
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(handle_synack_retransmit, struct sock *sk, struct request_sock *req)
{
	TT_REFUSE_IF(2);
	const struct inet_connection_sock *icsk = (const struct inet_connection_sock *)sk;
	__u64 cookie = tt_sock_id(sk);
	struct tt_event *e = reserve_event(cookie);

	if (!e)
		return 0;
	fill_common(e, TT_EV_SYNACK_RETRANS, cookie);
	/* The request socket holds this half-open connection's tuple. */
	fill_sock_common(e, &req->__req_common);
	e->sport = req->__req_common.skc_num;
	e->oldstate = e->newstate = TT_TCP_LISTEN;
	e->queue.acceptq_len = BPF_CORE_READ(sk, sk_ack_backlog);
	e->queue.acceptq_max = BPF_CORE_READ(sk, sk_max_ack_backlog);
	e->queue.synq_len = BPF_CORE_READ(icsk, icsk_accept_queue.qlen.counter);
	e->queue.drops = tt_sk_drops(sk);
	e->cgroup = tt_sk_cgroup(sk);
	remember_synack(e, req);
	submit_event(e, nest_here());
	return 0;
}

static __always_inline int record_reset_sent(const struct sock *sk,
					     const struct sk_buff *skb, __u16 reason)
{
	__u64 cookie = sk ? tt_sock_id((void *)sk) : 0;
	/* NULL for timewait and request sockets: no struct tcp_sock behind */
	struct tcp_sock *tp = sk ? bpf_skc_to_tcp_sock((void *)sk) : NULL;
	struct tt_event *e = reserve_event(cookie);

	if (!e)
		return 0;
	fill_header(e, TT_EV_RESET_SENT, cookie);
	e->reason = reason;
	__builtin_memset(&e->close, 0, sizeof(e->close));
	if (tp) {
		fill_tcp_sock(e, sk, tp);
	} else {
		__builtin_memset(e->comm, 0, sizeof(e->comm));
		if (!skb || fill_from_incoming_skb(e, skb)) {
			if (!sk) {
				bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
				return 0;
			}
			fill_sock_common(e, &sk->__sk_common);
			e->sport = sk->__sk_common.skc_num;
		}
		if (sk)
			e->flags |= TT_F_MINISOCK;
	}
	e->oldstate = e->newstate = sk ? sk->__sk_common.skc_state : 0;
	submit_event(e, nest_here());
	return 0;
}

/* Kernels since v6.10 pass the reset reason as a third argument; userspace
 * loads exactly one of these two programs, by the tracepoint's BTF prototype.
 */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(handle_send_reset, const struct sock *sk, const struct sk_buff *skb)
{
	TT_REFUSE_IF(3);
	return record_reset_sent(sk, skb, 0);
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(handle_send_reset_reason, const struct sock *sk,
	     const struct sk_buff *skb, int reason)
{
	TT_REFUSE_IF(4);
	return record_reset_sent(sk, skb, (__u16)reason);
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(handle_receive_reset, struct sock *sk)
{
	TT_REFUSE_IF(5);
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	__u64 cookie = tt_sock_id(sk);
	struct tt_event *e;

	if (!tp)
		return 0;
	e = reserve_event(cookie);
	if (!e)
		return 0;
	fill_header(e, TT_EV_RESET_RECV, cookie);
	fill_tcp_sock(e, sk, tp);
	e->oldstate = e->newstate = sk->__sk_common.skc_state;
	__builtin_memset(&e->close, 0, sizeof(e->close));
	submit_event(e, nest_here());
	return 0;
}

/* The third handshake ACK dropped because the accept queue was full
 * (tcp_check_req() -> syn_recv_sock() failing in sk_acceptq_is_full()).
 * Userspace loads this only where the drop reason exists.
 */
SEC("tp_btf/kfree_skb")
int BPF_PROG(handle_kfree_skb, struct sk_buff *skb, void *location, int reason)
{
	TT_REFUSE_IF(6);
	struct tt_event *e;

	if (!tt_listen_overflow_exists() || reason != tt_listen_overflow_reason())
		return 0;
	e = reserve_event(0);
	if (!e)
		return 0;
	fill_common(e, TT_EV_LISTEN_OVERFLOW, 0);
	if (fill_from_incoming_skb(e, skb)) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return 0;
	}
	e->oldstate = e->newstate = TT_TCP_LISTEN;
	__builtin_memset(&e->close, 0, sizeof(e->close));
	submit_event(e, nest_here());
	return 0;
}

/* accept() and accept4() returned a new descriptor: find its socket through
 * the task's file table, and name the accepting task as its owner. Classic
 * syscall tracepoints (no BTF arguments): every pointer is read with CO-RE.
 */
#define TT_S_IFMT 00170000
#define TT_S_IFSOCK 0140000

static __always_inline int record_accept(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt;
	struct file **fds, *f = NULL;
	struct socket *sock;
	struct sock *sk;
	struct tt_event *e;
	__u64 cookie;

	if (fd < 0)
		return 0;
	fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || (unsigned long)fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), fds + fd) || !f)
		return 0;
	if ((BPF_CORE_READ(f, f_inode, i_mode) & TT_S_IFMT) != TT_S_IFSOCK)
		return 0;
	sock = BPF_CORE_READ(f, private_data);
	sk = sock ? BPF_CORE_READ(sock, sk) : NULL;
	if (!sk || tt_sk_protocol(sk) != IPPROTO_TCP)
		return 0;
	/* named by its transitions already: the child's first one runs before
	 * accept() can take it (the listener's queue holds it under its lock)
	 */
	cookie = tt_sock_id_read(sk);
	if (!cookie)
		return 0;
	e = reserve_event(cookie);
	if (!e)
		return 0;
	fill_common(e, TT_EV_ACCEPT, cookie);
	/* No tuple: each field would be one more probe read, and userspace has
	 * it already, in the history the cookie names (family 0 says so).
	 */
	e->family = 0;
	e->netns = 0;
	e->sport = e->dport = 0;
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	e->flags = TT_F_OWNER_CTX;
	e->oldstate = e->newstate = BPF_CORE_READ(sk, __sk_common.skc_state);
	__builtin_memset(&e->close, 0, sizeof(e->close));
	submit_event(e, nest_here());
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int handle_accept4(struct trace_event_raw_sys_exit *ctx)
{
	TT_REFUSE_IF(7);
	return record_accept(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int handle_accept(struct trace_event_raw_sys_exit *ctx)
{
	TT_REFUSE_IF(8);
	return record_accept(ctx->ret);
}

#define TT_SHUT_WR 1
#define TT_SHUT_RDWR 2

SEC("tracepoint/syscalls/sys_enter_shutdown")
int handle_shutdown_enter(struct trace_event_raw_sys_enter *ctx)
{
	TT_REFUSE_IF(9);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u8 one = 1;
	long how = (long)ctx->args[1];

	if (how == TT_SHUT_WR || how == TT_SHUT_RDWR)
		bpf_map_update_elem(&shutting_down, &tid, &one, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_shutdown")
int handle_shutdown_exit(struct trace_event_raw_sys_exit *ctx)
{
	TT_REFUSE_IF(10);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&shutting_down, &tid);
	return 0;
}
