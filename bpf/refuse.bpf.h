/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A test hook: have the verifier refuse one program, as a stricter kernel
 * might, so the suite can prove each program falls back on its own
 * (TCPTRAIL_BPF_BREAK in userspace sets the bit). With the bit clear the
 * branch is dead at load time and the verifier never sees it.
 */
#ifndef REFUSE_BPF_H
#define REFUSE_BPF_H

const volatile __u64 refuse_mask __weak;

/* Dereferencing a plain number is refused by every verifier. */
#define TT_REFUSE_IF(bit)                                                         \
	do {                                                                      \
		if (refuse_mask & (1ull << (bit)))                                \
			return *(volatile int *)(unsigned long)bpf_get_prandom_u32(); \
	} while (0)

#endif /* REFUSE_BPF_H */
