/* What each record type must read back as, in JSON and in the text view:
 * the values of the case it was written from (emit_cases.h).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "emit.h"
#include "emit_cases_int.h"
#include "want.h"

static void owner_item(struct case_check *ck, node_t *o, size_t i)
{
	want_u64(ck, o, "pid", ck->k->owners[i].pid);
	want_bytes(ck, o, "comm", ck->k->owners[i].comm, TT_COMM_LEN);
	want_u64(ck, o, "fd", ck->k->owners[i].fd);
}

static void source_item(struct case_check *ck, node_t *o, const struct lw_source *v)
{
	want_addr(ck, o, "addr", v->family, v->addr);
	want_u64(ck, o, "prefix_len", v->prefix_len);
	want_u64(ck, o, "half_open", v->half_open);
}

static void addr_item(struct case_check *ck, node_t *o, size_t i)
{
	source_item(ck, o, &ck->k->l.top_addrs[i]);
}

static void prefix_item(struct case_check *ck, node_t *o, size_t i)
{
	source_item(ck, o, &ck->k->l.top_prefixes[i]);
}

static void process_item(struct case_check *ck, node_t *o, size_t i)
{
	const struct ports_process *t = &ck->k->d.top[i];

	want_u64(ck, o, "pid", t->pid);
	want_bytes(ck, o, "comm", t->comm, TT_COMM_LEN);
	want_cgroup(ck, o, t->cgroup);
	want_u64(ck, o, "failures", t->failures);
}

static size_t popcount(uint32_t v)
{
	return (size_t)__builtin_popcount(v);
}

static void check_event(struct case_check *ck)
{
	const struct tt_event *e = &ck->k->e;
	node_t *r = ck->r;
	bool sent = e->type == TT_EV_RESET_SENT;

	want_tuple(ck, e->family, e->saddr, e->sport, e->daddr, e->dport, e->netns);
	want_cgroup(ck, r, e->cgroup);
	switch (ck->k->kind) {
	case CASE_STATE:
		want_u64(ck, r, "id", e->cookie);
		want_string(ck, r, "old");
		want_string(ck, r, "new");
		want_owner(ck, r, e->flags & TT_F_OWNER_CTX, e->pid, e->comm);
		break;
	case CASE_RESET:
		if (!json_check_str_is(r, "direction", sent ? "sent" : "received",
				       sent ? 4 : 8))
			case_fail(ck, "direction");
		if (e->cookie) {
			want_u64(ck, r, "id", e->cookie);
			want_string(ck, r, "state");
		} else {
			want_absent(ck, r, "id");
			want_absent(ck, r, "state");
		}
		if (!sent)
			want_absent(ck, r, "reason");
		else if (ck->k->reason[0])
			want_bytes(ck, r, "reason", ck->k->reason, EMIT_MAX_REASON);
		else
			want_u64(ck, r, "reason", e->reason);
		want_owner(ck, r, e->flags & TT_F_OWNER_CTX, e->pid, e->comm);
		break;
	case CASE_SYNACK:
		want_u64(ck, r, "listener_id", e->cookie);
		want_u64(ck, r, "acceptq", e->queue.acceptq_len);
		want_u64(ck, r, "acceptq_max", e->queue.acceptq_max);
		want_u64(ck, r, "synq", e->queue.synq_len);
		want_u64(ck, r, "drops", e->queue.drops);
		break;
	case CASE_RETRANSMIT:
		want_u64(ck, r, "id", e->cookie);
		want_string(ck, r, "state");
		want_string(ck, r, "ca_state");
		if (e->flags & TT_F_RESULT)
			want_string(ck, r, "reason");
		else
			want_dur(ck, r, "reason", DURATION_UNKNOWN);	/* null */
		want_u64(ck, r, "retransmits", e->close.total_retrans);
		want_u64(ck, r, "rtt_us", e->close.srtt_us);
		want_owner(ck, r, e->flags & TT_F_OWNER_CTX, e->pid, e->comm);
		break;
	default:
		break;
	}
}

/* Where the connection's time went (emit_json.c's phases()). */
static void check_phases(struct case_check *ck)
{
	const struct conn *c = &ck->k->c;
	const struct history_summary *s = &ck->k->s;
	node_t *r = ck->r, *by = json_check_get(r, "accepted_by");
	uint64_t hs = s->handshake_retrans < 0 ? DURATION_UNKNOWN : (uint64_t)s->handshake_retrans;

	want_dur(ck, r, "handshake_ns", s->handshake_ns);
	want_dur(ck, r, "syn_retransmits", c->role == ROLE_ACTIVE ? hs : DURATION_UNKNOWN);
	want_dur(ck, r, "synack_retransmits", c->role == ROLE_PASSIVE ? hs : DURATION_UNKNOWN);
	if (s->accepted == ACCEPT_UNKNOWN)
		want_dur(ck, r, "accepted", DURATION_UNKNOWN);
	else
		want_bool(ck, r, "accepted", s->accepted == ACCEPT_YES);
	want_dur(ck, r, "accept_wait_ns", s->accept_wait_ns);
	if (s->accepted == ACCEPT_YES) {
		want_u64(ck, by, "pid", c->pid);
		want_bytes(ck, by, "comm", c->comm, TT_COMM_LEN);
		if (!by || by->count != 2)
			case_fail(ck, "accepted_by: want pid and comm");
	} else {
		want_dur(ck, r, "accepted_by", DURATION_UNKNOWN);
	}
	if (!json_check_get(r, "fin_by"))
		case_fail(ck, "fin_by: want it");
	want_dur(ck, r, "half_close_ns", s->half_close_ns);
	want_dur(ck, r, "last_ack_age_ns", s->last_ack_age_ns);
	want_dur(ck, r, "timeout_attempts", s->timeout_attempts < 0
		 ? DURATION_UNKNOWN : (uint64_t)s->timeout_attempts);
}

/* How it delivered: each key, or null without the facts. */
/* A payload count from a sequence-space one: seq less at most up_to (the
 * SYN and FIN), or null when not known.
 */
static void want_payload(struct case_check *ck, const char *key, uint64_t seq, unsigned up_to,
			 bool known)
{
	node_t *v = json_check_get(ck->r, key);

	if (!known) {
		want_dur(ck, ck->r, key, DURATION_UNKNOWN);
		return;
	}
	if (!v || !v->integer || v->negative || v->magnitude > seq || seq - v->magnitude > up_to)
		case_fail(ck, "%s: want %llu less at most %u", key, (unsigned long long)seq, up_to);
}

static void check_delivery(struct case_check *ck)
{
	const struct emit_case *k = ck->k;
	const struct tt_delivery *d = k->with_dl ? &k->dl : NULL;
	bool chrono = d && (d->flags & TT_D_CHRONO);
	node_t *r = ck->r;

	if (!d || !(d->flags & TT_D_READ))
		d = NULL;
	want_dur(ck, r, "rtt_us", d ? d->srtt_us : DURATION_UNKNOWN);
	want_dur(ck, r, "rttvar_us", d ? d->rttvar_us : DURATION_UNKNOWN);
	want_dur(ck, r, "rtt_min_us", d ? d->rtt_min_us : DURATION_UNKNOWN);
	want_dur(ck, r, "retrans_segs", d ? d->retrans_segs : DURATION_UNKNOWN);
	if (d)	/* a count: all 64 bits are a value */
		want_u64(ck, r, "retrans_bytes", d->bytes_retrans);
	else
		want_dur(ck, r, "retrans_bytes", DURATION_UNKNOWN);
	want_dur(ck, r, "dsack_dups", d ? d->dsack_dups : DURATION_UNKNOWN);
	want_dur(ck, r, "reord_seen", d ? d->reord_seen : DURATION_UNKNOWN);
	want_dur(ck, r, "ooo_packets", d ? d->ooo_packets : DURATION_UNKNOWN);
	want_dur(ck, r, "zero_window_probes", d ? d->probes : DURATION_UNKNOWN);
	want_dur(ck, r, "busy_ns", chrono && d ? d->busy_ns : DURATION_UNKNOWN);
	want_dur(ck, r, "rwnd_limited_ns", chrono && d ? d->rwnd_limited_ns : DURATION_UNKNOWN);
	want_dur(ck, r, "sndbuf_limited_ns",
		 chrono && d ? d->sndbuf_limited_ns : DURATION_UNKNOWN);
	want_dur(ck, r, "cwnd", d ? d->cwnd : DURATION_UNKNOWN);
	want_dur(ck, r, "rcvbuf", d ? d->rcvbuf : DURATION_UNKNOWN);
	want_dur(ck, r, "sndbuf", d ? d->sndbuf : DURATION_UNKNOWN);
	want_dur(ck, r, "data_segs_in", d ? d->data_segs_in : DURATION_UNKNOWN);
	want_dur(ck, r, "data_segs_out", d ? d->data_segs_out : DURATION_UNKNOWN);
	want_dur(ck, r, "delivery_rate_bps", history_delivery_rate_bps(d));
	if (conn_limit_name(history_limited_by(d)))
		want_string(ck, r, "limited_by");
	else
		want_dur(ck, r, "limited_by", DURATION_UNKNOWN);
}

static void check_history(struct case_check *ck)
{
	const struct conn *c = &ck->k->c;
	const struct history_summary *s = &ck->k->s;
	node_t *r = ck->r, *durs = json_check_get(r, "durations_ns");
	size_t n = s->nstates < CONN_MAX_STATES ? s->nstates : CONN_MAX_STATES;
	uint32_t why = c->flags & (CONN_PREEXISTING | CONN_LOST | CONN_GAP | CONN_TRUNCATED |
				   CONN_EVICTED | CONN_VANISHED);

	want_u64(ck, r, "id", c->cookie);
	want_tuple(ck, c->family, c->laddr, c->lport, c->raddr, c->rport, c->netns);
	want_cgroup(ck, r, c->cgroup);
	want_string(ck, r, "role");
	want_names(ck, "states", n);
	if (!durs || durs->type != JSON_ARRAY || durs->count != n)
		case_fail(ck, "durations_ns: want %zu", n);
	for (size_t i = 0; durs && i < durs->count && i < n; i++) {
		node_t *d = json_check_at(durs, i);

		if (s->durations_ns[i] == DURATION_UNKNOWN ? d->type != JSON_NULL
		    : !d->integer || d->negative || d->magnitude != s->durations_ns[i])
			case_fail(ck, "durations_ns[%zu]", i);
	}
	want_u64(ck, r, "duration_ns", s->end_ns - s->start_ns);
	want_string(ck, r, "end");
	want_bool(ck, r, "tw_inferred", s->tw_inferred);
	if (c->flags & CONN_CLOSED) {
		/* the kernel's counters, and the payload in them: less the SYN
		 * and FIN at most (test_text_view.c tests which are counted)
		 */
		want_u64(ck, r, "seq_acked", c->close.bytes_acked);
		want_u64(ck, r, "seq_received", c->close.bytes_received);
		want_payload(ck, "payload_acked", c->close.bytes_acked, 2,
			     c->role == ROLE_ACTIVE || c->role == ROLE_PASSIVE);
		want_payload(ck, "payload_received", c->close.bytes_received, 1, true);
		want_u64(ck, r, "retransmits", c->close.total_retrans);
		want_u64(ck, r, "srtt_us", c->close.srtt_us);
		want_i64(ck, r, "sk_err", c->close.sk_err);
	} else {
		static const char *const unknown[] = { "payload_acked", "payload_received",
						       "seq_acked", "seq_received", "retransmits",
						       "srtt_us", "sk_err" };

		for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
			want_dur(ck, r, unknown[i], DURATION_UNKNOWN);
	}
	want_absent(ck, r, "bytes_acked");
	check_phases(ck);
	check_delivery(ck);
	want_owner(ck, r, c->flags & CONN_OWNER_SEEN, c->pid, c->comm);
	want_bool(ck, r, "complete", s->complete);
	if (s->complete)
		want_absent(ck, r, "incomplete");
	else
		want_names(ck, "incomplete", popcount(why));
}

static void check_leak(struct case_check *ck, struct case_sizes *z)
{
	const struct emit_case *k = ck->k;
	node_t *r = ck->r;

	want_u64(ck, r, "id", k->c.cookie);
	want_tuple(ck, k->c.family, k->c.laddr, k->c.lport, k->c.raddr, k->c.rport, k->c.netns);
	want_cgroup(ck, r, k->c.cgroup);
	want_u64(ck, r, "close_wait_ns", k->age);
	if (k->kind == CASE_LEAK_RESOLVED) {
		uint8_t last = k->c.states[k->c.nstates ? k->c.nstates - 1 : 0];

		if (last == TT_TCP_CLOSE_WAIT)
			want_dur(ck, r, "to", DURATION_UNKNOWN);
		else
			want_string(ck, r, "to");
		want_owner(ck, r, k->c.flags & CONN_OWNER_SEEN, k->c.pid, k->c.comm);
		return;
	}
	want_bool(ck, r, "age_lower_bound", k->lower_bound);
	want_owner(ck, r, k->nowners, k->owners[0].pid, k->owners[0].comm);
	if (k->nowners)
		want_u64(ck, r, "fd", k->owners[0].fd);
	/* the budget holds every owner up to the limit (rec.h): none is cut
	 * for want of bytes
	 */
	z->cut += k->nowners - want_list(ck, "owners", "owners_truncated", k->nowners,
					 EMIT_MAX_OWNERS, true, owner_item);
	want_u64(ck, r, "process_leaks", k->process_leaks);
}

/* A listener's name, as listener and alert records give it. */
static void check_listener_id(struct case_check *ck)
{
	const struct lw_listener *l = &ck->k->l;
	node_t *r = ck->r;

	want_u64(ck, r, "listener_id", l->cookie);
	want_family(ck, r, l->family);
	want_addr(ck, r, "laddr", l->family, l->addr);
	want_u64(ck, r, "lport", l->port);
	want_u64(ck, r, "netns", l->netns);
	want_cgroup(ck, r, l->cgroup);
	want_owner(ck, r, l->pid, l->pid, l->comm);
	if (!l->pid && l->owner_not_visible && !json_check_str_is(r, "owner", "not_visible", 11))
		case_fail(ck, "owner: want not_visible");
}

static void want_delta(struct case_check *ck, const char *key, uint64_t v)
{
	if (ck->k->l.have_deltas)
		want_u64(ck, ck->r, key, v);
	else
		want_dur(ck, ck->r, key, DURATION_UNKNOWN);
}

static void check_queues(struct case_check *ck)
{
	const struct lw_listener *l = &ck->k->l;
	node_t *r = ck->r;

	want_u64(ck, r, "acceptq_len", l->acceptq_len);
	want_u64(ck, r, "acceptq_max", l->acceptq_max);
	want_dur(ck, r, "synq_len", l->synq_known ? l->synq_len : DURATION_UNKNOWN);
	want_u64(ck, r, "synq_max", l->synq_max);
	want_u64(ck, r, "accepted", l->accepted);
	want_delta(ck, "accepted_delta", l->d_accepted);
	want_dur(ck, r, "accept_wait_p50_ns", l->aw_n ? l->aw_p50_ns : DURATION_UNKNOWN);
	want_dur(ck, r, "accept_wait_p99_ns", l->aw_n ? l->aw_p99_ns : DURATION_UNKNOWN);
	want_dur(ck, r, "accept_wait_max_ns", l->aw_n ? l->aw_max_ns : DURATION_UNKNOWN);
	if (l->cookies_known)
		want_bool(ck, r, "syncookies", l->cookies_active);
	else
		want_dur(ck, r, "syncookies", DURATION_UNKNOWN);
}

/* The interval's SYNs and events, null on a first sample (a baseline). */
static void check_interval(struct case_check *ck)
{
	const struct lw_listener *l = &ck->k->l;
	double base = l->syn_baseline + 0.5;

	want_delta(ck, "syns_delta", l->d_syns);
	want_delta(ck, "syn_rate", l->syn_rate);
	/* rounded, from 0 to 2^64-1 whatever the average (NaN: 0) */
	want_delta(ck, "syn_rate_baseline", base >= 0x1p64 ? UINT64_MAX
					      : base > 0 ? (uint64_t)base : 0);
	want_delta(ck, "sk_drops_delta", l->d_drops);
	want_delta(ck, "synack_retrans_delta", l->d_synack_retrans);
	want_delta(ck, "overflows_delta", l->d_overflows);
	want_delta(ck, "handshakes_delta", l->d_handshakes);
	want_absent(ck, ck->r, "drops_delta");
}

static void check_sources(struct case_check *ck, struct case_sizes *z, bool shown)
{
	const struct lw_listener *l = &ck->k->l;
	size_t na = l->n_top_addrs < LW_TOP_SOURCES ? l->n_top_addrs : LW_TOP_SOURCES;
	size_t np = l->n_top_prefixes < LW_TOP_SOURCES ? l->n_top_prefixes : LW_TOP_SOURCES;

	if (!shown || !l->n_top_addrs) {
		want_absent(ck, ck->r, "top_sources");
		want_absent(ck, ck->r, "top_prefixes");
		return;
	}
	z->cut += na - want_list(ck, "top_sources", "top_sources_truncated", na, na, true,
				 addr_item);
	z->cut += np - want_list(ck, "top_prefixes", "top_prefixes_truncated", np, np, true,
				 prefix_item);
}

static void check_sysctls(struct case_check *ck, const struct lw_netns *ns)
{
	node_t *o = json_check_get(ck->r, "sysctl");

	if (!o || o->type != JSON_OBJECT || o->count != LW_N_SYSCTLS) {
		case_fail(ck, "sysctl: want %d", LW_N_SYSCTLS);
		return;
	}
	for (int i = 0; i < LW_N_SYSCTLS; i++) {
		if (ns->sysctl[i] < 0)
			want_dur(ck, o, lw_sysctl_names[i], DURATION_UNKNOWN);
		else
			want_i64(ck, o, lw_sysctl_names[i], ns->sysctl[i]);
	}
}

static void check_listener(struct case_check *ck, struct case_sizes *z)
{
	const struct lw_listener *l = &ck->k->l;
	node_t *r = ck->r;
	uint32_t active = 0;

	for (int i = 0; i < LW_N_ALERTS; i++)
		active |= (uint32_t)l->alert[i].active << i;
	check_listener_id(ck);
	check_queues(ck);
	want_u64(ck, r, "sk_drops", l->drops);
	want_absent(ck, r, "drops");
	want_u64(ck, r, "synack_retrans", l->synack_retrans);
	want_u64(ck, r, "overflows", l->overflows);
	want_u64(ck, r, "handshakes", l->handshakes);
	check_interval(ck);
	want_u64(ck, r, "synq_retransmitted", l->synq_retrans);
	want_delta(ck, "interval_ms", l->interval_ns / 1000000);
	want_bool(ck, r, "complete", !l->events_incomplete);
	want_names(ck, "alerts", popcount(active));
	check_sources(ck, z, true);
}

static void check_netns(struct case_check *ck)
{
	const struct lw_netns *ns = &ck->k->ns;
	node_t *r = ck->r, *o = json_check_get(r, "counters");

	want_u64(ck, r, "netns", ns->inum);
	want_u64(ck, r, "listeners", ns->listeners);
	if (!ns->sampled)
		want_dur(ck, r, "counters", DURATION_UNKNOWN);
	else if (!o || o->type != JSON_OBJECT || o->count != LW_N_COUNTERS)
		case_fail(ck, "counters: want %d", LW_N_COUNTERS);
	for (int i = 0; ns->sampled && i < LW_N_COUNTERS; i++)
		want_u64(ck, o, lw_counter_names[i], ns->delta[i]);
	check_sysctls(ck, ns);
}

static void check_alert(struct case_check *ck, struct case_sizes *z)
{
	const struct emit_case *k = ck->k;
	const struct lw_listener *l = &k->l;
	const struct lw_alert_state *st = &k->st;
	node_t *r = ck->r;

	want_string(ck, r, "alert");
	if (!json_check_str_is(r, "state", k->start ? "start" : "clear", 5))
		case_fail(ck, "state: want %s", k->start ? "start" : "clear");
	check_listener_id(ck);
	/* the five causes: queue, SYN-ACK retransmits, cookies, accept
	 * queue, SYN rate
	 */
	want_names(ck, "causes", popcount(st->causes & 31));
	check_queues(ck);
	check_interval(ck);
	if (st->evidence) {
		want_string(ck, r, "evidence");
		want_u64(ck, r, "synq_retransmitted", l->synq_retrans);
	}
	if (k->start && (st->causes & LW_CAUSE_SYN_RATE))
		want_u64(ck, r, "syn_rate_threshold", k->syn_threshold);
	else
		want_absent(ck, r, "syn_rate_threshold");
	if (st->evidence && k->with_ns && k->ns.sampled) {
		want_u64(ck, r, "cookies_sent_delta", k->ns.delta[LW_SYNCOOKIES_SENT]);
		want_u64(ck, r, "cookies_recv_delta", k->ns.delta[LW_SYNCOOKIES_RECV]);
	}
	if (!k->start) {
		want_u64(ck, r, "duration_ms", (k->ts - st->since_ns) / 1000000);
		want_dur(ck, r, "peak_synq", l->synq_known ? st->peak_synq : DURATION_UNKNOWN);
		want_u64(ck, r, "peak_acceptq", st->peak_acceptq);
		want_u64(ck, r, "peak_syn_rate", st->peak_syn_rate);
		want_u64(ck, r, "total_syns", st->syns);
		want_u64(ck, r, "total_sk_drops", st->drops);
		want_u64(ck, r, "total_synack_retrans", st->synack_retrans);
		want_u64(ck, r, "total_overflows", st->overflows);
		want_bool(ck, r, "listener_closed", k->gone);
	}
	check_sources(ck, z, k->start);
	if (k->with_ns)
		check_sysctls(ck, &k->ns);
	else
		want_absent(ck, r, "sysctl");
}

/* The usable ports of the case's destination, as ports.h defines them. */
static uint32_t range_of(const struct emit_case *k)
{
	int64_t n;

	if (!k->with_lim || k->lim.lo < 0 || k->lim.hi < k->lim.lo)
		return 0;
	n = (int64_t)k->lim.hi - k->lim.lo + 1 - (k->lim.reserved > 0 ? k->lim.reserved : 0);
	return n > 0 ? (uint32_t)n : 0;
}

static bool reusable_of(const struct emit_case *k)
{
	static const uint8_t v6_loop[16] = { [15] = 1 };
	bool loop = k->d.family == AF_INET6 ? !memcmp(k->d.raddr, v6_loop, 16)
					    : k->d.raddr[0] == 127;

	return k->with_lim && (k->lim.tw_reuse == 1 || (k->lim.tw_reuse == 2 && loop));
}

/* used_ratio as written: used over range to three decimals. */
static void check_ratio(struct case_check *ck, uint32_t range, bool reusable)
{
	const struct ports_dest *d = &ck->k->d;
	node_t *m = json_check_get(ck->r, "used_ratio");
	uint64_t used = d->in_use + (reusable ? 0 : (uint64_t)d->time_wait), permille;
	char want[48];

	if (!range) {
		want_dur(ck, ck->r, "used_ratio", DURATION_UNKNOWN);
		return;
	}
	permille = used * 1000 / range;
	snprintf(want, sizeof(want), "%llu.%03llu", (unsigned long long)(permille / 1000),
		 (unsigned long long)(permille % 1000));
	if (!m || m->type != JSON_NUMBER || m->end - m->start != strlen(want) ||
	    memcmp(ck->line + m->start, want, strlen(want)))
		case_fail(ck, "used_ratio: want %s", want);
}

static void check_ports(struct case_check *ck, struct case_sizes *z)
{
	const struct emit_case *k = ck->k;
	const struct ports_dest *d = &k->d;
	uint32_t range = range_of(k);
	size_t ntop = d->ntop < PORTS_TOP_PROCESSES ? d->ntop : PORTS_TOP_PROCESSES;
	node_t *r = ck->r;

	want_family(ck, r, d->family);
	want_u64(ck, r, "netns", d->netns);
	want_addr(ck, r, "laddr", d->family, d->laddr);
	want_addr(ck, r, "raddr", d->family, d->raddr);
	want_u64(ck, r, "rport", d->rport);
	want_u64(ck, r, "in_use", d->in_use);
	want_u64(ck, r, "time_wait", d->time_wait);
	want_dur(ck, r, "range", range ? range : DURATION_UNKNOWN);
	want_dur(ck, r, "tw_reuse", k->with_lim && k->lim.tw_reuse >= 0
		 ? (uint64_t)k->lim.tw_reuse : DURATION_UNKNOWN);
	want_bool(ck, r, "tw_reusable", reusable_of(k));
	check_ratio(ck, range, reusable_of(k));
	want_u64(ck, r, "connect_failures", d->failures);
	want_u64(ck, r, "connect_failures_delta", d->d_failures);
	/* each process names its cgroup: four hostile paths do not fit */
	z->cut += ntop - want_list(ck, "top_processes", "top_processes_truncated", ntop, ntop,
				   false, process_item);
	if (d->other_failures)
		want_u64(ck, r, "other_failures", d->other_failures);
	else
		want_absent(ck, r, "other_failures");
	if (k->kind == CASE_PORTS) {
		want_bool(ck, r, "alert", d->alert);
	} else if (k->start) {
		want_string(ck, r, "cause");
	} else {
		want_u64(ck, r, "duration_ms", (k->ts - d->alert_since_ns) / 1000000);
		want_u64(ck, r, "peak_used", d->peak_used);
		want_bool(ck, r, "netns_gone", k->gone);
	}
}

static void check_leak_process(struct case_check *ck)
{
	const struct emit_case *k = ck->k;

	want_u64(ck, ck->r, "pid", k->c.pid);
	if (k->c.flags & CONN_OWNER_SEEN)
		want_bytes(ck, ck->r, "comm", k->c.comm, TT_COMM_LEN);
	else
		want_absent(ck, ck->r, "comm");
	if (k->ids.container_id[0])
		want_bytes(ck, ck->r, "container_id", k->ids.container_id,
			   CGROUP_CONTAINER_ID_LEN);
	else
		want_absent(ck, ck->r, "container_id");
	want_u64(ck, ck->r, "sockets", k->count);
	want_dur(ck, ck->r, "oldest_ns_min", k->age);
}

void case_check_values(struct case_check *ck, struct case_sizes *z)
{
	switch (ck->k->kind) {
	case CASE_STATE:
	case CASE_RESET:
	case CASE_SYNACK:
	case CASE_OVERFLOW:
	case CASE_RETRANSMIT:
		check_event(ck);
		break;
	case CASE_HISTORY:
		check_history(ck);
		case_check_time(ck, "start", ck->k->s.start_ns);
		break;
	case CASE_LOST:
		want_u64(ck, ck->r, "count", ck->k->count);
		want_u64(ck, ck->r, "total", ck->k->total);
		want_string(ck, ck->r, "cause");
		break;
	case CASE_LEAK:
	case CASE_LEAK_RESOLVED:
		check_leak(ck, z);
		break;
	case CASE_LISTENER:
		check_listener(ck, z);
		break;
	case CASE_NETNS:
		check_netns(ck);
		break;
	case CASE_ALERT:
		check_alert(ck, z);
		break;
	case CASE_LEAK_PROCESS:
		check_leak_process(ck);
		break;
	default:
		check_ports(ck, z);
		break;
	}
}
