// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Listeners and resets: SYN-ACK retransmits with the listener's queues,
 * resets sent and received, and third ACKs dropped for a full accept queue.
 * Each is a record of its own, as it happens; a reset also marks the
 * socket's kept life where there is one.
 */
#include "common.bpf.h"

static __always_inline void remember_synack(const struct request_sock *req, __u16 sport)
{
	__u64 us = BPF_CORE_READ((const struct tcp_request_sock *)req, snt_synack);
	struct synack_key k;

	if (!us)
		return;
	synack_key_of_sock(&k, &req->__req_common, sport);
	bpf_map_update_elem(&synack_first, &k, &us, BPF_NOEXIST);
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(synack_retrans, struct sock *sk, struct request_sock *req)
{
	const struct inet_connection_sock *icsk = (const struct inet_connection_sock *)sk;
	__u64 cookie;
	struct tt_event *e;

	TT_REFUSE_IF(4);
	cookie = tt_sock_id(sk);
	remember_synack(req, req->__req_common.skc_num);
	e = reserve_event(cookie);
	if (!e)
		return 0;
	fill_common(e, TT_EV_SYNACK_RETRANS, cookie);
	/* The request socket holds this half-open connection's tuple. */
	fill_sock_common(e, &req->__req_common);
	e->sport = req->__req_common.skc_num;
	e->oldstate = e->newstate = TT_TCP_LISTEN;
	__builtin_memset(&e->close, 0, sizeof(e->close));
	e->queue.acceptq_len = BPF_CORE_READ(sk, sk_ack_backlog);
	e->queue.acceptq_max = BPF_CORE_READ(sk, sk_max_ack_backlog);
	e->queue.synq_len = BPF_CORE_READ(icsk, icsk_accept_queue.qlen.counter);
	e->queue.drops = tt_sk_drops(sk);
	e->cgroup = tt_sk_cgroup(sk);
	submit_event(e);
	return 0;
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

/* A reset on a full socket whose life is kept: say so in it, with the
 * state it was in (a reset sent after CLOSE finds no storage, or storage
 * already sent, which nobody reads again; userspace joins that one to the
 * history). Whether it ended the life is userspace's to say.
 */
static __always_inline void mark_reset(struct tcp_sock *tp, __u16 flag)
{
	struct tt_conn_store *st;

	if (!keep_lives)
		return;
	st = bpf_sk_storage_get(&conns, tp, 0, 0);
	if (!st)
		return;
	st->flags |= flag;
	if (flag == TT_H_RST_SENT)
		st->rst_sent_in = tp->inet_conn.icsk_inet.sk.__sk_common.skc_state;
}

static __always_inline int record_reset_sent(const struct sock *sk,
					     const struct sk_buff *skb, __u16 reason)
{
	__u64 cookie = sk ? tt_sock_id((void *)sk) : 0;
	/* NULL for timewait and request sockets: no struct tcp_sock behind */
	struct tcp_sock *tp = sk ? bpf_skc_to_tcp_sock((void *)sk) : NULL;
	struct tt_event *e;

	if (tp)
		mark_reset(tp, TT_H_RST_SENT);
	e = reserve_event(cookie);
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
				count_lost_cause(TT_LOST_NO_TUPLE);
				return 0;
			}
			fill_sock_common(e, &sk->__sk_common);
			e->sport = sk->__sk_common.skc_num;
		}
		if (sk)
			e->flags |= TT_F_MINISOCK;
	}
	e->oldstate = e->newstate = sk ? sk->__sk_common.skc_state : 0;
	submit_event(e);
	return 0;
}

/* Kernels since v6.10 pass the reset reason as a third argument; userspace
 * loads exactly one of these two programs, by the tracepoint's BTF prototype.
 */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(reset_sent, const struct sock *sk, const struct sk_buff *skb)
{
	TT_REFUSE_IF(5);
	return record_reset_sent(sk, skb, 0);
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(reset_sent_why, const struct sock *sk,
	     const struct sk_buff *skb, int reason)
{
	TT_REFUSE_IF(6);
	return record_reset_sent(sk, skb, (__u16)reason);
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(reset_recv, struct sock *sk)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	__u64 cookie;
	struct tt_event *e;

	TT_REFUSE_IF(7);
	if (!tp)
		return 0;
	mark_reset(tp, TT_H_RST_RECV);
	cookie = tt_sock_id(sk);
	e = reserve_event(cookie);
	if (!e)
		return 0;
	fill_header(e, TT_EV_RESET_RECV, cookie);
	fill_tcp_sock(e, sk, tp);
	e->oldstate = e->newstate = sk->__sk_common.skc_state;
	__builtin_memset(&e->close, 0, sizeof(e->close));
	submit_event(e);
	return 0;
}

/* The third handshake ACK dropped because the accept queue was full
 * (tcp_check_req() -> syn_recv_sock() failing in sk_acceptq_is_full()).
 * Userspace loads this only where the drop reason exists.
 */
SEC("tp_btf/kfree_skb")
int BPF_PROG(listen_overflow, struct sk_buff *skb, void *location, int reason)
{
	struct tt_event *e;

	TT_REFUSE_IF(8);
	if (!tt_listen_overflow_exists() || reason != tt_listen_overflow_reason())
		return 0;
	e = reserve_event(0);
	if (!e)
		return 0;
	fill_common(e, TT_EV_LISTEN_OVERFLOW, 0);
	if (fill_from_incoming_skb(e, skb)) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		count_lost_cause(TT_LOST_NO_TUPLE);
		return 0;
	}
	e->oldstate = e->newstate = TT_TCP_LISTEN;
	__builtin_memset(&e->close, 0, sizeof(e->close));
	submit_event(e);
	return 0;
}
