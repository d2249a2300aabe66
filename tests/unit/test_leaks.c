/* CLOSE_WAIT leak detection, fed synthetic records. */
#include "capture.h"
#include "events.h"
#include "harness.h"
#include "leak_stats.h"

#define SEC 1000000000ull

static void server_conn(struct ingest *in, uint64_t cookie, uint64_t t)
{
	struct tt_event e = ev_state(cookie, t, TT_TCP_LISTEN, TT_TCP_SYN_RECV, 0);

	ingest_event(in, &e);
	e = ev_state(cookie, t + 1, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED, 0);
	ingest_event(in, &e);
	e = ev_state(cookie, t + 2, TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT, 0);
	ingest_event(in, &e);
}

static void leak_reported_once_then_resolved(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	struct owner o = { .cookie = 1, .pid = 42, .fd = 7, .comm = "leaky" };
	uint64_t cookies[8];
	struct tt_event e;

	server_conn(in, 1, 1 * SEC);
	CHECK(ingest_leak_candidates(in, 20 * SEC, cookies, 8) == 0);
	CHECK(ingest_leak_candidates(in, 32 * SEC, cookies, 8) == 1);
	CHECK(cookies[0] == 1);
	ingest_report_leak(in, 1, 32 * SEC, &o, 1);
	CHECK(cap.nleaks == 1);
	CHECK(cap.leaks[0].age_ns == 32 * SEC - (1 * SEC + 2));
	CHECK(!cap.leaks[0].lower_bound);
	CHECK(cap.leaks[0].held == 1);
	/* reported once only */
	CHECK(ingest_leak_candidates(in, 40 * SEC, cookies, 8) == 0);
	ingest_report_leak(in, 1, 40 * SEC, &o, 1);
	CHECK(cap.nleaks == 1);
	/* the owner finally closes */
	e = ev_state(1, 50 * SEC, TT_TCP_CLOSE_WAIT, TT_TCP_LAST_ACK, 1);
	ingest_event(in, &e);
	CHECK(cap.nresolved == 1);
	CHECK(cap.resolved[0].age_ns == 50 * SEC - (1 * SEC + 2));
	CHECK(ingest_leak_stats(in)->v[0].pid == 42);
	CHECK(ingest_leak_stats(in)->v[0].now == 0);
	CHECK(ingest_leak_stats(in)->v[0].total == 1);
	/* the owner named by its descriptor, not by the softirq FIN */
	CHECK(conn_table_find(ingest_table(in), 1)->pid == 1234);
	ingest_free(in);
}

static void prompt_close_is_no_leak(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	uint64_t cookies[8];
	struct tt_event e;

	server_conn(in, 2, 1 * SEC);
	e = ev_state(2, 2 * SEC, TT_TCP_CLOSE_WAIT, TT_TCP_LAST_ACK, 1);
	ingest_event(in, &e);
	CHECK(ingest_leak_candidates(in, 100 * SEC, cookies, 8) == 0);
	CHECK(cap.nleaks == 0 && cap.nresolved == 0);
	ingest_free(in);
}

/* Found by the snapshot: the time since the peer's last ACK bounds the age. */
static void preexisting_leak_has_lower_bound(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	struct tt_sock_record r;
	uint64_t cookies[8];

	memset(&r, 0, sizeof(r));
	r.family = AF_INET;
	r.cookie = 9;
	r.state = TT_TCP_CLOSE_WAIT;
	r.rcv_idle_ms = 45000;
	ingest_reconcile(in, &r, 1, 100 * SEC, true);
	CHECK(ingest_leak_candidates(in, 100 * SEC, cookies, 8) == 1);
	ingest_report_leak(in, 9, 100 * SEC, NULL, 0);
	CHECK(cap.nleaks == 1);
	CHECK(cap.leaks[0].age_ns == 45 * SEC);
	CHECK(cap.leaks[0].lower_bound);
	CHECK(cap.leaks[0].nowners == 0);
	ingest_free(in);
}

static void vanished_leak_is_resolved(void)
{
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	struct owner o = { .cookie = 3, .pid = 42, .fd = 9, .comm = "leaky" };

	server_conn(in, 3, 1 * SEC);
	ingest_report_leak(in, 3, 40 * SEC, &o, 1);
	/* its records were lost and the kernel no longer has it */
	ingest_reconcile(in, NULL, 0, 60 * SEC, false);
	CHECK(cap.nresolved == 1);
	CHECK(cap.nhist == 1);
	CHECK(!cap.hist[0].sum.complete);
	ingest_free(in);
}

static void per_process_counts(void)
{
	static struct leak_stats ls;

	memset(&ls, 0, sizeof(ls));
	CHECK(leak_stats_add(&ls, 10, "a") == 1);
	CHECK(leak_stats_add(&ls, 10, "a") == 2);
	CHECK(leak_stats_add(&ls, 11, "b") == 1);
	leak_stats_resolve(&ls, 10);
	CHECK(ls.v[0].now == 1 && ls.v[0].total == 2);
	leak_stats_resolve(&ls, 99);	/* unknown pid: nothing */
	/* full table: a process with no open leak gives up its slot */
	for (uint32_t pid = 100; ls.n < LEAK_STATS_MAX; pid++)
		leak_stats_add(&ls, pid, "x");
	leak_stats_resolve(&ls, 11);
	CHECK(leak_stats_add(&ls, 5000, "new") == 1);
	CHECK(ls.untracked == 0);
}

TEST_LIST(leak_tests) = {
	TEST_ENTRY(leak_reported_once_then_resolved),
	TEST_ENTRY(prompt_close_is_no_leak),
	TEST_ENTRY(preexisting_leak_has_lower_bound),
	TEST_ENTRY(vanished_leak_is_resolved),
	TEST_ENTRY(per_process_counts),
	{ 0 },
};
