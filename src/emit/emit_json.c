/* Newline-delimited JSON records; the schema is documented in README.md. */
#include <string.h>
#include <sys/socket.h>
#include "emit.h"
#include "history.h"
#include "payload.h"
#include "ports.h"
#include "tcp_names.h"

void emitter_init(struct emitter *em, struct outbuf *out)
{
	memset(em, 0, sizeof(*em));
	em->out = out;
	fmt_clock_init(&em->clock);
}

/* The record helpers are inlined: each key's length is then known when
 * compiling, and its copy is of a fixed size.
 */
#define INLINE static inline __attribute__((always_inline))

INLINE char *begin(struct emitter *em, const char *type, uint64_t ts_ns)
{
	char *p = outbuf_begin(em->out);

	em->shown++;
	p = fmt_lit(p, "{\"type\":\"");
	p = fmt_str(p, type);
	p = fmt_lit(p, "\",\"ts\":\"");
	p = fmt_rfc3339(p, &em->clock, ts_ns);
	return fmt_lit(p, "\"");
}

static void end(struct emitter *em, char *p)
{
	*p++ = '}';
	*p++ = '\n';
	outbuf_commit(em->out, p);
}

INLINE char *key_u64(char *p, const char *key, uint64_t v)
{
	*p++ = ',';
	*p++ = '"';
	p = fmt_str(p, key);
	*p++ = '"';
	*p++ = ':';
	return fmt_u64(p, v);
}

INLINE char *key_str(char *p, const char *key, const char *v)
{
	*p++ = ',';
	*p++ = '"';
	p = fmt_str(p, key);
	p = fmt_lit(p, "\":\"");
	p = fmt_str(p, v);
	*p++ = '"';
	return p;
}

INLINE char *key_bool(char *p, const char *key, bool v)
{
	*p++ = ',';
	*p++ = '"';
	p = fmt_str(p, key);
	p = fmt_lit(p, "\":");
	return fmt_str(p, v ? "true" : "false");
}

/* A bit of a mask and its name in the output. */
struct bit_name {
	uint32_t bit;
	const char *name;
};

/* ,"key":["name",...]: the names of the bits set in mask, in table order. */
static char *key_bit_names(char *p, const char *key, uint32_t mask,
			   const struct bit_name *names, size_t n)
{
	bool first = true;

	*p++ = ',';
	*p++ = '"';
	p = fmt_str(p, key);
	p = fmt_lit(p, "\":[");
	for (size_t i = 0; i < n; i++) {
		if (!(mask & names[i].bit))
			continue;
		if (!first)
			*p++ = ',';
		first = false;
		*p++ = '"';
		p = fmt_str(p, names[i].name);
		*p++ = '"';
	}
	*p++ = ']';
	return p;
}

static char *tuple(char *p, int family, const uint8_t *laddr, uint16_t lport,
		   const uint8_t *raddr, uint16_t rport, uint32_t netns)
{
	p = key_str(p, "family", family == AF_INET6 ? "ipv6" : "ipv4");
	p = fmt_lit(p, ",\"laddr\":\"");
	p = fmt_addr(p, family, laddr);
	*p++ = '"';
	p = key_u64(p, "lport", lport);
	p = fmt_lit(p, ",\"raddr\":\"");
	p = fmt_addr(p, family, raddr);
	*p++ = '"';
	p = key_u64(p, "rport", rport);
	return key_u64(p, "netns", netns);
}

/* The socket's cgroup: its path with the container and pod it names, or
 * only its id when the path is not known (replay) or the cgroup is gone.
 */
static char *cgroup_fields(const struct emitter *em, char *p, uint64_t id)
{
	const struct cgroup_info *cg;

	if (!id)
		return p;
	cg = em->cgroup_lookup ? em->cgroup_lookup(em->cgroup_ctx, id) : NULL;
	if (!cg || !cg->path)
		return key_u64(p, "cgroup_id", id);
	p = fmt_lit(p, ",\"cgroup\":");
	p = fmt_json_str(p, cg->path, EMIT_MAX_CGROUP_PATH);
	if (cg->ids.container_id[0])
		p = key_str(p, "container_id", cg->ids.container_id);
	if (cg->ids.pod_uid[0])
		p = key_str(p, "pod_uid", cg->ids.pod_uid);
	return p;
}

static char *owner(char *p, uint32_t pid, const char *comm)
{
	p = key_u64(p, "pid", pid);
	p = fmt_lit(p, ",\"comm\":");
	return fmt_json_str(p, comm, TT_COMM_LEN);
}

static void json_state(void *ctx, const struct tt_event *e)
{
	struct emitter *em = ctx;
	char *p = begin(em, "state", e->ts_ns);

	p = key_u64(p, "id", e->cookie);
	p = tuple(p, e->family, e->saddr, e->sport, e->daddr, e->dport, e->netns);
	p = cgroup_fields(em, p, e->cgroup);
	p = key_str(p, "old", tcp_state_name(e->oldstate));
	p = key_str(p, "new", tcp_state_name(e->newstate));
	if (e->flags & TT_F_OWNER_CTX)
		p = owner(p, e->pid, e->comm);
	end(em, p);
}

/* ,"key":null */
INLINE char *key_null(char *p, const char *key)
{
	*p++ = ',';
	*p++ = '"';
	p = fmt_str(p, key);
	return fmt_lit(p, "\":null");
}

INLINE char *key_dur(char *p, const char *key, uint64_t ns)
{
	if (ns != DURATION_UNKNOWN)
		return key_u64(p, key, ns);
	*p++ = ',';
	*p++ = '"';
	p = fmt_str(p, key);
	return fmt_lit(p, "\":null");
}

static char *key_count(char *p, const char *key, int v)
{
	return key_dur(p, key, v < 0 ? DURATION_UNKNOWN : (uint64_t)v);
}

/* Where the connection's time went: handshake, accept queue, half-close,
 * and what gave up. Every key is always there; null where it does not
 * apply or is not known.
 */
static char *phases(char *p, const struct conn *c, const struct history_summary *s)
{
	const char *fin_by = conn_fin_by_name(s->fin_by);

	p = key_dur(p, "handshake_ns", s->handshake_ns);
	p = key_count(p, "syn_retransmits", c->role == ROLE_ACTIVE ? s->handshake_retrans : -1);
	p = key_count(p, "synack_retransmits",
		      c->role == ROLE_PASSIVE ? s->handshake_retrans : -1);
	if (s->accepted == ACCEPT_UNKNOWN)
		p = fmt_lit(p, ",\"accepted\":null");
	else
		p = key_bool(p, "accepted", s->accepted == ACCEPT_YES);
	p = key_dur(p, "accept_wait_ns", s->accept_wait_ns);
	if (s->accepted == ACCEPT_YES) {
		p = fmt_lit(p, ",\"accepted_by\":{\"pid\":");
		p = fmt_u64(p, c->pid);
		p = fmt_lit(p, ",\"comm\":");
		p = fmt_json_str(p, c->comm, TT_COMM_LEN);
		*p++ = '}';
	} else {
		p = fmt_lit(p, ",\"accepted_by\":null");
	}
	if (fin_by)
		p = key_str(p, "fin_by", fin_by);
	else
		p = fmt_lit(p, ",\"fin_by\":null");
	p = key_dur(p, "half_close_ns", s->half_close_ns);
	p = key_dur(p, "last_ack_age_ns", s->last_ack_age_ns);
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
	p = pl.acked_known ? key_u64(p, "payload_acked", pl.acked) : key_null(p, "payload_acked");
	p = key_u64(p, "payload_received", pl.received);
	p = key_u64(p, "seq_acked", c->close.bytes_acked);
	p = key_u64(p, "seq_received", c->close.bytes_received);
	p = key_u64(p, "retransmits", c->close.total_retrans);
	p = key_u64(p, "srtt_us", c->close.srtt_us);
	p = fmt_lit(p, ",\"sk_err\":");
	return fmt_i64(p, c->close.sk_err);
}

static void json_history(void *ctx, const struct conn *c, const struct history_summary *s)
{
	static const struct bit_name why[] = {
		{ CONN_PREEXISTING, "started_before_trace" },
		{ CONN_LOST, "lost_events" },
		{ CONN_GAP, "missing_transition" },
		{ CONN_TRUNCATED, "truncated" },
		{ CONN_EVICTED, "evicted" },
		{ CONN_VANISHED, "close_not_seen" },
	};
	struct emitter *em = ctx;
	const char *closer = conn_closer_name(s->closer);
	char *p = begin(em, "history", s->end_ns);

	p = key_u64(p, "id", c->cookie);
	p = tuple(p, c->family, c->laddr, c->lport, c->raddr, c->rport, c->netns);
	p = cgroup_fields(em, p, c->cgroup);
	p = key_str(p, "role", conn_role_name(c->role));
	p = fmt_lit(p, ",\"states\":[");
	for (uint8_t i = 0; i < s->nstates; i++) {
		if (i)
			*p++ = ',';
		*p++ = '"';
		p = fmt_str(p, tcp_state_name(s->states[i]));
		*p++ = '"';
	}
	p = fmt_lit(p, "],\"durations_ns\":[");
	for (uint8_t i = 0; i < s->nstates; i++) {
		if (i)
			*p++ = ',';
		p = s->durations_ns[i] == DURATION_UNKNOWN ? fmt_lit(p, "null")
							   : fmt_u64(p, s->durations_ns[i]);
	}
	p = fmt_lit(p, "],\"start\":\"");
	p = fmt_rfc3339(p, &em->clock, s->start_ns);
	*p++ = '"';
	p = key_u64(p, "duration_ns", s->end_ns - s->start_ns);
	if (closer)
		p = key_str(p, "closed_by", closer);
	else
		p = fmt_lit(p, ",\"closed_by\":null");
	p = key_str(p, "end", conn_end_name(s->end));
	p = key_bool(p, "tw_inferred", s->tw_inferred);
	p = close_counters(p, c, s);
	p = phases(p, c, s);
	if (c->flags & CONN_OWNER_SEEN)
		p = owner(p, c->pid, c->comm);
	p = key_bool(p, "complete", s->complete);
	if (!s->complete)
		p = key_bit_names(p, "incomplete", c->flags, why, sizeof(why) / sizeof(why[0]));
	end(em, p);
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

		p = begin(em, "reset", e->ts_ns);
		p = key_str(p, "direction", e->type == TT_EV_RESET_SENT ? "sent" : "received");
		if (e->cookie)
			p = key_u64(p, "id", e->cookie);
		p = tuple(p, e->family, e->saddr, e->sport, e->daddr, e->dport, e->netns);
		p = cgroup_fields(em, p, e->cgroup);
		if (e->cookie)
			p = key_str(p, "state", tcp_state_name(e->newstate));
		if (e->type == TT_EV_RESET_SENT) {
			if (reason)
				p = key_str(p, "reason", reason);
			else
				p = key_u64(p, "reason", e->reason);
		}
		if (e->flags & TT_F_OWNER_CTX)
			p = owner(p, e->pid, e->comm);
		break;
	}
	case TT_EV_SYNACK_RETRANS:
		p = begin(em, "synack_retransmit", e->ts_ns);
		p = key_u64(p, "listener_id", e->cookie);
		p = tuple(p, e->family, e->saddr, e->sport, e->daddr, e->dport, e->netns);
		p = cgroup_fields(em, p, e->cgroup);
		p = key_u64(p, "acceptq", e->queue.acceptq_len);
		p = key_u64(p, "acceptq_max", e->queue.acceptq_max);
		p = key_u64(p, "synq", e->queue.synq_len);
		p = key_u64(p, "drops", e->queue.drops);
		break;
	case TT_EV_LISTEN_OVERFLOW:
		p = begin(em, "listen_overflow", e->ts_ns);
		p = tuple(p, e->family, e->saddr, e->sport, e->daddr, e->dport, e->netns);
		p = cgroup_fields(em, p, e->cgroup);
		break;
	default:
		return;
	}
	end(em, p);
}

static void json_lost(void *ctx, uint64_t ts_ns, uint64_t count, uint64_t total,
		      uint8_t cause)
{
	struct emitter *em = ctx;
	char *p = begin(em, "lost", ts_ns);

	p = key_u64(p, "count", count);
	p = key_u64(p, "total", total);
	p = key_str(p, "cause", lost_cause_name(cause));
	end(em, p);
}

static void json_leak(void *ctx, const struct conn *c, uint64_t ts_ns, uint64_t age_ns,
		      bool lower_bound, const struct owner *owners, size_t n,
		      uint32_t process_leaks)
{
	struct emitter *em = ctx;
	char *p = begin(em, "close_wait_leak", ts_ns);

	p = key_u64(p, "id", c->cookie);
	p = tuple(p, c->family, c->laddr, c->lport, c->raddr, c->rport, c->netns);
	p = cgroup_fields(em, p, c->cgroup);
	p = key_u64(p, "close_wait_ns", age_ns);
	p = key_bool(p, "age_lower_bound", lower_bound);
	if (n) {
		p = owner(p, owners[0].pid, owners[0].comm);
		p = key_u64(p, "fd", owners[0].fd);
	}
	p = fmt_lit(p, ",\"owners\":[");
	/* A descriptor shared by thousands of forks would not fit one record. */
	for (size_t i = 0; i < n && i < EMIT_MAX_OWNERS; i++) {
		if (i)
			*p++ = ',';
		p = fmt_lit(p, "{\"pid\":");
		p = fmt_u64(p, owners[i].pid);
		p = fmt_lit(p, ",\"comm\":");
		p = fmt_json_str(p, owners[i].comm, TT_COMM_LEN);
		p = key_u64(p, "fd", owners[i].fd);
		*p++ = '}';
	}
	*p++ = ']';
	if (n > EMIT_MAX_OWNERS)
		p = key_u64(p, "owners_not_listed", n - EMIT_MAX_OWNERS);
	p = key_u64(p, "process_leaks", process_leaks);
	end(em, p);
}

static void json_leak_resolved(void *ctx, const struct conn *c, uint64_t ts_ns,
			       uint64_t age_ns)
{
	struct emitter *em = ctx;
	uint8_t last = c->states[c->nstates - 1];
	char *p = begin(em, "close_wait_resolved", ts_ns);

	p = key_u64(p, "id", c->cookie);
	p = tuple(p, c->family, c->laddr, c->lport, c->raddr, c->rport, c->netns);
	p = cgroup_fields(em, p, c->cgroup);
	p = key_u64(p, "close_wait_ns", age_ns);
	/* where it went: LAST_ACK after close(), CLOSE after a reset, or gone */
	if (last == TT_TCP_CLOSE_WAIT)
		p = fmt_lit(p, ",\"to\":null");
	else
		p = key_str(p, "to", tcp_state_name(last));
	if (c->flags & CONN_OWNER_SEEN)
		p = owner(p, c->pid, c->comm);
	end(em, p);
}

const struct sink_ops emit_json_ops = {
	.state = json_state,
	.history = json_history,
	.event = json_event,
	.lost = json_lost,
	.leak = json_leak,
	.leak_resolved = json_leak_resolved,
};

/* Listener sampling: "listener" and "netns" records each interval, "alert"
 * records as conditions start and clear.
 */
static char *listener_id(const struct emitter *em, char *p, const struct lw_listener *l)
{
	p = key_u64(p, "listener_id", l->cookie);
	p = key_str(p, "family", l->family == AF_INET6 ? "ipv6" : "ipv4");
	p = fmt_lit(p, ",\"laddr\":\"");
	p = fmt_addr(p, l->family, l->addr);
	*p++ = '"';
	p = key_u64(p, "lport", l->port);
	p = key_u64(p, "netns", l->netns);
	p = cgroup_fields(em, p, l->cgroup);
	if (l->pid)
		p = owner(p, l->pid, l->comm);
	else if (l->owner_not_visible)
		p = key_str(p, "owner", "not_visible");
	return p;
}

static char *sources(char *p, const char *key, const struct lw_source *v, size_t n)
{
	*p++ = ',';
	*p++ = '"';
	p = fmt_str(p, key);
	p = fmt_lit(p, "\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		p = fmt_lit(p, "{\"addr\":\"");
		p = fmt_addr(p, v[i].family, v[i].addr);
		p = fmt_lit(p, "\",\"prefix_len\":");
		p = fmt_u64(p, v[i].prefix_len);
		p = key_u64(p, "half_open", v[i].half_open);
		*p++ = '}';
	}
	*p++ = ']';
	return p;
}

/* A figure of the interval: null on a listener's first sample, which is
 * only the baseline.
 */
INLINE char *key_delta(char *p, const struct lw_listener *l, const char *key, uint64_t v)
{
	return l->have_deltas ? key_u64(p, key, v) : key_null(p, key);
}

/* The interval's accepts and how long they waited (listener and alert). */
static char *accepts(char *p, const struct lw_listener *l)
{
	p = key_u64(p, "accepted", l->accepted);
	p = key_delta(p, l, "accepted_delta", l->d_accepted);
	p = key_dur(p, "accept_wait_p50_ns", l->aw_n ? l->aw_p50_ns : DURATION_UNKNOWN);
	p = key_dur(p, "accept_wait_p99_ns", l->aw_n ? l->aw_p99_ns : DURATION_UNKNOWN);
	return key_dur(p, "accept_wait_max_ns", l->aw_n ? l->aw_max_ns : DURATION_UNKNOWN);
}

/* The queues now, each null where the sample's source cannot tell. */
static char *queues(char *p, const struct lw_listener *l)
{
	p = key_u64(p, "acceptq_len", l->acceptq_len);
	p = key_u64(p, "acceptq_max", l->acceptq_max);
	p = l->synq_known ? key_u64(p, "synq_len", l->synq_len) : key_null(p, "synq_len");
	return key_u64(p, "synq_max", l->synq_max);
}

/* The interval's SYNs, its drops by the listener's own counter, and the
 * events counted between samples.
 */
static char *interval_figures(char *p, const struct lw_listener *l)
{
	p = key_delta(p, l, "syns_delta", l->d_syns);
	p = key_delta(p, l, "syn_rate", l->syn_rate);
	p = key_u64(p, "syn_rate_baseline", (uint64_t)(l->syn_baseline + 0.5));
	p = key_delta(p, l, "sk_drops_delta", l->d_drops);
	p = key_delta(p, l, "synack_retrans_delta", l->d_synack_retrans);
	p = key_delta(p, l, "overflows_delta", l->d_overflows);
	return key_delta(p, l, "handshakes_delta", l->d_handshakes);
}

static char *cookies(char *p, const struct lw_listener *l)
{
	return l->cookies_known ? key_bool(p, "syncookies", l->cookies_active)
				: key_null(p, "syncookies");
}

static void json_listener(struct emitter *em, const struct lw_listener *l, uint64_t ts_ns)
{
	char *p = begin(em, "listener", ts_ns);
	struct bit_name alerts[LW_N_ALERTS];
	uint32_t active = 0;

	p = listener_id(em, p, l);
	p = queues(p, l);
	p = key_u64(p, "sk_drops", l->drops);
	p = key_u64(p, "synack_retrans", l->synack_retrans);
	p = key_u64(p, "overflows", l->overflows);
	p = key_u64(p, "handshakes", l->handshakes);
	p = interval_figures(p, l);
	p = key_u64(p, "synq_retransmitted", l->synq_retrans);
	p = accepts(p, l);
	p = cookies(p, l);
	p = key_delta(p, l, "interval_ms", l->interval_ns / 1000000);
	p = key_bool(p, "complete", !l->events_incomplete);
	for (int k = 0; k < LW_N_ALERTS; k++) {
		alerts[k] = (struct bit_name){ 1u << k, lw_alert_names[k] };
		if (l->alert[k].active)
			active |= 1u << k;
	}
	p = key_bit_names(p, "alerts", active, alerts, LW_N_ALERTS);
	if (l->n_top_addrs) {
		p = sources(p, "top_sources", l->top_addrs, l->n_top_addrs);
		p = sources(p, "top_prefixes", l->top_prefixes, l->n_top_prefixes);
	}
	end(em, p);
}

static char *sysctls(char *p, const struct lw_netns *ns)
{
	p = fmt_lit(p, ",\"sysctl\":{");
	for (int k = 0; k < LW_N_SYSCTLS; k++) {
		if (k)
			*p++ = ',';
		*p++ = '"';
		p = fmt_str(p, lw_sysctl_names[k]);
		p = fmt_lit(p, "\":");
		p = ns->sysctl[k] < 0 ? fmt_lit(p, "null") : fmt_i64(p, ns->sysctl[k]);
	}
	*p++ = '}';
	return p;
}

static void json_netns(struct emitter *em, const struct lw_netns *ns, uint64_t ts_ns)
{
	char *p = begin(em, "netns", ts_ns);

	p = key_u64(p, "netns", ns->inum);
	p = key_u64(p, "listeners", ns->listeners);
	if (ns->sampled) {
		p = fmt_lit(p, ",\"counters\":{");
		for (int k = 0; k < LW_N_COUNTERS; k++) {
			if (k)
				*p++ = ',';
			*p++ = '"';
			p = fmt_str(p, lw_counter_names[k]);
			p = fmt_lit(p, "\":");
			p = fmt_u64(p, ns->delta[k]);
		}
		*p++ = '}';
	} else {
		p = fmt_lit(p, ",\"counters\":null");
	}
	p = sysctls(p, ns);
	end(em, p);
}

static const struct bit_name cause_names[] = {
	{ LW_CAUSE_SYNQ_NEAR_FULL, "synq_near_full" },
	{ LW_CAUSE_SYNACK_RETRANS, "synack_retransmits" },
	{ LW_CAUSE_SYNCOOKIES, "syncookies" },
	{ LW_CAUSE_ACCEPTQ_AT_LIMIT, "acceptq_at_limit" },
	{ LW_CAUSE_SYN_RATE, "syn_rate" },
};

static const char *const evidence_names[] = {
	[LW_EVIDENCE_LISTENER] = "listener_requests",
	[LW_EVIDENCE_NAMESPACE] = "namespace_cookies",
	[LW_EVIDENCE_SYN_RATE] = "syn_rate",
};

static void json_alert(void *ctx, const struct lw_alert *a)
{
	struct emitter *em = ctx;
	const struct lw_listener *l = a->l;
	char *p = begin(em, "alert", a->ts_ns);

	p = key_str(p, "alert", lw_alert_names[a->kind]);
	p = key_str(p, "state", a->start ? "start" : "clear");
	p = listener_id(em, p, l);
	p = key_bit_names(p, "causes", a->st->causes, cause_names,
			  sizeof(cause_names) / sizeof(cause_names[0]));
	p = queues(p, l);
	p = interval_figures(p, l);
	p = accepts(p, l);
	p = cookies(p, l);
	if (a->st->evidence) {
		p = key_str(p, "evidence", evidence_names[a->st->evidence]);
		p = key_u64(p, "synq_retransmitted", l->synq_retrans);
		if (a->ns && a->ns->sampled) {
			p = key_u64(p, "cookies_sent_delta", a->ns->delta[LW_SYNCOOKIES_SENT]);
			p = key_u64(p, "cookies_recv_delta", a->ns->delta[LW_SYNCOOKIES_RECV]);
		}
	}
	if (a->start && (a->st->causes & LW_CAUSE_SYN_RATE))
		p = key_u64(p, "syn_rate_threshold", a->syn_threshold);
	if (!a->start) {
		p = key_u64(p, "duration_ms", (a->ts_ns - a->st->since_ns) / 1000000);
		p = key_u64(p, "peak_synq", a->st->peak_synq);
		p = key_u64(p, "peak_acceptq", a->st->peak_acceptq);
		p = key_u64(p, "peak_syn_rate", a->st->peak_syn_rate);
		p = key_u64(p, "total_syns", a->st->syns);
		p = key_u64(p, "total_sk_drops", a->st->drops);
		p = key_u64(p, "total_synack_retrans", a->st->synack_retrans);
		p = key_u64(p, "total_overflows", a->st->overflows);
		p = key_bool(p, "listener_closed", a->gone);
	} else if (l->n_top_addrs) {
		p = sources(p, "top_sources", l->top_addrs, l->n_top_addrs);
		p = sources(p, "top_prefixes", l->top_prefixes, l->n_top_prefixes);
	}
	if (a->ns)
		p = sysctls(p, a->ns);
	end(em, p);
}

static void json_sample(void *ctx, const struct listen_watch *lw, uint64_t now_ns,
			const struct filter *f)
{
	struct emitter *em = ctx;
	const struct lw_listener *const *l;
	const struct lw_netns *ns;
	size_t n = listen_watch_listeners(lw, &l);

	for (size_t i = 0; i < n; i++)
		if (listen_sink_wanted(f, l[i]))
			json_listener(em, l[i], now_ns);
	n = listen_watch_namespaces(lw, &ns);
	for (size_t i = 0; i < n; i++)
		json_netns(em, &ns[i], now_ns);
}

/* A destination: where the connects go from, to, in which namespace. */
static char *destination(char *p, const struct ports_dest *d)
{
	p = key_str(p, "family", d->family == AF_INET6 ? "ipv6" : "ipv4");
	p = key_u64(p, "netns", d->netns);
	p = fmt_lit(p, ",\"laddr\":\"");
	p = fmt_addr(p, d->family, d->laddr);
	p = fmt_lit(p, "\",\"raddr\":\"");
	p = fmt_addr(p, d->family, d->raddr);
	*p++ = '"';
	return key_u64(p, "rport", d->rport);
}

/* Its port use now, and the interval's failed connects by process. */
static char *port_figures(struct emitter *em, char *p, const struct ports *ports,
			  const struct ports_dest *d)
{
	const struct ports_limits *lim = ports_limits_of(ports, d->netns);
	uint32_t range = ports_range(ports, d);

	p = key_u64(p, "in_use", d->in_use);
	p = key_u64(p, "time_wait", d->time_wait);
	p = key_dur(p, "range", range ? range : DURATION_UNKNOWN);
	p = key_dur(p, "tw_reuse", lim && lim->tw_reuse >= 0 ? (uint64_t)lim->tw_reuse
							       : DURATION_UNKNOWN);
	p = key_bool(p, "tw_reusable", ports_tw_reusable(ports, d));
	if (range) {
		p = fmt_lit(p, ",\"used_ratio\":");
		p = fmt_u64(p, ports_used_permille(ports, d) / 1000);
		*p++ = '.';
		p = fmt_u64_pad(p, ports_used_permille(ports, d) % 1000, 3);
	} else {
		p = fmt_lit(p, ",\"used_ratio\":null");
	}
	p = key_u64(p, "connect_failures", d->failures);
	p = key_u64(p, "connect_failures_delta", d->d_failures);
	p = fmt_lit(p, ",\"top_processes\":[");
	for (uint8_t i = 0; i < d->ntop; i++) {
		const struct ports_process *t = &d->top[i];

		if (i)
			*p++ = ',';
		p = fmt_lit(p, "{\"pid\":");
		p = fmt_u64(p, t->pid);
		p = fmt_lit(p, ",\"comm\":");
		p = fmt_json_str(p, t->comm, TT_COMM_LEN);
		p = cgroup_fields(em, p, t->cgroup);
		p = key_u64(p, "failures", t->failures);
		*p++ = '}';
	}
	*p++ = ']';
	if (d->other_failures)
		p = key_u64(p, "other_failures", d->other_failures);
	return p;
}

static void json_ports_alert(void *ctx, const struct ports_alert *a, const struct ports *ports)
{
	struct emitter *em = ctx;
	char *p = begin(em, "alert", a->ts_ns);

	p = key_str(p, "alert", "ephemeral_ports");
	p = key_str(p, "state", a->start ? "start" : "clear");
	p = destination(p, a->d);
	p = port_figures(em, p, ports, a->d);
	if (a->start) {
		p = key_str(p, "cause", a->d->failed_once ? "connect_failures" : "ports_used");
	} else {
		p = key_u64(p, "duration_ms", (a->ts_ns - a->d->alert_since_ns) / 1000000);
		p = key_u64(p, "peak_used", a->d->peak_used);
	}
	end(em, p);
}

static void json_ports(void *ctx, struct ports *ports, uint64_t now_ns, const struct filter *f)
{
	struct emitter *em = ctx;
	const struct ports_dest *const *v;
	size_t n = ports_hot(ports, &v);

	for (size_t i = 0; i < n; i++) {
		char *p;

		if (f && !filter_match_destination(f, v[i]->family, v[i]->raddr, v[i]->rport,
						   v[i]->netns))
			continue;
		p = begin(em, "ports", now_ns);
		p = destination(p, v[i]);
		p = port_figures(em, p, ports, v[i]);
		p = key_bool(p, "alert", v[i]->alert);
		end(em, p);
	}
}

const struct listen_sink_ops emit_json_listen_ops = {
	.alert = json_alert,
	.sample = json_sample,
	.ports_alert = json_ports_alert,
	.ports = json_ports,
};
