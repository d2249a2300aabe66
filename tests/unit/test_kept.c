/* A life kept by the kernel (one TT_EV_HISTORY record at CLOSE) must give
 * the very history its transitions give when userspace rebuilds it. The
 * oracle is the per-transition path; the record is made the way
 * bpf/state.bpf.c makes it (keep(), a model of keep_state()).
 */
#include "capture.h"
#include "events.h"
#include "harness.h"
#include "history.h"
#include "tcp_names.h"

#define MS 1000000ull
#define TRACE_START (1 * MS)

/* What state.bpf.c's keep_state() and send_history() make of a sequence
 * of transitions ending in CLOSE (the last event), with the accept (ts 0:
 * none) and resets the other programs mark.
 */
static struct tt_history keep(const struct tt_event *ev, int n, const struct tt_accept_info *acc,
			      uint16_t rst_flags)
{
	struct tt_history h;
	struct tt_conn_store *st = &h.st;

	memset(&h, 0, sizeof(h));
	for (int i = 0; i < n - 1; i++) {
		const struct tt_event *e = &ev[i];
		bool birth = (e->newstate == TT_TCP_SYN_SENT && e->oldstate == TT_TCP_CLOSE) ||
			     (e->newstate == TT_TCP_SYN_RECV && (e->oldstate == TT_TCP_LISTEN ||
								   e->oldstate == TT_TCP_CLOSE));
		uint8_t slot;

		if (!st->nstates && !birth) {
			st->flags |= TT_H_PREEXISTING;
			st->states[0] = e->oldstate;
			st->entered[0] = TRACE_START;
			st->nstates = 1;
		} else if (st->nstates && st->states[st->nstates - 1] != e->oldstate) {
			st->flags |= TT_H_GAP;
		}
		if (e->flags & TT_F_OWNER_CTX) {
			st->owner_pid = e->pid;
			memcpy(st->owner_comm, e->comm, sizeof(st->owner_comm));
			st->flags |= TT_H_OWNER_SEEN;
		}
		if (e->newstate == TT_TCP_ESTABLISHED && !(st->flags & TT_H_PREEXISTING)) {
			st->synack_us = e->estab.synack_us;
			st->hs_srtt_us = e->estab.srtt_us;
			st->hs_retrans = e->estab.retrans;
			st->flags |= TT_H_HS_SEEN;
		} else if (e->newstate == TT_TCP_FIN_WAIT1 && (e->flags & TT_F_OWNER_CTX)) {
			st->fin_call = (uint8_t)e->reason;
			st->flags |= TT_H_FIN_CALL;
		}
		slot = st->nstates;
		if (slot >= TT_HIST_STATES) {
			st->flags |= TT_H_TRUNCATED;
			slot = TT_HIST_STATES - 1;
		}
		st->states[slot] = e->newstate;
		st->entered[slot] = e->ts_ns;
		st->nstates = slot + 1;
	}
	st->flags |= rst_flags;
	h.ev = ev[n - 1];
	h.ev.type = TT_EV_HISTORY;
	if (acc)
		h.acc = *acc;
	return h;
}

/* Both ways, then compare what a reader would see. */
static void same_history(const struct tt_event *ev, int n, const struct tt_event *extra,
			 int nextra, const struct tt_accept_info *acc, uint16_t rst_flags)
{
	struct capture a, b;
	struct ingest *ia = capture_ingest(&a, 64), *ib = capture_ingest(&b, 64);
	struct tt_history h = keep(ev, n, acc, rst_flags);
	const struct history_summary *x, *y;
	const struct conn *ca, *cb;

	ingest_set_recorded(ib, true, true);
	for (int i = 0; i < n; i++) {
		/* the accept record, in order, on the per-transition way */
		if (acc && acc->ts_ns && (i == n - 1 || ev[i].ts_ns > acc->ts_ns) &&
		    (i == 0 || ev[i - 1].ts_ns <= acc->ts_ns)) {
			struct tt_event e = ev_state(ev[0].cookie, acc->ts_ns, 0, 0, 1);

			e.type = TT_EV_ACCEPT;
			e.pid = acc->pid;
			memcpy(e.comm, acc->comm, sizeof(e.comm));
			ingest_event(ia, &e);
		}
		ingest_event(ia, &ev[i]);
	}
	ingest_event(ib, &h.ev);
	for (int i = 0; i < nextra; i++) {
		ingest_event(ia, &extra[i]);
		ingest_event(ib, &extra[i]);
	}
	ingest_flush(ia);
	ingest_flush(ib);
	CHECK(a.nhist == 1 && b.nhist == 1);
	if (a.nhist != 1 || b.nhist != 1)
		goto done;
	x = &a.hist[0].sum;
	y = &b.hist[0].sum;
	ca = &a.hist[0].conn;
	cb = &b.hist[0].conn;
	CHECK_STR(capture_states(&a.hist[0]), capture_states(&b.hist[0]));
	CHECK(!memcmp(x->durations_ns, y->durations_ns, sizeof(x->durations_ns)));
	CHECK(x->start_ns == y->start_ns && x->end_ns == y->end_ns);
	CHECK(x->end == y->end && x->closer == y->closer && x->tw_inferred == y->tw_inferred);
	CHECK(x->complete == y->complete);
	CHECK(x->handshake_ns == y->handshake_ns && x->handshake_retrans == y->handshake_retrans);
	CHECK(x->accepted == y->accepted && x->accept_wait_ns == y->accept_wait_ns);
	CHECK(x->fin_by == y->fin_by && x->half_close_ns == y->half_close_ns);
	CHECK(x->last_ack_age_ns == y->last_ack_age_ns &&
	      x->timeout_attempts == y->timeout_attempts);
	CHECK(ca->role == cb->role && ca->pid == cb->pid && !strcmp(ca->comm, cb->comm));
	CHECK(ca->lport == cb->lport && ca->rport == cb->rport && ca->family == cb->family);
	CHECK((ca->flags & (CONN_PREEXISTING | CONN_GAP | CONN_TRUNCATED | CONN_OWNER_SEEN)) ==
	      (cb->flags & (CONN_PREEXISTING | CONN_GAP | CONN_TRUNCATED | CONN_OWNER_SEEN)));
done:
	ingest_free(ia);
	ingest_free(ib);
}

/* A client that closes first: its five transitions, into ev[0..4]. */
static void client_life(struct tt_event ev[5])
{
	ev[0] = ev_state(1, 2 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1);
	ev[1] = ev_state(1, 3 * MS, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED, 0);
	ev[2] = ev_state(1, 5 * MS, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1, 1);
	ev[3] = ev_state(1, 6 * MS, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2, 0);
	ev[4] = ev_close(1, 9 * MS, TT_TCP_FIN_WAIT2, 0);
}

static void kept_client_closes_first(void)
{
	struct tt_event ev[5];

	client_life(ev);
	ev[2].reason = TT_FIN_CALL_SHUTDOWN;
	same_history(ev, 5, NULL, 0, NULL, 0);
	ev[2].reason = TT_FIN_CALL_CLOSE;
	same_history(ev, 5, NULL, 0, NULL, 0);
}

static void kept_server_accepted_peer_closes(void)
{
	struct tt_accept_info acc = { .ts_ns = 4 * MS, .pid = 777 };
	struct tt_event ev[] = {
		ev_state(2, 2 * MS, TT_TCP_LISTEN, TT_TCP_SYN_RECV, 0),
		ev_state(2, 3 * MS, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED, 0),
		ev_state(2, 6 * MS, TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT, 0),
		ev_state(2, 8 * MS, TT_TCP_CLOSE_WAIT, TT_TCP_LAST_ACK, 1),
		ev_close(2, 9 * MS, TT_TCP_LAST_ACK, 0),
	};

	strcpy(acc.comm, "acceptor");
	ev[1].estab.srtt_us = 40;
	same_history(ev, 5, NULL, 0, &acc, 0);
	/* a retransmitted SYN-ACK: the first one's send time */
	ev[1].estab.retrans = 2;
	ev[1].estab.synack_us = 1000;
	same_history(ev, 5, NULL, 0, &acc, 0);
	/* never accepted */
	ev[4].flags |= TT_F_UNACCEPTED;
	same_history(ev, 5, NULL, 0, NULL, 0);
}

static void kept_resets(void)
{
	const struct tt_event refused[] = {
		ev_state(3, 2 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_close(3, 3 * MS, TT_TCP_SYN_SENT, ECONNREFUSED),
	};
	struct tt_event recv = ev_reset(3, 3 * MS, 0, TT_TCP_SYN_SENT);
	const struct tt_event aborted[] = {
		ev_state(4, 2 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_state(4, 3 * MS, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED, 0),
		ev_close(4, 5 * MS, TT_TCP_ESTABLISHED, 0),
	};
	/* a reset sent right after CLOSE (tcp_disconnect()): joined within
	 * the grace period on both ways
	 */
	struct tt_event sent = ev_reset(4, 5 * MS + 1, 1, TT_TCP_CLOSE);

	same_history(refused, 2, &recv, 1, NULL, TT_H_RST_RECV);
	same_history(aborted, 3, &sent, 1, NULL, 0);
}

static void kept_preexisting_and_gap(void)
{
	const struct tt_event before[] = {
		ev_state(5, 4 * MS, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1, 1),
		ev_state(5, 5 * MS, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2, 0),
		ev_close(5, 6 * MS, TT_TCP_FIN_WAIT2, 0),
	};
	const struct tt_event gap[] = {
		ev_state(6, 2 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_state(6, 3 * MS, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED, 0),
		/* ESTABLISHED -> FIN_WAIT1 skipped */
		ev_state(6, 6 * MS, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2, 0),
		ev_close(6, 9 * MS, TT_TCP_FIN_WAIT2, 0),
	};
	struct capture a, b;
	struct ingest *ia = capture_ingest(&a, 64), *ib = capture_ingest(&b, 64);
	struct tt_history h = keep(before, 3, NULL, 0);

	/* records: the first state begins with the first record seen; the
	 * kernel's: with the trace. Same states, one duration more exact.
	 */
	ingest_set_recorded(ib, true, true);
	for (int i = 0; i < 3; i++)
		ingest_event(ia, &before[i]);
	ingest_event(ib, &h.ev);
	ingest_flush(ia);
	ingest_flush(ib);
	CHECK(a.nhist == 1 && b.nhist == 1);
	CHECK_STR(capture_states(&a.hist[0]), capture_states(&b.hist[0]));
	CHECK(!a.hist[0].sum.complete && !b.hist[0].sum.complete);
	CHECK(b.hist[0].sum.start_ns == TRACE_START);
	CHECK(b.hist[0].conn.flags & CONN_PREEXISTING);
	ingest_free(ia);
	ingest_free(ib);
	same_history(gap, 4, NULL, 0, NULL, 0);
}

static void kept_long_life_truncated(void)
{
	struct tt_event ev[24];
	int n = 0;

	ev[n++] = ev_state(7, 2 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1);
	for (int i = 0; i < 20; i++)
		ev[n++] = ev_state(7, (3 + (uint64_t)i) * MS,
				   i % 2 ? TT_TCP_SYN_RECV : TT_TCP_SYN_SENT,
				   i % 2 ? TT_TCP_SYN_SENT : TT_TCP_SYN_RECV, 0);
	ev[n++] = ev_close(7, 30 * MS, TT_TCP_SYN_SENT, ETIMEDOUT);
	same_history(ev, n, NULL, 0, NULL, 0);
}

/* Hostile counts in a record (a recording from anywhere): nothing is read
 * past the arrays.
 */
static void kept_record_counts_bounded(void)
{
	struct capture b;
	struct ingest *ib = capture_ingest(&b, 64);
	const struct tt_event ev[] = {
		ev_state(8, 2 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_close(8, 3 * MS, TT_TCP_SYN_SENT, 0),
	};
	struct tt_history h = keep(ev, 2, NULL, 0);

	ingest_set_recorded(ib, true, true);
	h.st.nstates = 255;
	ingest_event(ib, &h.ev);
	ingest_flush(ib);
	CHECK(b.nhist == 1);
	CHECK(b.hist[0].sum.nstates <= CONN_MAX_STATES);
	ingest_free(ib);
}

/* The rule at its edges: a third of the busy time and the larger of the
 * two limits, a tenth of the segments.
 */
static void kept_limited_by_edges(void)
{
	struct tt_delivery d = { .flags = TT_D_READ | TT_D_CHRONO, .busy_ns = 1001,
				 .data_segs_out = 100 };

	CHECK(history_limited_by(NULL) == LIMIT_UNKNOWN);
	CHECK(history_limited_by(&d) == LIMIT_NONE);
	d.rwnd_limited_ns = 333;	/* 1001 / 3 = 333.67 */
	CHECK(history_limited_by(&d) == LIMIT_NONE);
	d.rwnd_limited_ns = 334;
	CHECK(history_limited_by(&d) == LIMIT_RECEIVER);
	d.sndbuf_limited_ns = 334;	/* a tie: the receiver's */
	CHECK(history_limited_by(&d) == LIMIT_RECEIVER);
	d.sndbuf_limited_ns = 335;
	CHECK(history_limited_by(&d) == LIMIT_SENDER_BUFFER);
	d.rwnd_limited_ns = 0;
	d.sndbuf_limited_ns = 333;
	CHECK(history_limited_by(&d) == LIMIT_NONE);
	d.sndbuf_limited_ns = 334;
	CHECK(history_limited_by(&d) == LIMIT_SENDER_BUFFER);
	d.busy_ns = 999;		/* exactly a third: 333 */
	d.sndbuf_limited_ns = 333;
	CHECK(history_limited_by(&d) == LIMIT_SENDER_BUFFER);
	d.busy_ns = 1001;
	d.sndbuf_limited_ns = 0;
	d.retrans_segs = 9;
	CHECK(history_limited_by(&d) == LIMIT_NONE);
	d.retrans_segs = 10;
	CHECK(history_limited_by(&d) == LIMIT_LOSS);
	d.data_segs_out = 20;
	d.retrans_segs = 2;
	CHECK(history_limited_by(&d) == LIMIT_NONE);	/* too few to call it loss */
	d.busy_ns = UINT64_MAX;
	d.rwnd_limited_ns = UINT64_MAX / 3 + 1;
	CHECK(history_limited_by(&d) == LIMIT_RECEIVER);
	d.flags = TT_D_READ;	/* the tick rate unknown: times unknown */
	CHECK(history_limited_by(&d) == LIMIT_UNKNOWN);
	d.data_segs_out = 0;
	CHECK(history_limited_by(&d) == LIMIT_NONE);
	d.flags = 0;
	CHECK(history_limited_by(&d) == LIMIT_UNKNOWN);
	CHECK_STR(conn_limit_name(LIMIT_SENDER_BUFFER), "sender_buffer");
	CHECK(conn_limit_name(LIMIT_UNKNOWN) == NULL);
}

/* A live retransmit's names: the UAPI's congestion states, errno names. */
static void kept_retransmit_names(void)
{
	char buf[8];

	CHECK_STR(tcp_ca_state_name(0), "open");
	CHECK_STR(tcp_ca_state_name(4), "loss");
	CHECK_STR(tcp_ca_state_name(5), "unknown");
	CHECK_STR(tcp_ca_state_name(UINT8_MAX), "unknown");
	CHECK_STR(tcp_result_name(0, buf), "sent");
	CHECK_STR(tcp_result_name(16, buf), "EBUSY");	/* TSQ: the skb still queued */
	CHECK_STR(tcp_result_name(UINT16_MAX, buf), "E65535");
	CHECK_STR(tcp_result_name(9999, buf), "E9999");
}

/* A life an older tcptrail kept with a state twice (close() after
 * shutdown() fires FIN_WAIT2 -> FIN_WAIT2, which it appended): the repeat
 * is left out and counted, the history is the per-transition way's, and
 * the state's time runs from its first entry.
 */
static void kept_repeat_left_out(void)
{
	struct tt_event ev[6];
	struct tt_history h;
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 16);

	client_life(ev);
	ev[5] = ev[4];	/* the close stays last; the repeat comes before it */
	ev[4] = ev_state(1, 7 * MS, TT_TCP_FIN_WAIT2, TT_TCP_FIN_WAIT2, 1);
	h = keep(ev, 6, NULL, 0);

	CHECK(h.st.nstates == 5);	/* the model keeps it, as the old kernel did */
	same_history(ev, 6, NULL, 0, NULL, 0);
	ingest_set_recorded(in, true, true);
	ingest_event(in, &h.ev);
	ingest_flush(in);
	CHECK(ingest_stats(in)->repeated == 1);
	CHECK(cap.nhist == 1);
	if (cap.nhist == 1) {
		CHECK_STR(capture_states(&cap.hist[0]),
			  "SYN_SENT ESTABLISHED FIN_WAIT1 FIN_WAIT2 TIME_WAIT");
		CHECK(cap.hist[0].sum.durations_ns[3] == 3 * MS);	/* FIN_WAIT2, from 6 ms */
	}
	ingest_free(in);
}

TEST_LIST(kept_tests) = {
	TEST_ENTRY(kept_repeat_left_out),
	TEST_ENTRY(kept_retransmit_names),
	TEST_ENTRY(kept_limited_by_edges),
	TEST_ENTRY(kept_client_closes_first),
	TEST_ENTRY(kept_server_accepted_peer_closes),
	TEST_ENTRY(kept_resets),
	TEST_ENTRY(kept_preexisting_and_gap),
	TEST_ENTRY(kept_long_life_truncated),
	TEST_ENTRY(kept_record_counts_bounded),
	{ 0 },
};
