/* Ingest: bounded table, loss accounting, snapshot seeding, filters. */
#include <stdlib.h>
#include <string.h>
#include "capture.h"
#include "events.h"
#include "harness.h"

#define MS 1000000ull

static void full_table_evicts_oldest(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 16);

	for (uint64_t c = 1; c <= 20; c++) {
		struct tt_event e = ev_state(c, c * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1);

		ingest_event(in, &e);
	}
	CHECK(conn_table_count(ingest_table(in)) == 16);
	CHECK(ingest_stats(in)->evicted == 4);
	CHECK(cap.nhist == 4);
	/* least recently active first, each marked and not complete */
	for (int i = 0; i < 4; i++) {
		CHECK(cap.hist[i].conn.cookie == (uint64_t)i + 1);
		CHECK(cap.hist[i].conn.flags & CONN_EVICTED);
		CHECK(cap.hist[i].sum.end == END_OPEN);
		CHECK(!cap.hist[i].sum.complete);
	}
	CHECK(conn_table_find(ingest_table(in), 1) == NULL);
	CHECK(conn_table_find(ingest_table(in), 20) != NULL);
	ingest_free(in);
}

static void activity_protects_from_eviction(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 16);
	struct tt_event e;

	for (uint64_t c = 1; c <= 16; c++) {
		e = ev_state(c, c * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1);
		ingest_event(in, &e);
	}
	e = ev_state(1, 17 * MS, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED, 0);
	ingest_event(in, &e);
	e = ev_state(17, 18 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1);
	ingest_event(in, &e);
	CHECK(cap.nhist == 1);
	CHECK(cap.hist[0].conn.cookie == 2);
	CHECK(conn_table_find(ingest_table(in), 1) != NULL);
	ingest_free(in);
}

static void lost_records_taint_histories(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	struct tt_event e;

	for (uint64_t c = 1; c <= 3; c++) {
		e = ev_state(c, c * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1);
		ingest_event(in, &e);
	}
	ingest_mark_lost(in, 2);
	ingest_lost(in, 4 * MS, 5, LOST_RING_FULL);
	CHECK(cap.nlost == 1);
	CHECK(cap.lost_total == 5);
	CHECK(cap.lost_cause == LOST_RING_FULL);
	CHECK(ingest_stats(in)->lost == 5);
	ingest_lost(in, 5 * MS, 2, LOST_KERNEL_SKIPPED);
	CHECK(cap.lost_total == 7 && cap.lost_cause == LOST_KERNEL_SKIPPED);
	CHECK(ingest_stats(in)->lost_by_cause[LOST_RING_FULL] == 5);
	CHECK(ingest_stats(in)->lost_by_cause[LOST_KERNEL_SKIPPED] == 2);
	for (uint64_t c = 1; c <= 3; c++) {
		e = ev_close(c, 10 * MS, TT_TCP_SYN_SENT, ETIMEDOUT);
		ingest_event(in, &e);
	}
	ingest_flush(in);
	CHECK(cap.nhist == 3);
	CHECK(cap.hist[0].sum.complete);
	CHECK(!cap.hist[1].sum.complete);
	CHECK(cap.hist[1].conn.flags & CONN_LOST);
	CHECK(cap.hist[2].sum.complete);

	/* unattributed losses taint everything open */
	e = ev_state(9, 20 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1);
	ingest_event(in, &e);
	ingest_mark_all_lost(in);
	e = ev_close(9, 21 * MS, TT_TCP_SYN_SENT, ETIMEDOUT);
	ingest_event(in, &e);
	ingest_flush(in);
	CHECK(cap.nhist == 4);
	CHECK(!cap.hist[3].sum.complete);
	ingest_free(in);
}

static struct tt_sock_record sock_rec(uint64_t cookie, uint8_t state)
{
	struct tt_sock_record r;

	memset(&r, 0, sizeof(r));
	r.family = AF_INET;
	r.cookie = cookie;
	r.state = state;
	r.sport = 40000;
	r.dport = 8080;
	return r;
}

#define SEC 1000000000ull

static void seed_preexisting_sockets(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	struct tt_event e = ev_state(53, 1 * SEC, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1);
	const struct tt_sock_record recs[] = {
		sock_rec(50, TT_TCP_ESTABLISHED),
		sock_rec(51, TT_TCP_TIME_WAIT),	/* minisockets are not followed */
		sock_rec(52, TT_TCP_CLOSE_WAIT),
		sock_rec(53, TT_TCP_SYN_SENT),	/* already known from a record */
	};

	ingest_event(in, &e);
	ingest_reconcile(in, recs, 4, 2 * SEC, true);
	CHECK(ingest_stats(in)->seeded == 2);
	CHECK(conn_table_find(ingest_table(in), 53)->nstates == 1);
	CHECK(!(conn_table_find(ingest_table(in), 50)->flags & CONN_LOST));

	e = ev_state(50, 5 * SEC, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1, 1);
	ingest_event(in, &e);
	e = ev_state(50, 6 * SEC, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2, 0);
	ingest_event(in, &e);
	e = ev_close(50, 7 * SEC, TT_TCP_FIN_WAIT2, 0);
	ingest_event(in, &e);
	e = ev_state(52, 8 * SEC, TT_TCP_CLOSE_WAIT, TT_TCP_LAST_ACK, 1);
	ingest_event(in, &e);
	e = ev_close(52, 9 * SEC, TT_TCP_LAST_ACK, 0);
	ingest_event(in, &e);
	ingest_flush(in);
	CHECK(cap.nhist == 2);
	CHECK_STR(capture_states(&cap.hist[0]), "ESTABLISHED FIN_WAIT1 FIN_WAIT2 TIME_WAIT");
	CHECK(!cap.hist[0].sum.complete);
	CHECK(cap.hist[0].conn.flags & CONN_PREEXISTING);
	CHECK(!(cap.hist[0].conn.flags & CONN_GAP));
	CHECK(cap.hist[1].sum.closer == CLOSER_PEER);
	ingest_free(in);
}

/* Records were lost: a socket whose CLOSE never came must still end. */
static void reconcile_finishes_vanished_sockets(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	const uint8_t est = TT_TCP_ESTABLISHED;
	struct tt_event ev[] = {
		/* 1: closed for good, CLOSE lost */
		ev_state(1, 1 * SEC, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_state(1, 1 * SEC + 1, TT_TCP_SYN_SENT, est, 0),
		/* 2: went to TIME_WAIT, FIN records lost */
		ev_state(2, 1 * SEC, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_state(2, 1 * SEC + 1, TT_TCP_SYN_SENT, est, 0),
		/* 3: still open, in the kernel's list */
		ev_state(3, 1 * SEC, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_state(3, 1 * SEC + 1, TT_TCP_SYN_SENT, est, 0),
		/* 4: born just before the snapshot: too fresh to judge */
		ev_state(4, 10 * SEC - 1000, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
	};
	const struct tt_sock_record recs[] = {
		sock_rec(2, TT_TCP_TIME_WAIT),
		sock_rec(3, est),
		sock_rec(7, est),	/* all of its records lost */
	};

	for (size_t i = 0; i < sizeof(ev) / sizeof(ev[0]); i++)
		ingest_event(in, &ev[i]);
	ingest_reconcile(in, recs, 3, 10 * SEC, false);
	CHECK(cap.nhist == 2);
	CHECK(ingest_stats(in)->vanished == 2);
	for (int i = 0; i < cap.nhist; i++) {
		const struct captured_history *h = &cap.hist[i];

		CHECK(!h->sum.complete);
		CHECK(h->conn.flags & CONN_VANISHED);
		if (h->conn.cookie == 1) {
			CHECK(h->sum.end == END_UNKNOWN);
			CHECK_STR(capture_states(h), "SYN_SENT ESTABLISHED");
		} else {
			CHECK(h->conn.cookie == 2);
			CHECK(h->sum.end == END_ORDERLY);
			CHECK(h->sum.closer == CLOSER_LOCAL);
			CHECK_STR(capture_states(h), "SYN_SENT ESTABLISHED TIME_WAIT");
		}
	}
	CHECK(conn_table_find(ingest_table(in), 3) != NULL);
	CHECK(conn_table_find(ingest_table(in), 4) != NULL);
	CHECK(conn_table_find(ingest_table(in), 7)->flags & CONN_LOST);
	/* the sweep marks are cleared for the next round */
	CHECK(!(conn_table_find(ingest_table(in), 3)->flags & CONN_SWEEP));
	ingest_free(in);
}

static void filter_applies_to_output_only(void)
{
	struct capture cap;
	struct filter f;
	struct ingest_config cfg = {
		.max_conns = 64, .close_grace_ns = 0, .states = true, .histories = true,
		.filter = &f,
	};
	struct sink sink = { &capture_ops, &cap };
	struct ingest *in;
	char err[128];
	struct tt_event e;

	memset(&cap, 0, sizeof(cap));
	filter_init(&f);
	CHECK(filter_parse_ports(&f.rports, "9000", err, sizeof(err)) == 0);
	in = ingest_new(&cfg, &sink);
	e = ev_state(1, 1 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1);
	ingest_event(in, &e);
	e = ev_close(1, 2 * MS, TT_TCP_SYN_SENT, ECONNREFUSED);
	ingest_event(in, &e);
	e = ev_state(2, 3 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1);
	e.dport = 9000;
	ingest_event(in, &e);
	e = ev_close(2, 4 * MS, TT_TCP_SYN_SENT, ECONNREFUSED);
	e.dport = 9000;
	ingest_event(in, &e);
	ingest_flush(in);
	CHECK(cap.nstates == 2);
	CHECK(cap.nhist == 1);
	CHECK(cap.hist[0].conn.rport == 9000);
	CHECK(ingest_stats(in)->histories == 2);
	ingest_free(in);
}

/* Over many lives the table returns to empty: nothing leaks. */
static void table_drains_after_churn(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 1024);
	uint64_t ts = 0;

	for (uint64_t c = 1; c <= 100000; c++) {
		struct tt_event e = ev_state(c, ts += 1000, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1);

		ingest_event(in, &e);
		e = ev_state(c, ts += 1000, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED, 0);
		ingest_event(in, &e);
		e = ev_close(c, ts += 1000, TT_TCP_ESTABLISHED, ECONNRESET);
		ingest_event(in, &e);
		ingest_expire(in, ts);
	}
	ingest_flush(in);
	CHECK(conn_table_count(ingest_table(in)) == 0);
	CHECK(ingest_stats(in)->histories == 100000);
	CHECK(ingest_stats(in)->evicted == 0);
	ingest_free(in);
}

/* A transition that came twice (the kernel's catcher lost its mark): the
 * repeat is dropped and counted; a self-transition is no change; a new life
 * from CLOSE is never taken for a repeat.
 */
static void repeated_transitions_dropped(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 16);
	static const uint8_t seq[][2] = {
		{ TT_TCP_CLOSE, TT_TCP_SYN_SENT }, { TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED },
		{ TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED }, { TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1 },
		{ TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT1 }, { TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2 },
		{ TT_TCP_FIN_WAIT2, TT_TCP_CLOSE }, { TT_TCP_FIN_WAIT2, TT_TCP_CLOSE },
	};
	struct tt_event e;

	for (uint64_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		e = ev_state(7, (i + 1) * MS, seq[i][0], seq[i][1], i == 0);
		ingest_event(in, &e);
	}
	CHECK(ingest_stats(in)->repeated == 2);
	CHECK(cap.nstates == 5);
	/* the same socket starts again from CLOSE: a new life, not a repeat */
	e = ev_state(7, 20 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1);
	ingest_event(in, &e);
	CHECK(ingest_stats(in)->repeated == 2);
	ingest_flush(in);
	CHECK(cap.nhist == 1 && cap.hist[0].sum.complete);
	CHECK(!strcmp(capture_states(&cap.hist[0]),
		      "SYN_SENT ESTABLISHED FIN_WAIT1 FIN_WAIT2 TIME_WAIT"));
	CHECK(conn_table_find(ingest_table(in), 7) != NULL);	/* the new life, open */
	ingest_free(in);
}

TEST_LIST(ingest_tests) = {
	TEST_ENTRY(repeated_transitions_dropped),
	TEST_ENTRY(full_table_evicts_oldest),
	TEST_ENTRY(activity_protects_from_eviction),
	TEST_ENTRY(lost_records_taint_histories),
	TEST_ENTRY(seed_preexisting_sockets),
	TEST_ENTRY(reconcile_finishes_vanished_sockets),
	TEST_ENTRY(filter_applies_to_output_only),
	TEST_ENTRY(table_drains_after_churn),
	{ 0 },
};
