/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the tracer's programs share: the ring buffer and the loss counters
 * (defined in state.bpf.c, declared extern in the others: `bpftool gen
 * object` links them into one object), the load-time settings, and the
 * helpers that fill and submit records.
 */
#ifndef COMMON_BPF_H
#define COMMON_BPF_H

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

#ifdef TT_MAPS_OWNER
#define TT_SHARED
#else
#define TT_SHARED extern
#endif

TT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized from --ring-mb before load */
} events SEC(".maps");

/* Records lost, by enum tt_lost_cause. */
TT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TT_LOST_N_CAUSES);
	__type(key, __u32);
	__type(value, __u64);
} lost_events SEC(".maps");

/* Which sockets lost records to a full ring, so their histories can be
 * marked. LRU: under a storm of losses the oldest attributions go first;
 * userspace notices the shortfall against lost_events.
 */
TT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} lost_cookies SEC(".maps");

/* Per CPU: transitions awaiting the catcher, bytes not yet announced. */
TT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tt_nest);
} nesting SEC(".maps");

/* Wake the reader once a CPU has submitted this many bytes unannounced:
 * userspace sets a quarter of the ring divided by the CPUs, so that all of
 * them together never leave more than a quarter waiting unannounced; a
 * timer in the reader takes the rest.
 */
const volatile __u64 wakeup_bytes __weak = 256 * 1024;

static __always_inline struct tt_nest *nest_here(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&nesting, &zero);
}

/* Atomic: a program nested on the same CPU may bump the same counter. */
static __always_inline void count_lost_cause(__u32 cause)
{
	__u64 *n = bpf_map_lookup_elem(&lost_events, &cause);

	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline void count_lost(__u64 cookie)
{
	__u64 one = 1, *n;

	count_lost_cause(TT_LOST_RING_FULL);
	if (!cookie)
		return;
	n = bpf_map_lookup_elem(&lost_cookies, &cookie);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&lost_cookies, &cookie, &one, BPF_NOEXIST);
}

static __always_inline void *reserve_bytes(__u64 size, __u64 cookie)
{
	void *r = bpf_ringbuf_reserve(&events, size, 0);

	if (!r)
		count_lost(cookie);
	return r;
}

static __always_inline struct tt_event *reserve_event(__u64 cookie)
{
	return reserve_bytes(sizeof(struct tt_event), cookie);
}

/* Submit, waking the reader once this CPU's unannounced bytes reach
 * wakeup_bytes.
 */
static __always_inline void submit_bytes(void *r, __u32 size)
{
	struct tt_nest *n = nest_here();
	__u64 flags = BPF_RB_NO_WAKEUP;

	/* not atomic: a nested submit lost here only delays a wakeup (and
	 * an atomic that returns its value needs 5.12)
	 */
	if (n && (n->unwoken += size) >= wakeup_bytes) {
		n->unwoken = 0;
		flags = BPF_RB_FORCE_WAKEUP;
	}
	bpf_ringbuf_submit(r, flags);
}

static __always_inline void submit_event(struct tt_event *e)
{
	submit_bytes(e, sizeof(*e));
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

/* Accept facts, by socket cookie, from accept() to the socket's history
 * (syscalls.bpf.c writes, state.bpf.c takes at CLOSE). LRU, sized by
 * userspace at twice the sockets the machine held at start (64 Ki to 4 Mi):
 * past that, the longest-open accepted connections lose their accept facts
 * (their histories say accepted, with no wait or acceptor).
 */
TT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct tt_accept_info);
} accepts SEC(".maps");

/* Threads inside shutdown(), set and cleared by the syscall tracepoints
 * (syscalls.bpf.c says what the value holds): a FIN sent while the marker
 * is up came from shutdown(). LRU: a marker whose exit was skipped cannot
 * pile up; one pushed out early is counted by the exit that misses it.
 */
TT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} shutting_down SEC(".maps");

/* When a retransmitted SYN-ACK's request first sent one (listen.bpf.c
 * writes): the child that completes the handshake finds it here (the
 * request socket itself is out of reach from the child's transition). Keyed
 * by the request's cookie, which its child inherits
 * (inet_csk_clone_lock()); where programs cannot read cookies (before
 * 5.12), by the tuple. LRU: a handshake that never completes leaves its
 * entry to be pushed out.
 */
struct synack_key {
	__u8 saddr[TT_ADDR_LEN];
	__u8 daddr[TT_ADDR_LEN];
	__u64 cookie;
	__u32 netns;
	__u16 sport;
	__u16 dport;
};

TT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct synack_key);
	__type(value, __u64);
} synack_first SEC(".maps");

/* The key of a request, or of the child it became: the same for both. By
 * cookie where there are cookies. By tuple otherwise, where an IPv4 client
 * of a dual-stack listener has a request whose family is the listener's
 * (AF_INET6) with only its IPv4 fields set, and a child with v4-mapped IPv6
 * addresses: a v6 address that is v4-mapped or empty gives the IPv4 key
 * (a request's unset v6 fields may hold anything: a known limit there).
 */
static __always_inline void synack_key_of_sock(struct synack_key *k,
					       const struct sock_common *skc, __u16 sport)
{
	const __u32 *d;

	__builtin_memset(k, 0, sizeof(*k));
	if (sock_cookies) {
		k->cookie = tt_sock_id((void *)skc);
		return;
	}
	k->netns = skc->skc_net.net->ns.inum;
	k->sport = sport;
	k->dport = bpf_ntohs(skc->skc_dport);
	if (skc->skc_family == AF_INET6) {
		__builtin_memcpy(k->saddr, &skc->skc_v6_rcv_saddr, sizeof(k->saddr));
		__builtin_memcpy(k->daddr, &skc->skc_v6_daddr, sizeof(k->daddr));
		d = (const __u32 *)k->daddr;
		if ((d[0] | d[1]) || (d[2] && d[2] != bpf_htonl(0xffff)) ||
		    (!d[2] && d[3]))
			return;	/* a true IPv6 peer */
	}
	__builtin_memset(k->saddr, 0, sizeof(k->saddr));
	__builtin_memset(k->daddr, 0, sizeof(k->daddr));
	*(__u32 *)k->saddr = skc->skc_rcv_saddr;
	*(__u32 *)k->daddr = skc->skc_daddr;
}

/* Each socket's life, kept in the socket (state.bpf.c). */
TT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tt_conn_store);
} conns SEC(".maps");

/* Per listener, sized from --max-listeners (state.bpf.c counts handshakes,
 * syscalls.bpf.c accepts).
 */
TT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct tt_listen_key);
	__type(value, struct tt_listen_counts);
} listen_counts SEC(".maps");

/* Count a handshake (accept false) or an accept for the listener whose
 * end this is.
 */
static __always_inline void count_listener(struct tt_listen_key *k, bool accept)
{
	struct tt_listen_counts zero = {}, *c;

	c = bpf_map_lookup_elem(&listen_counts, k);
	if (!c) {
		bpf_map_update_elem(&listen_counts, k, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&listen_counts, k);
		if (!c) {
			count_lost_cause(TT_LOST_LISTEN_COUNT);
			return;
		}
	}
	__sync_fetch_and_add(accept ? &c->accepts : &c->handshakes, 1);
}

/* The kept-life programs are the ones loaded (5.11 on): others may add to
 * a socket's storage. False elsewhere, where every use is dead code.
 */
const volatile bool keep_lives __weak;

/* The shutdown() hooks are attached: a FIN's call can be told. */
const volatile bool shutdown_hooked __weak;

#endif /* COMMON_BPF_H */
