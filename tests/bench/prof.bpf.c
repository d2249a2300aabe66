// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The parts of a state-change record, each alone in a program of its own on
 * the same tracepoint, so the kernel's own accounting (bpf_stats) prices
 * each part: the floor (dispatch and the accounting itself), each helper,
 * the ring buffer, and the socket reads done with probe-read helpers versus
 * direct BTF loads. tests/bench/bpfprof.c loads them all and runs a storm.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "tcptrail.h"
#include "core_fixes.bpf.h"
#include "close_read.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} ring SEC(".maps");

/* Where each part writes what it read, so nothing is optimised away. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tt_event);
} scratch SEC(".maps");

static __always_inline struct tt_event *out(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(p_floor, struct sock *sk, int oldstate, int newstate)
{
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(p_percpu_lookup, struct sock *sk, int oldstate, int newstate)
{
	struct tt_event *e = out();

	if (e)
		e->oldstate = oldstate;
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(p_ktime, struct sock *sk, int oldstate, int newstate)
{
	struct tt_event *e = out();

	if (e)
		e->ts_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(p_pid_tgid, struct sock *sk, int oldstate, int newstate)
{
	struct tt_event *e = out();

	if (e)
		e->ts_ns = bpf_get_current_pid_tgid();
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(p_comm, struct sock *sk, int oldstate, int newstate)
{
	struct tt_event *e = out();

	if (e)
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(p_cookie_helper, struct sock *sk, int oldstate, int newstate)
{
	struct tt_event *e = out();

	if (e)
		e->cookie = bpf_get_socket_cookie(sk);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(p_ring_reserve_submit, struct sock *sk, int oldstate, int newstate)
{
	struct tt_event *e = bpf_ringbuf_reserve(&ring, sizeof(*e), 0);

	if (e)
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(p_ring_query, struct sock *sk, int oldstate, int newstate)
{
	struct tt_event *e = out();

	if (e)
		e->ts_ns = bpf_ringbuf_query(&ring, BPF_RB_AVAIL_DATA);
	return 0;
}

/* The tuple, family, netns, owner bit and protocol, as handle_set_state
 * reads them: one probe-read helper call per field.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(p_sock_probe_read, struct sock *sk, int oldstate, int newstate)
{
	const struct sock_common *skc = &sk->__sk_common;
	struct tt_event *e = out();

	if (!e)
		return 0;
	e->type = tt_sk_protocol(sk);
	e->family = BPF_CORE_READ(skc, skc_family);
	e->netns = BPF_CORE_READ(skc, skc_net.net, ns.inum);
	e->dport = BPF_CORE_READ(skc, skc_dport);
	e->sport = BPF_CORE_READ((struct inet_sock *)sk, inet_sport);
	BPF_CORE_READ_INTO((__u32 *)e->saddr, skc, skc_rcv_saddr);
	BPF_CORE_READ_INTO((__u32 *)e->daddr, skc, skc_daddr);
	e->flags = BPF_CORE_READ(sk, sk_lock.owned);
	return 0;
}

/* The same fields as direct loads through the BTF-typed argument; the
 * protocol check is the helper that also types the pointer as a tcp_sock.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(p_sock_direct, struct sock *sk, int oldstate, int newstate)
{
	const struct sock_common *skc = &sk->__sk_common;
	struct tt_event *e = out();
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

	if (!e || !tp)
		return 0;
	e->family = skc->skc_family;
	e->netns = skc->skc_net.net->ns.inum;
	e->dport = skc->skc_dport;
	e->sport = tp->inet_conn.icsk_inet.inet_sport;
	*(__u32 *)e->saddr = skc->skc_rcv_saddr;
	*(__u32 *)e->daddr = skc->skc_daddr;
	e->flags = sk->sk_lock.owned;
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(p_cgroup_probe_read, struct sock *sk, int oldstate, int newstate)
{
	struct tt_event *e = out();

	if (e)
		e->cgroup = tt_sk_cgroup(sk);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(p_cgroup_direct, struct sock *sk, int oldstate, int newstate)
{
	struct tt_event *e = out();
	struct cgroup *cg;

	if (!e)
		return 0;
	cg = sk->sk_cgrp_data.cgroup;
	e->cgroup = cg ? cg->kn->id : 0;
	return 0;
}

/* Socket storage as state.bpf.c uses it: made at a life's first
 * transition, found at the others, deleted at its CLOSE.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tt_conn_store);
} prof_store SEC(".maps");

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(p_storage_life, struct sock *sk, int oldstate, int newstate)
{
	struct tt_conn_store *st;

	if (!bpf_skc_to_tcp_sock(sk))
		return 0;
	if (newstate == TT_TCP_CLOSE) {
		bpf_sk_storage_delete(&prof_store, sk);
		return 0;
	}
	st = bpf_sk_storage_get(&prof_store, sk, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (st)
		st->nstates++;
	return 0;
}

/* Two atomic adds on per-CPU memory, as the count by state makes them. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(p_atomic_pair, struct sock *sk, int oldstate, int newstate)
{
	struct tt_event *e = out();

	if (!e)
		return 0;
	__sync_fetch_and_add(&e->ts_ns, 1);
	__sync_fetch_and_add(&e->cookie, 1);
	return 0;
}

/* The history record's reservation, as at each CLOSE. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(p_ring_history, struct sock *sk, int oldstate, int newstate)
{
	struct tt_history *h;

	if (newstate != TT_TCP_CLOSE)
		return 0;
	h = bpf_ringbuf_reserve(&ring, sizeof(*h), 0);
	if (h)
		bpf_ringbuf_discard(h, BPF_RB_NO_WAKEUP);
	return 0;
}

/* The delivery facts as state.bpf.c reads them at each CLOSE, and the data
 * phase it keeps as a connection leaves ESTABLISHED or CLOSE_WAIT (the same
 * code). Programs' times differ by their place among the programs on the
 * tracepoint (two identical ones by up to 10 ns a run, which is 50 ns a
 * CLOSE), so the reads are priced within one program: bpfprof sets
 * delivery_on to TT_PROF_AT_CLOSE, 0, TT_PROF_AT_FIN, 0, ... a tenth of a
 * second each, and each part's price is the time per CLOSE (counted by
 * p_closes) with it on less in the next window, with nothing on.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tt_delivery);
} delivery_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tt_conn_store);
} store_scratch SEC(".maps");

/* The CLOSE transitions, per CPU (no shared line between the CPUs). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} closes SEC(".maps");

enum {
	TT_PROF_AT_CLOSE = 1,	/* fill_delivery() and apply_data_phase() at each CLOSE */
	TT_PROF_AT_FIN = 2,	/* save_data_phase() leaving ESTABLISHED or CLOSE_WAIT */
};

volatile __u32 delivery_on;

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(p_closes, struct sock *sk, int oldstate, int newstate)
{
	__u32 zero = 0;
	__u64 *n;

	if (newstate == TT_TCP_CLOSE && bpf_skc_to_tcp_sock(sk) &&
	    (n = bpf_map_lookup_elem(&closes, &zero)))
		(*n)++;
	return 0;
}

/* Off, it costs the typed socket and the memory written, one store and no
 * load from the socket.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(p_close_delivery, struct sock *sk, int oldstate, int newstate)
{
	struct tt_conn_store *st;
	struct tt_delivery *d;
	struct tcp_sock *tp;
	__u32 zero = 0;

	if (newstate != TT_TCP_CLOSE && oldstate != TT_TCP_ESTABLISHED &&
	    oldstate != TT_TCP_CLOSE_WAIT)
		return 0;
	if (!(tp = bpf_skc_to_tcp_sock(sk)))
		return 0;
	if (newstate != TT_TCP_CLOSE) {
		if (!(st = bpf_map_lookup_elem(&store_scratch, &zero)))
			return 0;
		if (delivery_on & TT_PROF_AT_FIN)
			save_data_phase(st, tp);
		else
			st->nstates = oldstate;
		return 0;
	}
	if (!(d = bpf_map_lookup_elem(&delivery_scratch, &zero)) ||
	    !(st = bpf_map_lookup_elem(&store_scratch, &zero)))
		return 0;
	if (delivery_on & TT_PROF_AT_CLOSE) {
		/* what the tracer runs at CLOSE: the reads, then the data
		 * phase's figures where they were kept
		 */
		fill_delivery(d, sk, tp);
		apply_data_phase(d, st);
	} else {
		d->flags = oldstate;
	}
	return 0;
}
