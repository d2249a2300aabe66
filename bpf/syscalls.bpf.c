// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Syscall tracepoints: accept() and accept4() name the task that took a
 * connection from its listener's queue; shutdown() tells which call sent a
 * FIN. Classic tracepoints (no BTF arguments): pointers are read with CO-RE.
 */
#include "common.bpf.h"

#define TT_S_IFMT 00170000
#define TT_S_IFSOCK 0140000

/* The TCP socket behind descriptor fd of the current task, as memory read
 * (not a pointer a helper would take), or NULL.
 */
static __always_inline struct sock *sock_of_fd(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt;
	struct file **fds, *f = NULL;
	struct socket *sock;
	struct sock *sk;

	if (fd < 0)
		return NULL;
	fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || (unsigned long)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), fds + fd) || !f)
		return NULL;
	if ((BPF_CORE_READ(f, f_inode, i_mode) & TT_S_IFMT) != TT_S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(f, private_data);
	sk = sock ? BPF_CORE_READ(sock, sk) : NULL;
	if (!sk || tt_sk_protocol(sk) != IPPROTO_TCP)
		return NULL;
	return sk;
}

/* Count the accept for its listener: the accepted socket's own end. */
static __always_inline void count_accept(const struct sock *sk)
{
	struct tt_listen_key k = {};

	k.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	k.netns = tt_sk_netns(&sk->__sk_common);
	k.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (k.family == AF_INET6)
		BPF_CORE_READ_INTO(&k.laddr, sk, __sk_common.skc_v6_rcv_saddr);
	else
		BPF_CORE_READ_INTO((__u32 *)k.laddr, sk, __sk_common.skc_rcv_saddr);
	count_listener(&k, true);
}

/* accept() returned a socket: where lives are kept, its facts wait in the
 * accepts map for its history; elsewhere they are a record, which
 * userspace folds into the history it keeps.
 */
static __always_inline int record_accept(long fd)
{
	struct sock *sk = sock_of_fd(fd);
	struct tt_event *e;
	__u64 cookie;

	if (!sk)
		return 0;
	/* named by its transitions already: the child's first one runs before
	 * accept() can take it (the listener's queue holds it under its lock)
	 */
	cookie = tt_sock_id_read(sk);
	if (!cookie) {
		count_lost_cause(TT_LOST_UNNAMED_ACCEPT);
		return 0;
	}
	if (keep_lives) {
		struct tt_accept_info a = { .ts_ns = bpf_ktime_get_ns() };

		a.pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(a.comm, sizeof(a.comm));
		bpf_map_update_elem(&accepts, &cookie, &a, BPF_ANY);
		count_accept(sk);
		return 0;
	}
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
	submit_event(e);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	TT_REFUSE_IF(9);
	return record_accept(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	TT_REFUSE_IF(10);
	return record_accept(ctx->ret);
}

#define TT_SHUT_WR 1
#define TT_SHUT_RDWR 2

/* Every shutdown() call has a marker while it runs: when it was entered,
 * with bit 0 set for SHUT_WR or SHUT_RDWR (a FIN may follow). An exit that
 * finds none counts the marker as pushed out of the LRU (its FIN, if any,
 * may read as close()'s).
 */
SEC("tracepoint/syscalls/sys_enter_shutdown")
int shutdown_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	long how = (long)ctx->args[1];
	__u64 mark;

	TT_REFUSE_IF(11);
	mark = (bpf_ktime_get_ns() & ~1ull) | (how == TT_SHUT_WR || how == TT_SHUT_RDWR);
	bpf_map_update_elem(&shutting_down, &tid, &mark, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_shutdown")
int shutdown_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	TT_REFUSE_IF(12);
	if (bpf_map_delete_elem(&shutting_down, &tid))
		count_lost_cause(TT_LOST_SHUTDOWN_MARK);
	return 0;
}
