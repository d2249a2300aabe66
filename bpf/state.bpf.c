// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* State changes and histories. Where tracing programs may keep storage in a
 * socket (5.11 on), each socket's life is kept there and sent once, whole,
 * at its CLOSE: one record per socket instead of one per transition; the
 * per-transition stream is sent only when asked for (and the entry into
 * CLOSE_WAIT, for leak detection). Elsewhere every transition is a record
 * and userspace rebuilds the life. This file owns the maps the others
 * share (common.bpf.h).
 */
#define TT_MAPS_OWNER
#include "common.bpf.h"
#include "close_read.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Every transition as a record of its own (the live stream). */
const volatile bool live_states = true;
/* A record when a socket enters CLOSE_WAIT (leak detection), stream or not. */
const volatile bool watch_close_wait = true;
/* Count connects per destination (the ephemeral-port watch). */
const volatile bool count_ports = true;
/* When tracing began (set by userspace just before attaching): a life
 * already under way then began no later.
 */
__u64 trace_start_ns;
/* Ticks per second, measured by userspace (0 until then: ages unknown). */
__u32 hz;

/* A passive child whose LISTEN -> SYN_RECV record waits for its identity.
 * inet_csk_clone_lock() in older kernels (6.1, 6.12) sets the child's state
 * before it copies the request's ports, addresses and cookie, so at that
 * transition the child still looks like its listener. The record is kept
 * here, keyed by the child's address, and sent just before the child's next
 * transition, with its true tuple and id and the original time. Every child
 * makes a next transition (inet_csk_destroy_sock() wants CLOSE), so entries
 * do not linger; a full map is counted (TT_LOST_CHILD_START).
 */
struct child_start {
	__u64 ts_ns;
	__u32 pid;
	__u32 tid;
	__u8 flags;
	char comm[TT_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct child_start);
} child_starts SEC(".maps");

/* Connects holding a local port, per destination; resized from
 * --max-destinations. A destination the map has no room for is counted
 * (TT_LOST_PORT_COUNT) and its connects left out.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct tt_dest_key);
	__type(value, __s64);
} dest_use SEC(".maps");

/* --- the gauge and the identity of a transition ------------------------ */

static __always_inline void count_states(struct tt_nest *n, int oldstate, int newstate)
{
	if (!n)
		return;
	if (oldstate != TT_TCP_CLOSE)
		__sync_fetch_and_add(&n->by_state[oldstate & 15], -1);
	if (newstate != TT_TCP_CLOSE)
		__sync_fetch_and_add(&n->by_state[newstate & 15], 1);
}

/* A transition's mark: the socket's id with the two states in its top
 * byte (ids are counters far below 2^56, or keyed permutations whose top
 * byte is as good as random).
 */
static __always_inline __u64 mark_of(__u64 id, int oldstate, int newstate)
{
	return id ^ ((__u64)((oldstate & 15) << 4 | (newstate & 15)) << 56);
}

/* n->catching as the code nested in it sees it: each store made, in its
 * place (with no helper call between the two stores, the first would
 * otherwise be dead to the compiler).
 */
static __always_inline void set_catching(struct tt_nest *n, __u32 v)
{
	*(volatile __u32 *)&n->catching = v;
}

static __always_inline bool catching(struct tt_nest *n)
{
	return *(volatile __u32 *)&n->catching;
}

/* The ring keeps the marks of the last TT_NEST_MARKS transitions the first
 * program recorded on this CPU. A mark whose catcher run was skipped stays
 * until it is overwritten; a pending one is found as long as fewer than
 * TT_NEST_MARKS transitions come between the two programs (a softirq in
 * between brings a few; one that lands in the catcher's run before it sets
 * n->catching, or after it clears it, brings as many as it handles, each
 * leaving a mark). Past that, kept lives ask the socket (kept_already());
 * records sent one by one leave the repeat to userspace, which drops it
 * and counts it.
 */
static __always_inline void push_mark(struct tt_nest *n, __u64 mark)
{
	__u32 i = n->pushed;

	n->marks[i & (TT_NEST_MARKS - 1)] = mark;
	n->pushed = i + 1;
}

/* Was this transition recorded by the first program? Then its mark is
 * taken. The newest first: without nesting it is the last one pushed.
 * Every mark pushed after it is stale: a first run nested in this
 * catcher's run before it set n->catching, whose own catcher run the
 * kernel skipped (a nested pair that ran both takes its own mark). Left
 * in place, such a mark would pass a later identical transition of the
 * same socket, skipped, for recorded. Those are cleared with it; marks left
 * by a run nested after the catcher cleared n->catching stay until
 * overwritten (docs/internals.md).
 */
static __always_inline bool pop_mark(struct tt_nest *n, __u64 mark)
{
	__u32 top = n->pushed, j;

	for (j = 1; j <= TT_NEST_MARKS; j++)
		if (n->marks[(top - j) & (TT_NEST_MARKS - 1)] == mark)
			break;
	if (j > TT_NEST_MARKS)
		return false;
	for (__u32 k = 1; k <= TT_NEST_MARKS; k++) {
		if (k > j)
			break;
		n->marks[(top - k) & (TT_NEST_MARKS - 1)] = 0;
	}
	return true;
}

/* --- what a transition says ------------------------------------------- */

/* When a retransmitted SYN-ACK's request first sent one (listen.bpf.c),
 * found by the child at its handshake's end.
 */
static __always_inline __u64 take_synack_first(const struct sock_common *skc,
						const struct tcp_sock *tp)
{
	struct synack_key k;
	__u64 *us, v = 0;

	synack_key_of_sock(&k, skc, bpf_ntohs(tp->inet_conn.icsk_inet.inet_sport));
	us = bpf_map_lookup_elem(&synack_first, &k);
	if (us) {
		v = *us;
		bpf_map_delete_elem(&synack_first, &k);
	}
	return v;
}

static __always_inline void fill_estab(struct tt_estab_info *h, struct sock *sk,
				       const struct tcp_sock *tp, int oldstate)
{
	__builtin_memset(h, 0, sizeof(*h));
	/* srtt_us is stored left-shifted by 3 (tcp_rtt_estimator()) */
	h->srtt_us = tp->srtt_us >> 3;
	/* a child starts with its request's num_retrans
	 * (tcp_create_openreq_child()); a client counts its SYNs
	 */
	h->retrans = tp->total_retrans;
	if (oldstate == TT_TCP_SYN_RECV && h->retrans)
		h->synack_us = take_synack_first(&sk->__sk_common, tp);
}

/* Which call sent our FIN: a marker up for this thread, set no longer ago
 * than a shutdown() could take, says shutdown().
 */
#define TT_SHUTDOWN_MARK_NS 1000000000ull

static __always_inline __u8 fin_call(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *since;

	if (!shutdown_hooked)
		return TT_FIN_CALL_UNKNOWN;
	since = bpf_map_lookup_elem(&shutting_down, &tid);
	/* bit 0: the call was SHUT_WR or SHUT_RDWR */
	return since && (*since & 1) && bpf_ktime_get_ns() - *since < TT_SHUTDOWN_MARK_NS
		       ? TT_FIN_CALL_SHUTDOWN
		       : TT_FIN_CALL_CLOSE;
}

/* --- the per-transition record ----------------------------------------- */

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
	if (bpf_map_update_elem(&child_starts, &key, &cs, BPF_ANY))
		count_lost_cause(TT_LOST_CHILD_START);
	return true;
}

static __always_inline void send_child_start(struct sock *sk, const struct tcp_sock *tp,
					     __u64 cookie)
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
		submit_event(e);
	}
	bpf_map_delete_elem(&child_starts, &key);
}

/* One transition as a TT_EV_STATE record (or type, for the watch), at now:
 * the transition's time, the same one its kept life gets.
 */
static __always_inline void emit_state(struct sock *sk, struct tcp_sock *tp, __u64 cookie,
				       int oldstate, int newstate, __u8 type, __u64 now)
{
	struct tt_event *e;

	if (defer_child_start(sk, oldstate, newstate))
		return;
	if (oldstate == TT_TCP_SYN_RECV)
		send_child_start(sk, tp, cookie);
	e = reserve_event(cookie);
	if (!e)
		return;
	fill_header(e, type, cookie);
	e->ts_ns = now;
	fill_tcp_sock(e, sk, tp);
	e->oldstate = oldstate;
	e->newstate = newstate;
	if (newstate == TT_TCP_CLOSE)
		fill_close(e, sk, tp, hz);
	else if (newstate == TT_TCP_ESTABLISHED)
		fill_estab(&e->estab, sk, tp, oldstate);
	else
		__builtin_memset(&e->close, 0, sizeof(e->close));
	if (newstate == TT_TCP_FIN_WAIT1 && shutdown_hooked && sk->sk_lock.owned)
		e->reason = fin_call();
	submit_event(e);
}

/* --- the life kept in the socket --------------------------------------- */

static __always_inline bool begins_life(int oldstate, int newstate)
{
	if (newstate == TT_TCP_SYN_SENT)
		return oldstate == TT_TCP_CLOSE;
	if (newstate == TT_TCP_SYN_RECV)
		return oldstate == TT_TCP_LISTEN || oldstate == TT_TCP_CLOSE ||
		       oldstate == TT_TCP_NEW_SYN_RECV;
	return false;
}

static __always_inline void append_state(struct tt_conn_store *st, int state, __u64 ts)
{
	__u32 i = st->nstates;

	if (i >= TT_HIST_STATES) {
		/* keep the beginning and the latest state */
		st->flags |= TT_H_TRUNCATED;
		i = TT_HIST_STATES - 1;
	}
	/* hidden from the compiler, so that the check the verifier needs
	 * stays a branch
	 */
	barrier_var(i);
	if (i >= TT_HIST_STATES)
		return;
	st->states[i] = state;
	st->entered[i] = ts;
	st->nstates = i + 1;
}

static __always_inline void dest_key_of(struct tt_dest_key *k, const struct sock_common *skc)
{
	k->family = skc->skc_family;
	k->netns = skc->skc_net.net->ns.inum;
	k->rport = bpf_ntohs(skc->skc_dport);
	if (k->family == AF_INET6) {
		__builtin_memcpy(k->laddr, &skc->skc_v6_rcv_saddr, sizeof(k->laddr));
		__builtin_memcpy(k->raddr, &skc->skc_v6_daddr, sizeof(k->raddr));
	} else {
		__builtin_memset(k->laddr, 0, sizeof(k->laddr));
		__builtin_memset(k->raddr, 0, sizeof(k->raddr));
		*(__u32 *)k->laddr = skc->skc_rcv_saddr;
		*(__u32 *)k->raddr = skc->skc_daddr;
	}
}

/* A connect holds a local port from SYN_SENT until CLOSE (TIME_WAIT is
 * counted from its history, in userspace).
 */
static __always_inline bool count_port(const struct sock_common *skc, __s64 delta)
{
	struct tt_dest_key k;
	__s64 one = 1, *n;

	dest_key_of(&k, skc);
	n = bpf_map_lookup_elem(&dest_use, &k);
	if (n) {
		__sync_fetch_and_add(n, delta);
		return true;
	}
	if (delta < 0)
		return false;
	if (!bpf_map_update_elem(&dest_use, &k, &one, BPF_NOEXIST))
		return true;
	/* another CPU inserted it first, or the map is full */
	n = bpf_map_lookup_elem(&dest_use, &k);
	if (n) {
		__sync_fetch_and_add(n, 1);
		return true;
	}
	count_lost_cause(TT_LOST_PORT_COUNT);
	return false;
}

static __always_inline void note_owner(struct tt_conn_store *st, struct sock *sk)
{
	__u32 pid;

	if (!sk->sk_lock.owned)
		return;
	pid = bpf_get_current_pid_tgid() >> 32;
	/* comm once per owner, not per transition */
	if (!(st->flags & TT_H_OWNER_SEEN) || st->owner_pid != pid) {
		st->owner_pid = pid;
		bpf_get_current_comm(st->owner_comm, sizeof(st->owner_comm));
		st->flags |= TT_H_OWNER_SEEN;
	}
}

/* A listener made a child: the child's own end is the listener's (on older
 * kernels still its very identity, see child_starts).
 */
static __always_inline void count_handshake(const struct sock_common *skc,
					    const struct tcp_sock *tp)
{
	struct tt_listen_key k = {};

	k.family = skc->skc_family;
	k.netns = skc->skc_net.net->ns.inum;
	k.lport = bpf_ntohs(tp->inet_conn.icsk_inet.inet_sport);
	if (k.family == AF_INET6)
		__builtin_memcpy(k.laddr, &skc->skc_v6_rcv_saddr, sizeof(k.laddr));
	else
		*(__u32 *)k.laddr = skc->skc_rcv_saddr;
	count_listener(&k, false);
}

/* Keep one transition in the socket's storage. */
static __always_inline void keep_state(struct sock *sk, struct tcp_sock *tp, int oldstate,
				       int newstate, __u64 now)
{
	struct tt_conn_store *st;

	st = bpf_sk_storage_get(&conns, sk, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st) {
		count_lost_cause(TT_LOST_NO_STORAGE);
		return;
	}
	if (st->flags & TT_H_SENT)	/* its catcher run was skipped: a new life */
		__builtin_memset(st, 0, sizeof(*st));
	if (!st->nstates) {
		/* new storage: a life begun now, or one under way before we
		 * looked (its first state began by the trace's start)
		 */
		if (oldstate == TT_TCP_LISTEN && newstate == TT_TCP_SYN_RECV)
			count_handshake(&sk->__sk_common, tp);
		if (!begins_life(oldstate, newstate)) {
			st->flags |= TT_H_PREEXISTING;
			if (oldstate != TT_TCP_CLOSE)
				append_state(st, oldstate, trace_start_ns < now ? trace_start_ns : now);
		} else if (newstate == TT_TCP_SYN_SENT && count_ports &&
			   count_port(&sk->__sk_common, 1)) {
			st->flags |= TT_H_PORT_COUNTED;
		}
	} else {
		__u32 last = st->nstates - 1;

		barrier_var(last);
		if (last < TT_HIST_STATES && st->states[last] != oldstate)
			st->flags |= TT_H_GAP;
	}
	note_owner(st, sk);
	/* the data ends with our FIN (from CLOSE_WAIT: an answer to a half-close) */
	if (oldstate == TT_TCP_ESTABLISHED || oldstate == TT_TCP_CLOSE_WAIT)
		save_data_phase(st, tp);
	if (newstate == TT_TCP_ESTABLISHED && !(st->flags & TT_H_PREEXISTING)) {
		struct tt_estab_info h;

		fill_estab(&h, sk, tp, oldstate);
		st->synack_us = h.synack_us;
		st->hs_srtt_us = h.srtt_us;
		st->hs_retrans = h.retrans;
		st->flags |= TT_H_HS_SEEN;
	} else if (newstate == TT_TCP_FIN_WAIT1 && sk->sk_lock.owned && shutdown_hooked) {
		/* only the owner's own call moves a socket to FIN_WAIT1 */
		st->fin_call = fin_call();
		st->flags |= TT_H_FIN_CALL;
	}
	append_state(st, newstate, now);
}

/* The socket reached CLOSE: send its life, whole. The storage stays, marked
 * sent, for the catcher to see (and free).
 */
static __always_inline void send_history(struct sock *sk, struct tcp_sock *tp, __u64 cookie,
					 int oldstate)
{
	struct tt_conn_store *st = bpf_sk_storage_get(&conns, sk, 0, 0);
	struct tt_accept_info *acc = NULL;
	struct tt_history *h;

	if (!st || st->states[0] == TT_TCP_SYN_RECV || oldstate == TT_TCP_SYN_RECV)
		acc = bpf_map_lookup_elem(&accepts, &cookie);
	if (st && (st->flags & TT_H_PORT_COUNTED))
		count_port(&sk->__sk_common, -1);
	h = reserve_bytes(sizeof(*h), cookie);
	if (h) {
		fill_header(&h->ev, TT_EV_HISTORY, cookie);
		fill_tcp_sock(&h->ev, sk, tp);
		h->ev.oldstate = oldstate;
		h->ev.newstate = TT_TCP_CLOSE;
		fill_close(&h->ev, sk, tp, hz);
		if (st) {
			__builtin_memcpy(&h->st, st, sizeof(h->st));
		} else {
			/* no storage: its whole traced life is this transition */
			__builtin_memset(&h->st, 0, sizeof(h->st));
			if (oldstate != TT_TCP_CLOSE) {
				h->st.flags = TT_H_PREEXISTING;
				h->st.states[0] = oldstate;
				h->st.entered[0] = trace_start_ns;
				h->st.nstates = 1;
			}
		}
		if (acc)
			__builtin_memcpy(&h->acc, acc, sizeof(h->acc));
		else
			__builtin_memset(&h->acc, 0, sizeof(h->acc));
		fill_delivery(&h->dl, sk, tp);
		apply_data_phase(&h->dl, &h->st);
		submit_bytes(h, sizeof(*h));
	}
	if (acc)
		bpf_map_delete_elem(&accepts, &cookie);
	/* a life with no storage (its first change seen was this one) gets
	 * some, to say it was sent should the catcher find no mark
	 */
	if (!st)
		st = bpf_sk_storage_get(&conns, sk, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (st)
		st->flags |= TT_H_SENT;
}

/* A transition the catcher found no mark for, though the first program may
 * have kept it: its mark was overwritten before the catcher ran (see
 * push_mark()). The socket's own storage says: it already ends in the new
 * state, or its life was already sent (send_history() makes storage for a
 * life that had none, to say so).
 */
static __always_inline bool kept_already(struct tt_conn_store *st, int newstate)
{
	__u32 last;

	if (!st)
		return false;	/* no life kept, or no room for one */
	if (newstate == TT_TCP_CLOSE)
		return st->flags & TT_H_SENT;
	if (st->flags & TT_H_SENT)
		return false;
	last = st->nstates - 1;
	barrier_var(last);
	return last < TT_HIST_STATES && st->states[last] == newstate;
}

/* --- the two ways, and their catchers ---------------------------------- */

static __always_inline bool is_listener_change(int oldstate, int newstate)
{
	return newstate == TT_TCP_LISTEN || (oldstate == TT_TCP_LISTEN && newstate == TT_TCP_CLOSE);
}

/* Storage: the life in the socket, records only when asked for. Returns
 * the transition's mark, 0 if it was not TCP's.
 */
static __always_inline __u64 record_kept(struct sock *sk, int oldstate, int newstate,
					 struct tt_nest *n)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	__u64 cookie, now;

	if (!tp)
		return 0;
	cookie = tt_sock_id(sk);
	/* not a change: close() after shutdown() sets the state it is in
	 * (tcp_close_state() maps FIN_WAIT1/2, CLOSING and LAST_ACK to
	 * themselves), and the tracepoint fires all the same. Marked like any
	 * other, for the catcher to take.
	 */
	if (oldstate == newstate)
		return mark_of(cookie, oldstate, newstate);
	/* one clock read: the record and the kept life say the same time */
	now = bpf_ktime_get_ns();
	count_states(n, oldstate, newstate);
	if (live_states)
		emit_state(sk, tp, cookie, oldstate, newstate, TT_EV_STATE, now);
	else if (newstate == TT_TCP_CLOSE_WAIT && watch_close_wait)
		emit_state(sk, tp, cookie, oldstate, newstate, TT_EV_CLOSE_WAIT, now);
	/* listeners have no history: their life is sampled */
	if (!is_listener_change(oldstate, newstate)) {
		if (newstate == TT_TCP_CLOSE)
			send_history(sk, tp, cookie, oldstate);
		else
			keep_state(sk, tp, oldstate, newstate, now);
	}
	return mark_of(cookie, oldstate, newstate);
}

/* Records: every transition, userspace keeps the life. */
static __always_inline __u64 record_sent(struct sock *sk, int oldstate, int newstate,
					 struct tt_nest *n)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	__u64 cookie;

	if (!tp)
		return 0;
	cookie = tt_sock_id(sk);
	if (oldstate == newstate)	/* not a change: see record_kept() */
		return mark_of(cookie, oldstate, newstate);
	count_states(n, oldstate, newstate);
	emit_state(sk, tp, cookie, oldstate, newstate, TT_EV_STATE, bpf_ktime_get_ns());
	return mark_of(cookie, oldstate, newstate);
}

/* Nested state changes. The kernel runs a tracing program at most once at a
 * time per CPU: when a softirq interrupts a run and changes a socket's
 * state, that nested run is skipped and only counted in the program's
 * recursion_misses. So each way has a second program on the same
 * tracepoint, attached after the first (so it runs after it, for every
 * transition): the first leaves a mark for each transition it recorded;
 * the catcher takes the mark, or, finding none, records the transition
 * itself, since the first was skipped. Wherever in the first's run the
 * softirq lands, the transition it brings is recorded once. A softirq that
 * lands in the catcher's run: the first records its transitions and leaves
 * no mark (n->catching), since their catcher runs are the ones skipped.
 * (A stack of four marks, the oldest dropped when full, lost the pending
 * run's own mark to such a softirq, and its transition was recorded twice.)
 * On kernels
 * that re-enter programs (no guard) the nested first run records and marks
 * it as any other. Userspace compares the first's recursion_misses with the
 * catcher's count: the difference is what was lost.
 */
static __always_inline __u64 id_read(struct sock *sk)
{
	return sock_cookies ? ((struct sock_common *)sk)->skc_cookie.counter : tt_addr_id(sk);
}

/* The first program of either way: record, and leave a mark for the
 * catcher, unless a catcher run is under way here (then this run is nested
 * in it, and its own catcher run is the one the kernel skips).
 */
static __always_inline void first_run(struct sock *sk, int oldstate, int newstate, bool kept)
{
	struct tt_nest *n = nest_here();
	__u64 mark = kept ? record_kept(sk, oldstate, newstate, n)
			  : record_sent(sk, oldstate, newstate, n);

	if (n && mark && !catching(n))
		push_mark(n, mark);
}

/* The catcher of either way: take the first's mark, or record the
 * transition the first was skipped for. A listener changes in listen() and
 * close(), never in a softirq: the first is never skipped for it. Where
 * lives are kept, the socket says whether a transition whose mark is gone
 * was kept, and the life sent at CLOSE (by either program) is freed here.
 */
static __always_inline void catcher_run(struct sock *sk, int oldstate, int newstate, bool kept)
{
	struct tt_nest *n = nest_here();
	__u64 id;

	/* a catcher run under way here: this one is nested in it, on a kernel
	 * that re-enters programs, and the first has recorded its transition
	 */
	if (!n || catching(n))
		return;
	set_catching(n, 1);
	id = id_read(sk);
	if (!(id && pop_mark(n, mark_of(id, oldstate, newstate))) &&
	    !is_listener_change(oldstate, newstate) &&
	    !(kept && kept_already(bpf_sk_storage_get(&conns, sk, 0, 0), newstate))) {
		/* counted before the record is out, taken back if it is not:
		 * a reader that drops the record as a repeat (and takes it off
		 * caught) must never find caught not yet raised, or it would
		 * report a loss that is none, for good
		 */
		__sync_fetch_and_add(&n->caught, 1);
		if (!(kept ? record_kept(sk, oldstate, newstate, n)
			   : record_sent(sk, oldstate, newstate, n)))
			__sync_fetch_and_add(&n->caught, (__u64)-1);
	}
	if (kept && newstate == TT_TCP_CLOSE)
		bpf_sk_storage_delete(&conns, sk);
	set_catching(n, 0);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(state_keep, struct sock *sk, int oldstate, int newstate)
{
	TT_REFUSE_IF(0);
	first_run(sk, oldstate, newstate, true);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(state_keep_nest, struct sock *sk, int oldstate, int newstate)
{
	TT_REFUSE_IF(1);
	catcher_run(sk, oldstate, newstate, true);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(state_send, struct sock *sk, int oldstate, int newstate)
{
	TT_REFUSE_IF(2);
	first_run(sk, oldstate, newstate, false);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(state_send_nest, struct sock *sk, int oldstate, int newstate)
{
	TT_REFUSE_IF(3);
	catcher_run(sk, oldstate, newstate, false);
	return 0;
}
