/* Where a connection's time went: handshake, accept wait, half-close, which
 * timer gave up; and the latency histogram behind the listener percentiles.
 * Synthetic records whose figures are set here, not computed the code's way.
 */
#include "capture.h"
#include "events.h"
#include "harness.h"
#include "history.h"
#include "latency.h"

#define MS 1000000ull
#define US 1000ull

static void feed(struct ingest *in, const struct tt_event *ev, int n)
{
	for (int i = 0; i < n; i++)
		ingest_event(in, &ev[i]);
	ingest_expire(in, ev[n - 1].ts_ns + 1000 * MS);
}

static struct tt_event ev_estab(uint64_t cookie, uint64_t ts, uint8_t old, uint32_t srtt_us,
				uint32_t retrans, uint64_t synack_us)
{
	struct tt_event e = ev_state(cookie, ts, old, TT_TCP_ESTABLISHED, 0);

	e.estab.srtt_us = srtt_us;
	e.estab.retrans = retrans;
	e.estab.synack_us = synack_us;
	return e;
}

static struct tt_event ev_accept(uint64_t cookie, uint64_t ts, uint32_t pid, const char *comm)
{
	struct tt_event e = ev_state(cookie, ts, TT_TCP_ESTABLISHED, TT_TCP_ESTABLISHED, 1);

	e.type = TT_EV_ACCEPT;
	e.pid = pid;
	strcpy(e.comm, comm);
	return e;
}

static void active_handshake_with_a_lost_syn(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	const struct tt_event ev[] = {
		ev_state(1, 10 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_estab(1, 1013 * MS, TT_TCP_SYN_SENT, 90, 1, 0),
		ev_close(1, 2000 * MS, TT_TCP_ESTABLISHED, 0),
	};
	const struct history_summary *s;

	feed(in, ev, 3);
	s = &cap.hist[0].sum;
	CHECK(s->handshake_ns == 1003 * MS);
	CHECK(s->handshake_retrans == 1);
	CHECK(s->accepted == ACCEPT_UNKNOWN);
	CHECK(s->accept_wait_ns == DURATION_UNKNOWN);
	ingest_free(in);
}

static void passive_handshake_and_accept_wait(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	struct tt_event ev[] = {
		/* no SYN-ACK retransmit: the kernel's first RTT sample */
		ev_state(2, 100 * MS, TT_TCP_LISTEN, TT_TCP_SYN_RECV, 0),
		ev_estab(2, 100 * MS + 5 * US, TT_TCP_SYN_RECV, 250, 0, 0),
		ev_accept(2, 600 * MS + 5 * US, 77, "acceptor"),
		/* a later task's close must not rename the acceptor */
		ev_state(2, 700 * MS, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1, 1),
		ev_state(2, 701 * MS, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2, 0),
		ev_close(2, 702 * MS, TT_TCP_FIN_WAIT2, 0),
		/* one retransmitted SYN-ACK: first SYN-ACK sent at 3 s */
		ev_state(3, 4000 * MS, TT_TCP_LISTEN, TT_TCP_SYN_RECV, 0),
		ev_estab(3, 4000 * MS, TT_TCP_SYN_RECV, 40, 1, 3000 * 1000),
		ev_close(3, 4100 * MS, TT_TCP_ESTABLISHED, 0),
	};
	const struct captured_history *h;

	ev[3].reason = TT_FIN_CALL_CLOSE;
	feed(in, ev, 9);
	CHECK(cap.nhist == 2);
	h = &cap.hist[0];
	CHECK(h->sum.handshake_ns == 250 * US);
	CHECK(h->sum.handshake_retrans == 0);
	CHECK(h->sum.accepted == ACCEPT_YES);
	CHECK(h->sum.accept_wait_ns == 500 * MS);
	CHECK(h->conn.pid == 77 && !strcmp(h->conn.comm, "acceptor"));
	CHECK(h->sum.fin_by == FIN_BY_CLOSE);
	h = &cap.hist[1];
	CHECK(h->sum.fin_by == FIN_BY_UNKNOWN);	/* no FIN_WAIT1 record said which call */
	CHECK(h->sum.handshake_ns == 1000 * MS);
	CHECK(h->sum.handshake_retrans == 1);
	/* closed without an accept and without the never-queued fact */
	CHECK(h->sum.accepted == ACCEPT_UNKNOWN);
	ingest_free(in);
}

static void closed_in_the_queue_was_never_accepted(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	struct tt_event ev[] = {
		ev_state(4, 1 * MS, TT_TCP_LISTEN, TT_TCP_SYN_RECV, 0),
		ev_estab(4, 1 * MS, TT_TCP_SYN_RECV, 30, 0, 0),
		ev_reset(4, 50 * MS, 0, TT_TCP_ESTABLISHED),
		ev_close(4, 50 * MS, TT_TCP_ESTABLISHED, ECONNRESET),
	};

	ev[3].flags |= TT_F_UNACCEPTED;
	feed(in, ev, 4);
	CHECK(cap.hist[0].sum.accepted == ACCEPT_NO);
	CHECK(cap.hist[0].sum.accept_wait_ns == DURATION_UNKNOWN);
	CHECK(cap.hist[0].sum.end == END_RST_RECEIVED);
	ingest_free(in);
}

static void shutdown_then_read(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	struct tt_event ev[] = {
		ev_state(5, 1 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_estab(5, 2 * MS, TT_TCP_SYN_SENT, 30, 0, 0),
		ev_state(5, 10 * MS, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1, 1),
		ev_state(5, 11 * MS, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2, 0),
		ev_close(5, 310 * MS, TT_TCP_FIN_WAIT2, 0),
		/* the peer closed first: our FIN's call says nothing */
		ev_state(6, 1 * MS, TT_TCP_LISTEN, TT_TCP_SYN_RECV, 0),
		ev_estab(6, 1 * MS, TT_TCP_SYN_RECV, 30, 0, 0),
		ev_state(6, 5 * MS, TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT, 0),
		ev_state(6, 6 * MS, TT_TCP_CLOSE_WAIT, TT_TCP_LAST_ACK, 1),
		ev_close(6, 7 * MS, TT_TCP_LAST_ACK, 0),
	};

	ev[2].reason = TT_FIN_CALL_SHUTDOWN;
	ev[8].reason = TT_FIN_CALL_SHUTDOWN;
	feed(in, ev, 10);
	CHECK(cap.nhist == 2);
	for (int i = 0; i < 2; i++) {
		const struct history_summary *s = &cap.hist[i].sum;

		if (cap.hist[i].conn.role == ROLE_ACTIVE) {
			CHECK(s->fin_by == FIN_BY_SHUTDOWN);
			CHECK(s->half_close_ns == 300 * MS);
		} else {
			CHECK(s->fin_by == FIN_BY_UNKNOWN);
			CHECK(s->half_close_ns == DURATION_UNKNOWN);
		}
	}
	ingest_free(in);
}

/* One connection timed out with these facts at its CLOSE. */
static uint8_t timeout_end(uint8_t flags, uint8_t probes, uint8_t rto, int16_t *attempts,
			   uint64_t *ack_age)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	struct tt_event ev[] = {
		ev_state(9, 1 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_estab(9, 2 * MS, TT_TCP_SYN_SENT, 30, 0, 0),
		ev_close(9, 5000 * MS, TT_TCP_ESTABLISHED, ETIMEDOUT),
	};
	uint8_t end;

	ev[2].flags |= flags;
	ev[2].close.probes = probes;
	ev[2].close.rto_retrans = rto;
	ev[2].close.ack_idle_ms = 3000;
	feed(in, ev, 3);
	end = cap.hist[0].sum.end;
	*attempts = cap.hist[0].sum.timeout_attempts;
	*ack_age = cap.hist[0].sum.last_ack_age_ns;
	ingest_free(in);
	return end;
}

static void which_timer_gave_up(void)
{
	int16_t n;
	uint64_t age;

	CHECK(timeout_end(TT_F_UNACKED, 0, 6, &n, &age) == END_RETRANSMIT_TIMEOUT && n == 6);
	CHECK(age == 3000 * MS);
	CHECK(timeout_end(TT_F_KEEPALIVE, 2, 0, &n, &age) == END_KEEPALIVE_TIMEOUT && n == 2);
	/* TCP_USER_TIMEOUT replaces both limits: it decided */
	CHECK(timeout_end(TT_F_USER_TIMEOUT | TT_F_UNACKED, 0, 3, &n, &age) == END_USER_TIMEOUT &&
	      n == 3);
	CHECK(timeout_end(TT_F_USER_TIMEOUT | TT_F_KEEPALIVE, 4, 0, &n, &age) ==
		      END_USER_TIMEOUT && n == 4);
	CHECK(timeout_end(TT_F_UNSENT, 5, 0, &n, &age) == END_ZERO_WINDOW_TIMEOUT && n == 5);
	/* the keepalive timer resets the connection as it gives up: still a
	 * keepalive timeout, not our reset
	 */
	CHECK(timeout_end(TT_F_KEEPALIVE, 3, 0, &n, &age) == END_KEEPALIVE_TIMEOUT);
	/* a recording made before these facts were kept */
	CHECK(timeout_end(0, 0, 0, &n, &age) == END_TIMEOUT && n == -1);
	CHECK(age == DURATION_UNKNOWN);
}

static void keepalive_reset_is_not_an_abort(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	struct tt_event ev[] = {
		ev_state(9, 1 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_estab(9, 2 * MS, TT_TCP_SYN_SENT, 30, 0, 0),
		ev_reset(9, 3000 * MS, 1, TT_TCP_ESTABLISHED),
		ev_close(9, 3000 * MS, TT_TCP_ESTABLISHED, ETIMEDOUT),
	};

	ev[3].flags |= TT_F_KEEPALIVE;
	ev[3].close.probes = 2;
	feed(in, ev, 4);
	CHECK(cap.hist[0].sum.end == END_KEEPALIVE_TIMEOUT);
	ingest_free(in);
}

static void latency_percentiles(void)
{
	struct latency_hist h;
	uint64_t p;

	latency_reset(&h);
	CHECK(latency_quantile(&h, 0.99) == 0);
	for (int i = 1; i <= 100; i++)
		latency_add(&h, (uint64_t)i * MS);	/* 1..100 ms */
	/* never below the true value, at most an eighth of an octave above */
	p = latency_quantile(&h, 0.50);
	CHECK(p >= 50 * MS && p <= 50 * MS * 9 / 8);
	p = latency_quantile(&h, 0.99);
	CHECK(p >= 99 * MS && p <= 100 * MS);	/* capped by the maximum */
	CHECK(latency_quantile(&h, 1.0) == 100 * MS);
	CHECK(h.max_ns == 100 * MS && h.n == 100);
	/* below the first bucket, and past the last */
	latency_reset(&h);
	latency_add(&h, 10);
	CHECK(latency_quantile(&h, 0.5) == 10);
	latency_add(&h, UINT64_MAX / 2);
	CHECK(latency_quantile(&h, 1.0) == UINT64_MAX / 2);
}

static void latency_exposition_buckets(void)
{
	struct latency_series s = { 0 }, t = { 0 };

	latency_series_add(&s, 100 * US);	/* exactly on the first bound: le 0.0001 */
	latency_series_add(&s, 600 * MS);	/* le 1 */
	latency_series_add(&s, 20ull * 1000 * MS);	/* +Inf */
	CHECK(s.bucket[0] == 1);
	CHECK(s.bucket[12] == 1 && latency_bounds_s[12] == 1.0);
	CHECK(s.bucket[LATENCY_BOUNDS] == 1);
	CHECK(s.count == 3);
	latency_series_merge(&t, &s);
	latency_series_merge(&t, &s);
	CHECK(t.count == 6 && t.bucket[0] == 2);
	CHECK(t.sum_s > 41.2 && t.sum_s < 41.21);
}

/* Since format 6 the kernel sends an accept record without its tuple: the
 * wait and the listener's tuple come from the history the cookie names.
 */
static void accept_record_without_tuple(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	struct tt_event syn = ev_state(5, 10 * MS, TT_TCP_LISTEN, TT_TCP_SYN_RECV, 0);
	struct tt_event est = ev_estab(5, 11 * MS, TT_TCP_SYN_RECV, 100, 0, 0);
	struct tt_event acc = ev_accept(5, 41 * MS, 88, "srv"), bare;
	uint64_t wait = 0;

	syn.sport = est.sport = 8443;
	syn.dport = est.dport = 51000;
	ingest_event(in, &syn);
	ingest_event(in, &est);
	acc.family = 0;
	acc.netns = 0;
	acc.sport = acc.dport = 0;
	memset(acc.saddr, 0, sizeof(acc.saddr));
	memset(acc.daddr, 0, sizeof(acc.daddr));
	bare = acc;
	CHECK(ingest_accept_wait(in, &acc, &wait));
	CHECK(wait == 30 * MS);
	CHECK(acc.family == AF_INET && acc.sport == 8443 && acc.dport == 51000);
	CHECK(acc.netns == syn.netns && !memcmp(acc.saddr, syn.saddr, 16));
	/* a cookie nobody tracks: no wait, and the record stays without tuple */
	bare.cookie = 99;
	CHECK(!ingest_accept_wait(in, &bare, &wait));
	CHECK(bare.family == 0 && bare.sport == 0);
	ingest_free(in);
}

TEST_LIST(phase_tests) = {
	TEST_ENTRY(accept_record_without_tuple),
	TEST_ENTRY(active_handshake_with_a_lost_syn),
	TEST_ENTRY(passive_handshake_and_accept_wait),
	TEST_ENTRY(closed_in_the_queue_was_never_accepted),
	TEST_ENTRY(shutdown_then_read),
	TEST_ENTRY(which_timer_gave_up),
	TEST_ENTRY(keepalive_reset_is_not_an_abort),
	TEST_ENTRY(latency_percentiles),
	TEST_ENTRY(latency_exposition_buckets),
	{ 0 },
};
