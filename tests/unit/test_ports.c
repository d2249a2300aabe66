/* The port watch: failed connects found from their histories, TIME_WAIT
 * counted and expired, the kernel's recount, the range and the alert rule.
 */
#include <stdlib.h>
#include <string.h>
#include "capture.h"
#include "events.h"
#include "harness.h"
#include "history.h"
#include "ports.h"

#define SEC 1000000000ull
#define MS 1000000ull

static void alert_rule(void)
{
	/* starts at 80% of the range, or with any failure */
	CHECK(!ports_rule_starts(79, 100, 0));
	CHECK(ports_rule_starts(80, 100, 0));
	CHECK(ports_rule_starts(0, 100, 1));
	CHECK(ports_rule_starts(0, 0, 1));	/* range not known yet */
	CHECK(!ports_rule_starts(1000, 0, 0));
	/* calm below half, with no failure */
	CHECK(ports_rule_calm(49, 100, 0));
	CHECK(!ports_rule_calm(50, 100, 0));
	CHECK(!ports_rule_calm(0, 100, 1));
}

struct seen {
	int starts, clears, gone;
	bool by_failures;	/* the last start's cause */
};

static void on_alert(const struct ports_alert *a, void *arg)
{
	struct seen *s = arg;

	if (a->start) {
		s->starts++;
		s->by_failures = a->d->failed_once;
	} else {
		s->clears++;
		s->gone += a->gone;
	}
}

/* One client connection to 10.0.0.2:80 from cookie, closing first at t
 * (its TIME_WAIT begins then), or failing for want of a port.
 */
static void client(struct ingest *in, uint64_t cookie, uint64_t t, bool fails)
{
	struct tt_event e = ev_state(cookie, t, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1);

	e.sport = 0;
	e.daddr[0] = 10, e.daddr[3] = 2;
	e.saddr[0] = 10, e.saddr[3] = 1;
	e.dport = 80;
	e.netns = 77;
	ingest_event(in, &e);
	if (fails) {
		e.oldstate = TT_TCP_SYN_SENT;
		e.newstate = TT_TCP_CLOSE;
		e.ts_ns = t + 1000;
		ingest_event(in, &e);
		return;
	}
	e.sport = (uint16_t)(40000 + cookie);
	for (uint8_t st = TT_TCP_ESTABLISHED, prev = TT_TCP_SYN_SENT; st;) {
		e.oldstate = prev;
		e.newstate = st;
		e.ts_ns = t + 2000;
		ingest_event(in, &e);
		prev = st;
		st = st == TT_TCP_ESTABLISHED ? TT_TCP_FIN_WAIT1
		     : st == TT_TCP_FIN_WAIT1 ? TT_TCP_FIN_WAIT2
		     : st == TT_TCP_FIN_WAIT2 ? TT_TCP_CLOSE : 0;
	}
}

static struct ingest *tapped(struct ports *p, struct capture *cap)
{
	static struct sink tap;
	struct ingest_config cfg = { .max_conns = 1024, .close_grace_ns = 10 * MS,
				     .histories = true, .tap = &tap };

	tap = (struct sink){ &ports_sink_ops, p };
	memset(cap, 0, sizeof(*cap));
	return ingest_new(&cfg, &(struct sink){ &capture_ops, cap });
}

static void time_wait_failures_and_clear(void)
{
	struct ports_config cfg = { .max_dests = 8, .clear_after_ns = 5 * SEC };
	struct ports *p = ports_new(&cfg);
	struct ports_limits lim = { .lo = 40000, .hi = 40109, .reserved = 10, .tw_reuse = 2 };
	struct capture cap;
	struct ingest *in = tapped(p, &cap);
	const struct ports_dest *const *v;
	struct seen seen = { 0 };

	ports_set_limits(p, 77, &lim);
	for (uint64_t i = 1; i <= 85; i++)
		client(in, i, 10 * SEC + i * MS, false);
	client(in, 100, 10 * SEC + 200 * MS, true);
	client(in, 101, 10 * SEC + 201 * MS, true);
	ingest_expire(in, 11 * SEC);
	ports_count_table(p, ingest_table(in), 11 * SEC);
	ports_interval(p, 11 * SEC, on_alert, &seen);
	CHECK(ports_hot(p, &v) == 1);
	CHECK(v[0]->time_wait == 85 && v[0]->in_use == 0);
	CHECK(ports_range(p, v[0]) == 100);	/* 110 less 10 reserved */
	CHECK(!ports_tw_reusable(p, v[0]));	/* tw_reuse 2: loopback only */
	CHECK(ports_used_permille(p, v[0]) == 850);
	CHECK(v[0]->d_failures == 2 && v[0]->failures == 2);
	CHECK(v[0]->ntop == 1 && v[0]->top[0].pid == 1234 && v[0]->top[0].failures == 2);
	/* 85 of 100: the range near full is the cause, the two failures its
	 * effect
	 */
	CHECK(seen.starts == 1 && !seen.by_failures);
	ports_interval_done(p);
	/* 60 s after they began, the TIME_WAITs are gone; calm 5 s, then clear */
	ports_count_table(p, ingest_table(in), 71 * SEC);
	ports_interval(p, 71 * SEC, on_alert, &seen);
	CHECK(ports_hot(p, &v) == 1 && v[0]->time_wait == 0 && seen.clears == 0);
	ports_interval_done(p);
	ports_count_table(p, ingest_table(in), 76 * SEC);
	ports_interval(p, 76 * SEC, on_alert, &seen);
	CHECK(seen.clears == 1 && ports_hot(p, &v) == 0);
	CHECK(ports_stats(p)->failures == 2);
	ingest_free(in);
	ports_free(p);
}

/* The time_wait of the one destination 10.0.0.1 -> 10.0.0.2:80 in ns 77. */
static uint32_t tw_of(struct ports *p)
{
	const struct ports_dest *const *v;
	size_t n = ports_hot(p, &v);

	for (size_t i = 0; i < n; i++)
		if (v[i]->rport == 80)
			return v[i]->time_wait;
	return 0;
}

/* The kernel's timewait sockets replace the count: those with an ephemeral
 * local port (the client side), each for the time it has left.
 */
static void kernel_recount_and_reuse(void)
{
	struct ports_config cfg = { .max_dests = 8 };
	struct ports *p = ports_new(&cfg);
	struct ports_limits lim = { .lo = 40000, .hi = 40039, .reserved = 0, .tw_reuse = 0 };
	struct tt_sock_record r[60];
	const struct ports_dest *const *v;
	struct seen seen = { 0 };

	ports_set_limits(p, 77, &lim);
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 60; i++) {
		r[i].state = TT_TCP_TIME_WAIT;
		r[i].family = AF_INET;
		r[i].netns = 77;
		r[i].saddr[0] = 10, r[i].saddr[3] = 1;
		r[i].daddr[0] = 10, r[i].daddr[3] = 2;
		/* 30 a client's to port 80; 30 a server's (local port 80) */
		r[i].sport = i < 30 ? (uint16_t)(40000 + i) : 80;
		r[i].dport = i < 30 ? 80 : (uint16_t)(50000 + i);
		r[i].tw_left_ms = i < 10 ? 500 : 30000;
	}
	ports_reconcile(p, r, 60, 100 * SEC);
	ports_interval(p, 100 * SEC, on_alert, &seen);
	/* 30 of 40 used: hot, short of the 80% alert; the servers' are not
	 * destinations
	 */
	CHECK(ports_hot(p, &v) == 1 && tw_of(p) == 30 && seen.starts == 0);
	CHECK(ports_used_permille(p, v[0]) == 750);
	ports_interval_done(p);
	/* the 10 with 0.5 s left are gone after a second */
	ports_interval(p, 102 * SEC, on_alert, &seen);
	CHECK(tw_of(p) == 20);
	ports_interval_done(p);
	/* tcp_tw_reuse 1: TIME_WAIT ports do not count against the range */
	lim.tw_reuse = 1;
	ports_set_limits(p, 77, &lim);
	ports_interval(p, 103 * SEC, on_alert, &seen);
	CHECK(ports_hot(p, &v) == 0);
	ports_interval_done(p);
	/* a recount without the socket's time left gives it the full 60 s
	 * (a range of one port keeps it in view)
	 */
	lim.tw_reuse = 0;
	lim.hi = 40000;
	ports_set_limits(p, 77, &lim);
	r[0].tw_left_ms = ~0u;
	ports_reconcile(p, r, 1, 110 * SEC);
	ports_interval(p, 169 * SEC, on_alert, &seen);
	CHECK(tw_of(p) == 1);
	ports_interval_done(p);
	ports_interval(p, 171 * SEC, on_alert, &seen);
	CHECK(ports_hot(p, &v) == 1 && tw_of(p) == 0);	/* in view while its alert lasts */
	ports_free(p);
}

/* Failures alone start the alert where the range is far from full. */
static void failures_alone_are_the_cause(void)
{
	struct ports_config cfg = { .max_dests = 8 };
	struct ports *p = ports_new(&cfg);
	struct ports_limits lim = { .lo = 40000, .hi = 40099, .reserved = 0, .tw_reuse = 0 };
	struct capture cap;
	struct ingest *in = tapped(p, &cap);
	struct seen seen = { 0 };

	ports_set_limits(p, 77, &lim);
	for (uint64_t i = 1; i <= 10; i++)
		client(in, i, 10 * SEC + i * MS, false);
	client(in, 100, 10 * SEC + 200 * MS, true);
	ingest_expire(in, 11 * SEC);
	ports_count_table(p, ingest_table(in), 11 * SEC);
	ports_interval(p, 11 * SEC, on_alert, &seen);
	CHECK(seen.starts == 1 && seen.by_failures);
	ingest_free(in);
	ports_free(p);
}

/* Timewait records of tuple i (10.0.0.1:40000+i -> 10.0.0.2:80, ns 77),
 * 60 s left each.
 */
static void tw_records(struct tt_sock_record *r, const uint64_t *tuples, int n)
{
	memset(r, 0, (size_t)n * sizeof(*r));
	for (int i = 0; i < n; i++) {
		r[i].state = TT_TCP_TIME_WAIT;
		r[i].family = AF_INET;
		r[i].netns = 77;
		r[i].saddr[0] = 10, r[i].saddr[3] = 1;
		r[i].daddr[0] = 10, r[i].daddr[3] = 2;
		r[i].sport = (uint16_t)(40000 + tuples[i]);
		r[i].dport = 80;
		r[i].tw_left_ms = 60000;
	}
}

/* A reconcile's recount has the TIME_WAITs of histories still waiting out
 * their grace period when its snapshot began (the soak's 108 ports in use
 * of 100): when they come, they add nothing. One closed before the
 * snapshot began is known by its time; one closed while it was taken, by
 * the tuple it listed; one it did not list still counts.
 */
static void recount_counts_nothing_twice(void)
{
	struct ports_config cfg = { .max_dests = 8 };
	struct ports *p = ports_new(&cfg);
	struct ports_limits lim = { .lo = 40000, .hi = 40099, .reserved = 0, .tw_reuse = 0 };
	struct tt_sock_record r[52];
	uint64_t tuples[52];
	struct capture cap;
	struct ingest *in = tapped(p, &cap);
	struct seen seen = { 0 };

	ports_set_limits(p, 77, &lim);
	for (uint64_t i = 1; i <= 50; i++) {
		client(in, i, 10 * SEC + i * MS, false);
		tuples[i - 1] = i;
	}
	tuples[50] = 60;
	tuples[51] = 61;
	tw_records(r, tuples, 52);
	/* the snapshot began at 10.1 s: 60 and 61 closed while it was read */
	for (uint64_t i = 60; i <= 62; i++)
		client(in, i, 10 * SEC + 150 * MS, false);
	ports_reconcile(p, r, 52, 10 * SEC + 100 * MS);
	ingest_expire(in, 11 * SEC);
	ports_interval(p, 11 * SEC, on_alert, &seen);
	CHECK(tw_of(p) == 53);
	ports_interval_done(p);
	/* histories closed after it count as ever */
	for (uint64_t i = 70; i < 75; i++)
		client(in, i, 12 * SEC, false);
	ingest_expire(in, 13 * SEC);
	ports_interval(p, 13 * SEC, on_alert, &seen);
	CHECK(tw_of(p) == 58);
	ingest_free(in);
	ports_free(p);
}

/* A namespace a whole walk no longer meets is gone, and one whose inode
 * number names another namespace (a new cookie) too: their destinations
 * are forgotten, their alerts cleared as gone, their limits (which the
 * next namespace may not share) dropped or replaced.
 */
static void namespaces_gone_or_replaced(void)
{
	struct ports_config cfg = { .max_dests = 8 };
	struct ports *p = ports_new(&cfg);
	struct ports_limits lim = { .lo = 40000, .hi = 40099, .reserved = 0, .tw_reuse = 0,
				    .cookie = 1 };
	struct ports_limits other = lim;
	struct tt_sock_record r[90];
	uint64_t tuples[90];
	const struct ports_dest *const *v;
	struct seen seen = { 0 };

	for (int i = 0; i < 90; i++)
		tuples[i] = (uint64_t)i;
	tw_records(r, tuples, 90);
	for (int i = 80; i < 90; i++)
		r[i].netns = 78;
	ports_set_limits(p, 77, &lim);
	other.cookie = 2;
	ports_set_limits(p, 78, &other);
	ports_reconcile(p, r, 90, 10 * SEC);
	ports_interval(p, 10 * SEC, on_alert, &seen);
	CHECK(seen.starts == 1 && ports_hot(p, &v) == 1 && v[0]->netns == 77);
	ports_interval_done(p);
	/* a walk cut short forgets nothing */
	ports_netns_begin(p);
	ports_netns_end(p, false, 11 * SEC, on_alert, &seen);
	CHECK(seen.clears == 0 && ports_wants_netns(p, 77) && ports_limits_of(p, 77));
	/* a whole walk that meets 78 only: 77 is gone */
	ports_netns_begin(p);
	ports_set_limits(p, 78, &other);
	ports_netns_end(p, true, 12 * SEC, on_alert, &seen);
	CHECK(seen.clears == 1 && seen.gone == 1);
	CHECK(!ports_wants_netns(p, 77) && !ports_limits_of(p, 77));
	CHECK(ports_wants_netns(p, 78));
	ports_interval(p, 12 * SEC, on_alert, &seen);
	CHECK(ports_hot(p, &v) == 0);
	/* 78's number now names another namespace, of another range: its
	 * old limits stay until the walk ends, then are replaced
	 */
	ports_netns_begin(p);
	other.cookie = 3;
	other.lo = 50000;
	other.hi = 50999;
	ports_set_limits(p, 78, &other);
	CHECK(ports_limits_of(p, 78)->cookie == 2);
	ports_netns_end(p, true, 13 * SEC, on_alert, &seen);
	CHECK(!ports_wants_netns(p, 78) && ports_limits_of(p, 78)->cookie == 3 &&
	      ports_limits_of(p, 78)->lo == 50000);
	CHECK(seen.clears == 1);	/* 78 had no alert */
	/* no cookie (before 5.14): a number is taken for the same namespace */
	other.cookie = 0;
	ports_netns_begin(p);
	ports_set_limits(p, 78, &other);
	ports_netns_end(p, true, 14 * SEC, on_alert, &seen);
	CHECK(ports_limits_of(p, 78) && ports_limits_of(p, 78)->cookie == 0);
	ports_free(p);
}

static void table_is_bounded(void)
{
	struct ports_config cfg = { .max_dests = 4 };
	struct ports *p = ports_new(&cfg);
	struct tt_sock_record r;

	memset(&r, 0, sizeof(r));
	r.state = TT_TCP_TIME_WAIT;
	r.family = AF_INET;
	r.netns = 5;
	r.tw_left_ms = 1000;
	for (int i = 0; i < 10; i++) {
		r.sport = (uint16_t)(33000 + i);
		r.dport = (uint16_t)(1000 + i);	/* ten destinations */
		ports_reconcile(p, &r, 1, 10 * SEC);
	}
	CHECK(ports_stats(p)->evicted == 6);
	CHECK(ports_wants_netns(p, 5) && !ports_wants_netns(p, 6));
	ports_free(p);
	CHECK(ports_new(&(struct ports_config){ .max_dests = 0 }) == NULL);
}

TEST_LIST(ports_tests) = {
	TEST_ENTRY(alert_rule),
	TEST_ENTRY(time_wait_failures_and_clear),
	TEST_ENTRY(kernel_recount_and_reuse),
	TEST_ENTRY(table_is_bounded),
	TEST_ENTRY(failures_alone_are_the_cause),
	TEST_ENTRY(recount_counts_nothing_twice),
	TEST_ENTRY(namespaces_gone_or_replaced),
	{ 0 },
};
