/* Newline-delimited JSON records of listeners, namespaces and destinations:
 * "listener" and "netns" records each interval, "alert" records as
 * conditions start and clear, "ports" records of hot destinations. The
 * schema is documented in docs/schema.md and docs/listeners.md, the byte
 * budget in rec.h.
 */
#include <sys/socket.h>
#include "emit.h"
#include "listen_alerts.h"
#include "ports.h"
#include "rec.h"

static char *listener_id(const struct emitter *em, char *p, const struct lw_listener *l)
{
	p = rec_u64(p, "listener_id", l->cookie);
	p = rec_name(p, "family", l->family == AF_INET6 ? "ipv6" : "ipv4");
	p = fmt_lit(p, ",\"laddr\":\"");
	p = fmt_addr(p, l->family, l->addr);
	*p++ = '"';
	p = rec_u64(p, "lport", l->port);
	p = rec_u64(p, "netns", l->netns);
	p = rec_cgroup(em, p, l->cgroup);
	if (l->pid)
		p = rec_owner(p, l->pid, l->comm);
	else if (l->owner_not_visible)
		p = rec_name(p, "owner", "not_visible");
	return p;
}

/* A listed source: {"addr":"…","prefix_len":N,"half_open":N} and a comma. */
#define SOURCE_MAX (sizeof("{\"addr\":\"\",\"prefix_len\":,\"half_open\":},") - 1 + \
		    FMT_ADDR_MAX + 3 + 10)

/* ,"key":[…] of the n sources the budget holds; "<key>_truncated" counts
 * the others.
 */
static char *sources(struct emitter *em, char *p, const char *key, const char *cut_key,
		     const struct lw_source *v, size_t n)
{
	size_t i;

	p = rec_key(p, key);
	*p++ = '[';
	for (i = 0; i < n && rec_fits(em, SOURCE_MAX); i++) {
		if (i)
			*p++ = ',';
		p = fmt_lit(p, "{\"addr\":\"");
		p = fmt_addr(p, v[i].family, v[i].addr);
		p = fmt_lit(p, "\",\"prefix_len\":");
		p = fmt_u64(p, v[i].prefix_len);
		p = rec_u64(p, "half_open", v[i].half_open);
		*p++ = '}';
	}
	*p++ = ']';
	return rec_truncated(p, cut_key, n - i);
}

static char *top_sources(struct emitter *em, char *p, const struct lw_listener *l)
{
	p = sources(em, p, "top_sources", "top_sources_truncated", l->top_addrs,
		    l->n_top_addrs < LW_TOP_SOURCES ? l->n_top_addrs : LW_TOP_SOURCES);
	return sources(em, p, "top_prefixes", "top_prefixes_truncated", l->top_prefixes,
		       l->n_top_prefixes < LW_TOP_SOURCES ? l->n_top_prefixes : LW_TOP_SOURCES);
}

/* A figure of the interval: null on a listener's first sample, which is
 * only the baseline.
 */
REC_INLINE char *rec_delta(char *p, const struct lw_listener *l, const char *key, uint64_t v)
{
	return l->have_deltas ? rec_u64(p, key, v) : rec_null(p, key);
}

/* The interval's accepts and how long they waited (listener and alert). */
static char *accepts(char *p, const struct lw_listener *l)
{
	p = rec_u64(p, "accepted", l->accepted);
	p = rec_delta(p, l, "accepted_delta", l->d_accepted);
	p = rec_dur(p, "accept_wait_p50_ns", l->aw_n ? l->aw_p50_ns : DURATION_UNKNOWN);
	p = rec_dur(p, "accept_wait_p99_ns", l->aw_n ? l->aw_p99_ns : DURATION_UNKNOWN);
	return rec_dur(p, "accept_wait_max_ns", l->aw_n ? l->aw_max_ns : DURATION_UNKNOWN);
}

/* The queues now, each null where the sample's source cannot tell. */
static char *queues(char *p, const struct lw_listener *l)
{
	p = rec_u64(p, "acceptq_len", l->acceptq_len);
	p = rec_u64(p, "acceptq_max", l->acceptq_max);
	p = l->synq_known ? rec_u64(p, "synq_len", l->synq_len) : rec_null(p, "synq_len");
	return rec_u64(p, "synq_max", l->synq_max);
}

/* The interval's SYNs, its drops by the listener's own counter, and the
 * events counted between samples.
 */
static char *interval_figures(char *p, const struct lw_listener *l)
{
	p = rec_delta(p, l, "syns_delta", l->d_syns);
	p = rec_delta(p, l, "syn_rate", l->syn_rate);
	p = rec_delta(p, l, "syn_rate_baseline", listen_alerts_baseline(l));
	p = rec_delta(p, l, "sk_drops_delta", l->d_drops);
	p = rec_delta(p, l, "synack_retrans_delta", l->d_synack_retrans);
	p = rec_delta(p, l, "overflows_delta", l->d_overflows);
	return rec_delta(p, l, "handshakes_delta", l->d_handshakes);
}

static char *cookies(char *p, const struct lw_listener *l)
{
	return l->cookies_known ? rec_bool(p, "syncookies", l->cookies_active)
				: rec_null(p, "syncookies");
}

void emit_json_listen_listener(struct emitter *em, const struct lw_listener *l, uint64_t ts_ns)
{
	char *p = rec_begin(em, "listener", ts_ns);
	struct rec_bit_name alerts[LW_N_ALERTS];
	uint32_t active = 0;

	p = listener_id(em, p, l);
	p = queues(p, l);
	p = rec_u64(p, "sk_drops", l->drops);
	p = rec_u64(p, "synack_retrans", l->synack_retrans);
	p = rec_u64(p, "overflows", l->overflows);
	p = rec_u64(p, "handshakes", l->handshakes);
	p = interval_figures(p, l);
	p = rec_u64(p, "synq_retransmitted", l->synq_retrans);
	p = accepts(p, l);
	p = cookies(p, l);
	p = rec_delta(p, l, "interval_ms", l->interval_ns / 1000000);
	p = rec_bool(p, "complete", !l->events_incomplete);
	for (int k = 0; k < LW_N_ALERTS; k++) {
		alerts[k] = (struct rec_bit_name){ .bit = 1u << k, .name = lw_alert_names[k] };
		if (l->alert[k].active)
			active |= 1u << k;
	}
	p = rec_bit_names(p, "alerts", active, alerts, LW_N_ALERTS);
	if (l->n_top_addrs)
		p = top_sources(em, p, l);
	rec_end(em, p);
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

void emit_json_listen_netns(struct emitter *em, const struct lw_netns *ns, uint64_t ts_ns)
{
	char *p = rec_begin(em, "netns", ts_ns);

	p = rec_u64(p, "netns", ns->inum);
	p = rec_u64(p, "listeners", ns->listeners);
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
	rec_end(em, p);
}

static const struct rec_bit_name cause_names[] = {
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
	char *p = rec_begin(em, "alert", a->ts_ns);

	p = rec_name(p, "alert", lw_alert_names[a->kind]);
	p = rec_name(p, "state", a->start ? "start" : "clear");
	p = listener_id(em, p, l);
	p = rec_bit_names(p, "causes", a->st->causes, cause_names,
			  sizeof(cause_names) / sizeof(cause_names[0]));
	p = queues(p, l);
	p = interval_figures(p, l);
	p = accepts(p, l);
	p = cookies(p, l);
	if (a->st->evidence) {
		/* any other value as before the SYN rate was evidence */
		p = rec_name(p, "evidence", a->st->evidence < sizeof(evidence_names) /
						 sizeof(evidence_names[0])
						 ? evidence_names[a->st->evidence]
						 : "listener_requests");
		p = rec_u64(p, "synq_retransmitted", l->synq_retrans);
		if (a->ns && a->ns->sampled) {
			p = rec_u64(p, "cookies_sent_delta", a->ns->delta[LW_SYNCOOKIES_SENT]);
			p = rec_u64(p, "cookies_recv_delta", a->ns->delta[LW_SYNCOOKIES_RECV]);
		}
	}
	if (a->start && (a->st->causes & LW_CAUSE_SYN_RATE))
		p = rec_u64(p, "syn_rate_threshold", a->syn_threshold);
	if (!a->start) {
		p = rec_u64(p, "duration_ms", (a->ts_ns - a->st->since_ns) / 1000000);
		/* a queue never known has no peak (the sock_diag path) */
		p = l->synq_known ? rec_u64(p, "peak_synq", a->st->peak_synq)
				  : rec_null(p, "peak_synq");
		p = rec_u64(p, "peak_acceptq", a->st->peak_acceptq);
		p = rec_u64(p, "peak_syn_rate", a->st->peak_syn_rate);
		p = rec_u64(p, "total_syns", a->st->syns);
		p = rec_u64(p, "total_sk_drops", a->st->drops);
		p = rec_u64(p, "total_synack_retrans", a->st->synack_retrans);
		p = rec_u64(p, "total_overflows", a->st->overflows);
		p = rec_bool(p, "listener_closed", a->gone);
	} else if (l->n_top_addrs) {
		p = top_sources(em, p, l);
	}
	if (a->ns)
		p = sysctls(p, a->ns);
	rec_end(em, p);
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
			emit_json_listen_listener(em, l[i], now_ns);
	n = listen_watch_namespaces(lw, &ns);
	for (size_t i = 0; i < n; i++)
		emit_json_listen_netns(em, &ns[i], now_ns);
}

/* A destination: where the connects go from, to, in which namespace. */
static char *destination(char *p, const struct ports_dest *d)
{
	p = rec_name(p, "family", d->family == AF_INET6 ? "ipv6" : "ipv4");
	p = rec_u64(p, "netns", d->netns);
	p = fmt_lit(p, ",\"laddr\":\"");
	p = fmt_addr(p, d->family, d->laddr);
	p = fmt_lit(p, "\",\"raddr\":\"");
	p = fmt_addr(p, d->family, d->raddr);
	*p++ = '"';
	return rec_u64(p, "rport", d->rport);
}

/* A listed process, less its comm and cgroup: {"pid":N,…,"failures":N} and
 * a comma.
 */
#define PROCESS_FIXED (sizeof("{\"pid\":,\"comm\":,\"failures\":},") - 1 + 2 * 10)

/* ,"top_processes":[…]: those the budget holds, each with its cgroup;
 * "top_processes_truncated" counts the others.
 */
static char *top_processes(struct emitter *em, char *p, const struct ports_dest *d)
{
	uint8_t i, n = d->ntop < PORTS_TOP_PROCESSES ? d->ntop : PORTS_TOP_PROCESSES;

	p = fmt_lit(p, ",\"top_processes\":[");
	for (i = 0; i < n; i++) {
		const struct ports_process *t = &d->top[i];

		if (!rec_fits(em, PROCESS_FIXED + fmt_json_len(t->comm, TT_COMM_LEN) +
					     rec_cgroup_len(em, t->cgroup)))
			break;
		if (i)
			*p++ = ',';
		p = fmt_lit(p, "{\"pid\":");
		p = fmt_u64(p, t->pid);
		p = fmt_json_str(rec_key(p, "comm"), t->comm, TT_COMM_LEN);
		p = rec_cgroup(em, p, t->cgroup);
		p = rec_u64(p, "failures", t->failures);
		*p++ = '}';
	}
	*p++ = ']';
	return rec_truncated(p, "top_processes_truncated", (size_t)(n - i));
}

/* Its port use now, and the interval's failed connects by process. */
static char *port_figures(struct emitter *em, char *p, const struct ports *ports,
			  const struct ports_dest *d)
{
	const struct ports_limits *lim = ports_limits_of(ports, d->netns);
	uint32_t range = ports_range(ports, d);

	p = rec_u64(p, "in_use", d->in_use);
	p = rec_u64(p, "time_wait", d->time_wait);
	p = rec_dur(p, "range", range ? range : DURATION_UNKNOWN);
	p = rec_dur(p, "tw_reuse", lim && lim->tw_reuse >= 0 ? (uint64_t)lim->tw_reuse
							       : DURATION_UNKNOWN);
	p = rec_bool(p, "tw_reusable", ports_tw_reusable(ports, d));
	if (range) {
		p = fmt_lit(p, ",\"used_ratio\":");
		p = fmt_u64(p, ports_used_permille(ports, d) / 1000);
		*p++ = '.';
		p = fmt_u64_pad(p, ports_used_permille(ports, d) % 1000, 3);
	} else {
		p = fmt_lit(p, ",\"used_ratio\":null");
	}
	p = rec_u64(p, "connect_failures", d->failures);
	p = rec_u64(p, "connect_failures_delta", d->d_failures);
	p = top_processes(em, p, d);
	if (d->other_failures)
		p = rec_u64(p, "other_failures", d->other_failures);
	return p;
}

static void json_ports_alert(void *ctx, const struct ports_alert *a, const struct ports *ports)
{
	struct emitter *em = ctx;
	char *p = rec_begin(em, "alert", a->ts_ns);

	p = rec_name(p, "alert", "ephemeral_ports");
	p = rec_name(p, "state", a->start ? "start" : "clear");
	p = destination(p, a->d);
	p = port_figures(em, p, ports, a->d);
	if (a->start) {
		p = rec_name(p, "cause", a->d->failed_once ? "connect_failures" : "ports_used");
	} else {
		p = rec_u64(p, "duration_ms", (a->ts_ns - a->d->alert_since_ns) / 1000000);
		p = rec_u64(p, "peak_used", a->d->peak_used);
		p = rec_bool(p, "netns_gone", a->gone);
	}
	rec_end(em, p);
}

void emit_json_listen_ports(struct emitter *em, const struct ports *ports,
			    const struct ports_dest *d, uint64_t now_ns)
{
	char *p = rec_begin(em, "ports", now_ns);

	p = destination(p, d);
	p = port_figures(em, p, ports, d);
	p = rec_bool(p, "alert", d->alert);
	rec_end(em, p);
}

static void json_ports(void *ctx, struct ports *ports, uint64_t now_ns, const struct filter *f)
{
	struct emitter *em = ctx;
	const struct ports_dest *const *v;
	size_t n = ports_hot(ports, &v);

	for (size_t i = 0; i < n; i++)
		if (!f || filter_match_destination(f, v[i]->family, v[i]->raddr, v[i]->rport,
						   v[i]->netns))
			emit_json_listen_ports(em, ports, v[i], now_ns);
}

const struct listen_sink_ops emit_json_listen_ops = {
	.alert = json_alert,
	.sample = json_sample,
	.ports_alert = json_ports_alert,
	.ports = json_ports,
};
