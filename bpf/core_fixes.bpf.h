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

/* SKB_DROP_REASON_TCP_LISTEN_OVERFLOW appeared in v6.2 (with the drop reasons
 * of tcp_check_req()); a local flavour lets this compile against older BTF,
 * and relocation still resolves the running kernel's own value by name.
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

#endif /* CORE_FIXES_BPF_H */
