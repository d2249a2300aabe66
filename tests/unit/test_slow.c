/* The most limited connections of the last minute (tcptrail top): ranking,
 * the window's edges, buckets reused, and the lines drawn from them.
 */
#include <string.h>
#include <sys/socket.h>
#include "harness.h"
#include "slow_conns.h"
#include "top_slow.h"

#define S 1000000000ull

/* A finished history of the connection to port, closed at end_ns, held
 * back by the receiver for rwnd_ns of busy_ns.
 */
static void add_to(void (*take)(void *ctx, const struct conn *c,
				 const struct history_summary *s),
		   void *ctx, uint16_t port, uint64_t end_ns, uint64_t busy_ns, uint64_t rwnd_ns,
		   struct tt_delivery *d)
{
	struct conn c = { .family = AF_INET, .lport = 40000, .rport = port, .pid = 7,
			  .role = ROLE_ACTIVE };
	struct history_summary s = { .start_ns = end_ns - busy_ns, .end_ns = end_ns, .dl = d };

	c.laddr[0] = 127, c.laddr[3] = 1;
	c.raddr[0] = 127, c.raddr[3] = 1;
	strcpy(c.comm, "client");
	memset(d, 0, sizeof(*d));
	d->flags = TT_D_READ | TT_D_CHRONO;
	d->busy_ns = busy_ns;
	d->rwnd_limited_ns = rwnd_ns;
	d->data_segs_out = 100;
	take(ctx, &c, &s);
}

static void take_slow(void *sc, const struct conn *c, const struct history_summary *s)
{
	slow_conns_add(sc, c, s);
}

/* The same, into sc. */
static void add(struct slow_conns *sc, uint16_t port, uint64_t end_ns, uint64_t busy_ns,
		uint64_t rwnd_ns, struct tt_delivery *d)
{
	add_to(take_slow, sc, port, end_ns, busy_ns, rwnd_ns, d);
}

static void slow_ranks_and_forgets_on_time(void)
{
	struct slow_conns *sc = slow_conns_new();
	struct slow_conn top[SLOW_CONNS_SHOWN];
	struct tt_delivery d;
	uint64_t t0 = 1000 * S;

	CHECK(sc != NULL);
	if (!sc)
		return;
	/* seven limited in one bucket: the five most held back stay, in order */
	for (uint16_t i = 1; i <= 7; i++)
		add(sc, i, t0 + i, 10 * S, (3 + i) * S, &d);
	add(sc, 99, t0 + 8, 10 * S, 3 * S - 1, &d);	/* under a third: not limited */
	CHECK(slow_conns_top(sc, t0 + 9, top) == 5);
	for (int i = 0; i < 5; i++)
		CHECK(top[i].rport == 7 - i);
	CHECK(slow_conns_counts(sc)->closed == 8);
	/* a later bucket's lesser connection ranks below, still shown */
	add(sc, 100, t0 + 20 * S, 10 * S, 6 * S + S / 2, &d);
	CHECK(slow_conns_top(sc, t0 + 20 * S, top) == 5);
	CHECK(top[3].rport == 4 && top[4].rport == 100);
	/* the first bucket past the window: the later one alone */
	CHECK(slow_conns_top(sc, t0 + 70 * S, top) == 1);
	CHECK(top[0].rport == 100);
	/* its slot reused by a bucket six later: the old ranks are gone */
	add(sc, 200, t0 + 60 * S + 5, 10 * S, 8 * S, &d);
	CHECK(slow_conns_top(sc, t0 + 61 * S, top) == 2);
	CHECK(top[0].rport == 200 && top[1].rport == 100);
	/* a history older than its slot's bucket is past the window */
	add(sc, 300, t0 + 5, 10 * S, 9 * S, &d);
	CHECK(slow_conns_top(sc, t0 + 61 * S, top) == 2);
	CHECK(slow_conns_top(sc, 0, top) == 0);
	slow_conns_free(sc);
}

static void slow_loss_and_unknowns(void)
{
	struct slow_conns *sc = slow_conns_new();
	struct slow_conn top[SLOW_CONNS_SHOWN];
	struct tt_delivery d;
	struct conn c = { .family = AF_INET, .role = ROLE_PASSIVE };
	struct history_summary s = { .start_ns = 5 * S, .end_ns = 6 * S };

	CHECK(sc != NULL);
	if (!sc)
		return;
	slow_conns_add(sc, &c, &s);		/* no delivery facts: counted only */
	CHECK(slow_conns_counts(sc)->closed == 1 && slow_conns_top(sc, 6 * S, top) == 0);
	add(sc, 1, 6 * S, 2 * S, 0, &d);
	CHECK(slow_conns_top(sc, 6 * S, top) == 0);	/* limited by nothing */
	d.retrans_segs = 10;				/* a tenth of 100: loss */
	slow_conns_add(sc, &c, &(struct history_summary){ .start_ns = 4 * S, .end_ns = 6 * S,
							    .dl = &d });
	CHECK(slow_conns_top(sc, 6 * S, top) == 1);
	CHECK(top[0].limited_by == LIMIT_LOSS && top[0].held_ns == 2 * S);
	CHECK(top[0].rtt_us == UINT32_MAX);
	{
		struct top_slow *ts = top_slow_new();
		char lines[TOP_SLOW_LINES][TOP_SLOW_LINE];

		CHECK(ts != NULL);
		if (ts) {
			/* the same loss-limited history, through the view's sink */
			top_slow_ops.history(ts, &c, &(struct history_summary){
				.start_ns = 4 * S, .end_ns = 6 * S, .dl = &d });
			CHECK(top_slow_lines(ts, 6 * S, lines) == 3);
			CHECK(strstr(lines[2], " loss          10% sent again") != NULL);
		}
		top_slow_free(ts);
	}
	CHECK(slow_conns_counts(sc)->retrans_segs == 10);
	d.flags = TT_D_READ;				/* no chrono: last, but listed */
	CHECK(slow_conns_held_ns(&d) == 1);
	CHECK(slow_conns_held_ns(NULL) == 0);
	slow_conns_free(sc);
}

static void slow_lines_fit_and_say_unknowns(void)
{
	struct top_slow *ts = top_slow_new();
	char lines[TOP_SLOW_LINES][TOP_SLOW_LINE];
	struct tt_delivery d;
	struct tt_event rt = { .type = TT_EV_RETRANSMIT };
	unsigned n;

	CHECK(ts != NULL);
	if (!ts)
		return;
	n = top_slow_lines(ts, 10 * S, lines);
	CHECK(n == 1);
	CHECK(strstr(lines[0], "Retransmits ?;") != NULL);	/* no interval yet */
	CHECK(strstr(lines[0], "none") != NULL);
	for (int i = 0; i < 30; i++)
		top_slow_ops.event(ts, &rt);
	top_slow_set_unwritten(ts, 10);
	add_to(top_slow_ops.history, ts, 8080, 11 * S, 4 * S, 3 * S, &d);
	d.srtt_us = 20000;
	n = top_slow_lines(ts, 12 * S, lines);
	CHECK(n == 3);
	CHECK(strstr(lines[0], "Retransmits 20/s (past") != NULL);	/* (30 + 10) / 2 s */
	CHECK(strstr(lines[2], "127.0.0.1:40000 > 127.0.0.1:8080") == lines[2]);
	CHECK(strstr(lines[2], " client/7 ") != NULL);
	CHECK(strstr(lines[2], "receiver") != NULL);
	CHECK(strstr(lines[2], "3.0s 75%") != NULL);
	CHECK(strlen(lines[1]) <= 100 && strlen(lines[2]) <= 100);
	/* the longest row: IPv6 both ends, a hostile 15-byte name */
	top_slow_free(ts);	/* a fresh view: this row alone */
	ts = top_slow_new();
	CHECK(ts != NULL);
	if (!ts)
		return;
	{
		struct conn c = { .family = AF_INET6, .lport = 65535, .rport = 65535,
				  .pid = UINT32_MAX, .role = ROLE_PASSIVE };
		struct history_summary s = { .start_ns = 0, .end_ns = 13 * S, .dl = &d };

		memset(c.laddr, 0xff, 16);
		memset(c.raddr, 0xfe, 16);
		memset(c.comm, '\033', 15);
		d.busy_ns = UINT64_MAX / 2;
		d.rwnd_limited_ns = UINT64_MAX / 2;
		d.srtt_us = UINT32_MAX - 1;
		d.retrans_segs = UINT32_MAX;
		top_slow_ops.history(ts, &c, &s);
	}
	n = top_slow_lines(ts, 13 * S, lines);
	CHECK(n == 3);
	CHECK(strchr(lines[2], '\033') == NULL);
	CHECK(strstr(lines[2], "/4294967295 ") != NULL);	/* the pid whole */
	CHECK(strstr(lines[2], " 100%") != NULL);		/* no overflow at 2^63 */
	CHECK(strlen(lines[2]) < TOP_SLOW_LINE - 1);
	top_slow_free(ts);
}

TEST_LIST(slow_tests) = {
	TEST_ENTRY(slow_ranks_and_forgets_on_time),
	TEST_ENTRY(slow_loss_and_unknowns),
	TEST_ENTRY(slow_lines_fit_and_say_unknowns),
	{ 0 },
};
