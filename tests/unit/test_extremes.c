/* Every record type the emitters write, built at its largest (fullest
 * lists, every byte value in comms, cgroup paths and reasons, the largest
 * numbers and addresses) and at the values that broke it before (a 4.36 s
 * history), written in both views and read back by a strict JSON parser.
 * Run under ASan and UBSan by make SANITIZE=1.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "emit.h"
#include "emit_cases.h"
#include "harness.h"
#include "json_check.h"
#include "rec.h"

#define BIG_NS ((1ull << 62) - 1)	/* the latest time a recording may hold */

/* 15 bytes, none of them NUL, starting from byte value from (1..255). */
static void hostile(char *s, size_t n, unsigned from)
{
	for (size_t i = 0; i < n; i++)
		s[i] = (char)((from - 1 + i) % 255 + 1);
}

static void comm_from(char comm[TT_COMM_LEN], unsigned from)
{
	memset(comm, 0, TT_COMM_LEN);
	hostile(comm, TT_COMM_LEN - 1, from);
}

/* Control characters only: each escapes to six bytes. */
static void comm_control(char comm[TT_COMM_LEN])
{
	memset(comm, 0, TT_COMM_LEN);
	for (int i = 0; i < TT_COMM_LEN - 1; i++)
		comm[i] = (char)(1 + i);
}

static void addr_max(uint8_t a[16], bool v6)
{
	memset(a, 0, 16);
	memset(a, 0xff, v6 ? 16 : 4);
}

/* The case's cgroup: len bytes of every value but NUL (longer than the
 * records show when len > 512), naming a container in a pod.
 */
static void cgroup_max(struct emit_case *k, size_t len)
{
	k->cgroup_known = true;
	k->cgroup_path[0] = '/';
	hostile(k->cgroup_path + 1, len - 1, 1);
	k->cgroup_path[len] = '\0';
	memset(k->ids.container_id, 'f', CGROUP_CONTAINER_ID_LEN);
	memcpy(k->ids.pod_uid, "ffffffff-ffff-ffff-ffff-ffffffffffff", CGROUP_POD_UID_LEN);
}

static void event_max(struct emit_case *k, bool v6)
{
	struct tt_event *e = &k->e;

	e->cookie = UINT64_MAX;
	e->ts_ns = k->ts;
	e->family = v6 ? AF_INET6 : AF_INET;
	addr_max(e->saddr, v6);
	addr_max(e->daddr, v6);
	e->sport = e->dport = UINT16_MAX;
	e->netns = UINT32_MAX;
	e->cgroup = UINT64_MAX;
	e->pid = UINT32_MAX;
	e->flags = TT_F_OWNER_CTX;
	e->oldstate = e->newstate = TT_TCP_CLOSE_WAIT;
	e->reason = UINT16_MAX;
	e->queue.acceptq_len = e->queue.acceptq_max = UINT32_MAX;
	e->queue.synq_len = e->queue.drops = UINT32_MAX;
	comm_control(e->comm);
	hostile(k->reason, CASE_REASON_MAX, 1);
}

static void conn_max(struct emit_case *k, bool v6)
{
	struct conn *c = &k->c;

	c->cookie = c->cgroup = UINT64_MAX;
	c->family = v6 ? AF_INET6 : AF_INET;
	addr_max(c->laddr, v6);
	addr_max(c->raddr, v6);
	c->lport = c->rport = UINT16_MAX;
	c->netns = c->pid = c->leak_pid = UINT32_MAX;
	c->flags = 0xffff & ~CONN_LEAK_REPORTED;
	c->role = ROLE_PASSIVE;
	c->close.bytes_acked = c->close.bytes_received = UINT64_MAX;
	c->close.total_retrans = c->close.srtt_us = UINT32_MAX;
	c->close.sk_err = INT16_MIN;
	comm_control(c->comm);
}

static void history_max(struct emit_case *k)
{
	struct history_summary *s = &k->s;

	s->nstates = CONN_MAX_STATES;
	for (int i = 0; i < CONN_MAX_STATES; i++) {
		s->states[i] = TT_TCP_FIN_WAIT2;
		s->durations_ns[i] = i + 1 < CONN_MAX_STATES ? UINT64_MAX - 1 : DURATION_UNKNOWN;
	}
	s->start_ns = 0;
	s->end_ns = BIG_NS;
	s->handshake_ns = s->accept_wait_ns = s->half_close_ns = UINT64_MAX - 1;
	s->last_ack_age_ns = UINT64_MAX - 1;
	s->handshake_retrans = s->timeout_attempts = INT16_MAX;
	s->accepted = ACCEPT_YES;
	s->fin_by = FIN_BY_SHUTDOWN;
	s->closer = CLOSER_SIMULTANEOUS;
	s->end = END_ZERO_WINDOW_TIMEOUT;
	s->tw_inferred = true;
	s->complete = false;
	/* every delivery fact at its largest */
	memset(&k->dl, 0xff, sizeof(k->dl));
	k->dl.flags = TT_D_READ | TT_D_CHRONO;
	k->dl.busy_ns = k->dl.rwnd_limited_ns = k->dl.sndbuf_limited_ns = UINT64_MAX - 1;
	k->with_dl = true;
}

static void listener_max(struct emit_case *k, bool v6)
{
	struct lw_listener *l = &k->l;

	l->cookie = l->cgroup = UINT64_MAX;
	l->netns = l->pid = UINT32_MAX;
	l->family = v6 ? AF_INET6 : AF_INET;
	l->port = UINT16_MAX;
	addr_max(l->addr, v6);
	comm_control(l->comm);
	l->acceptq_len = l->acceptq_max = l->synq_len = l->synq_max = UINT32_MAX;
	l->drops = l->d_drops = l->synq_retrans = UINT32_MAX;
	l->cookies_active = l->events_incomplete = true;
	l->synq_known = l->cookies_known = l->have_deltas = true;
	l->d_syns = l->syn_rate = UINT64_MAX;
	l->syn_baseline = 1e30;	/* past 2^64: written as 2^64-1 */
	l->synack_retrans = l->overflows = l->handshakes = l->accepted = UINT64_MAX;
	l->d_synack_retrans = l->d_overflows = l->d_handshakes = l->d_accepted = UINT64_MAX;
	l->aw_n = l->aw_p50_ns = l->aw_p99_ns = l->aw_max_ns = UINT64_MAX - 1;
	l->interval_ns = UINT64_MAX;
	for (int i = 0; i < LW_N_ALERTS; i++)
		l->alert[i].active = true;
	for (int i = 0; i < LW_TOP_SOURCES; i++) {
		l->top_addrs[i] = (struct lw_source){ .family = v6 ? AF_INET6 : AF_INET,
						      .prefix_len = v6 ? 128 : 32,
						      .half_open = UINT32_MAX };
		addr_max(l->top_addrs[i].addr, v6);
		l->top_prefixes[i] = l->top_addrs[i];
		l->top_prefixes[i].prefix_len = UINT8_MAX;
	}
	l->n_top_addrs = l->n_top_prefixes = LW_TOP_SOURCES;
	k->st = (struct lw_alert_state){ .active = true, .causes = UINT32_MAX,
					 .evidence = LW_EVIDENCE_NAMESPACE, .since_ns = 0,
					 .peak_synq = UINT32_MAX, .peak_acceptq = UINT32_MAX,
					 .drops = UINT64_MAX, .synack_retrans = UINT64_MAX,
					 .overflows = UINT64_MAX, .syns = UINT64_MAX,
					 .peak_syn_rate = UINT64_MAX };
	k->syn_threshold = UINT64_MAX;
	k->ns.inum = UINT32_MAX;
	k->ns.sampled = true;
	k->ns.listeners = UINT32_MAX;
	for (int i = 0; i < LW_N_COUNTERS; i++)
		k->ns.delta[i] = UINT64_MAX;
	for (int i = 0; i < LW_N_SYSCTLS; i++)
		k->ns.sysctl[i] = INT64_MAX;
	k->with_ns = true;
}

static void dest_max(struct emit_case *k, bool v6)
{
	struct ports_dest *d = &k->d;

	d->netns = UINT32_MAX;
	d->family = v6 ? AF_INET6 : AF_INET;
	d->rport = UINT16_MAX;
	addr_max(d->laddr, v6);
	addr_max(d->raddr, v6);
	/* the most a destination can count: the table's largest size in use,
	 * 61 seconds of 65535 timewait sockets
	 */
	d->in_use = 1u << 24;
	d->time_wait = 61u * UINT16_MAX;
	d->failures = UINT64_MAX;
	d->d_failures = d->other_failures = d->peak_used = UINT32_MAX;
	d->alert = true;
	d->alert_since_ns = 0;
	d->ntop = PORTS_TOP_PROCESSES;
	for (int i = 0; i < PORTS_TOP_PROCESSES; i++) {
		d->top[i].pid = d->top[i].failures = UINT32_MAX;
		d->top[i].cgroup = UINT64_MAX;
		comm_control(d->top[i].comm);
	}
	k->with_lim = true;
	k->lim = (struct ports_limits){ 0, INT32_MAX, 0, 1 };
}

/* Every kind at its largest; variant picks among its shapes (v6 or not,
 * start or clear, ...).
 */
static void largest(struct emit_case *k, enum case_kind kind, unsigned variant)
{
	bool v6 = variant & 1;

	emit_case_init(k, kind);
	k->ts = BIG_NS;
	k->clock_offset = (int64_t)BIG_NS;
	k->own_netns = 1;
	cgroup_max(k, variant & 2 ? EMIT_MAX_CGROUP_PATH : CASE_PATH_MAX);
	event_max(k, v6);
	if (kind == CASE_RESET && (variant & 4))
		k->e.type = TT_EV_RESET_RECV;
	if (kind == CASE_RETRANSMIT) {
		/* the longest result name ("E65535"), or none; no such ca state */
		k->e.flags |= variant & 4 ? TT_F_RESULT : 0;
		k->e.oldstate = UINT8_MAX;
		k->e.close.total_retrans = k->e.close.srtt_us = UINT32_MAX;
	}
	conn_max(k, v6);
	history_max(k);
	listener_max(k, v6);
	dest_max(k, v6);
	k->count = k->total = UINT64_MAX;
	k->cause = UINT8_MAX;
	k->age = kind == CASE_LEAK_PROCESS && (variant & 4) ? DURATION_UNKNOWN : UINT64_MAX - 1;
	k->lower_bound = true;
	k->process_leaks = UINT32_MAX;
	k->nowners = CASE_MAX_OWNERS;
	for (size_t i = 0; i < CASE_MAX_OWNERS; i++) {
		k->owners[i] = (struct owner){ .cookie = UINT64_MAX, .pid = UINT32_MAX,
					       .fd = UINT32_MAX };
		comm_control(k->owners[i].comm);
	}
	k->alert_kind = LW_N_ALERTS - 1;
	k->start = variant & 4;
	k->gone = true;
}

static void check_case(const struct emit_case *k, struct case_sizes *z, const char *what)
{
	char why[400];

	if (emit_case_check(k, z, why, sizeof(why))) {
		fprintf(stderr, "    %s (kind %d): %s\n", what, k->kind, why);
		CHECK(!"a record did not read back as written");
	}
}

static void every_record_at_its_largest(void)
{
	struct emit_case k;
	struct case_sizes z, most = { 0 };

	for (int kind = 0; kind < CASE_N; kind++)
		for (unsigned variant = 0; variant < 8; variant++) {
			largest(&k, (enum case_kind)kind, variant);
			check_case(&k, &z, "largest");
			CHECK(z.record > 0 && z.record <= OUTBUF_MAX_RECORD);
			if (z.record > most.record)
				most = z;
		}
	/* the largest of all comes near the bound, without crossing it */
	CHECK(most.record > OUTBUF_MAX_RECORD / 2);
}

/* A leak held by 64 processes whose comms are 15 control characters, in a
 * cgroup named by 512 of them: every owner is listed. 80 owners: 64 listed,
 * 16 counted.
 */
static void hostile_owners_all_listed(void)
{
	struct emit_case k;
	struct case_sizes z;

	largest(&k, CASE_LEAK, 2);
	memset(k.cgroup_path + 1, 0x01, EMIT_MAX_CGROUP_PATH - 1);
	for (int i = 0; i < EMIT_MAX_OWNERS; i++)
		k.owners[i].pid = (uint32_t)i + 1000000000u;
	k.nowners = EMIT_MAX_OWNERS;
	check_case(&k, &z, "64 hostile owners");
	CHECK(z.listed == EMIT_MAX_OWNERS && z.cut == 0);
	CHECK(z.strings > EMIT_MAX_CGROUP_PATH * 6);
	k.nowners = CASE_MAX_OWNERS;
	check_case(&k, &z, "80 hostile owners");
	CHECK(z.listed == EMIT_MAX_OWNERS && z.cut == CASE_MAX_OWNERS - EMIT_MAX_OWNERS);
}

/* Four failing processes, each in a cgroup named by 512 control
 * characters: the list is cut to what the budget holds, and says so.
 */
static void hostile_processes_cut(void)
{
	struct emit_case k;
	struct case_sizes z;

	largest(&k, CASE_PORTS, 2);
	memset(k.cgroup_path + 1, 0x01, EMIT_MAX_CGROUP_PATH - 1);
	check_case(&k, &z, "ports");
	CHECK(z.cut > 0 && z.listed + z.cut == PORTS_TOP_PROCESSES && z.listed >= 1);
}

/* Every byte value in comms, a cgroup path and a reason name. */
static void every_byte_value(void)
{
	struct emit_case k;

	for (unsigned from = 1; from <= 255; from += TT_COMM_LEN - 1) {
		largest(&k, CASE_RESET, 0);
		comm_from(k.e.comm, from);
		hostile(k.reason, CASE_REASON_MAX, from);
		hostile(k.cgroup_path + 1, CASE_PATH_MAX - 1, from);
		check_case(&k, NULL, "reset");
		largest(&k, CASE_LEAK, 0);
		k.nowners = 17;
		for (unsigned i = 0; i < 17; i++)
			comm_from(k.owners[i].comm, (from + 15 * i - 1) % 255 + 1);
		check_case(&k, NULL, "leak");
	}
	/* a comm that fills all 16 bytes, without a NUL: the kernel never
	 * sends one, a recording may
	 */
	largest(&k, CASE_STATE, 0);
	memset(k.e.comm, 'x', TT_COMM_LEN);
	check_case(&k, NULL, "unterminated comm");
	/* empty strings */
	largest(&k, CASE_HISTORY, 0);
	k.c.comm[0] = '\0';
	k.cgroup_path[0] = '\0';
	check_case(&k, NULL, "empty comm and cgroup");
}

/* The ordinary cases: a history of 4.36 s and a CLOSE_WAIT of 5 s,
 * whose numbers lie between 2^32 and 10^10.
 */
static void five_seconds(void)
{
	struct emit_case k;

	emit_case_init(&k, CASE_HISTORY);
	k.clock_offset = 1795257730ll * 1000000000ll;
	k.s.start_ns = 1000000000ull;
	k.s.end_ns = k.s.start_ns + 4358300549ull;
	k.ts = k.s.end_ns;
	k.c.close.bytes_acked = 9000000000ull;
	check_case(&k, NULL, "4.36 s history");
	emit_case_init(&k, CASE_LEAK);
	k.ts = 7000000000ull;
	k.age = 5000000001ull;
	check_case(&k, NULL, "5 s leak");
}

/* The parser the oracle stands on refuses what is not JSON. */
static void strict_parser(void)
{
	static const char *const bad[] = {
		"{\"start\":\"2026-12-04T17:55:56.277700824Z\",\"duration_ns4358300549,\"x\":1}",
		"{\"a\":1,}", "[1,]", "{\"a\":NaN}", "{\"a\":1,\"a\":2}", "{\"a\":01}",
		"{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}", "{\"a\":\"\\ud800\"}", "{\"a\":1} x",
		"{\"a\":\"\\x41\"}", "{a:1}", "\"\xc0\xaf\"", "{\"a\":-}", "{\"a\":1.}", "",
	};
	static const char good[] =
		"{\"u\":18446744073709551615,\"i\":-9223372036854775808,\"s\":\"\\u00ff\\u0001"
		"\xc3\xa9\\ud83d\\ude00\",\"n\":null,\"b\":[true,false],\"f\":1.5e3}";
	struct json_doc *d;
	char err[128];
	uint64_t u;
	int64_t i;

	for (size_t n = 0; n < sizeof(bad) / sizeof(bad[0]); n++) {
		d = json_check_parse(bad[n], strlen(bad[n]), err, sizeof(err));
		if (d)
			fprintf(stderr, "    parsed: %s\n", bad[n]);
		CHECK(!d);
		json_check_free(d);
	}
	d = json_check_parse(good, strlen(good), err, sizeof(err));
	CHECK(d != NULL);
	if (!d)
		return;
	CHECK(json_check_u64(json_check_root(d), "u", &u) && u == UINT64_MAX);
	CHECK(json_check_i64(json_check_root(d), "i", &i) && i == INT64_MIN);
	/* \u00XX is the byte XX (tcptrail's escape of bytes that are not
	 * UTF-8); other code points are UTF-8
	 */
	CHECK(json_check_str_is(json_check_root(d), "s", "\xff\x01\xc3\xa9\xf0\x9f\x98\x80", 8));
	CHECK(json_check_null(json_check_root(d), "n"));
	CHECK(!json_check_u64(json_check_root(d), "f", &u));
	json_check_free(d);
}

TEST_LIST(extremes_tests) = {
	TEST_ENTRY(strict_parser),
	TEST_ENTRY(every_record_at_its_largest),
	TEST_ENTRY(hostile_owners_all_listed),
	TEST_ENTRY(hostile_processes_cut),
	TEST_ENTRY(every_byte_value),
	TEST_ENTRY(five_seconds),
	{ NULL, NULL },
};
