// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Retransmits, live: one record per retransmitted segment, tied to the
 * connection's id, with its state and congestion state. Bounded: past a
 * per-second budget (per CPU) they are counted, not written; the history
 * counts every retransmit whatever was written (tcp_sock's total_retrans).
 */
#include "common.bpf.h"

/* Records per second per CPU (userspace divides its limit by the CPUs). */
const volatile __u32 retrans_per_s = 1000;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tt_retrans_budget);
} retrans_budget SEC(".maps");

static __always_inline bool within_budget(void)
{
	__u32 zero = 0;
	struct tt_retrans_budget *b = bpf_map_lookup_elem(&retrans_budget, &zero);
	__u64 second = bpf_ktime_get_ns() / 1000000000ull;

	if (!b)
		return false;
	if (b->second != second) {
		b->second = second;
		b->sent = 0;
	}
	if (b->sent >= retrans_per_s) {
		__sync_fetch_and_add(&b->suppressed, 1);
		return false;
	}
	b->sent++;
	return true;
}

static __always_inline int record_retransmit(const struct sock *sk, int err, bool said)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	struct tt_event *e;
	__u64 cookie;

	if (!tp || !within_budget())
		return 0;
	cookie = tt_sock_id((void *)sk);
	e = reserve_event(cookie);
	if (!e)
		return 0;
	fill_header(e, TT_EV_RETRANSMIT, cookie);
	fill_tcp_sock(e, sk, tp);
	e->newstate = sk->__sk_common.skc_state;
	e->oldstate = BPF_CORE_READ_BITFIELD(&tp->inet_conn, icsk_ca_state);
	e->reason = (__u16)(err < 0 ? -err : err);
	if (said)
		e->flags |= TT_F_RESULT;
	__builtin_memset(&e->close, 0, sizeof(e->close));
	e->close.total_retrans = tp->total_retrans;
	e->close.srtt_us = tp->srtt_us >> 3;
	submit_event(e);
	return 0;
}

/* Kernels that pass the retransmit's result (6.x) load this one, others
 * the next, by the tracepoint's BTF prototype.
 */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(retransmit_err, const struct sock *sk, const struct sk_buff *skb, int err)
{
	TT_REFUSE_IF(13);
	return record_retransmit(sk, err, true);
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(retransmit, const struct sock *sk, const struct sk_buff *skb)
{
	TT_REFUSE_IF(14);
	return record_retransmit(sk, 0, false);
}
