/* Listener watch: deltas, alerts with hysteresis, sources, bounds, the
 * netstat parser and the top view, fed synthetic samples.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "emit.h"
#include "events.h"
#include "harness.h"
#include "listen_alerts.h"
#include "listen_watch.h"
#include "netstat.h"
#include "top_view.h"

#define SEC 1000000000ull
#define NETNS LISTEN_NETNS

struct alerts_seen {
	int n;
	struct {
		enum lw_alert_kind kind;
		bool start, gone;
		uint32_t causes;
		uint64_t cookie, ts, since;
	} v[16];
};

static void on_alert(const struct lw_alert *a, void *arg)
{
	struct alerts_seen *s = arg;

	if (s->n == 16)
		return;
	s->v[s->n].kind = a->kind;
	s->v[s->n].start = a->start;
	s->v[s->n].gone = a->gone;
	s->v[s->n].causes = a->st->causes;
	s->v[s->n].cookie = a->l->cookie;
	s->v[s->n].ts = a->ts_ns;
	s->v[s->n].since = a->st->since_ns;
	s->n++;
}

static struct tt_sock_record request_rec(uint64_t listener, int family, const uint8_t *raddr)
{
	static uint64_t serial;	/* every request socket has a cookie of its own */
	struct tt_sock_record r;

	memset(&r, 0, sizeof(r));
	r.cookie = 1000000 + ++serial;
	r.listener = listener;
	r.family = family;
	r.netns = NETNS;
	r.state = TT_TCP_NEW_SYN_RECV;
	memcpy(r.daddr, raddr, TT_ADDR_LEN);
	return r;
}

static const uint64_t no_counters[LW_N_COUNTERS];

/* One sample of one listener (plus whatever requests) in one namespace. */
static void sample(struct listen_watch *lw, uint64_t t, const struct tt_sock_record *recs,
		   size_t n, const int64_t sysctls[LW_N_SYSCTLS], struct alerts_seen *seen)
{
	listen_watch_sample_begin(lw, LW_KNOWN_ALL);
	for (size_t i = 0; i < n; i++)
		listen_watch_sample_sock(lw, &recs[i]);
	listen_watch_sample_netns(lw, NETNS, false, no_counters, sysctls);
	listen_watch_sample_end(lw, t, on_alert, seen);
}

static struct tt_event synack_event(uint64_t listener)
{
	struct tt_event e;

	memset(&e, 0, sizeof(e));
	e.type = TT_EV_SYNACK_RETRANS;
	e.cookie = listener;
	return e;
}

static struct listen_watch *new_watch(uint32_t max_listeners, uint32_t max_requests)
{
	struct lw_config cfg = { .max_listeners = max_listeners, .max_requests = max_requests };

	return listen_watch_new(&cfg);
}

static const struct lw_listener *listener_at(const struct listen_watch *lw, size_t i)
{
	const struct lw_listener *const *v;
	size_t n = listen_watch_listeners(lw, &v);

	return i < n ? v[i] : NULL;
}

static void first_sample_is_baseline_then_deltas(void)
{
	struct listen_watch *lw = new_watch(8, 64);
	struct alerts_seen seen = { 0 };
	struct tt_sock_record r = listener_rec(1, 80, 0, 128, 0, 100);
	struct tt_event e = synack_event(1);
	int64_t sys[LW_N_SYSCTLS];

	sysctls_default(sys);
	sample(lw, 1 * SEC, &r, 1, sys, &seen);
	CHECK(listener_at(lw, 0)->d_drops == 0);	/* 100 earlier drops are history */
	for (int i = 0; i < 3; i++)
		listen_watch_event(lw, &e);
	r.drops = 107;
	sample(lw, 2 * SEC, &r, 1, sys, &seen);
	CHECK(listener_at(lw, 0)->d_drops == 7);
	CHECK(listener_at(lw, 0)->d_synack_retrans == 3);
	CHECK(listener_at(lw, 0)->synack_retrans == 3);
	CHECK(listener_at(lw, 0)->interval_ns == 1 * SEC);
	CHECK(listener_at(lw, 0)->synq_max == 128);
	CHECK(!listener_at(lw, 0)->events_incomplete);
	listen_watch_mark_lost(lw);
	CHECK(listener_at(lw, 0)->events_incomplete);
	CHECK(seen.n == 0);	/* 3 retransmits/s are no flood */
	/* an event for a listener not sampled yet is counted, not lost silently */
	e.cookie = 99;
	listen_watch_event(lw, &e);
	CHECK(listen_watch_stats(lw)->unmatched_events == 1);
	listen_watch_free(lw);
}

static void syn_flood_starts_and_clears_with_hysteresis(void)
{
	struct listen_watch *lw = new_watch(8, 64);
	struct alerts_seen seen = { 0 };
	struct tt_sock_record r = listener_rec(1, 80, 0, 100, 0, 0);
	int64_t sys[LW_N_SYSCTLS];
	uint64_t t = 1 * SEC;

	sysctls_default(sys);
	sample(lw, t, &r, 1, sys, &seen);
	r.synq_len = 74;	/* below three quarters: no flood */
	sample(lw, t += SEC, &r, 1, sys, &seen);
	CHECK(seen.n == 0);
	r.synq_len = 75;
	sample(lw, t += SEC, &r, 1, sys, &seen);
	CHECK(seen.n == 1 && seen.v[0].start && seen.v[0].kind == LW_SYN_FLOOD);
	CHECK(seen.v[0].causes == LW_CAUSE_SYNQ_NEAR_FULL);
	/* between the thresholds: neither a new start nor a clear */
	r.synq_len = 40;
	sample(lw, t += SEC, &r, 1, sys, &seen);
	CHECK(seen.n == 1 && listener_at(lw, 0)->alert[LW_SYN_FLOOD].active);
	/* calm, but not for long enough */
	r.synq_len = 10;
	sample(lw, t += SEC, &r, 1, sys, &seen);
	r.synq_len = 80;	/* flares up again: calm restarts */
	sample(lw, t += SEC, &r, 1, sys, &seen);
	r.synq_len = 0;
	sample(lw, t += SEC, &r, 1, sys, &seen);
	sample(lw, t += SEC, &r, 1, sys, &seen);
	CHECK(seen.n == 1);
	sample(lw, t += SEC, &r, 1, sys, &seen);
	CHECK(seen.n == 2 && !seen.v[1].start && seen.v[1].kind == LW_SYN_FLOOD);
	CHECK(seen.v[1].ts - seen.v[1].since == 6 * SEC);
	CHECK(listener_at(lw, 0)->alert[LW_SYN_FLOOD].peak_synq == 80);
	listen_watch_free(lw);
}

static void syncookies_and_retransmits_signal_a_flood(void)
{
	struct listen_watch *lw = new_watch(8, 64);
	struct alerts_seen seen = { 0 };
	struct tt_sock_record r = listener_rec(1, 80, 0, 100, 0, 0);
	struct tt_event e = synack_event(1);
	int64_t sys[LW_N_SYSCTLS];

	sysctls_default(sys);
	sample(lw, 1 * SEC, &r, 1, sys, &seen);
	/* with tcp_syncookies=2 every SYN gets a cookie: not a flood */
	sys[LW_SYNCOOKIES] = 2;
	r.cookie_idle_ms = 300;
	sample(lw, 2 * SEC, &r, 1, sys, &seen);
	CHECK(listener_at(lw, 0)->cookies_active && seen.n == 0);
	sys[LW_SYNCOOKIES] = 1;
	sample(lw, 3 * SEC, &r, 1, sys, &seen);
	CHECK(seen.n == 1 && seen.v[0].causes == LW_CAUSE_SYNCOOKIES);
	/* a stamp older than the interval plus the kernel's one-second period */
	r.cookie_idle_ms = 2100;
	sample(lw, 4 * SEC, &r, 1, sys, &seen);
	CHECK(!listener_at(lw, 0)->cookies_active);
	/* the kernel refreshes the stamp once a second at most: 1.5 s is recent */
	r.cookie_idle_ms = 1500;
	sample(lw, 5 * SEC, &r, 1, sys, &seen);
	CHECK(listener_at(lw, 0)->cookies_active);
	listen_watch_free(lw);

	lw = new_watch(8, 64);
	memset(&seen, 0, sizeof(seen));
	r.cookie_idle_ms = ~0u;
	sample(lw, 1 * SEC, &r, 1, sys, &seen);
	for (int i = 0; i < 19; i++)
		listen_watch_event(lw, &e);
	sample(lw, 2 * SEC, &r, 1, sys, &seen);
	CHECK(seen.n == 0);	/* 19/s is below the default onset of 20/s */
	for (int i = 0; i < 10; i++)
		listen_watch_event(lw, &e);
	sample(lw, 2 * SEC + SEC / 2, &r, 1, sys, &seen);	/* 20/s over half a second */
	CHECK(seen.n == 1 && seen.v[0].causes == LW_CAUSE_SYNACK_RETRANS);
	listen_watch_free(lw);
}

static void accept_queue_full_needs_drops(void)
{
	struct listen_watch *lw = new_watch(8, 64);
	struct alerts_seen seen = { 0 };
	struct tt_sock_record r = listener_rec(1, 80, 4, 4, 0, 0);
	int64_t sys[LW_N_SYSCTLS];
	uint64_t t = 1 * SEC;

	sysctls_default(sys);
	sample(lw, t, &r, 1, sys, &seen);
	sample(lw, t += SEC, &r, 1, sys, &seen);
	CHECK(seen.n == 0);	/* full, but nobody is turned away */
	r.drops = 5;
	sample(lw, t += SEC, &r, 1, sys, &seen);
	CHECK(seen.n == 1 && seen.v[0].kind == LW_ACCEPTQ_FULL && seen.v[0].start);
	CHECK(seen.v[0].causes == LW_CAUSE_ACCEPTQ_AT_LIMIT);
	sample(lw, t += SEC, &r, 1, sys, &seen);	/* still full, drops stopped */
	sample(lw, t += SEC, &r, 1, sys, &seen);
	CHECK(seen.n == 1);
	sample(lw, t += SEC, &r, 1, sys, &seen);
	CHECK(seen.n == 2 && !seen.v[1].start);
	CHECK(listener_at(lw, 0)->alert[LW_ACCEPTQ_FULL].drops == 5);
	listen_watch_free(lw);
}

static void closed_listener_clears_its_alert(void)
{
	struct listen_watch *lw = new_watch(8, 64);
	struct alerts_seen seen = { 0 };
	struct tt_sock_record r = listener_rec(1, 80, 0, 8, 0, 0);
	int64_t sys[LW_N_SYSCTLS];

	sysctls_default(sys);
	sample(lw, 1 * SEC, &r, 1, sys, &seen);
	r.synq_len = 8;
	sample(lw, 2 * SEC, &r, 1, sys, &seen);
	CHECK(seen.n == 1);
	sample(lw, 3 * SEC, NULL, 0, sys, &seen);
	CHECK(seen.n == 2 && !seen.v[1].start && seen.v[1].gone && seen.v[1].cookie == 1);
	CHECK(listener_at(lw, 0) == NULL);
	listen_watch_free(lw);
}

static void sources_ranked_by_address_and_prefix(void)
{
	struct listen_watch *lw = new_watch(8, 64);
	struct alerts_seen seen = { 0 };
	struct tt_sock_record recs[16];
	uint8_t a[TT_ADDR_LEN] = { 198, 51, 100, 7 }, b[TT_ADDR_LEN] = { 198, 51, 100, 9 };
	uint8_t c[TT_ADDR_LEN] = { 203, 0, 113, 1 };
	uint8_t v6[TT_ADDR_LEN] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5 };
	const struct lw_listener *l;
	int64_t sys[LW_N_SYSCTLS];
	size_t n = 0;
	char buf[64];

	sysctls_default(sys);
	recs[n++] = listener_rec(1, 80, 0, 128, 7, 0);
	recs[n++] = listener_rec(2, 443, 0, 128, 1, 0);
	recs[n++] = request_rec(1, AF_INET, a);
	recs[n++] = request_rec(1, AF_INET, a);
	recs[n++] = request_rec(1, AF_INET, b);
	recs[n++] = request_rec(1, AF_INET, c);
	recs[n++] = request_rec(1, AF_INET, c);
	recs[n++] = request_rec(1, AF_INET, c);
	recs[n++] = request_rec(2, AF_INET6, v6);
	v6[15] = 6;	/* same /64 */
	recs[n++] = request_rec(1, AF_INET6, v6);
	sample(lw, 1 * SEC, recs, n, sys, &seen);
	l = listener_at(lw, 0)->cookie == 1 ? listener_at(lw, 0) : listener_at(lw, 1);
	CHECK(l->n_top_addrs == 4);
	CHECK(!memcmp(l->top_addrs[0].addr, c, 4) && l->top_addrs[0].half_open == 3);
	CHECK(!memcmp(l->top_addrs[1].addr, a, 4) && l->top_addrs[1].half_open == 2);
	CHECK(l->top_addrs[0].prefix_len == 32);
	CHECK(l->n_top_prefixes == 3);
	CHECK(l->top_prefixes[0].half_open == 3 && l->top_prefixes[1].half_open == 3);
	CHECK(l->top_prefixes[0].prefix_len == 24);
	/* 198.51.100.0/24 and 203.0.113.0/24 tie; each is whole */
	for (int i = 0; i < 2; i++)
		CHECK(l->top_prefixes[i].addr[3] == 0);
	CHECK(l->top_prefixes[2].family == AF_INET6 && l->top_prefixes[2].prefix_len == 64);
	snprintf(buf, sizeof(buf), "%02x%02x", l->top_prefixes[2].addr[8],
		 l->top_prefixes[2].addr[15]);
	CHECK_STR(buf, "0000");
	l = listener_at(lw, 0)->cookie == 2 ? listener_at(lw, 0) : listener_at(lw, 1);
	CHECK(l->n_top_addrs == 1 && l->top_addrs[0].prefix_len == 128);
	listen_watch_free(lw);
}

static void bounded_tables_count_what_they_drop(void)
{
	struct listen_watch *lw = new_watch(2, 3);
	struct alerts_seen seen = { 0 };
	struct tt_sock_record recs[8];
	uint8_t a[TT_ADDR_LEN] = { 10, 0, 0, 1 };
	int64_t sys[LW_N_SYSCTLS];
	size_t n = 0;

	sysctls_default(sys);
	for (int i = 1; i <= 3; i++)
		recs[n++] = listener_rec((uint64_t)i, (uint16_t)(80 + i), 0, 8, 0, 0);
	for (int i = 0; i < 4; i++)
		recs[n++] = request_rec(1, AF_INET, a);
	sample(lw, 1 * SEC, recs, n, sys, &seen);
	CHECK(listen_watch_listeners(lw, &(const struct lw_listener *const *){ NULL }) == 2);
	CHECK(listen_watch_stats(lw)->listeners_dropped == 1);
	CHECK(listen_watch_stats(lw)->requests_dropped == 1);
	listen_watch_free(lw);
}

static void overflow_events_match_listener_by_tuple(void)
{
	struct listen_watch *lw = new_watch(8, 8);
	struct alerts_seen seen = { 0 };
	struct tt_sock_record recs[2];
	struct tt_event e;
	int64_t sys[LW_N_SYSCTLS];
	const struct lw_listener *const *v;
	size_t n;

	sysctls_default(sys);
	recs[0] = listener_rec(1, 80, 0, 8, 0, 0);	/* 0.0.0.0:80 */
	recs[1] = listener_rec(2, 8080, 0, 8, 0, 0);
	recs[1].family = AF_INET6;			/* [::]:8080 takes IPv4 too */
	sample(lw, 1 * SEC, recs, 2, sys, &seen);
	memset(&e, 0, sizeof(e));
	e.type = TT_EV_LISTEN_OVERFLOW;
	e.family = AF_INET;
	e.netns = NETNS;
	e.saddr[0] = 10, e.saddr[3] = 1;
	e.sport = 80;
	listen_watch_event(lw, &e);
	e.sport = 8080;
	listen_watch_event(lw, &e);
	listen_watch_event(lw, &e);
	e.netns = NETNS + 1;	/* another namespace's port 80 */
	e.sport = 80;
	listen_watch_event(lw, &e);
	n = listen_watch_listeners(lw, &v);
	for (size_t i = 0; i < n; i++)
		CHECK(v[i]->overflows == (v[i]->cookie == 1 ? 1u : 2u));
	CHECK(listen_watch_stats(lw)->unmatched_events == 1);
	listen_watch_free(lw);
}

static void ranking_puts_pressure_first_and_limits_follow_sysctls(void)
{
	struct listen_watch *lw = new_watch(8, 8);
	struct alerts_seen seen = { 0 };
	struct tt_sock_record recs[3];
	int64_t sys[LW_N_SYSCTLS];

	sysctls_default(sys);
	recs[0] = listener_rec(1, 80, 1, 100, 0, 0);
	recs[1] = listener_rec(2, 81, 50, 100, 0, 0);
	recs[2] = listener_rec(3, 82, 0, 4096, 0, 0);
	sample(lw, 1 * SEC, recs, 3, sys, &seen);
	CHECK(listener_at(lw, 0)->cookie == 2 && listener_at(lw, 1)->cookie == 1);
	recs[2].synq_len = 4000;
	sample(lw, 2 * SEC, recs, 3, sys, &seen);
	CHECK(listener_at(lw, 0)->cookie == 3);	/* alerting comes first */
	/* without cookies, unproven peers stop at 3/4 of tcp_max_syn_backlog */
	sys[LW_SYNCOOKIES] = 0;
	sample(lw, 3 * SEC, recs, 3, sys, &seen);
	CHECK(listener_at(lw, 0)->synq_max == 1536);
	CHECK(listen_alerts_pressure(listener_at(lw, 0)) > 2.0);
	listen_watch_free(lw);
}

static void namespace_counters_are_deltas(void)
{
	struct listen_watch *lw = new_watch(8, 8);
	struct alerts_seen seen = { 0 };
	uint64_t c[LW_N_COUNTERS] = { 0 };
	int64_t sys[LW_N_SYSCTLS];
	const struct lw_netns *ns;

	sysctls_default(sys);
	c[LW_LISTEN_DROPS] = 1000;
	listen_watch_sample_begin(lw, LW_KNOWN_ALL);
	listen_watch_sample_netns(lw, 7, true, c, sys);
	listen_watch_sample_end(lw, 1 * SEC, on_alert, &seen);
	CHECK(listen_watch_namespaces(lw, &ns) == 1 && !ns[0].sampled);
	c[LW_LISTEN_DROPS] = 1012;
	listen_watch_sample_begin(lw, LW_KNOWN_ALL);
	listen_watch_sample_netns(lw, 9, true, c, sys);
	listen_watch_sample_netns(lw, 7, true, c, sys);
	listen_watch_sample_end(lw, 2 * SEC, on_alert, &seen);
	CHECK(listen_watch_namespaces(lw, &ns) == 2);
	CHECK(listen_watch_netns_find(lw, 7)->sampled && listen_watch_netns_find(lw, 7)->delta[LW_LISTEN_DROPS] == 12);
	CHECK(!listen_watch_netns_find(lw, 9)->sampled);	/* new: its first reading is a baseline */
	listen_watch_sample_begin(lw, LW_KNOWN_ALL);
	listen_watch_sample_netns(lw, 9, true, c, sys);
	listen_watch_sample_end(lw, 3 * SEC, on_alert, &seen);
	CHECK(listen_watch_netns_find(lw, 7) == NULL && listen_watch_netns_find(lw, 9)->sampled);
	listen_watch_free(lw);
}

/* One sample with namespace counters and the given child events before it. */
static void sample_ns(struct listen_watch *lw, uint64_t t, const struct tt_sock_record *recs,
		      size_t n, const uint64_t c[LW_N_COUNTERS], int children,
		      struct alerts_seen *seen)
{
	int64_t sys[LW_N_SYSCTLS];

	sysctls_default(sys);
	for (int i = 0; i < children; i++) {
		/* a child of the listener: its local end is the listener's */
		struct tt_event e = ev_state(100 + (uint64_t)i, t, TT_TCP_LISTEN,
					     TT_TCP_SYN_RECV, 0);

		memset(e.saddr, 0, sizeof(e.saddr));
		e.netns = NETNS;
		e.sport = recs[0].sport;
		listen_watch_event(lw, &e);
	}
	listen_watch_sample_begin(lw, LW_KNOWN_ALL);
	for (size_t i = 0; i < n; i++)
		listen_watch_sample_sock(lw, &recs[i]);
	listen_watch_sample_netns(lw, NETNS, true, c, sys);
	listen_watch_sample_end(lw, t, on_alert, seen);
}

static void flood_told_from_backlog_overflow(void)
{
	static const uint8_t src[TT_ADDR_LEN] = { 198, 51, 100, 7 };
	struct tt_sock_record v[6];
	uint64_t c[LW_N_COUNTERS] = { 0 };
	struct alerts_seen seen = { 0 };
	struct listen_watch *lw = new_watch(8, 64);

	/* spoofed: cookies sent, none back, no handshake completes */
	v[0] = listener_rec(1, 80, 0, 8, 8, 0);
	v[0].cookie_idle_ms = 100;
	sample_ns(lw, 1 * SEC, v, 1, c, 0, &seen);
	c[LW_SYNCOOKIES_SENT] = 500;
	sample_ns(lw, 2 * SEC, v, 1, c, 0, &seen);
	CHECK(seen.n == 1 && seen.v[0].kind == LW_SYN_FLOOD && seen.v[0].start);
	CHECK(listener_at(lw, 0)->alert[LW_SYN_FLOOD].evidence == LW_EVIDENCE_NAMESPACE);
	listen_watch_free(lw);

	/* a burst: the cookies come back and the listener makes children */
	lw = new_watch(8, 64);
	memset(&seen, 0, sizeof(seen));
	memset(c, 0, sizeof(c));
	sample_ns(lw, 1 * SEC, v, 1, c, 0, &seen);
	c[LW_SYNCOOKIES_SENT] = 500;
	c[LW_SYNCOOKIES_RECV] = 480;
	sample_ns(lw, 2 * SEC, v, 1, c, 300, &seen);
	CHECK(seen.n == 1 && seen.v[0].kind == LW_SYN_BACKLOG_OVERFLOW);
	CHECK(listener_at(lw, 0)->d_handshakes == 300);
	CHECK(!listener_at(lw, 0)->alert[LW_SYN_FLOOD].active);
	listen_watch_free(lw);

	/* without cookies the listener's requests decide: retransmitted
	 * SYN-ACKs to peers that never answer are a flood
	 */
	lw = new_watch(8, 64);
	memset(&seen, 0, sizeof(seen));
	memset(c, 0, sizeof(c));
	v[0].cookie_idle_ms = ~0u;
	for (int i = 1; i < 6; i++) {
		v[i] = request_rec(1, AF_INET, src);
		v[i].cookie += (uint64_t)i;
		v[i].req_retrans = 2;
	}
	/* 5 of the 8 half-open requests retransmitted, 1 handshake completed */
	sample_ns(lw, 1 * SEC, v, 6, c, 0, &seen);
	sample_ns(lw, 2 * SEC, v, 6, c, 1, &seen);
	CHECK(listener_at(lw, 0)->synq_retrans == 5);
	CHECK(seen.n == 1 && seen.v[0].kind == LW_SYN_FLOOD);
	CHECK(listener_at(lw, 0)->alert[LW_SYN_FLOOD].evidence == LW_EVIDENCE_LISTENER);
	listen_watch_free(lw);

	lw = new_watch(8, 64);
	memset(&seen, 0, sizeof(seen));
	for (int i = 1; i < 6; i++)
		v[i].req_retrans = 0;
	sample_ns(lw, 1 * SEC, v, 6, c, 0, &seen);
	sample_ns(lw, 2 * SEC, v, 6, c, 40, &seen);
	CHECK(seen.n == 1 && seen.v[0].kind == LW_SYN_BACKLOG_OVERFLOW);
	listen_watch_free(lw);
}

static void owners_looked_for_per_listener(void)
{
	struct listen_watch *lw = new_watch(8, 8);
	struct alerts_seen seen = { 0 };
	struct tt_sock_record v[2] = { listener_rec(1, 80, 0, 8, 0, 0),
				       listener_rec(2, 81, 0, 8, 0, 0) };
	uint64_t due[4];
	bool fresh;
	int64_t sys[LW_N_SYSCTLS];

	sysctls_default(sys);
	sample(lw, 1 * SEC, v, 1, sys, &seen);
	CHECK(listen_watch_unowned(lw, 1 * SEC, due, 4, &fresh) == 1 && due[0] == 1 && fresh);
	listen_watch_owner_missed(lw, 1, 1 * SEC);
	CHECK(listener_at(lw, 0)->owner_not_visible);
	/* a new listener is looked for at once, the missed one is not */
	sample(lw, 2 * SEC, v, 2, sys, &seen);
	CHECK(listen_watch_unowned(lw, 2 * SEC, due, 4, &fresh) == 1 && due[0] == 2 && fresh);
	CHECK(listen_watch_unowned(lw, 11 * SEC, due, 4, &fresh) == 2 && fresh);
	listen_watch_owner_missed(lw, 1, 11 * SEC);	/* backoff doubles */
	listen_watch_owner_missed(lw, 2, 11 * SEC);
	/* both missed before: nothing new is due */
	CHECK(listen_watch_unowned(lw, 21 * SEC, due, 4, &fresh) == 1 && due[0] == 2 && !fresh);
	CHECK(listen_watch_unowned(lw, 31 * SEC, due, 4, &fresh) == 2 && !fresh);
	static const char comm[TT_COMM_LEN] = "nginx";

	listen_watch_set_owner(lw, 1, 42, comm);
	CHECK(!listener_at(lw, 0)->owner_not_visible && listener_at(lw, 0)->pid == 42);
	listen_watch_free(lw);
}

static void netstat_parser(void)
{
	uint64_t c[LW_N_COUNTERS];
	const char *text =
		"TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops TCPSynRetrans\n"
		"TcpExt: 17 2 5 9 123456789012\n"
		"IpExt: InNoRoutes ListenDrops\n"
		"IpExt: 1 777\n";

	CHECK(netstat_parse(text, c) == 0);
	CHECK(c[LW_SYNCOOKIES_SENT] == 17 && c[LW_SYNCOOKIES_RECV] == 2);
	CHECK(c[LW_LISTEN_OVERFLOWS] == 5 && c[LW_LISTEN_DROPS] == 9);
	CHECK(c[LW_SYN_RETRANS] == 123456789012ull);
	CHECK(c[LW_REQQ_FULL_DROP] == 0);	/* absent: zero */
	CHECK(netstat_parse("", c) == -1);
	CHECK(netstat_parse("TcpExt: A B\n", c) == -1);
	/* more names than values: stops cleanly */
	CHECK(netstat_parse("TcpExt: ListenDrops ListenOverflows\nTcpExt: 4\n", c) == 0);
	CHECK(c[LW_LISTEN_DROPS] == 4 && c[LW_LISTEN_OVERFLOWS] == 0);
}

static void top_view_frame(void)
{
	struct listen_watch *lw = new_watch(8, 8);
	struct alerts_seen seen = { 0 };
	struct tt_sock_record recs[2];
	struct outbuf out;
	struct fmt_clock clock;
	struct top_view *tv;
	int64_t sys[LW_N_SYSCTLS];
	char text[8192], *header, *row1, *row2;
	FILE *f = tmpfile();
	size_t n;

	sysctls_default(sys);
	recs[0] = listener_rec(1, 80, 0, 128, 0, 0);
	recs[1] = listener_rec(2, 8443, 0, 16, 0, 0);
	sample(lw, 1 * SEC, recs, 2, sys, &seen);
	recs[1].synq_len = 16;
	recs[1].drops = 3;
	sample(lw, 2 * SEC, recs, 2, sys, &seen);
	char comm[TT_COMM_LEN] = "bad\x1b[2Jname";

	listen_watch_set_owner(lw, 2, 4242, comm);
	CHECK(f && outbuf_init(&out, fileno(f), 1 << 16) == 0);
	fmt_clock_set(&clock, 0);
	tv = top_view_new(&(struct top_view_config){ .out = &out, .clock = &clock,
						     .interval_ns = SEC });
	CHECK(tv != NULL);
	if (!tv)
		return;
	for (size_t i = 0; i < (size_t)seen.n; i++) {
		struct lw_alert a = { .kind = seen.v[i].kind, .start = true, .ts_ns = 2 * SEC,
				      .l = listener_at(lw, 0),
				      .st = &listener_at(lw, 0)->alert[seen.v[i].kind] };

		top_view_alert(tv, &a);
	}
	top_view_render(tv, lw, 2 * SEC);
	top_view_free(tv);
	CHECK(outbuf_flush(&out) == 0);
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	CHECK(strncmp(text, "tcptrail top", 12) == 0);
	CHECK(strstr(text, "2 listeners in 1 namespaces") != NULL);
	header = strstr(text, "\nNETNS");
	CHECK(header != NULL);
	if (header) {
		row1 = strchr(header + 1, '\n') + 1;
		row2 = strchr(row1, '\n') + 1;
		/* the flooded listener first, its owner's name made safe */
		CHECK(strstr(row1, "0.0.0.0:8443") && strstr(row1, "4242/bad\\x1b[2Jname") &&
		      strstr(row1, "16/16") && strstr(row1, "SYN-FLOOD"));
		CHECK(strstr(row2, "0.0.0.0:80 ") && strstr(row2, " ok"));
	}
	CHECK(strstr(text, "syn_flood         START 0.0.0.0:8443") != NULL);
	/* not a terminal: no escape sequences, and the hostile name is defused */
	CHECK(strchr(text, '\x1b') == NULL);
	outbuf_free(&out);
	fclose(f);
	listen_watch_free(lw);
}

/* The text view's alert lines: a start with its figures and sources, a
 * clear with the totals, both in the view's columns.
 */
static void text_alert_lines(void)
{
	struct listen_watch *lw = new_watch(8, 8);
	struct alerts_seen seen = { 0 };
	struct tt_sock_record recs[2];
	uint8_t src[TT_ADDR_LEN] = { 198, 51, 100, 7 };
	struct lw_alert a;
	struct outbuf out;
	struct emitter em;
	int64_t sys[LW_N_SYSCTLS];
	char text[4096], *lines[3] = { 0 };
	FILE *f = tmpfile();
	size_t n;

	sysctls_default(sys);
	recs[0] = listener_rec(1, 8080, 0, 16, 0, 0);
	recs[1] = request_rec(1, AF_INET, src);
	sample(lw, 1 * SEC, recs, 1, sys, &seen);
	recs[0].synq_len = 16;
	sample(lw, 2 * SEC, recs, 2, sys, &seen);
	CHECK(f && outbuf_init(&out, fileno(f), 1 << 16) == 0);
	emitter_init(&em, &out);
	fmt_clock_set(&em.clock, 0);
	em.own_netns = NETNS;
	a = (struct lw_alert){ .kind = LW_SYN_FLOOD, .start = true, .ts_ns = 2 * SEC,
			       .l = listener_at(lw, 0), .st = &listener_at(lw, 0)->alert[0] };
	emit_text_listen_ops.alert(&em, &a);
	a.start = false;
	a.ts_ns = 8 * SEC;
	emit_text_listen_ops.alert(&em, &a);
	CHECK(outbuf_flush(&out) == 0);
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	/* a record's continuation lines (indented) are joined to it */
	for (char *q = text; (q = strstr(q, "\n             ")); )
		*q = ' ';
	lines[0] = strtok(text, "\n");
	lines[1] = strtok(NULL, "\n");
	lines[2] = strtok(NULL, "\n");
	CHECK(lines[2] != NULL);
	if (lines[2]) {
		size_t detail = (size_t)(strstr(lines[0], "DETAIL") - lines[0]);

		CHECK(strstr(lines[1], " syn-flood ") && strstr(lines[1], "0.0.0.0:8080"));
		CHECK(strncmp(lines[1] + detail, "acceptq=0/16 synq=16/16", 23) == 0);
		CHECK(strstr(lines[1], "top-prefix=198.51.100.0/24(1)") != NULL);
		CHECK(strstr(lines[2], " flood-over ") && strstr(lines[2], "after 6.0s"));
		CHECK(strstr(lines[2], "peak synq 16") != NULL);
		CHECK(strstr(lines[1], "netns=") == NULL);	/* our own namespace */
	}
	outbuf_free(&out);
	fclose(f);
	listen_watch_free(lw);
}

TEST_LIST(listen_tests) = {
	TEST_ENTRY(text_alert_lines),
	TEST_ENTRY(first_sample_is_baseline_then_deltas),
	TEST_ENTRY(syn_flood_starts_and_clears_with_hysteresis),
	TEST_ENTRY(syncookies_and_retransmits_signal_a_flood),
	TEST_ENTRY(accept_queue_full_needs_drops),
	TEST_ENTRY(closed_listener_clears_its_alert),
	TEST_ENTRY(sources_ranked_by_address_and_prefix),
	TEST_ENTRY(bounded_tables_count_what_they_drop),
	TEST_ENTRY(overflow_events_match_listener_by_tuple),
	TEST_ENTRY(ranking_puts_pressure_first_and_limits_follow_sysctls),
	TEST_ENTRY(namespace_counters_are_deltas),
	TEST_ENTRY(flood_told_from_backlog_overflow),
	TEST_ENTRY(owners_looked_for_per_listener),
	TEST_ENTRY(netstat_parser),
	TEST_ENTRY(top_view_frame),
	{ 0 },
};
