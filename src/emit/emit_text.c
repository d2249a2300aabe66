/* The human view: one aligned line per event or finished connection,
 * details wrapped onto indented lines past 160 characters, every line in
 * time order (text_line.c).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "emit.h"
#include "history.h"
#include "payload.h"
#include "ports.h"
#include "tcp_names.h"
#include "text_line.h"

/* Where the socket lives, when it is not simply here: another network
 * namespace, a container (its short id, as docker ps shows it).
 */
static char *where_note(struct emitter *em, char *p, uint32_t netns, uint64_t cgroup)
{
	const struct cgroup_info *cg = cgroup && em->cgroup_lookup
					       ? em->cgroup_lookup(em->cgroup_ctx, cgroup) : NULL;

	if (netns != em->own_netns) {
		p = fmt_lit(p, " netns=");
		p = fmt_u64(p, netns);
	}
	if (cg && cg->ids.container_id[0]) {
		p = fmt_lit(p, " ctr=");
		/* hex digits by cgroup_path_parse(); made safe all the same */
		p = fmt_text_safe(p, cg->ids.container_id, CGROUP_SHORT_ID_LEN);
	}
	return p;
}

static void finish(struct emitter *em, char *p)
{
	text_line_end(em, p);
}

#define line_start text_line_start

/* Every transition, shown or not: how long the socket was in its old state
 * (for text_state, called next if the filters keep it).
 */
static void text_transition(void *ctx, const struct tt_event *e)
{
	struct emitter *em = ctx;

	if (!em->ages)
		return;
	em->age_cookie = e->cookie;
	em->age_ns = state_age_step(em->ages, e->cookie, e->ts_ns, history_begins_life(e),
				    e->newstate == TT_TCP_CLOSE);
}

static void text_state(void *ctx, const struct tt_event *e)
{
	struct emitter *em = ctx;
	char *p = line_start(em, e->ts_ns, "state", e->flags & TT_F_OWNER_CTX, e->pid,
			     e->comm, e->family, e->saddr, e->sport, e->daddr, e->dport);

	p = fmt_str(p, tcp_state_name(e->oldstate));
	p = fmt_lit(p, " -> ");
	p = fmt_str(p, tcp_state_name(e->newstate));
	/* the time in the old state (tcpstates' MS); none where a life begins */
	if (em->ages && em->age_cookie == e->cookie && !history_begins_life(e)) {
		*p++ = ' ';
		p = em->age_ns != UINT64_MAX ? fmt_duration(p, em->age_ns) : fmt_lit(p, "?");
	}
	finish(em, where_note(em, p, e->netns, e->cgroup));
}

static char *dur_note(char *p, const char *key, uint64_t ns)
{
	if (ns == DURATION_UNKNOWN)
		return p;
	p = fmt_str(p, key);
	return fmt_duration(p, ns);
}

/* The phases that are known, each one short key=value. */
static char *phase_notes(char *p, const struct conn *c, const struct history_summary *s)
{
	p = dur_note(p, " handshake=", s->handshake_ns);
	if (s->handshake_retrans > 0) {
		p = fmt_lit(p, "(");
		p = fmt_u64(p, (uint64_t)s->handshake_retrans);
		p = fmt_str(p, c->role == ROLE_PASSIVE ? " synack-rtx)" : " syn-rtx)");
	}
	if (s->accepted == ACCEPT_NO)
		p = fmt_lit(p, " never-accepted");
	p = dur_note(p, " accept-wait=", s->accept_wait_ns);
	if (s->accepted == ACCEPT_YES) {
		p = fmt_lit(p, " accepted-by=");
		p = text_line_comm(p, c->comm);
		p = fmt_lit(p, "[");
		p = fmt_u64(p, c->pid);
		p = fmt_lit(p, "]");
	}
	if (conn_fin_by_name(s->fin_by)) {
		p = fmt_lit(p, " fin-by=");
		p = fmt_str(p, conn_fin_by_name(s->fin_by));
	}
	p = dur_note(p, " half-closed=", s->half_close_ns);
	p = dur_note(p, " last-ack=", s->last_ack_age_ns);
	if (s->timeout_attempts >= 0) {
		p = fmt_lit(p, " attempts=");
		p = fmt_u64(p, (uint64_t)s->timeout_attempts);
	}
	return p;
}

/* key=N% of whole, when N is 1 or more (at most 100). */
static char *share_note(char *p, const char *key, uint64_t part, uint64_t whole)
{
	uint64_t pct = (uint64_t)((unsigned __int128)(part < whole ? part : whole) * 100 / whole);

	if (!pct)
		return p;
	p = fmt_str(p, key);
	p = fmt_u64(p, pct);
	*p++ = '%';
	return p;
}

/* Why it was slow, short: RTT and its variation, the limited shares of
 * the time spent sending, and the diagnosis when there is one.
 */
static char *delivery_notes(char *p, const struct history_summary *s)
{
	const struct tt_delivery *d = s->dl;
	const char *limit;

	if (!d || !(d->flags & TT_D_READ))
		return p;
	if (d->srtt_us) {
		p = fmt_lit(p, " rtt=");
		p = fmt_duration(p, (uint64_t)d->srtt_us * 1000);
		*p++ = '/';
		p = fmt_duration(p, (uint64_t)d->rttvar_us * 1000);
	}
	if ((d->flags & TT_D_CHRONO) && d->busy_ns) {
		p = share_note(p, " rwnd-limited=", d->rwnd_limited_ns, d->busy_ns);
		p = share_note(p, " sndbuf-limited=", d->sndbuf_limited_ns, d->busy_ns);
	}
	limit = conn_limit_name(history_limited_by(d));
	if (limit && history_limited_by(d) != LIMIT_NONE) {
		p = fmt_lit(p, " limited-by=");
		p = fmt_str(p, limit);
	}
	return p;
}


/* n=bytes, or n=? when not known. */
static char *bytes_note(char *p, const char *key, bool known, uint64_t v)
{
	p = fmt_str(p, key);
	return known ? fmt_u64(p, v) : fmt_lit(p, "?");
}

/* How it ended; its payload and the states with the time in each (on a
 * second line when long); where the time went.
 */
static void text_history(void *ctx, const struct conn *c, const struct history_summary *s)
{
	struct emitter *em = ctx;
	const char *closer = conn_closer_name(s->closer);
	uint8_t n = s->nstates < CONN_MAX_STATES ? s->nstates : CONN_MAX_STATES;
	char *p = line_start(em, s->end_ns, "history", c->flags & CONN_OWNER_SEEN, c->pid,
			     c->comm, c->family, c->laddr, c->lport, c->raddr, c->rport);
	struct payload pl;

	payload_of(c, s, &pl);
	p = fmt_str(p, conn_role_name(c->role));
	p = fmt_lit(p, " ");
	p = fmt_str(p, conn_end_name(s->end));
	if (closer) {
		p = fmt_lit(p, " closed_by=");
		p = fmt_str(p, closer);
	}
	p = fmt_lit(p, " ");
	p = fmt_duration(p, s->end_ns - s->start_ns);
	*p++ = TEXT_BREAK;
	p = bytes_note(p, "tx=", pl.acked_known, pl.acked);
	p = bytes_note(p, " rx=", pl.known, pl.received);
	p = bytes_note(p, " retrans=", pl.known, c->close.total_retrans);
	for (uint8_t i = 0; i < n; i++) {
		p = fmt_str(p, i ? " > " : " ");
		p = fmt_str(p, tcp_state_name(s->states[i]));
		if (i + 1 == n && s->tw_inferred)
			p = fmt_lit(p, "(inferred)");
		if (s->durations_ns[i] != DURATION_UNKNOWN && i + 1 < n) {
			*p++ = ' ';
			p = fmt_duration(p, s->durations_ns[i]);
		}
	}
	*p++ = TEXT_BREAK;
	p = delivery_notes(p, s);
	p = phase_notes(p, c, s);
	if (!s->complete)
		p = fmt_lit(p, " [incomplete]");
	finish(em, where_note(em, p, c->netns, c->cgroup));
}

static void text_event(void *ctx, const struct tt_event *e)
{
	struct emitter *em = ctx;
	const char *what;
	char *p;

	switch (e->type) {
	case TT_EV_RESET_SENT:
		what = "rst-sent";
		break;
	case TT_EV_RESET_RECV:
		what = "rst-recv";
		break;
	case TT_EV_SYNACK_RETRANS:
		what = "synack-rtx";
		break;
	case TT_EV_LISTEN_OVERFLOW:
		what = "overflow";
		break;
	case TT_EV_RETRANSMIT:
		what = "retrans";
		break;
	default:
		return;
	}
	p = line_start(em, e->ts_ns, what, e->flags & TT_F_OWNER_CTX, e->pid, e->comm,
		       e->family, e->saddr, e->sport, e->daddr, e->dport);
	switch (e->type) {
	case TT_EV_RESET_SENT:
	case TT_EV_RESET_RECV:
		if (e->cookie)
			p = fmt_str(p, tcp_state_name(e->newstate));
		else
			p = fmt_lit(p, "no socket");
		if (e->type == TT_EV_RESET_SENT && emit_rst_reason(em, e->reason)) {
			p = fmt_lit(p, " reason=");
			p = fmt_text_safe(p, emit_rst_reason(em, e->reason), EMIT_MAX_REASON);
		}
		break;
	case TT_EV_SYNACK_RETRANS:
		p = fmt_lit(p, "acceptq=");
		p = fmt_u64(p, e->queue.acceptq_len);
		*p++ = '/';
		p = fmt_u64(p, e->queue.acceptq_max);
		p = fmt_lit(p, " synq=");
		p = fmt_u64(p, e->queue.synq_len);
		p = fmt_lit(p, " drops=");
		p = fmt_u64(p, e->queue.drops);
		break;
	case TT_EV_RETRANSMIT: {
		char buf[8];

		p = fmt_str(p, tcp_state_name(e->newstate));
		p = fmt_lit(p, " ca=");
		p = fmt_str(p, tcp_ca_state_name(e->oldstate));
		p = fmt_lit(p, " total=");
		p = fmt_u64(p, e->close.total_retrans);
		p = fmt_lit(p, " rtt=");
		p = fmt_duration(p, (uint64_t)e->close.srtt_us * 1000);
		if ((e->flags & TT_F_RESULT) && e->reason) {
			p = fmt_lit(p, " result=");
			p = fmt_str(p, tcp_result_name(e->reason, buf));
		}
		break;
	}
	default:
		p = fmt_lit(p, "accept queue full: handshake ACK dropped");
		break;
	}
	finish(em, where_note(em, p, e->netns, e->cgroup));
}

static void text_lost(void *ctx, uint64_t ts_ns, uint64_t count, uint64_t total,
		      uint8_t cause)
{
	static const char *const why[LOST_N_CAUSES] = {
		[LOST_RING_FULL] = " kernel records (ring buffer full; ",
		[LOST_KERNEL_SKIPPED] = " kernel records (runs the kernel skipped; ",
		[LOST_FILTER_SKIPPED] = " drop-filter runs the kernel skipped, overflows may be "
					"among them (",
	};
	struct emitter *em = ctx;
	char *p = text_line_bare(em, ts_ns);

	p = fmt_lit(p, "LOST ");
	p = fmt_u64(p, count);
	if (cause < LOST_N_CAUSES && why[cause]) {
		p = fmt_str(p, why[cause]);
	} else {
		/* the causes the kept lives brought: their JSON name */
		p = fmt_lit(p, " kernel records (");
		p = fmt_str(p, lost_cause_name(cause));
		p = fmt_lit(p, "; ");
	}
	p = fmt_u64(p, total);
	/* an unseen change named no socket: nothing could be marked */
	p = cause == LOST_UNSEEN_CHANGE
		    ? fmt_lit(p, " in all): the histories they touched are missing or incomplete")
		    : fmt_lit(p, " in all): affected histories are marked incomplete");
	finish(em, p);
}

/* Leaks come by the thousand when a server stops closing: one line per
 * process, local end and batch, not per socket; REMOTE shows the first
 * peer.
 */
static struct leak_agg *agg_slot(struct emitter *em, uint32_t pid, const struct conn *c,
				 bool resolved, uint64_t ts)
{
	struct leak_agg *a;

	em->agg_ts = ts;
	for (uint32_t i = 0; i < em->nagg; i++) {
		a = &em->agg[i];
		if (a->pid == pid && a->netns == c->netns && a->cgroup == c->cgroup &&
		    a->resolved == resolved && a->family == c->family && a->lport == c->lport &&
		    !memcmp(a->laddr, c->laddr, sizeof(a->laddr)))
			return a;
	}
	if (em->nagg == EMIT_AGG_MAX) {
		em->agg_overflow++;
		return NULL;
	}
	a = &em->agg[em->nagg++];
	memset(a, 0, sizeof(*a));
	a->pid = pid;
	a->netns = c->netns;
	a->cgroup = c->cgroup;
	a->resolved = resolved;
	a->family = c->family;
	memcpy(a->laddr, c->laddr, sizeof(a->laddr));
	memcpy(a->raddr, c->raddr, sizeof(a->raddr));
	a->lport = c->lport;
	a->rport = c->rport;
	return a;
}

static void text_leak(void *ctx, const struct conn *c, uint64_t ts_ns, uint64_t age_ns,
		      bool lower_bound, const struct owner *owners, size_t n,
		      uint32_t process_leaks)
{
	struct emitter *em = ctx;
	struct leak_agg *a = agg_slot(em, n ? owners[0].pid : 0, c, false, ts_ns);

	if (!a)
		return;
	a->count++;
	a->held = process_leaks;
	if (age_ns > a->max_age_ns)
		a->max_age_ns = age_ns;
	a->lower_bound |= lower_bound;
	if (n) {
		memcpy(a->comm, owners[0].comm, sizeof(a->comm));
		if (a->nfds < EMIT_AGG_FDS)
			a->fds[a->nfds++] = owners[0].fd;
	}
}

static void text_leak_resolved(void *ctx, const struct conn *c, uint64_t ts_ns,
			       uint64_t age_ns)
{
	struct emitter *em = ctx;
	struct leak_agg *a = agg_slot(em, c->leak_pid, c, true, ts_ns);

	if (!a)
		return;
	a->count++;
	if (age_ns > a->max_age_ns)
		a->max_age_ns = age_ns;
	if (c->flags & CONN_OWNER_SEEN)
		memcpy(a->comm, c->comm, sizeof(a->comm));
}

static char *fd_list(char *p, const struct leak_agg *a)
{
	p = fmt_lit(p, " fds ");
	for (uint8_t f = 0; f < a->nfds; f++) {
		if (f)
			*p++ = ',';
		p = fmt_u64(p, a->fds[f]);
	}
	return a->count > a->nfds ? fmt_lit(p, ",...") : p;
}

static void leak_line(struct emitter *em, const struct leak_agg *a)
{
	char *p = line_start(em, em->agg_ts, a->resolved ? "leak-end" : "leak", a->pid != 0,
			     a->pid, a->comm, a->family, a->laddr, a->lport, a->raddr, a->rport);

	p = fmt_u64(p, a->count);
	if (a->resolved) {
		p = fmt_str(p, a->count == 1 ? " leaked socket left" : " leaked sockets left");
		p = fmt_lit(p, " CLOSE_WAIT, the longest after ");
		p = fmt_duration(p, a->max_age_ns);
	} else {
		p = fmt_str(p, a->count == 1 ? " socket" : " sockets");
		p = fmt_lit(p, " in CLOSE_WAIT for ");
		p = fmt_str(p, a->lower_bound ? ">=" : "");
		p = fmt_duration(p, a->max_age_ns);
		if (!a->pid)
			p = fmt_lit(p, ", held by no process");
		*p++ = TEXT_BREAK;
		p = fmt_lit(p, "(the peer closed; the process has not)");
		if (a->nfds)
			p = fd_list(p, a);
		if (a->pid) {
			p = fmt_lit(p, "; it holds ");
			p = fmt_u64(p, a->held);
			p = fmt_lit(p, " leaked now");
		}
	}
	if (a->count > 1)
		p = fmt_lit(p, " (REMOTE: the first peer)");
	finish(em, where_note(em, p, a->netns, a->cgroup));
}

static void text_batch_end(void *ctx)
{
	struct emitter *em = ctx;

	for (uint32_t i = 0; i < em->nagg; i++)
		leak_line(em, &em->agg[i]);
	if (em->agg_overflow) {
		char *p = text_line_bare(em, em->agg_ts);

		p = fmt_lit(p, "LEAK and ");
		p = fmt_u64(p, em->agg_overflow);
		p = fmt_lit(p, " more leak records from other processes (use --json for all)");
		finish(em, p);
	}
	em->nagg = 0;
	em->agg_overflow = 0;
	if (em->order)
		text_order_release(em->order, em->now ? em->now() : 0, em->out);
}

const struct sink_ops emit_text_ops = {
	.state = text_state,
	.transition = text_transition,
	.history = text_history,
	.event = text_event,
	.lost = text_lost,
	.leak = text_leak,
	.leak_resolved = text_leak_resolved,
	.batch_end = text_batch_end,
};

/* key=addr/len(count) for the first of n sources, if any. */
static char *top_source_note(char *p, const char *key, const struct lw_source *v, uint8_t n)
{
	if (!n)
		return p;
	p = fmt_str(p, key);
	p = fmt_addr(p, v[0].family, v[0].addr);
	if (v[0].prefix_len != (v[0].family == AF_INET6 ? 128 : 32)) {
		*p++ = '/';
		p = fmt_u64(p, v[0].prefix_len);
	}
	*p++ = '(';
	p = fmt_u64(p, v[0].half_open);
	*p++ = ')';
	return p;
}

/* A figure of the interval, ? on a listener's first sample (a baseline). */
static char *delta_text(char *p, const struct lw_listener *l, uint64_t v)
{
	return l->have_deltas ? fmt_u64(p, v) : fmt_lit(p, "?");
}

/* An alert's start or clear: the listener in LOCAL, the figures in DETAIL. */
static void text_alert(void *ctx, const struct lw_alert *a)
{
	static const char *const names[LW_N_ALERTS][2] = {
		[LW_SYN_FLOOD] = { "flood-over", "syn-flood" },
		[LW_ACCEPTQ_FULL] = { "acceptq-ok", "acceptq-full" },
		[LW_SYN_BACKLOG_OVERFLOW] = { "backlog-ok", "syn-backlog" },
	};
	struct emitter *em = ctx;
	const struct lw_listener *l = a->l;
	char *p = line_start(em, a->ts_ns, names[a->kind][a->start], l->pid != 0, l->pid,
			     l->comm, l->family, l->addr, l->port, NULL, 0);

	p = fmt_lit(p, "acceptq=");
	p = fmt_u64(p, l->acceptq_len);
	*p++ = '/';
	p = fmt_u64(p, l->acceptq_max);
	p = fmt_lit(p, " synq=");
	p = l->synq_known ? fmt_u64(p, l->synq_len) : fmt_lit(p, "?");
	*p++ = '/';
	p = fmt_u64(p, l->synq_max);
	if (a->start) {
		p = fmt_lit(p, " syn/s=");
		p = delta_text(p, l, l->syn_rate);
		p = fmt_lit(p, " sk_drops+");
		p = delta_text(p, l, l->d_drops);
		p = fmt_lit(p, " synack-rtx+");
		p = delta_text(p, l, l->d_synack_retrans);
		if (!l->cookies_known)
			p = fmt_lit(p, " syncookies=?");
		else if (l->cookies_active)
			p = fmt_lit(p, " syncookies");
		*p++ = TEXT_BREAK;
		p = top_source_note(p, "top-source=", l->top_addrs, l->n_top_addrs);
		p = top_source_note(p, " top-prefix=", l->top_prefixes, l->n_top_prefixes);
	} else {
		p = fmt_lit(p, " after ");
		p = fmt_duration(p, a->ts_ns - a->st->since_ns);
		p = fmt_lit(p, ": peak syn/s ");
		p = fmt_u64(p, a->st->peak_syn_rate);
		p = fmt_lit(p, " sk_drops ");
		p = fmt_u64(p, a->st->drops);
		p = fmt_lit(p, " synack-rtx ");
		p = fmt_u64(p, a->st->synack_retrans);
		p = fmt_lit(p, " peak synq ");
		p = l->synq_known ? fmt_u64(p, a->st->peak_synq) : fmt_lit(p, "?");
		if (a->gone)
			p = fmt_lit(p, " (listener closed)");
	}
	finish(em, where_note(em, p, l->netns, l->cgroup));
}

/* ports-low / ports-ok: a destination's ephemeral ports near exhaustion,
 * named by the process that failed most, or else the first that connects.
 */
static void text_ports_alert(void *ctx, const struct ports_alert *a, const struct ports *ports)
{
	struct emitter *em = ctx;
	const struct ports_dest *d = a->d;
	const struct ports_process *who = d->ntop ? &d->top[0] : NULL;
	uint32_t range = ports_range(ports, d);
	char *p = line_start(em, a->ts_ns, a->start ? "ports-low" : "ports-ok",
			     who && who->pid, who ? who->pid : 0, who ? who->comm : "",
			     d->family, d->laddr, 0, d->raddr, d->rport);

	p = fmt_lit(p, "in_use=");
	p = fmt_u64(p, d->in_use);
	p = fmt_lit(p, " time_wait=");
	p = fmt_u64(p, d->time_wait);
	if (range) {
		p = fmt_lit(p, " of ");
		p = fmt_u64(p, range);
		p = fmt_lit(p, " ports");
	}
	if (a->tw_reusable)
		p = fmt_lit(p, " (tw_reuse)");
	if (d->d_failures) {
		p = fmt_lit(p, " connect-failed+");
		p = fmt_u64(p, d->d_failures);
	}
	if (!a->start && a->gone)
		p = fmt_lit(p, " (namespace gone)");
	finish(em, where_note(em, p, d->netns, who ? who->cgroup : 0));
}

const struct listen_sink_ops emit_text_listen_ops = {
	.alert = text_alert,
	.ports_alert = text_ports_alert,
};
