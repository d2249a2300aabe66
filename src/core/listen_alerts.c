/* The alert rules: when a listener is SYN-flooded or turns clients away,
 * and when it is calm again. Pure logic over one listener's sample; the
 * rules and their thresholds are in docs/listeners.md.
 */
#include "listen_alerts.h"

/* The SYN queue limit the kernel applies: the accept queue's limit
 * (inet_csk_reqsk_queue_is_full()); without SYN cookies, tcp_conn_request()
 * also refuses unproven peers once fewer than a quarter of
 * tcp_max_syn_backlog slots remain.
 */
uint32_t listen_alerts_synq_limit(const struct lw_listener *l, const struct lw_netns *ns)
{
	uint32_t max = l->acceptq_max;

	if (ns && ns->sysctl[LW_SYNCOOKIES] == 0 && ns->sysctl[LW_MAX_SYN_BACKLOG] > 0) {
		int64_t b = ns->sysctl[LW_MAX_SYN_BACKLOG];
		uint32_t unproven = (uint32_t)(b - (b >> 2));

		if (unproven < max)
			max = unproven;
	}
	return max;
}

double listen_alerts_pressure(const struct lw_listener *l)
{
	double a = l->acceptq_max ? (double)l->acceptq_len / l->acceptq_max : 0;
	double s = l->synq_max && l->synq_known ? (double)l->synq_len / l->synq_max : 0;

	return a > s ? a : s;
}

/* A rate as a count: converting a double at or past 2^64 is undefined. */
static uint64_t rate_u64(double v)
{
	return v >= 18446744073709551616.0 ? UINT64_MAX : v > 0 ? (uint64_t)v : 0;
}

uint64_t listen_alerts_syn_threshold(const struct lw_config *cfg, const struct lw_listener *l)
{
	double base = l->syn_baseline * cfg->syn_rate_factor;

	return base > cfg->syn_rate_floor ? rate_u64(base) : cfg->syn_rate_floor;
}

uint64_t listen_alerts_baseline(const struct lw_listener *l)
{
	return rate_u64(l->syn_baseline + 0.5);
}

/* Most of the interval's SYNs did not become connections. */
static bool syns_unanswered(const struct lw_listener *l)
{
	return l->d_handshakes * 2 < l->d_syns;
}

static uint32_t syn_flood_causes(const struct lw_config *cfg, const struct lw_listener *l,
				 const struct lw_netns *ns, uint64_t per_s)
{
	uint32_t c = 0;

	if (l->synq_known && l->synq_max &&
	    (uint64_t)l->synq_len * 4 >= (uint64_t)l->synq_max * 3)
		c |= LW_CAUSE_SYNQ_NEAR_FULL;
	if (l->d_synack_retrans && per_s >= cfg->synack_onset_per_s)
		c |= LW_CAUSE_SYNACK_RETRANS;
	/* with tcp_syncookies=2 every SYN gets a cookie: no sign of a flood */
	if (l->cookies_active && !(ns && ns->sysctl[LW_SYNCOOKIES] == 2))
		c |= LW_CAUSE_SYNCOOKIES;
	if (l->have_deltas && l->syn_rate >= listen_alerts_syn_threshold(cfg, l) &&
	    syns_unanswered(l))
		c |= LW_CAUSE_SYN_RATE;
	return c;
}

/* Calm: every onset figure well under its threshold (what cannot be known
 * does not hold an alert up).
 */
static bool syn_flood_calm(const struct lw_config *cfg, const struct lw_listener *l,
			   uint32_t causes, uint64_t per_s)
{
	return !(causes & LW_CAUSE_SYNCOOKIES) &&
	       (!l->synq_known || (uint64_t)l->synq_len * 4 < (uint64_t)l->synq_max) &&
	       per_s * 4 < cfg->synack_onset_per_s &&
	       (l->syn_rate * 2 < listen_alerts_syn_threshold(cfg, l) || !syns_unanswered(l));
}

/* How long a request lives unanswered: its SYN-ACK sent and retried
 * tcp_synack_retries times, each wait doubling from 1 s and capped at
 * TCP_RTO_MAX (reqsk_timer_handler()). 63 s with the default 5.
 */
static uint64_t request_life_ns(const struct lw_netns *ns)
{
	int64_t retries = ns && ns->sysctl[LW_SYNACK_RETRIES] >= 0 ? ns->sysctl[LW_SYNACK_RETRIES]
								    : 5;
	uint64_t s = 0;

	for (int64_t i = 0; i <= retries && i < 256; i++)
		s += i < 7 ? 1ull << i : 120;
	return s * 1000000000ull;
}

/* Returns 1 when the alert started now. */
static int alert_update(const struct lw_config *cfg, struct lw_listener *l,
			 enum lw_alert_kind kind, uint32_t causes, uint8_t evidence, bool calm,
			 const struct lw_netns *ns, uint64_t now, lw_alert_fn fn, void *arg)
{
	struct lw_alert_state *st = &l->alert[kind];
	struct lw_alert a = { .kind = kind, .ts_ns = now, .l = l, .st = st, .ns = ns,
			      .syn_threshold = listen_alerts_syn_threshold(cfg, l) };

	if (st->active) {
		if (l->synq_len > st->peak_synq)
			st->peak_synq = l->synq_len;
		if (l->acceptq_len > st->peak_acceptq)
			st->peak_acceptq = l->acceptq_len;
		st->drops += l->d_drops;
		st->synack_retrans += l->d_synack_retrans;
		st->overflows += l->d_overflows;
		st->syns += l->d_syns;
		if (l->syn_rate > st->peak_syn_rate)
			st->peak_syn_rate = l->syn_rate;
		if (!calm) {
			st->calm_since_ns = 0;
			return 0;
		}
		if (!st->calm_since_ns)
			st->calm_since_ns = now;
		if (now - st->calm_since_ns < cfg->clear_after_ns)
			return 0;
		st->active = false;
		/* the requests the attack left retry their SYN-ACKs in waves
		 * (+15 s, +31 s): those alone must not start it again
		 */
		if (kind != LW_ACCEPTQ_FULL)
			l->rearm_ns = now + request_life_ns(ns);
		fn(&a, arg);
		return 0;
	}
	if (kind != LW_ACCEPTQ_FULL && now < l->rearm_ns)
		causes &= ~(uint32_t)LW_CAUSE_SYNACK_RETRANS;
	if (!causes)
		return 0;
	*st = (struct lw_alert_state){
		.active = true, .causes = causes, .evidence = evidence, .since_ns = now,
		.peak_synq = l->synq_len, .peak_acceptq = l->acceptq_len,
		.drops = l->d_drops, .synack_retrans = l->d_synack_retrans,
		.overflows = l->d_overflows, .syns = l->d_syns, .peak_syn_rate = l->syn_rate,
	};
	a.start = true;
	fn(&a, arg);
	return 1;
}

/* Which SYN-queue alert the evidence points at. A flood's half-open
 * requests do not complete: their SYN-ACKs are retransmitted and cookies
 * sent for them rarely come back. Real clients against too small a backlog
 * complete their handshakes (the listener makes children), and their
 * cookies come back. Where the namespace sent cookies in the interval, their
 * return rate decides (the kernel counts cookies per namespace only);
 * otherwise the listener's own requests do.
 */
static enum lw_alert_kind syn_kind(const struct lw_listener *l, const struct lw_netns *ns,
				   uint32_t causes, uint8_t *evidence)
{
	/* a rate of SYNs most of which became nothing is a flood, whatever
	 * the queue (the sender may answer each SYN-ACK with a reset)
	 */
	if (causes & LW_CAUSE_SYN_RATE) {
		*evidence = LW_EVIDENCE_SYN_RATE;
		return LW_SYN_FLOOD;
	}
	if (ns && ns->sampled && ns->delta[LW_SYNCOOKIES_SENT]) {
		*evidence = LW_EVIDENCE_NAMESPACE;
		return l->d_handshakes &&
				       ns->delta[LW_SYNCOOKIES_RECV] * 2 >= ns->delta[LW_SYNCOOKIES_SENT]
			       ? LW_SYN_BACKLOG_OVERFLOW : LW_SYN_FLOOD;
	}
	*evidence = LW_EVIDENCE_LISTENER;
	return l->d_handshakes && (uint64_t)l->synq_retrans * 2 <= l->synq_len
		       ? LW_SYN_BACKLOG_OVERFLOW : LW_SYN_FLOOD;
}

/* The listener's usual SYN rate: an average over about
 * cfg->syn_baseline_ns, held while a SYN-queue alert is on so that a long
 * flood never becomes its own baseline.
 */
static void baseline_update(const struct lw_config *cfg, struct lw_listener *l)
{
	double w;

	if (!l->have_deltas || l->alert[LW_SYN_FLOOD].active ||
	    l->alert[LW_SYN_BACKLOG_OVERFLOW].active)
		return;
	w = (double)l->interval_ns / (double)cfg->syn_baseline_ns;
	if (w > 1)
		w = 1;
	l->syn_baseline += ((double)l->syn_rate - l->syn_baseline) * w;
}

int listen_alerts_evaluate(const struct lw_config *cfg, struct lw_listener *l,
			   const struct lw_netns *ns, uint64_t now, uint64_t synack_per_s,
			   lw_alert_fn fn, void *arg)
{
	uint32_t causes = syn_flood_causes(cfg, l, ns, synack_per_s);
	bool calm = syn_flood_calm(cfg, l, causes, synack_per_s);
	uint8_t evidence = LW_EVIDENCE_NONE;
	enum lw_alert_kind kind = causes ? syn_kind(l, ns, causes, &evidence) : LW_SYN_FLOOD;
	int started = 0;

	/* one SYN-queue alert at a time: the other kind only winds down */
	if (l->alert[LW_SYN_FLOOD].active || l->alert[LW_SYN_BACKLOG_OVERFLOW].active)
		kind = l->alert[LW_SYN_FLOOD].active ? LW_SYN_FLOOD : LW_SYN_BACKLOG_OVERFLOW;
	started += alert_update(cfg, l, kind, causes, evidence, calm, ns, now, fn, arg);
	causes = l->acceptq_max && l->acceptq_len >= l->acceptq_max &&
				 (l->d_drops || l->d_overflows)
			 ? LW_CAUSE_ACCEPTQ_AT_LIMIT : 0;
	started += alert_update(cfg, l, LW_ACCEPTQ_FULL, causes, LW_EVIDENCE_NONE,
				!(l->d_drops || l->d_overflows) || l->acceptq_len < l->acceptq_max,
				ns, now, fn, arg);
	baseline_update(cfg, l);
	return started;
}

int listen_alerts_active(const struct lw_listener *l)
{
	int n = 0;

	for (int k = 0; k < LW_N_ALERTS; k++)
		n += l->alert[k].active;
	return n;
}
