/* The SYN-rate cause, its baseline and the hysteresis after a SYN-queue
 * alert, fed synthetic samples; the unknown values of a sock_diag sample.
 */
#include <string.h>
#include "events.h"
#include "harness.h"
#include "listen_alerts.h"
#include "listen_watch.h"

#define SEC 1000000000ull

struct seen {
	int starts, clears;
	uint32_t causes;
	uint8_t evidence;
	uint64_t threshold;
};

static void on_alert(const struct lw_alert *a, void *arg)
{
	struct seen *s = arg;

	if (a->kind != LW_SYN_FLOOD)
		return;
	if (a->start) {
		s->starts++;
		s->causes = a->st->causes;
		s->evidence = a->st->evidence;
		s->threshold = a->syn_threshold;
	} else {
		s->clears++;
	}
}

static const uint64_t no_counters[LW_N_COUNTERS];

/* One sample of listener r after children handshakes, at t. */
static void sample(struct listen_watch *lw, uint64_t t, const struct tt_sock_record *r,
		   int children, unsigned known, int64_t retries, struct seen *seen)
{
	int64_t sys[LW_N_SYSCTLS];

	sysctls_default(sys);
	sys[LW_SYNACK_RETRIES] = retries;
	for (int i = 0; i < children; i++) {
		struct tt_event e = ev_state(100 + (uint64_t)i, t, TT_TCP_LISTEN, TT_TCP_SYN_RECV, 0);

		memset(e.saddr, 0, sizeof(e.saddr));
		e.netns = LISTEN_NETNS;
		e.sport = r->sport;
		listen_watch_event(lw, &e);
	}
	listen_watch_sample_begin(lw, known);
	listen_watch_sample_sock(lw, r);
	listen_watch_sample_netns(lw, LISTEN_NETNS, false, no_counters, sys);
	listen_watch_sample_end(lw, t, on_alert, seen);
}

static struct listen_watch *watch(void)
{
	struct lw_config cfg = { .max_listeners = 8, .max_requests = 64 };

	return listen_watch_new(&cfg);
}

static const struct lw_listener *first(const struct listen_watch *lw)
{
	const struct lw_listener *const *v;

	return listen_watch_listeners(lw, &v) ? v[0] : NULL;
}

/* Resets end every request at once: the queue stays empty, only sk_drops
 * climbs. 1000 a second is the floor; 999 is not.
 */
static void syn_rate_over_the_floor_is_a_flood(void)
{
	struct listen_watch *lw = watch();
	struct tt_sock_record r = listener_rec(1, 8080, 0, 128, 0, 0);
	struct seen seen = { 0 };

	sample(lw, 1 * SEC, &r, 0, LW_KNOWN_ALL, 5, &seen);
	CHECK(!first(lw)->have_deltas);
	r.drops = 999;
	sample(lw, 2 * SEC, &r, 0, LW_KNOWN_ALL, 5, &seen);
	CHECK(first(lw)->syn_rate == 999 && first(lw)->d_syns == 999 && seen.starts == 0);
	r.drops += 1000;
	sample(lw, 3 * SEC, &r, 0, LW_KNOWN_ALL, 5, &seen);
	CHECK(seen.starts == 1 && seen.causes == LW_CAUSE_SYN_RATE);
	CHECK(seen.evidence == LW_EVIDENCE_SYN_RATE && seen.threshold == 1000);
	/* the baseline stays where it was while the alert is on */
	for (int i = 4; i < 30; i++) {
		r.drops += 96000;
		sample(lw, (uint64_t)i * SEC, &r, 0, LW_KNOWN_ALL, 5, &seen);
	}
	CHECK(first(lw)->syn_baseline < 1000 && seen.clears == 0);
	/* the flood ends: calm for 2 s clears it, once */
	for (int i = 30; i < 40; i++)
		sample(lw, (uint64_t)i * SEC, &r, 0, LW_KNOWN_ALL, 5, &seen);
	CHECK(seen.starts == 1 && seen.clears == 1);
	listen_watch_free(lw);
}

/* Real clients: a burst that connects is no flood, however fast. */
static void syns_that_connect_are_no_flood(void)
{
	struct listen_watch *lw = watch();
	struct tt_sock_record r = listener_rec(1, 8080, 0, 4096, 0, 0);
	struct seen seen = { 0 };

	sample(lw, 1 * SEC, &r, 0, LW_KNOWN_ALL, 5, &seen);
	r.drops = 1900;		/* turned away at the door */
	sample(lw, 2 * SEC, &r, 2000, LW_KNOWN_ALL, 5, &seen);
	CHECK(first(lw)->syn_rate == 3900 && seen.starts == 0);
	r.drops += 2001;	/* one more drop than connections: most failed */
	sample(lw, 3 * SEC, &r, 2000, LW_KNOWN_ALL, 5, &seen);
	CHECK(seen.starts == 1);
	listen_watch_free(lw);
}

/* A listener that takes 10 000 SYNs a second, a tenth failing (health
 * checks that reset), has that as its baseline: only four times it counts.
 */
static void baseline_raises_the_threshold(void)
{
	struct listen_watch *lw = watch();
	struct tt_sock_record r = listener_rec(1, 8080, 0, 4096, 0, 0);
	struct seen seen = { 0 };
	uint64_t t = 1 * SEC;

	sample(lw, t, &r, 0, LW_KNOWN_ALL, 5, &seen);
	for (int i = 0; i < 300; i++) {
		r.drops += 1000;
		sample(lw, t += SEC, &r, 9000, LW_KNOWN_ALL, 5, &seen);
	}
	CHECK(first(lw)->syn_baseline > 9900 && first(lw)->syn_baseline <= 10000);
	CHECK(listen_alerts_syn_threshold(&(struct lw_config){ .syn_rate_floor = 1000,
							     .syn_rate_factor = 4 },
					  first(lw)) > 39600);
	r.drops += 30000;	/* 39 000: failing, but under four times normal */
	sample(lw, t += SEC, &r, 9000, LW_KNOWN_ALL, 5, &seen);
	CHECK(seen.starts == 0);
	r.drops += 50000;
	sample(lw, t += SEC, &r, 0, LW_KNOWN_ALL, 5, &seen);
	CHECK(seen.starts == 1 && seen.causes == LW_CAUSE_SYN_RATE);
	listen_watch_free(lw);
}

/* Waves of SYN-ACK retransmits of the requests an attack left: the first
 * starts the alert, the calm clears it, later waves within the requests'
 * life (2^(r+1) - 1 s) do not start it again; after it they may.
 */
static void retransmit_waves_do_not_rearm(void)
{
	struct listen_watch *lw = watch();
	struct tt_sock_record r = listener_rec(1, 8080, 0, 128, 30, 0);
	struct tt_event rtx = { .type = TT_EV_SYNACK_RETRANS, .cookie = 1 };
	struct seen seen = { 0 };

	sample(lw, 1 * SEC, &r, 0, LW_KNOWN_ALL, 3, &seen);
	for (int i = 0; i < 30; i++)
		listen_watch_event(lw, &rtx);
	sample(lw, 2 * SEC, &r, 0, LW_KNOWN_ALL, 3, &seen);
	CHECK(seen.starts == 1 && seen.causes == LW_CAUSE_SYNACK_RETRANS);
	for (int i = 3; i <= 5; i++)
		sample(lw, (uint64_t)i * SEC, &r, 0, LW_KNOWN_ALL, 3, &seen);
	CHECK(seen.clears == 1);	/* calm since 3 s, cleared at 5 s */
	/* a sample a second; waves at 8 s and 19 s, within 5 + 15 s */
	for (uint64_t t = 6; t <= 21; t++) {
		if (t == 8 || t == 19 || t == 21)
			for (int i = 0; i < 30; i++)
				listen_watch_event(lw, &rtx);
		sample(lw, t * SEC, &r, 0, LW_KNOWN_ALL, 3, &seen);
		if (t == 19)
			CHECK(seen.starts == 1 && first(lw)->d_synack_retrans == 30);
	}
	CHECK(seen.starts == 2);	/* at 21 s, past the requests' life: a new attack */
	listen_watch_free(lw);
}

/* sock_diag: no SYN queue length, no cookie stamp. They do not count as
 * 0 or as "no cookies", and do not hold an alert up.
 */
static void unknown_values_stay_unknown(void)
{
	struct listen_watch *lw = watch();
	struct tt_sock_record r = listener_rec(1, 8080, 0, 128, 0, 0);
	struct seen seen = { 0 };

	r.synq_len = 128;	/* what a diag record would carry: nothing, but make it loud */
	r.cookie_idle_ms = 10;
	sample(lw, 1 * SEC, &r, 0, 0, 5, &seen);
	sample(lw, 2 * SEC, &r, 0, 0, 5, &seen);
	CHECK(!first(lw)->synq_known && !first(lw)->cookies_known);
	CHECK(first(lw)->synq_len == 0 && !first(lw)->cookies_active && seen.starts == 0);
	CHECK(listen_alerts_pressure(first(lw)) == 0);
	listen_watch_free(lw);
}

/* A request sock_diag listed names its listener by address and port: the
 * sources come from it, the family's own wildcard first.
 */
static void diag_requests_find_their_listener(void)
{
	struct listen_watch *lw = watch();
	struct tt_sock_record v4 = listener_rec(1, 80, 0, 128, 0, 0);
	struct tt_sock_record v6 = listener_rec(2, 80, 0, 128, 0, 0);
	struct tt_sock_record req = { .cookie = 77, .family = AF_INET, .netns = LISTEN_NETNS,
				      .state = TT_TCP_NEW_SYN_RECV, .sport = 80,
				      .saddr = { 192, 0, 2, 2 }, .daddr = { 198, 51, 100, 9 } };
	struct seen seen = { 0 };
	const struct lw_listener *const *v;
	size_t n;

	v6.family = AF_INET6;
	listen_watch_sample_begin(lw, 0);
	listen_watch_sample_sock(lw, &v6);
	listen_watch_sample_sock(lw, &v4);
	listen_watch_sample_sock(lw, &req);
	listen_watch_sample_end(lw, 1 * SEC, on_alert, &seen);
	n = listen_watch_listeners(lw, &v);
	for (size_t i = 0; i < n; i++)
		CHECK(v[i]->n_top_addrs == (v[i]->cookie == 1));
	listen_watch_free(lw);
}

TEST_LIST(syn_rate_tests) = {
	TEST_ENTRY(syn_rate_over_the_floor_is_a_flood),
	TEST_ENTRY(syns_that_connect_are_no_flood),
	TEST_ENTRY(baseline_raises_the_threshold),
	TEST_ENTRY(retransmit_waves_do_not_rearm),
	TEST_ENTRY(unknown_values_stay_unknown),
	TEST_ENTRY(diag_requests_find_their_listener),
	{ 0 },
};
