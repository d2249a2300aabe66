/* Metrics: what the tap counts, the gauges, the bounded label sets, the
 * listener series, the exposition text, and --metrics addresses.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "events.h"
#include "harness.h"
#include "hostport.h"
#include "ingest.h"
#include "metrics.h"
#include "metrics_text.h"
#include "ports.h"

#define MS 1000000ull
#define SEC 1000000000ull

/* The exposition of m, as a scrape would get it. */
static char *render(const struct metrics *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(f && metrics_text(m, f) == 0);
	fclose(f);
	return buf;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	fprintf(stderr, "    no line: %s\n", line);
	return false;
}

/* An ingest whose output filter keeps nothing, tapped by m. */
static struct ingest *tapped_ingest(struct metrics *m, struct filter *f, struct sink *tap)
{
	static const struct sink_ops none;
	struct sink out = { &none, NULL };
	char err[64];
	struct ingest_config cfg = { .max_conns = 64, .close_grace_ns = 10 * MS,
				     .histories = true, .filter = f, .tap = tap };

	filter_init(f);
	CHECK(filter_parse_ports(&f->lports, "1", err, sizeof(err)) == 0);
	*tap = (struct sink){ &metrics_sink_ops, m };
	return ingest_new(&cfg, &out);
}

static void counts_every_history_whatever_the_filter(void)
{
	struct metrics m;
	struct filter f;
	struct sink tap;
	struct ingest *in;
	struct tt_event e;
	char *text;

	CHECK(metrics_init(&m, 4, SEC) == 0);
	in = tapped_ingest(&m, &f, &tap);
	/* two orderly active lives of 2 ms and 40 ms, one refused connect */
	for (int i = 0; i < 2; i++) {
		uint64_t t0 = i * SEC, len = i ? 40 * MS : 2 * MS;

		e = ev_state(10 + i, t0, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1);
		ingest_event(in, &e);
		e = ev_state(10 + i, t0 + 1000, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED, 0);
		ingest_event(in, &e);
		e = ev_state(10 + i, t0 + len / 2, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1, 1);
		ingest_event(in, &e);
		e = ev_state(10 + i, t0 + len / 2 + 1000, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2, 0);
		ingest_event(in, &e);
		e = ev_state(10 + i, t0 + len - 1000, TT_TCP_FIN_WAIT2, TT_TCP_TIME_WAIT, 0);
		ingest_event(in, &e);
		/* the full socket closes as its timewait socket takes over */
		e = ev_close(10 + i, t0 + len, TT_TCP_TIME_WAIT, 0);
		ingest_event(in, &e);
	}
	e = ev_state(20, 3 * SEC, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1);
	ingest_event(in, &e);
	e = ev_reset(20, 3 * SEC + 5000, 0, TT_TCP_SYN_SENT);
	ingest_event(in, &e);
	e = ev_close(20, 3 * SEC + 6000, TT_TCP_SYN_SENT, 111);
	ingest_event(in, &e);
	/* closed, each waiting out its grace */
	CHECK(ingest_tracked(in)[TT_TCP_CLOSE] == 3);
	CHECK(ingest_tracked(in)[TT_TCP_ESTABLISHED] == 0);
	ingest_flush(in);
	CHECK(ingest_tracked(in)[TT_TCP_CLOSE] == 0);
	CHECK(m.nconns == 1 && m.conns[0].closed[ROLE_ACTIVE][END_REFUSED] == 1);
	CHECK(m.conns[0].resets[METRICS_RST_RECEIVED] == 1 && m.conns[0].resets[METRICS_RST_SENT] == 0);
	metrics_connections(&m, ingest_tracked(in), ingest_leak_stats(in));
	text = render(&m);
	CHECK(has_line(text, "tcptrail_connections_closed_total{role=\"active\",end=\"refused\",container=\"\"} 1"));
	CHECK(has_line(text, "tcptrail_resets_total{direction=\"received\",container=\"\"} 1"));
	CHECK(has_line(text, "tcptrail_connections_closed_total{role=\"active\",end=\"orderly\",container=\"\"} 2"));
	CHECK(has_line(text, "tcptrail_connections_tracked{state=\"CLOSE\"} 0"));
	/* 2 ms falls in le=0.005, 40 ms in le=0.05; the refused one took 6 us */
	CHECK(has_line(text, "tcptrail_connection_duration_seconds_bucket{role=\"active\",container=\"\",le=\"0.0005\"} 1"));
	CHECK(has_line(text, "tcptrail_connection_duration_seconds_bucket{role=\"active\",container=\"\",le=\"0.005\"} 2"));
	CHECK(has_line(text, "tcptrail_connection_duration_seconds_bucket{role=\"active\",container=\"\",le=\"0.01\"} 2"));
	CHECK(has_line(text, "tcptrail_connection_duration_seconds_bucket{role=\"active\",container=\"\",le=\"0.05\"} 3"));
	CHECK(has_line(text, "tcptrail_connection_duration_seconds_count{role=\"active\",container=\"\"} 3"));
	free(text);
	ingest_free(in);
	metrics_free(&m);
}

static void losses_by_cause(void)
{
	struct metrics m;
	struct filter f;
	struct sink tap;
	struct ingest *in;
	char *text;

	CHECK(metrics_init(&m, 4, SEC) == 0);
	in = tapped_ingest(&m, &f, &tap);
	ingest_lost(in, 1, 5, LOST_RING_FULL);
	ingest_lost(in, 2, 3, LOST_KERNEL_SKIPPED);
	ingest_lost(in, 3, 2, LOST_RING_FULL);
	text = render(&m);
	CHECK(has_line(text, "tcptrail_records_lost_total{cause=\"ring_full\"} 7"));
	CHECK(has_line(text, "tcptrail_records_lost_total{cause=\"kernel_skipped\"} 3"));
	CHECK(has_line(text, "tcptrail_records_lost_total{cause=\"filter_skipped\"} 0"));
	free(text);
	ingest_free(in);
	metrics_free(&m);
}

/* The leak gauge names the processes with most leaks, sums one name's
 * processes, and puts the rest under "other"; a name whose leaks were
 * resolved stays at 0.
 */
static void leak_gauge_is_bounded_by_name(void)
{
	static struct leak_stats ls;
	uint32_t tracked[TT_TCP_MAX_STATES] = { 0 };
	struct metrics m;
	char name[TT_COMM_LEN], *text;
	uint32_t expected_other = 0;

	memset(&ls, 0, sizeof(ls));
	CHECK(metrics_init(&m, 4, SEC) == 0);
	/* METRICS_COMMS + 5 names; name k leaks k + 1 sockets */
	for (int k = 0; k < METRICS_COMMS + 5; k++) {
		snprintf(name, sizeof(name), "srv%02d", k);
		for (int i = 0; i <= k; i++)
			leak_stats_add(&ls, 1000 + k, name);
		if (k < 5)
			expected_other += k + 1;
	}
	/* a second process of one name, and a resolved leak elsewhere */
	leak_stats_add(&ls, 5000, "srv24");
	leak_stats_add(&ls, 6000, "quiet\"\\\n\xff");
	leak_stats_resolve(&ls, 6000);
	metrics_connections(&m, tracked, &ls);
	CHECK(m.ncomms == METRICS_COMMS + 1);
	CHECK(!strcmp(m.comms[0].comm, "srv24") && m.comms[0].leaked == 26);
	text = render(&m);
	CHECK(has_line(text, "tcptrail_close_wait_leaked_sockets{comm=\"srv24\"} 26"));
	CHECK(has_line(text, "tcptrail_close_wait_leaked_sockets{comm=\"srv05\"} 6"));
	/* the 0-leak name and the five smallest share "other" */
	CHECK(!strstr(text, "comm=\"srv04\""));
	CHECK(!strstr(text, "quiet"));
	{
		char line[96];

		snprintf(line, sizeof(line), "tcptrail_close_wait_leaked_sockets{comm=\"other\"} %u",
			 expected_other);
		CHECK(has_line(text, line));
	}
	free(text);
	/* few names: the resolved one shows 0, its odd bytes made safe */
	memset(&ls, 0, sizeof(ls));
	leak_stats_add(&ls, 6000, "quiet\"\\\n\xff");
	leak_stats_resolve(&ls, 6000);
	leak_stats_add(&ls, 7000, "");
	metrics_connections(&m, tracked, &ls);
	text = render(&m);
	CHECK(has_line(text, "tcptrail_close_wait_leaked_sockets{comm=\"quiet\\\"\\\\\\n?\"} 0"));
	CHECK(has_line(text, "tcptrail_close_wait_leaked_sockets{comm=\"unowned\"} 1"));
	free(text);
	metrics_free(&m);
}

static void sample_listeners(struct listen_watch *lw, uint64_t t, const struct tt_sock_record *r,
			     size_t n)
{
	static const uint64_t counters[LW_N_COUNTERS];
	int64_t sys[LW_N_SYSCTLS];

	sysctls_default(sys);
	listen_watch_sample_begin(lw, LW_KNOWN_ALL);
	for (size_t i = 0; i < n; i++)
		listen_watch_sample_sock(lw, &r[i]);
	listen_watch_sample_netns(lw, LISTEN_NETNS, false, counters, sys);
	listen_watch_sample_end(lw, t, NULL, NULL);
}

/* Two SO_REUSEPORT listeners are one series; counters start at each
 * member's total and rise by its deltas; a closed listener's series stays
 * (queues 0, counters kept) for the linger, then goes.
 */
static void listener_series(void)
{
	struct lw_config cfg = { .max_listeners = 8, .max_requests = 8 };
	struct listen_watch *lw = listen_watch_new(&cfg);
	struct tt_sock_record r[3] = {
		listener_rec(1, 8080, 3, 128, 1, 100),
		listener_rec(2, 8080, 4, 128, 0, 5),
		listener_rec(3, 9090, 0, 16, 0, 0),
	};
	const char *l8080 = "{netns=\"4026532000\",laddr=\"0.0.0.0\",lport=\"8080\",container=\"\"}";
	struct metrics m;
	char line[160], *text;

	CHECK(metrics_init(&m, 4, 10 * SEC) == 0);
	sample_listeners(lw, 1 * SEC, r, 3);
	metrics_listeners(&m, lw, 1 * SEC);
	CHECK(m.nlisteners == 2);
	r[0].drops = 107;
	r[1].drops = 6;
	sample_listeners(lw, 2 * SEC, r, 3);
	metrics_listeners(&m, lw, 2 * SEC);
	text = render(&m);
	snprintf(line, sizeof(line), "tcptrail_listener_accept_queue%s 7", l8080);
	CHECK(has_line(text, line));
	snprintf(line, sizeof(line), "tcptrail_listener_accept_queue_limit%s 256", l8080);
	CHECK(has_line(text, line));
	snprintf(line, sizeof(line), "tcptrail_listener_drops_total%s 113", l8080);
	CHECK(has_line(text, line));
	CHECK(strstr(text, "tcptrail_listener_alert{netns=\"4026532000\",laddr=\"0.0.0.0\","
			   "lport=\"9090\",container=\"\",alert=\"syn_flood\"} 0\n"));
	free(text);
	/* 8080 closes: kept with empty queues until 10 s after last seen */
	sample_listeners(lw, 3 * SEC, &r[2], 1);
	metrics_listeners(&m, lw, 3 * SEC);
	CHECK(m.nlisteners == 2);
	text = render(&m);
	snprintf(line, sizeof(line), "tcptrail_listener_accept_queue%s 0", l8080);
	CHECK(has_line(text, line));
	snprintf(line, sizeof(line), "tcptrail_listener_drops_total%s 113", l8080);
	CHECK(has_line(text, line));
	free(text);
	sample_listeners(lw, 12 * SEC, &r[2], 1);
	metrics_listeners(&m, lw, 12 * SEC);
	CHECK(m.nlisteners == 1 && m.listeners[0].port == 9090);
	listen_watch_free(lw);
	metrics_free(&m);
}

/* Accept waits: the interval's percentiles on the listener, the exposition's
 * buckets per series (SO_REUSEPORT members summed), counted from the second
 * sample (the first is the baseline); handshakes by role.
 */
static void accept_wait_and_handshake_histograms(void)
{
	struct lw_config cfg = { .max_listeners = 8, .max_requests = 8 };
	struct listen_watch *lw = listen_watch_new(&cfg);
	struct tt_sock_record r[2] = {
		listener_rec(1, 8080, 0, 128, 0, 0),
		listener_rec(2, 8080, 0, 128, 0, 0),
	};
	struct tt_event acc = ev_state(50, 0, TT_TCP_ESTABLISHED, TT_TCP_ESTABLISHED, 1);
	const char *l8080 = "netns=\"4026532000\",laddr=\"0.0.0.0\",lport=\"8080\",container=\"\"";
	const struct lw_listener *const *v;
	struct conn c = { .role = ROLE_PASSIVE };
	struct metrics m;
	char line[200], *text;

	acc.type = TT_EV_ACCEPT;
	acc.netns = LISTEN_NETNS;
	acc.sport = 8080;
	CHECK(metrics_init(&m, 4, 10 * SEC) == 0);
	sample_listeners(lw, 1 * SEC, r, 2);
	listen_watch_accept(lw, &acc, true, 400 * MS);	/* 0.25 < 0.4 <= 0.5 */
	listen_watch_accept(lw, &acc, true, 2 * MS);	/* 0.001 < 0.002 <= 0.0025 */
	listen_watch_accept(lw, &acc, false, 0);	/* counted, not timed */
	sample_listeners(lw, 2 * SEC, r, 2);
	metrics_listeners(&m, lw, 2 * SEC);
	CHECK(listen_watch_listeners(lw, &v) == 2);
	CHECK(v[0]->d_accepted + v[1]->d_accepted == 3);
	CHECK(v[0]->aw_n + v[1]->aw_n == 2);
	CHECK(v[0]->aw_max_ns == 400 * MS || v[1]->aw_max_ns == 400 * MS);
	metrics_sink_ops.handshake(&m, &c, 3 * MS);
	text = render(&m);
	snprintf(line, sizeof(line), "tcptrail_accept_wait_seconds_bucket{%s,le=\"0.001\"} 0", l8080);
	CHECK(has_line(text, line));
	snprintf(line, sizeof(line), "tcptrail_accept_wait_seconds_bucket{%s,le=\"0.0025\"} 1", l8080);
	CHECK(has_line(text, line));
	snprintf(line, sizeof(line), "tcptrail_accept_wait_seconds_bucket{%s,le=\"0.5\"} 2", l8080);
	CHECK(has_line(text, line));
	snprintf(line, sizeof(line), "tcptrail_accept_wait_seconds_count{%s} 2", l8080);
	CHECK(has_line(text, line));
	CHECK(has_line(text, "tcptrail_handshake_seconds_bucket{role=\"passive\",le=\"0.0025\"} 0"));
	CHECK(has_line(text, "tcptrail_handshake_seconds_bucket{role=\"passive\",le=\"0.005\"} 1"));
	CHECK(has_line(text, "tcptrail_handshake_seconds_count{role=\"active\"} 0"));
	free(text);
	/* the next interval had no accepts: nothing more, percentiles unknown */
	sample_listeners(lw, 3 * SEC, r, 2);
	metrics_listeners(&m, lw, 3 * SEC);
	CHECK(listen_watch_listeners(lw, &v) == 2 && !v[0]->aw_n && !v[1]->aw_n);
	text = render(&m);
	snprintf(line, sizeof(line), "tcptrail_accept_wait_seconds_count{%s} 2", l8080);
	CHECK(has_line(text, line));
	free(text);
	listen_watch_free(lw);
	metrics_free(&m);
}

/* The port gauge: one series per (netns, raddr, rport), local addresses
 * folded into the most used, at most METRICS_DESTS, the rest counted.
 */
static void ports_gauge_is_bounded(void)
{
	struct ports_config pcfg = { .max_dests = 256 };
	struct ports *p = ports_new(&pcfg);
	struct ports_limits lim = { .lo = 40000, .hi = 40009, .reserved = 0, .tw_reuse = 0 };
	struct tt_sock_record r[80 * 8];
	struct metrics m;
	char *text;
	size_t n = 0;

	CHECK(p && metrics_init(&m, 4, 10 * SEC) == 0);
	ports_set_limits(p, 9, &lim);
	memset(r, 0, sizeof(r));
	/* 80 destinations 10.0.0.2:1000+k from 10.0.0.1, each with (k % 3 + 5)
	 * of 10 ports in TIME_WAIT; the first also from 10.0.0.7, with 6
	 */
	for (int k = 0; k < 80; k++)
		for (int j = 0; j < (k % 3) + 5 + (k == 0 ? 6 : 0); j++) {
			struct tt_sock_record *x = &r[n++];

			x->state = TT_TCP_TIME_WAIT;
			x->family = AF_INET;
			x->netns = 9;
			x->saddr[0] = 10, x->saddr[3] = (k == 0 && j >= 5) ? 7 : 1;
			x->daddr[0] = 10, x->daddr[3] = 2;
			x->sport = (uint16_t)(40000 + j % 10);
			x->dport = (uint16_t)(1000 + k);
			x->tw_left_ms = 30000;
		}
	ports_reconcile(p, r, n, 100 * SEC);
	ports_interval(p, 100 * SEC, NULL, NULL);
	metrics_ports(&m, p);
	CHECK(m.ndests == METRICS_DESTS && m.dests_dropped == 80 - METRICS_DESTS);
	text = render(&m);
	/* one series for the first destination: the more used local address */
	CHECK(has_line(text, "tcptrail_ephemeral_ports_used_ratio{netns=\"9\",raddr=\"10.0.0.2\","
			     "rport=\"1000\"} 0.600"));
	CHECK(!strstr(strstr(text, "rport=\"1000\"") + 1, "rport=\"1000\""));
	CHECK(has_line(text, "tcptrail_ephemeral_ports_series_dropped 16"));
	free(text);
	ports_free(p);
	metrics_free(&m);
}

static void full_series_table_counts(void)
{
	struct lw_config cfg = { .max_listeners = 8, .max_requests = 8 };
	struct listen_watch *lw = listen_watch_new(&cfg);
	struct tt_sock_record r[3];
	struct metrics m;

	CHECK(metrics_init(&m, 2, SEC) == 0);
	for (int i = 0; i < 3; i++)
		r[i] = listener_rec(30 + i, (uint16_t)(2000 + i), 0, 8, 0, 0);
	sample_listeners(lw, SEC, r, 3);
	metrics_listeners(&m, lw, SEC);
	CHECK(m.nlisteners == 2);
	CHECK(m.listeners_dropped == 1);
	listen_watch_free(lw);
	metrics_free(&m);
}

/* cgroup id k (1..) is container k's: ids k00000000000... */
static const struct cgroup_info *numbered_containers(void *ctx, uint64_t id)
{
	static struct cgroup_info info;
	static char path[128];

	(void)ctx;
	memset(&info, 0, sizeof(info));
	info.id = id;
	snprintf(path, sizeof(path), "/system.slice/docker-%012llx%052d.scope",
		 (unsigned long long)id, 0);
	info.path = path;
	cgroup_path_parse(path, &info.ids);
	return &info;
}

/* Connection series per container: METRICS_CONTAINERS named, the rest as
 * "other"; a listener's series names its container.
 */
static void series_by_container(void)
{
	struct metrics m;
	struct conn c;
	struct history_summary s = { .end = END_ORDERLY, .start_ns = 0, .end_ns = MS };
	struct tt_event e = ev_reset(1, 1, 1, TT_TCP_ESTABLISHED);
	char *text;

	CHECK(metrics_init(&m, 4, SEC) == 0);
	m.cgroup_lookup = numbered_containers;
	memset(&c, 0, sizeof(c));
	c.role = ROLE_PASSIVE;
	for (uint64_t k = 1; k <= METRICS_CONTAINERS + 6; k++) {
		c.cgroup = k;
		metrics_sink_ops.history(&m, &c, &s);
	}
	c.cgroup = 0;
	metrics_sink_ops.history(&m, &c, &s);
	e.cgroup = 3;
	metrics_sink_ops.event(&m, &e);
	CHECK(m.nconns == METRICS_CONTAINERS + 2);
	text = render(&m);
	CHECK(has_line(text, "tcptrail_connections_closed_total{role=\"passive\",end=\"orderly\","
			     "container=\"000000000003\"} 1"));
	CHECK(has_line(text, "tcptrail_connections_closed_total{role=\"passive\",end=\"orderly\","
			     "container=\"other\"} 6"));
	CHECK(has_line(text, "tcptrail_connections_closed_total{role=\"passive\",end=\"orderly\","
			     "container=\"\"} 1"));
	CHECK(has_line(text, "tcptrail_resets_total{direction=\"sent\",container=\"000000000003\"} 1"));
	free(text);
	metrics_free(&m);
}

/* Delivery facts at close: RTT by role, retransmits by role and on the
 * listener series the connection came through (bound to any address),
 * limited time by what limited it; a history without facts adds none.
 */
static void delivery_series(void)
{
	struct lw_config cfg = { .max_listeners = 8, .max_requests = 8 };
	struct listen_watch *lw = listen_watch_new(&cfg);
	struct tt_sock_record r = listener_rec(1, 8080, 0, 128, 0, 0);
	struct tt_delivery d = { .flags = TT_D_READ | TT_D_CHRONO, .srtt_us = 300,
				 .retrans_segs = 7, .busy_ns = 2 * SEC, .rwnd_limited_ns = SEC,
				 .sndbuf_limited_ns = SEC / 2 };
	struct history_summary s = { .end = END_ORDERLY, .end_ns = MS, .dl = &d };
	struct metrics m;
	struct conn c;
	char *text;

	CHECK(metrics_init(&m, 4, 10 * SEC) == 0);
	sample_listeners(lw, SEC, &r, 1);
	metrics_listeners(&m, lw, SEC);
	memset(&c, 0, sizeof(c));
	c.role = ROLE_PASSIVE;
	c.family = AF_INET;
	c.netns = LISTEN_NETNS;
	c.lport = 8080;
	inet_pton(AF_INET, "127.0.0.1", c.laddr);
	metrics_sink_ops.history(&m, &c, &s);
	c.lport = 8081;		/* no such listener: the role's count only */
	metrics_sink_ops.history(&m, &c, &s);
	c.role = ROLE_ACTIVE;
	d.srtt_us = 20000;
	d.retrans_segs = 2;
	metrics_sink_ops.history(&m, &c, &s);
	s.dl = NULL;
	metrics_sink_ops.history(&m, &c, &s);
	text = render(&m);
	CHECK(has_line(text, "tcptrail_rtt_seconds_bucket{role=\"passive\",le=\"0.00025\"} 0"));
	CHECK(has_line(text, "tcptrail_rtt_seconds_bucket{role=\"passive\",le=\"0.0005\"} 2"));
	CHECK(has_line(text, "tcptrail_rtt_seconds_count{role=\"active\"} 1"));
	CHECK(has_line(text, "tcptrail_rtt_seconds_bucket{role=\"active\",le=\"0.01\"} 0"));
	CHECK(has_line(text, "tcptrail_rtt_seconds_bucket{role=\"active\",le=\"0.025\"} 1"));
	CHECK(has_line(text, "tcptrail_retransmitted_segments_total{role=\"passive\"} 14"));
	CHECK(has_line(text, "tcptrail_retransmitted_segments_total{role=\"active\"} 2"));
	CHECK(has_line(text, "tcptrail_limited_seconds_total{by=\"busy\"} 6"));
	CHECK(has_line(text, "tcptrail_limited_seconds_total{by=\"receiver\"} 3"));
	CHECK(has_line(text, "tcptrail_limited_seconds_total{by=\"sender_buffer\"} 1.5"));
	CHECK(has_line(text, "tcptrail_listener_retransmitted_segments_total{netns=\"4026532000\","
			     "laddr=\"0.0.0.0\",lport=\"8080\",container=\"\"} 7"));
	free(text);
	listen_watch_free(lw);
	metrics_free(&m);
}

static void metrics_addresses(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[160], buf[64];
	static const char *const bad[] = {
		"", "0", "70000", "9100x", "x:1", "[::1]", "1.2.3.4:", "::1:80", "[nope]:1",
		"256.1.1.1:80", "localhost:-1",
	};

	CHECK(hostport_parse("9100", &ss, &len, err, sizeof(err)) == 0);
	hostport_format(&ss, buf, sizeof(buf));
	CHECK_STR(buf, "*:9100");
	CHECK(hostport_parse("127.0.0.1:80", &ss, &len, err, sizeof(err)) == 0);
	hostport_format(&ss, buf, sizeof(buf));
	CHECK_STR(buf, "127.0.0.1:80");
	CHECK(len == sizeof(struct sockaddr_in));
	CHECK(hostport_parse("[::1]:9", &ss, &len, err, sizeof(err)) == 0);
	hostport_format(&ss, buf, sizeof(buf));
	CHECK_STR(buf, "[::1]:9");
	CHECK(hostport_parse("localhost:65535", &ss, &len, err, sizeof(err)) == 0);
	hostport_format(&ss, buf, sizeof(buf));
	CHECK_STR(buf, "127.0.0.1:65535");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (hostport_parse(bad[i], &ss, &len, err, sizeof(err)) != -1 || !err[0])
			fprintf(stderr, "    accepted '%s'\n", bad[i]), harness_failed_checks++;
	}
}

TEST_LIST(metrics_tests) = {
	TEST_ENTRY(counts_every_history_whatever_the_filter),
	TEST_ENTRY(losses_by_cause),
	TEST_ENTRY(leak_gauge_is_bounded_by_name),
	TEST_ENTRY(listener_series),
	TEST_ENTRY(accept_wait_and_handshake_histograms),
	TEST_ENTRY(ports_gauge_is_bounded),
	TEST_ENTRY(full_series_table_counts),
	TEST_ENTRY(series_by_container),
	TEST_ENTRY(delivery_series),
	TEST_ENTRY(metrics_addresses),
	{ 0 },
};
