/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What a closing socket says, read at its CLOSE by state.bpf.c, and what
 * its data phase said, kept when it sends its FIN (the delivery facts and
 * the data phase also priced alone by tests/bench/prof.bpf.c). hz: the
 * kernel's tick rate (0: not known, and the ACK's age is left out).
 */
#ifndef TT_CLOSE_READ_BPF_H
#define TT_CLOSE_READ_BPF_H

#define TT_ETIMEDOUT 110	/* errno: the same number on every architecture Linux
				 * has BTF for but alpha, mips, parisc, sparc
				 */

/* The close facts of every CLOSE record: bytes, error, and for a timeout
 * which timer gave up and what was outstanding.
 */
static __always_inline void fill_close(struct tt_event *e, const struct sock *sk,
				       const struct tcp_sock *tp, __u32 hz)
{
	const struct inet_connection_sock *icsk = &tp->inet_conn;
	unsigned long flags = sk->__sk_common.skc_flags;

	__builtin_memset(&e->close, 0, sizeof(e->close));
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

/* How the connection delivered, as tcp_get_info() reports it: every field
 * written (no memset), and the chrono times in ticks (TT_D_TICKS), which the
 * tracer turns into ns in userspace.
 */
static __always_inline void fill_delivery(struct tt_delivery *d, const struct sock *sk,
					  const struct tcp_sock *tp)
{
	/* tcp_get_info_chrono_stats(): the running one counts up to now */
	__u32 type = BPF_CORE_READ_BITFIELD(tp, chrono_type);
	/* after an orderly close nothing is in flight and no chrono runs: the
	 * clock is read only when one does
	 */
	__u32 running = type ? (__u32)bpf_jiffies64() - tp->chrono_start : 0;
	__u64 busy = tp->chrono_stat[0], rwnd = tp->chrono_stat[1];
	__u64 sndbuf = tp->chrono_stat[2];

	busy += type == 1 ? running : 0;
	rwnd += type == 2 ? running : 0;
	sndbuf += type == 3 ? running : 0;
	d->flags = TT_D_READ | TT_D_CHRONO | TT_D_TICKS;
	d->pad = 0;
	/* stored scaled (tcp_rtt_estimator()): srtt << 3, mdev << 2 */
	d->srtt_us = tp->srtt_us >> 3;
	d->rttvar_us = tp->mdev_us >> 2;
	d->rtt_min_us = tp->rtt_min.s[0].v;
	d->cwnd = tp->snd_cwnd;
	d->retrans_segs = tp->total_retrans;
	d->dsack_dups = tp->dsack_dups;
	d->reord_seen = tp->reord_seen;
	d->ooo_packets = tp->rcv_ooopack;
	d->bytes_retrans = tp->bytes_retrans;
	d->bytes_sent = tp->bytes_sent;
	d->busy_ns = busy + rwnd + sndbuf;
	d->rwnd_limited_ns = rwnd;
	d->sndbuf_limited_ns = sndbuf;
	d->rcvbuf = sk->sk_rcvbuf;
	d->sndbuf = sk->sk_sndbuf;
	d->data_segs_in = tp->data_segs_in;
	d->data_segs_out = tp->data_segs_out;
	d->rate_delivered = tp->rate_delivered;
	d->rate_interval_us = tp->rate_interval_us;
	d->mss = tp->mss_cache;
	d->probes = tp->inet_conn.icsk_probes_out;
}

/* The data's RTT and last delivery-rate sample, kept as the connection
 * leaves ESTABLISHED or CLOSE_WAIT (our FIN ends the data): the close
 * handshake's samples replace them in tcp_sock by its CLOSE.
 */
static __always_inline void save_data_phase(struct tt_conn_store *st, const struct tcp_sock *tp)
{
	st->data_srtt_us = tp->srtt_us >> 3;
	st->data_rttvar_us = tp->mdev_us >> 2;
	st->data_rate_delivered = tp->rate_delivered;
	st->data_rate_interval_us = tp->rate_interval_us;
}

/* At CLOSE: the data's RTT and rate, where they were kept, stand for the
 * close handshake's.
 */
static __always_inline void apply_data_phase(struct tt_delivery *d,
					     const struct tt_conn_store *st)
{
	if (st->data_srtt_us) {
		/* the RTT of the data, as ss -ti showed it before close() */
		d->srtt_us = st->data_srtt_us;
		d->rttvar_us = st->data_rttvar_us;
		/* the FIN's ACK is a sample too: the data's rate */
		d->rate_delivered = st->data_rate_delivered;
		d->rate_interval_us = st->data_rate_interval_us;
	}
}

#endif
