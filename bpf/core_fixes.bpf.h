/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Every kernel-version difference the BPF side cares about, in one place.
 * Each helper reads through CO-RE so one object loads on every kernel with BTF.
 */
#ifndef CORE_FIXES_BPF_H
#define CORE_FIXES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/* sk_protocol was an 8-bit bitfield until v5.6 (commit bf9765145b85 "sock:
 * Make sk_protocol a 16-bit value"); the probed bitfield read handles both.
 */
static __always_inline __u16 tt_sk_protocol(const struct sock *sk)
{
	return (__u16)BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
}

struct numa_drop_counters___v618 {
	atomic_t drops0;
	atomic_t drops1;
} __attribute__((preserve_access_index));

struct sock___v618 {
	struct numa_drop_counters___v618 *sk_drop_counters;
} __attribute__((preserve_access_index));

/* v6.18 (the series adding "struct numa_drop_counters") lets a socket keep
 * its drops in per-NUMA counters; sk_drops_read() then sums those instead
 * of sk->sk_drops. TCP listeners normally have no such counters.
 */
static __always_inline __u32 tt_sk_drops(const struct sock *sk)
{
	__u32 drops = BPF_CORE_READ(sk, sk_drops.counter);

	if (bpf_core_field_exists(struct sock___v618, sk_drop_counters)) {
		struct numa_drop_counters___v618 *c =
			BPF_CORE_READ((struct sock___v618 *)sk, sk_drop_counters);

		if (c)
			drops = BPF_CORE_READ(c, drops0.counter) +
				BPF_CORE_READ(c, drops1.counter);
	}
	return drops;
}

/* Network namespace inode number: the number `ls -l /proc/PID/ns/net` shows.
 * ns_common.inum exists on every kernel with BTF.
 */
static __always_inline __u32 tt_sk_netns(const struct sock_common *skc)
{
	return BPF_CORE_READ(skc, skc_net.net, ns.inum);
}

/* SKB_DROP_REASON_TCP_LISTEN_OVERFLOW is newer than 6.12 (Debian's 6.1 and
 * 6.12 kernels lack it; 6.18 has it); a local flavour lets this compile
 * against BTF without it, and relocation resolves the running kernel's own
 * value by name. Userspace loads its user only where the value exists.
 */
enum skb_drop_reason___tt {
	SKB_DROP_REASON_TCP_LISTEN_OVERFLOW___tt = 0,
};

static __always_inline bool tt_listen_overflow_exists(void)
{
	return bpf_core_enum_value_exists(enum skb_drop_reason___tt,
					  SKB_DROP_REASON_TCP_LISTEN_OVERFLOW___tt);
}

static __always_inline int tt_listen_overflow_reason(void)
{
	return bpf_core_enum_value(enum skb_drop_reason___tt,
				   SKB_DROP_REASON_TCP_LISTEN_OVERFLOW___tt);
}

/* Socket identity. Tracing and iterator programs may call
 * bpf_get_socket_cookie() only from v5.12; before that (5.10) the verifier
 * rejects it. Userspace probes the kernel and sets sock_cookies; where it is
 * false every socket is named by a keyed permutation of its kernel address
 * instead: unique among live sockets, stable for a socket's life, never
 * revealing the address (sock_id_key is random per run). The branch on
 * sock_cookies is resolved at load, so the verifier never sees the helper
 * call on kernels that lack it.
 */
const volatile bool sock_cookies __weak = true;
const volatile __u64 sock_id_key __weak;

static __always_inline __u64 tt_addr_id(const void *sk)
{
	const void *slot = sk;
	__u64 x = 0;

	/* The verifier allows no arithmetic on a socket pointer but addition:
	 * copy its value out as a plain number.
	 */
	bpf_probe_read_kernel(&x, sizeof(x), &slot);
	x ^= sock_id_key;

	/* splitmix64's finaliser: a bijection, so distinct sockets differ */
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x ? x : 1;	/* 0 means "no socket" in records */
}

/* sk must be a BTF-typed pointer (a tracepoint argument, an iterator's).
 * The cookie the kernel keeps in the socket is read with a plain load; the
 * helper, which assigns one, runs only on a socket not yet named.
 */
static __always_inline __u64 tt_sock_id(void *sk)
{
	__u64 cookie;

	if (!sock_cookies)
		return tt_addr_id(sk);
	cookie = ((struct sock_common *)sk)->skc_cookie.counter;
	return cookie ? cookie : bpf_get_socket_cookie(sk);
}

/* The identity of a socket reached through memory reads (not a BTF pointer),
 * which tcptrail has already named through tt_sock_id(): the kernel keeps the
 * cookie once it is assigned.
 */
static __always_inline __u64 tt_sock_id_read(const struct sock *sk)
{
	if (sock_cookies)
		return BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	return tt_addr_id(sk);
}

/* Before v5.15 (commit 8520e224f547 "bpf, cgroups: Fix cgroup v2 fallback on
 * v1/v2 mixed mode") sock_cgroup_data was a union: val held either a struct
 * cgroup pointer or flags in its low two bits (is_data: net_prio/net_cls data;
 * no_refcnt, since "cgroup: fix cgroup_sk_alloc() for sk_clone_lock()"), in
 * which case, as when it is NULL, sock_cgroup_ptr() names the default
 * hierarchy's root.
 */
struct sock_cgroup_data___old {
	__u64 val;
} __attribute__((preserve_access_index));

/* The cgroup v2 root's id: kernfs gives the root directory id 1. */
#define TT_CGROUP_ROOT_ID 1

/* The cgroup v2 id of the cgroup the socket was created in (an accepted
 * socket inherits its listener's). It lives in the socket itself, so it is
 * right in softirq too, where the current task is a bystander. 0: none
 * (cgroup support compiled out).
 */
/* False on hosts without a cgroup2 hierarchy, where every socket would
 * name the root: userspace attributes by owner there instead.
 */
const volatile bool cgroup_ids __weak = true;

static __always_inline __u64 tt_sk_cgroup(const struct sock *sk)
{
	struct cgroup *cg;

	if (!cgroup_ids)
		return 0;
	if (bpf_core_field_exists(struct sock_cgroup_data___old, val)) {
		__u64 v = BPF_CORE_READ((struct sock_cgroup_data___old *)&sk->sk_cgrp_data, val);

		if ((v & 3) || !v)
			return TT_CGROUP_ROOT_ID;
		cg = (struct cgroup *)v;
	} else if (bpf_core_field_exists(struct sock_cgroup_data, cgroup)) {
		cg = BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
	} else {
		return 0;
	}
	return cg ? BPF_CORE_READ(cg, kn, id) : 0;
}

/* The same through a BTF-typed socket: plain loads where the layout is
 * today's; the union of older kernels holds the pointer as a number.
 */
static __always_inline __u64 tt_sk_cgroup_btf(const struct sock *sk)
{
	struct cgroup *cg;

	if (!cgroup_ids || !bpf_core_field_exists(struct sock_cgroup_data, cgroup) ||
	    bpf_core_field_exists(struct sock_cgroup_data___old, val))
		return tt_sk_cgroup(sk);
	cg = sk->sk_cgrp_data.cgroup;
	return cg ? cg->kn->id : 0;
}

#endif /* CORE_FIXES_BPF_H */
