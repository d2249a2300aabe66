/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The delivery facts of a closing socket, read at its CLOSE by state.bpf.c
 * and priced alone by tests/bench/prof.bpf.c. hz: the kernel's tick rate
 * (0: not known, and the chrono times are left out).
 */
#ifndef TT_DELIVERY_READ_BPF_H
#define TT_DELIVERY_READ_BPF_H

/* How the connection delivered, as tcp_get_info() reports it. */
static __always_inline void fill_delivery(struct tt_delivery *d, const struct sock *sk,
					  const struct tcp_sock *tp, __u32 hz)
{
	__builtin_memset(d, 0, sizeof(*d));
	d->flags = TT_D_READ;
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
	d->rcvbuf = sk->sk_rcvbuf;
	d->sndbuf = sk->sk_sndbuf;
	d->data_segs_in = tp->data_segs_in;
	d->data_segs_out = tp->data_segs_out;
	d->rate_delivered = tp->rate_delivered;
	d->rate_interval_us = tp->rate_interval_us;
	d->mss = tp->mss_cache;
	d->probes = tp->inet_conn.icsk_probes_out;
	if (hz) {
		/* tcp_get_info_chrono_stats(): the running one counts up to now */
		__u32 type = BPF_CORE_READ_BITFIELD(tp, chrono_type);
		__u64 t[3];

		for (int i = 0; i < 3; i++) {
			t[i] = tp->chrono_stat[i];
			if (type == (__u32)i + 1)
				t[i] += (__u32)bpf_jiffies64() - tp->chrono_start;
			t[i] = t[i] * 1000000000ull / hz;
		}
		d->busy_ns = t[0] + t[1] + t[2];
		d->rwnd_limited_ns = t[1];
		d->sndbuf_limited_ns = t[2];
		d->flags |= TT_D_CHRONO;
	}
}

#endif
