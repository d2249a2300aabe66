/* History reconstruction, fed synthetic kernel record sequences. */
#include "capture.h"
#include "events.h"
#include "harness.h"
#include "history.h"

#define MS 1000000ull

/* Feed records in order, then let every grace period run out. */
static void feed(struct ingest *in, const struct tt_event *ev, int n)
{
	for (int i = 0; i < n; i++)
		ingest_event(in, &ev[i]);
	ingest_expire(in, ev[n - 1].ts_ns + 1000 * MS);
}

static void client_closes_first(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	const struct tt_event ev[] = {
		ev_state(1, 1 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_state(1, 2 * MS, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED, 0),
		ev_state(1, 5 * MS, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1, 1),
		ev_state(1, 6 * MS, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2, 0),
		ev_close(1, 9 * MS, TT_TCP_FIN_WAIT2, 0),
	};
	const struct history_summary *s;

	feed(in, ev, 5);
	CHECK(cap.nhist == 1);
	s = &cap.hist[0].sum;
	CHECK_STR(capture_states(&cap.hist[0]),
		  "SYN_SENT ESTABLISHED FIN_WAIT1 FIN_WAIT2 TIME_WAIT");
	CHECK(s->tw_inferred);
	CHECK(s->end == END_ORDERLY);
	CHECK(s->closer == CLOSER_LOCAL);
	CHECK(s->complete);
	CHECK(cap.hist[0].conn.role == ROLE_ACTIVE);
	CHECK(s->durations_ns[0] == 1 * MS);
	CHECK(s->durations_ns[1] == 3 * MS);
	CHECK(s->durations_ns[3] == 3 * MS);
	CHECK(s->durations_ns[4] == DURATION_UNKNOWN);
	CHECK(s->end_ns - s->start_ns == 8 * MS);
	/* pid comes only from records in the owner's context */
	CHECK(cap.hist[0].conn.flags & CONN_OWNER_SEEN);
	CHECK(cap.hist[0].conn.pid == 1234);
	CHECK(cap.nstates == 5);
	ingest_free(in);
}

static void server_sees_peer_close(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	const struct tt_event ev[] = {
		ev_state(2, 1 * MS, TT_TCP_LISTEN, TT_TCP_SYN_RECV, 0),
		ev_state(2, 2 * MS, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED, 0),
		ev_state(2, 3 * MS, TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT, 0),
		ev_state(2, 4 * MS, TT_TCP_CLOSE_WAIT, TT_TCP_LAST_ACK, 1),
		ev_close(2, 5 * MS, TT_TCP_LAST_ACK, 0),
	};
	const struct history_summary *s;

	feed(in, ev, 5);
	CHECK(cap.nhist == 1);
	s = &cap.hist[0].sum;
	CHECK_STR(capture_states(&cap.hist[0]),
		  "SYN_RECV ESTABLISHED CLOSE_WAIT LAST_ACK CLOSE");
	CHECK(!s->tw_inferred);
	CHECK(s->end == END_ORDERLY);
	CHECK(s->closer == CLOSER_PEER);
	CHECK(cap.hist[0].conn.role == ROLE_PASSIVE);
	CHECK(s->complete);
	ingest_free(in);
}

static void no_owner_from_softirq(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	const struct tt_event ev[] = {
		ev_state(3, 1 * MS, TT_TCP_LISTEN, TT_TCP_SYN_RECV, 0),
		ev_state(3, 2 * MS, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED, 0),
		ev_reset(3, 3 * MS, 0, TT_TCP_ESTABLISHED),
		ev_close(3, 3 * MS, TT_TCP_ESTABLISHED, ECONNRESET),
	};

	feed(in, ev, 4);
	CHECK(cap.nhist == 1);
	CHECK(!(cap.hist[0].conn.flags & CONN_OWNER_SEEN));
	CHECK(cap.hist[0].sum.end == END_RST_RECEIVED);
	CHECK(cap.hist[0].sum.closer == CLOSER_PEER);
	ingest_free(in);
}

static void simultaneous_close(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	const struct tt_event ev[] = {
		ev_state(4, 1 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_state(4, 2 * MS, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED, 0),
		ev_state(4, 3 * MS, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1, 1),
		ev_state(4, 4 * MS, TT_TCP_FIN_WAIT1, TT_TCP_CLOSING, 0),
		ev_close(4, 5 * MS, TT_TCP_CLOSING, 0),
	};

	feed(in, ev, 5);
	CHECK(cap.nhist == 1);
	CHECK_STR(capture_states(&cap.hist[0]),
		  "SYN_SENT ESTABLISHED FIN_WAIT1 CLOSING TIME_WAIT");
	CHECK(cap.hist[0].sum.closer == CLOSER_SIMULTANEOUS);
	CHECK(cap.hist[0].sum.end == END_ORDERLY);
	CHECK(cap.hist[0].sum.tw_inferred);
	ingest_free(in);
}

/* SO_LINGER {1, 0}: tcp_disconnect() sets CLOSE before it sends the reset. */
static void reset_after_close_within_grace(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	const struct tt_event ev[] = {
		ev_state(5, 1 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_state(5, 2 * MS, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED, 0),
		ev_close(5, 3 * MS, TT_TCP_ESTABLISHED, 0),
		ev_reset(5, 3 * MS + 1000, 1, TT_TCP_CLOSE),
	};

	for (int i = 0; i < 3; i++)
		ingest_event(in, &ev[i]);
	/* still inside the grace period: nothing finished yet */
	ingest_expire(in, 3 * MS + 5 * MS);
	CHECK(cap.nhist == 0);
	ingest_event(in, &ev[3]);
	ingest_expire(in, 3 * MS + 10 * MS);
	CHECK(cap.nhist == 1);
	CHECK(cap.hist[0].sum.end == END_RST_SENT);
	CHECK(cap.hist[0].sum.closer == CLOSER_LOCAL);
	CHECK_STR(capture_states(&cap.hist[0]), "SYN_SENT ESTABLISHED CLOSE");
	CHECK(cap.nevents == 1);
	ingest_free(in);
}

static void refused_and_timeout(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	const struct tt_event ev[] = {
		ev_state(6, 1 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_reset(6, 2 * MS, 0, TT_TCP_SYN_SENT),
		ev_close(6, 2 * MS, TT_TCP_SYN_SENT, ECONNREFUSED),
		ev_state(7, 3 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_close(7, 3003 * MS, TT_TCP_SYN_SENT, ETIMEDOUT),
	};

	feed(in, ev, 5);
	CHECK(cap.nhist == 2);
	CHECK(cap.hist[0].sum.end == END_REFUSED);
	CHECK(cap.hist[0].sum.closer == CLOSER_PEER);
	CHECK_STR(capture_states(&cap.hist[0]), "SYN_SENT CLOSE");
	CHECK(cap.hist[1].sum.end == END_HANDSHAKE_TIMEOUT);
	CHECK(cap.hist[1].sum.closer == CLOSER_NONE);
	CHECK(cap.hist[1].sum.durations_ns[0] == 3000 * MS);
	ingest_free(in);
}

/* A connect that reuses a port the peer still holds in CLOSE_WAIT: the
 * peer's old socket answers the SYN with a challenge ACK, the client resets
 * it from SYN_SENT (TCP_INVALID_ACK_SEQUENCE), retransmits its SYN, and
 * the connection opens and ends in order. The reset did not end it.
 */
static void reset_in_syn_sent_is_not_the_end(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	const struct tt_event ev[] = {
		ev_state(8, 1 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_reset(8, 2 * MS, 1, TT_TCP_SYN_SENT),
		ev_state(8, 1001 * MS, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED, 0),
		ev_state(8, 1005 * MS, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1, 1),
		ev_state(8, 1006 * MS, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2, 0),
		ev_close(8, 1009 * MS, TT_TCP_FIN_WAIT2, 0),
		/* a reset sent in ESTABLISHED, then CLOSE: an abort */
		ev_state(9, 2000 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_state(9, 2001 * MS, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED, 0),
		ev_reset(9, 2002 * MS, 1, TT_TCP_ESTABLISHED),
		ev_close(9, 2002 * MS, TT_TCP_ESTABLISHED, 0),
	};

	feed(in, ev, 10);
	CHECK(cap.nhist == 2);
	CHECK(cap.hist[0].sum.end == END_ORDERLY && cap.hist[0].sum.tw_inferred);
	CHECK(!(cap.hist[0].conn.flags & CONN_RST_SENT));
	CHECK(cap.hist[1].sum.end == END_RST_SENT);
	ingest_free(in);
}

/* The same facts where the kernel keeps the life: the reset's state is in
 * the life; a recording made before it was kept (state 0) counts it.
 */
static void kept_reset_in_syn_sent_is_not_the_end(void)
{
	static const uint8_t orderly[] = { TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED,
					   TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2 };
	static const uint8_t abort_[] = { TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED };
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	struct tt_history h[3] = {
		ev_history(10, 1 * MS, orderly, 4, TT_H_RST_SENT, 0),
		ev_history(11, 10 * MS, abort_, 2, TT_H_RST_SENT, 0),
		ev_history(12, 20 * MS, orderly, 4, TT_H_RST_SENT, 0),
	};

	ingest_set_recorded(in, true, false);
	h[0].st.rst_sent_in = TT_TCP_SYN_SENT;
	h[1].st.rst_sent_in = TT_TCP_ESTABLISHED;
	for (int i = 0; i < 3; i++)
		ingest_event(in, &h[i].ev);
	ingest_expire(in, 1000 * MS);
	CHECK(cap.nhist == 3);
	CHECK(cap.hist[0].sum.end == END_ORDERLY && cap.hist[0].sum.tw_inferred);
	CHECK(cap.hist[1].sum.end == END_RST_SENT);
	CHECK(cap.hist[2].sum.end == END_RST_SENT);
	ingest_free(in);
}

/* connect() that found no free local port (EADDRNOTAVAIL): SYN_SENT, then
 * CLOSE, never a port, no error on the socket. Its own ending, closed by
 * nobody; a connect closed while it was connecting (a port, then CLOSE) is
 * not one.
 */
static void no_local_port(void)
{
	static const uint8_t syn_sent[] = { TT_TCP_SYN_SENT };
	struct capture cap, kept;
	struct ingest *in = capture_ingest(&cap, 64), *kin = capture_ingest(&kept, 64);
	struct tt_event ev[] = {
		ev_state(13, 1 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_close(13, 1 * MS + 5000, TT_TCP_SYN_SENT, 0),
		ev_state(14, 2 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_close(14, 3 * MS, TT_TCP_SYN_SENT, 0),
	};
	struct tt_history h = ev_history(15, 5 * MS, syn_sent, 1, 0, 0);

	ev[0].sport = ev[1].sport = ev[2].sport = 0;
	h.ev.sport = 0;
	feed(in, ev, 4);
	ingest_expire(in, 2000 * MS);
	/* the same where the kernel keeps the life */
	ingest_set_recorded(kin, true, false);
	ingest_event(kin, &h.ev);
	ingest_expire(kin, 2000 * MS);
	CHECK(cap.nhist == 2 && kept.nhist == 1);
	CHECK(cap.hist[0].sum.end == END_NO_LOCAL_PORT && cap.hist[0].conn.lport == 0);
	CHECK(cap.hist[0].sum.closer == CLOSER_NONE);
	CHECK_STR(conn_end_name(cap.hist[0].sum.end), "no_local_port");
	CHECK(cap.hist[1].sum.end == END_CLOSED && cap.hist[1].conn.lport == 40000);
	CHECK(kept.hist[0].sum.end == END_NO_LOCAL_PORT && kept.hist[0].sum.closer == CLOSER_NONE);
	ingest_free(kin);
	ingest_free(in);
}

/* The first record seen leaves a state other than CLOSE/LISTEN: the
 * connection was open before tracing began.
 */
static void preexisting_is_incomplete(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	const struct tt_event ev[] = {
		ev_state(8, 1 * MS, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1, 1),
		ev_state(8, 2 * MS, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2, 0),
		ev_close(8, 3 * MS, TT_TCP_FIN_WAIT2, 0),
	};

	feed(in, ev, 3);
	CHECK(cap.nhist == 1);
	CHECK(!cap.hist[0].sum.complete);
	CHECK(cap.hist[0].conn.flags & CONN_PREEXISTING);
	CHECK_STR(capture_states(&cap.hist[0]), "ESTABLISHED FIN_WAIT1 FIN_WAIT2 TIME_WAIT");
	CHECK(cap.hist[0].conn.role == ROLE_UNKNOWN);
	ingest_free(in);
}

static void gap_marks_incomplete(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	const struct tt_event ev[] = {
		ev_state(9, 1 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		/* SYN_SENT -> ESTABLISHED missing */
		ev_state(9, 3 * MS, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1, 1),
		ev_state(9, 4 * MS, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2, 0),
		ev_close(9, 5 * MS, TT_TCP_FIN_WAIT2, 0),
	};

	feed(in, ev, 4);
	CHECK(cap.nhist == 1);
	CHECK(!cap.hist[0].sum.complete);
	CHECK(cap.hist[0].conn.flags & CONN_GAP);
	CHECK(ingest_stats(in)->gaps == 1);
	ingest_free(in);
}

/* connect() refused, then connect() again on the same socket: two lives. */
static void restart_same_socket(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	const struct tt_event ev[] = {
		ev_state(10, 1 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_close(10, 2 * MS, TT_TCP_SYN_SENT, ECONNREFUSED),
		ev_state(10, 3 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_state(10, 4 * MS, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED, 0),
	};

	for (int i = 0; i < 4; i++)
		ingest_event(in, &ev[i]);
	CHECK(cap.nhist == 1);
	CHECK(cap.hist[0].sum.end == END_REFUSED);
	CHECK(conn_table_count(ingest_table(in)) == 1);
	CHECK(conn_table_find(ingest_table(in), 10)->nstates == 2);
	ingest_free(in);
}

static void listener_has_no_history(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	const struct tt_event ev[] = {
		ev_state(11, 1 * MS, TT_TCP_CLOSE, TT_TCP_LISTEN, 1),
		ev_close(11, 2 * MS, TT_TCP_LISTEN, 0),
	};

	feed(in, ev, 2);
	CHECK(cap.nhist == 0);
	CHECK(cap.nstates == 2);
	CHECK(conn_table_count(ingest_table(in)) == 0);
	ingest_free(in);
}

static void long_life_is_truncated(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	struct tt_event e = ev_state(12, 1 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1);

	ingest_event(in, &e);
	/* SYN_SENT <-> SYN_RECV cannot really loop; use it to overflow */
	for (int i = 0; i < 20; i++) {
		e = ev_state(12, (2 + (uint64_t)i) * MS, i % 2 ? TT_TCP_SYN_RECV : TT_TCP_SYN_SENT,
			     i % 2 ? TT_TCP_SYN_SENT : TT_TCP_SYN_RECV, 0);
		ingest_event(in, &e);
	}
	e = ev_close(12, 30 * MS, TT_TCP_SYN_SENT, ETIMEDOUT);
	ingest_event(in, &e);
	ingest_flush(in);
	CHECK(cap.nhist == 1);
	CHECK(cap.hist[0].sum.nstates == CONN_MAX_STATES);
	CHECK(cap.hist[0].sum.states[0] == TT_TCP_SYN_SENT);
	CHECK(cap.hist[0].sum.states[CONN_MAX_STATES - 1] == TT_TCP_CLOSE);
	CHECK(cap.hist[0].conn.flags & CONN_TRUNCATED);
	CHECK(!cap.hist[0].sum.complete);
	ingest_free(in);
}

TEST_LIST(history_tests) = {
	TEST_ENTRY(client_closes_first),
	TEST_ENTRY(server_sees_peer_close),
	TEST_ENTRY(no_owner_from_softirq),
	TEST_ENTRY(simultaneous_close),
	TEST_ENTRY(reset_after_close_within_grace),
	TEST_ENTRY(refused_and_timeout),
	TEST_ENTRY(preexisting_is_incomplete),
	TEST_ENTRY(gap_marks_incomplete),
	TEST_ENTRY(restart_same_socket),
	TEST_ENTRY(listener_has_no_history),
	TEST_ENTRY(long_life_is_truncated),
	TEST_ENTRY(reset_in_syn_sent_is_not_the_end),
	TEST_ENTRY(kept_reset_in_syn_sent_is_not_the_end),
	TEST_ENTRY(no_local_port),
	{ 0 },
};
