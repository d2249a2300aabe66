/* Newline-delimited JSON records of connections; the schema is documented in
 * docs/schema.md, the byte budget in rec.h.
 */
#include <string.h>
#include <sys/socket.h>
#include "emit.h"
#include "history.h"
#include "payload.h"
#include "rec.h"
#include "tcp_names.h"

void emitter_init(struct emitter *em, struct outbuf *out)
{
	memset(em, 0, sizeof(*em));
	em->out = out;
	fmt_clock_init(&em->clock);
}

static char *tuple(char *p, int family, const uint8_t *laddr, uint16_t lport,
		   const uint8_t *raddr, uint16_t rport, uint32_t netns)
{
	p = rec_name(p, "family", family == AF_INET6 ? "ipv6" : "ipv4");
	p = fmt_lit(p, ",\"laddr\":\"");
	p = fmt_addr(p, family, laddr);
	*p++ = '"';
	p = rec_u64(p, "lport", lport);
	p = fmt_lit(p, ",\"raddr\":\"");
	p = fmt_addr(p, family, raddr);
	*p++ = '"';
	p = rec_u64(p, "rport", rport);
	return rec_u64(p, "netns", netns);
}

static void json_state(void *ctx, const struct tt_event *e)
{
	struct emitter *em = ctx;
	char *p = rec_begin(em, "state", e->ts_ns);

	p = rec_u64(p, "id", e->cookie);
	p = tuple(p, e->family, e->saddr, e->sport, e->daddr, e->dport, e->netns);
	p = rec_cgroup(em, p, e->cgroup);
	p = rec_name(p, "old", tcp_state_name(e->oldstate));
	p = rec_name(p, "new", tcp_state_name(e->newstate));
	if (e->flags & TT_F_OWNER_CTX)
		p = rec_owner(p, e->pid, e->comm);
	rec_end(em, p);
}

/* A count, null when negative (not known). */
static char *key_count(char *p, const char *key, int v)
{
	return rec_dur(p, key, v < 0 ? DURATION_UNKNOWN : (uint64_t)v);
}

/* Where the connection's time went: handshake, accept queue, half-close,
 * and what gave up. Every key is always there; null where it does not
 * apply or is not known.
 */
static char *phases(char *p, const struct conn *c, const struct history_summary *s)
{
	const char *fin_by = conn_fin_by_name(s->fin_by);

	p = rec_dur(p, "handshake_ns", s->handshake_ns);
	p = key_count(p, "syn_retransmits", c->role == ROLE_ACTIVE ? s->handshake_retrans : -1);
	p = key_count(p, "synack_retransmits",
		      c->role == ROLE_PASSIVE ? s->handshake_retrans : -1);
	if (s->accepted == ACCEPT_UNKNOWN)
		p = fmt_lit(p, ",\"accepted\":null");
	else
		p = rec_bool(p, "accepted", s->accepted == ACCEPT_YES);
	p = rec_dur(p, "accept_wait_ns", s->accept_wait_ns);
	if (s->accepted == ACCEPT_YES) {
		p = fmt_lit(p, ",\"accepted_by\":{\"pid\":");
		p = fmt_u64(p, c->pid);
		p = fmt_json_str(rec_key(p, "comm"), c->comm, TT_COMM_LEN);
		*p++ = '}';
	} else {
		p = fmt_lit(p, ",\"accepted_by\":null");
	}
	if (fin_by)
		p = rec_name(p, "fin_by", fin_by);
	else
		p = fmt_lit(p, ",\"fin_by\":null");
	p = rec_dur(p, "half_close_ns", s->half_close_ns);
	p = rec_dur(p, "last_ack_age_ns", s->last_ack_age_ns);
	return key_count(p, "timeout_attempts", s->timeout_attempts);
}

/* The counters the socket had as it closed, null without its CLOSE record:
 * payload, then the kernel's own sequence-space counts (SYN and FIN one
 * each), named so.
 */
static char *close_counters(char *p, const struct conn *c, const struct history_summary *s)
{
	struct payload pl;

	payload_of(c, s, &pl);
	if (!pl.known) {
		p = fmt_lit(p, ",\"payload_acked\":null,\"payload_received\":null");
		p = fmt_lit(p, ",\"seq_acked\":null,\"seq_received\":null");
		return fmt_lit(p, ",\"retransmits\":null,\"srtt_us\":null,\"sk_err\":null");
	}
	p = pl.acked_known ? rec_u64(p, "payload_acked", pl.acked) : rec_null(p, "payload_acked");
	p = rec_u64(p, "payload_received", pl.received);
	p = rec_u64(p, "seq_acked", c->close.bytes_acked);
	p = rec_u64(p, "seq_received", c->close.bytes_received);
	p = rec_u64(p, "retransmits", c->close.total_retrans);
	p = rec_u64(p, "srtt_us", c->close.srtt_us);
	return fmt_i64(rec_key(p, "sk_err"), c->close.sk_err);
}

/* How it delivered (docs/why-slow.md): every key always there, null where
 * the kernel kept no facts (lives rebuilt from transitions, before 5.11)
 * or has no value.
 */
static char *delivery(char *p, const struct history_summary *s)
{
	static const char *const keys[] = {
		"rtt_us", "rttvar_us", "rtt_min_us", "retrans_segs", "retrans_bytes",
		"dsack_dups", "reord_seen", "ooo_packets", "zero_window_probes", "busy_ns",
		"rwnd_limited_ns", "sndbuf_limited_ns", "cwnd", "rcvbuf", "sndbuf",
		"data_segs_in", "data_segs_out", "delivery_rate_bps",
	};
	/* facts not read are none, as in the text view (ingest passes none) */
	const struct tt_delivery *d = s->dl && (s->dl->flags & TT_D_READ) ? s->dl : NULL;
	const char *limit = conn_limit_name(history_limited_by(d));
	bool chrono = d && (d->flags & TT_D_CHRONO);

	if (!d) {
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			p = fmt_lit(rec_key(p, keys[i]), "null");
		return fmt_lit(p, ",\"limited_by\":null");
	}
	p = rec_u64(p, "rtt_us", d->srtt_us);
	p = rec_u64(p, "rttvar_us", d->rttvar_us);
	p = rec_u64(p, "rtt_min_us", d->rtt_min_us);
	p = rec_u64(p, "retrans_segs", d->retrans_segs);
	p = rec_u64(p, "retrans_bytes", d->bytes_retrans);
	p = rec_u64(p, "dsack_dups", d->dsack_dups);
	p = rec_u64(p, "reord_seen", d->reord_seen);
	p = rec_u64(p, "ooo_packets", d->ooo_packets);
	p = rec_u64(p, "zero_window_probes", d->probes);
	p = rec_dur(p, "busy_ns", chrono ? d->busy_ns : DURATION_UNKNOWN);
	p = rec_dur(p, "rwnd_limited_ns", chrono ? d->rwnd_limited_ns : DURATION_UNKNOWN);
	p = rec_dur(p, "sndbuf_limited_ns", chrono ? d->sndbuf_limited_ns : DURATION_UNKNOWN);
	p = rec_u64(p, "cwnd", d->cwnd);
	p = rec_u64(p, "rcvbuf", d->rcvbuf);
	p = rec_u64(p, "sndbuf", d->sndbuf);
	p = rec_u64(p, "data_segs_in", d->data_segs_in);
	p = rec_u64(p, "data_segs_out", d->data_segs_out);
	p = rec_dur(p, "delivery_rate_bps", history_delivery_rate_bps(d));
	return limit ? rec_name(p, "limited_by", limit) : fmt_lit(p, ",\"limited_by\":null");
}

static void json_history(void *ctx, const struct conn *c, const struct history_summary *s)
{
	static const struct rec_bit_name why[] = {
		{ CONN_PREEXISTING, "started_before_trace" },
		{ CONN_LOST, "lost_events" },
		{ CONN_GAP, "missing_transition" },
		{ CONN_TRUNCATED, "truncated" },
		{ CONN_EVICTED, "evicted" },
		{ CONN_VANISHED, "close_not_seen" },
	};
	struct emitter *em = ctx;
	const char *closer = conn_closer_name(s->closer);
	uint8_t n = s->nstates < CONN_MAX_STATES ? s->nstates : CONN_MAX_STATES;
	char *p = rec_begin(em, "history", s->end_ns);

	p = rec_u64(p, "id", c->cookie);
	p = tuple(p, c->family, c->laddr, c->lport, c->raddr, c->rport, c->netns);
	p = rec_cgroup(em, p, c->cgroup);
	p = rec_name(p, "role", conn_role_name(c->role));
	p = fmt_lit(p, ",\"states\":[");
	for (uint8_t i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		*p++ = '"';
		p = fmt_str(p, tcp_state_name(s->states[i]));
		*p++ = '"';
	}
	p = fmt_lit(p, "],\"durations_ns\":[");
	for (uint8_t i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		p = s->durations_ns[i] == DURATION_UNKNOWN ? fmt_lit(p, "null")
							   : fmt_u64(p, s->durations_ns[i]);
	}
	p = fmt_lit(p, "],\"start\":\"");
	p = fmt_rfc3339(p, &em->clock, s->start_ns);
	*p++ = '"';
	p = rec_u64(p, "duration_ns", s->end_ns - s->start_ns);
	if (closer)
		p = rec_name(p, "closed_by", closer);
	else
		p = fmt_lit(p, ",\"closed_by\":null");
	p = rec_name(p, "end", conn_end_name(s->end));
	p = rec_bool(p, "tw_inferred", s->tw_inferred);
	p = close_counters(p, c, s);
	p = phases(p, c, s);
	p = delivery(p, s);
	if (c->flags & CONN_OWNER_SEEN)
		p = rec_owner(p, c->pid, c->comm);
	p = rec_bool(p, "complete", s->complete);
	if (!s->complete)
		p = rec_bit_names(p, "incomplete", c->flags, why, sizeof(why) / sizeof(why[0]));
	rec_end(em, p);
}

const char *emit_rst_reason(const struct emitter *em, uint16_t reason)
{
	if (reason < em->n_rst_reasons && em->rst_reasons[reason])
		return em->rst_reasons[reason];
	return NULL;
}

static void json_event(void *ctx, const struct tt_event *e)
{
	struct emitter *em = ctx;
	char *p;

	switch (e->type) {
	case TT_EV_RESET_SENT:
	case TT_EV_RESET_RECV: {
		const char *reason = emit_rst_reason(em, e->reason);

		p = rec_begin(em, "reset", e->ts_ns);
		p = rec_name(p, "direction", e->type == TT_EV_RESET_SENT ? "sent" : "received");
		if (e->cookie)
			p = rec_u64(p, "id", e->cookie);
		p = tuple(p, e->family, e->saddr, e->sport, e->daddr, e->dport, e->netns);
		p = rec_cgroup(em, p, e->cgroup);
		if (e->cookie)
			p = rec_name(p, "state", tcp_state_name(e->newstate));
		if (e->type == TT_EV_RESET_SENT) {
			if (reason)
				p = fmt_json_str(rec_key(p, "reason"), reason, EMIT_MAX_REASON);
			else
				p = rec_u64(p, "reason", e->reason);
		}
		if (e->flags & TT_F_OWNER_CTX)
			p = rec_owner(p, e->pid, e->comm);
		break;
	}
	case TT_EV_SYNACK_RETRANS:
		p = rec_begin(em, "synack_retransmit", e->ts_ns);
		p = rec_u64(p, "listener_id", e->cookie);
		p = tuple(p, e->family, e->saddr, e->sport, e->daddr, e->dport, e->netns);
		p = rec_cgroup(em, p, e->cgroup);
		p = rec_u64(p, "acceptq", e->queue.acceptq_len);
		p = rec_u64(p, "acceptq_max", e->queue.acceptq_max);
		p = rec_u64(p, "synq", e->queue.synq_len);
		p = rec_u64(p, "drops", e->queue.drops);
		break;
	case TT_EV_RETRANSMIT: {
		char buf[8];

		p = rec_begin(em, "retransmit", e->ts_ns);
		p = rec_u64(p, "id", e->cookie);
		p = tuple(p, e->family, e->saddr, e->sport, e->daddr, e->dport, e->netns);
		p = rec_cgroup(em, p, e->cgroup);
		p = rec_name(p, "state", tcp_state_name(e->newstate));
		p = rec_name(p, "ca_state", tcp_ca_state_name(e->oldstate));
		if (e->flags & TT_F_RESULT)
			p = rec_name(p, "reason", tcp_result_name(e->reason, buf));
		else
			p = fmt_lit(p, ",\"reason\":null");
		p = rec_u64(p, "retransmits", e->close.total_retrans);
		p = rec_u64(p, "rtt_us", e->close.srtt_us);
		if (e->flags & TT_F_OWNER_CTX)
			p = rec_owner(p, e->pid, e->comm);
		break;
	}
	case TT_EV_LISTEN_OVERFLOW:
		p = rec_begin(em, "listen_overflow", e->ts_ns);
		p = tuple(p, e->family, e->saddr, e->sport, e->daddr, e->dport, e->netns);
		p = rec_cgroup(em, p, e->cgroup);
		break;
	default:
		return;
	}
	rec_end(em, p);
}

static void json_lost(void *ctx, uint64_t ts_ns, uint64_t count, uint64_t total,
		      uint8_t cause)
{
	struct emitter *em = ctx;
	char *p = rec_begin(em, "lost", ts_ns);

	p = rec_u64(p, "count", count);
	p = rec_u64(p, "total", total);
	p = rec_name(p, "cause", lost_cause_name(cause));
	rec_end(em, p);
}

/* ,"owners":[…]: as many of the n as the record's budget holds, at most
 * EMIT_MAX_OWNERS; "owners_truncated" counts the others.
 */
static char *owners(struct emitter *em, char *p, const struct owner *v, size_t n)
{
	size_t i;

	p = fmt_lit(p, ",\"owners\":[");
	for (i = 0; i < n && i < EMIT_MAX_OWNERS; i++) {
		if (!rec_fits(em, REC_OWNER_FIXED + fmt_json_len(v[i].comm, TT_COMM_LEN)))
			break;
		if (i)
			*p++ = ',';
		p = fmt_lit(p, "{\"pid\":");
		p = fmt_u64(p, v[i].pid);
		p = fmt_lit(p, ",\"comm\":");
		p = fmt_json_str(p, v[i].comm, TT_COMM_LEN);
		p = rec_u64(p, "fd", v[i].fd);
		*p++ = '}';
	}
	*p++ = ']';
	return rec_truncated(p, "owners_truncated", n - i);
}

static void json_leak(void *ctx, const struct conn *c, uint64_t ts_ns, uint64_t age_ns,
		      bool lower_bound, const struct owner *o, size_t n,
		      uint32_t process_leaks)
{
	struct emitter *em = ctx;
	char *p = rec_begin(em, "close_wait_leak", ts_ns);

	p = rec_u64(p, "id", c->cookie);
	p = tuple(p, c->family, c->laddr, c->lport, c->raddr, c->rport, c->netns);
	p = rec_cgroup(em, p, c->cgroup);
	p = rec_u64(p, "close_wait_ns", age_ns);
	p = rec_bool(p, "age_lower_bound", lower_bound);
	if (n) {
		p = rec_owner(p, o[0].pid, o[0].comm);
		p = rec_u64(p, "fd", o[0].fd);
	}
	p = owners(em, p, o, n);
	p = rec_u64(p, "process_leaks", process_leaks);
	rec_end(em, p);
}

static void json_leak_resolved(void *ctx, const struct conn *c, uint64_t ts_ns,
			       uint64_t age_ns)
{
	struct emitter *em = ctx;
	uint8_t last = c->states[c->nstates - 1];
	char *p = rec_begin(em, "close_wait_resolved", ts_ns);

	p = rec_u64(p, "id", c->cookie);
	p = tuple(p, c->family, c->laddr, c->lport, c->raddr, c->rport, c->netns);
	p = rec_cgroup(em, p, c->cgroup);
	p = rec_u64(p, "close_wait_ns", age_ns);
	/* where it went: LAST_ACK after close(), CLOSE after a reset, or gone */
	if (last == TT_TCP_CLOSE_WAIT)
		p = fmt_lit(p, ",\"to\":null");
	else
		p = rec_name(p, "to", tcp_state_name(last));
	if (c->flags & CONN_OWNER_SEEN)
		p = rec_owner(p, c->pid, c->comm);
	rec_end(em, p);
}

void emit_json_leak_process(struct emitter *em, uint64_t ts_ns, uint32_t pid, const char *comm,
			    const char *container_id, uint64_t sockets, uint64_t oldest_ns)
{
	char *p = rec_begin(em, "leak_process", ts_ns);

	p = rec_u64(p, "pid", pid);
	if (comm)
		p = fmt_json_str(rec_key(p, "comm"), comm, TT_COMM_LEN);
	if (container_id[0])
		p = fmt_json_str(rec_key(p, "container_id"), container_id, CGROUP_CONTAINER_ID_LEN);
	p = rec_u64(p, "sockets", sockets);
	p = rec_dur(p, "oldest_ns_min", oldest_ns);
	rec_end(em, p);
}

const struct sink_ops emit_json_ops = {
	.state = json_state,
	.history = json_history,
	.event = json_event,
	.lost = json_lost,
	.leak = json_leak,
	.leak_resolved = json_leak_resolved,
};

