/* Listener table, per-interval deltas and half-open sources (alert rules: listen_alerts.c). */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "listen_alerts.h"
#include "listen_sources.h"
#include "listen_watch_priv.h"

#define DEFAULT_SYNACK_ONSET_PER_S 20
#define DEFAULT_CLEAR_AFTER_NS 2000000000ull
/* The SYN-rate rule (listen_alerts.c): 1000 SYNs a second and four times
 * the listener's own rate, averaged over about a minute.
 */
#define DEFAULT_SYN_RATE_FLOOR 1000
#define DEFAULT_SYN_RATE_FACTOR 4
#define DEFAULT_SYN_BASELINE_NS (60 * 1000000000ull)
/* tcp_synq_overflow() refreshes the listener's cookie stamp at most once a
 * second, so "sent a cookie in the last interval" means a stamp younger than
 * the interval plus that second.
 */
#define COOKIE_STAMP_PERIOD_MS 1000

struct listen_watch *listen_watch_new(const struct lw_config *cfg)
{
	struct listen_watch *lw = calloc(1, sizeof(*lw));

	if (!lw)
		return NULL;
	lw->cfg = *cfg;
	if (!lw->cfg.synack_onset_per_s)
		lw->cfg.synack_onset_per_s = DEFAULT_SYNACK_ONSET_PER_S;
	if (!lw->cfg.clear_after_ns)
		lw->cfg.clear_after_ns = DEFAULT_CLEAR_AFTER_NS;
	if (!lw->cfg.syn_rate_floor)
		lw->cfg.syn_rate_floor = DEFAULT_SYN_RATE_FLOOR;
	if (!lw->cfg.syn_rate_factor)
		lw->cfg.syn_rate_factor = DEFAULT_SYN_RATE_FACTOR;
	if (!lw->cfg.syn_baseline_ns)
		lw->cfg.syn_baseline_ns = DEFAULT_SYN_BASELINE_NS;
	/* Namespaces with listeners are bounded by the listeners themselves. */
	lw->ns_cap = cfg->max_listeners;
	lw->tab = calloc(cfg->max_listeners ? cfg->max_listeners : 1, sizeof(*lw->tab));
	lw->rank = calloc(cfg->max_listeners ? cfg->max_listeners : 1, sizeof(*lw->rank));
	lw->ns = calloc(lw->ns_cap ? lw->ns_cap : 1, sizeof(*lw->ns));
	lw->prev = calloc(lw->ns_cap ? lw->ns_cap : 1, sizeof(*lw->prev));
	lw->counts = calloc(lw->ns_cap ? lw->ns_cap : 1, sizeof(*lw->counts));
	lw->prev_counts = calloc(lw->ns_cap ? lw->ns_cap : 1, sizeof(*lw->prev_counts));
	lw->req = calloc(cfg->max_requests ? cfg->max_requests : 1, sizeof(*lw->req));
	if (!lw->tab || !lw->rank || !lw->ns || !lw->prev || !lw->counts || !lw->prev_counts ||
	    !lw->req) {
		listen_watch_free(lw);
		return NULL;
	}
	return lw;
}

void listen_watch_free(struct listen_watch *lw)
{
	if (!lw)
		return;
	for (size_t i = 0; lw->tab && i < lw->n; i++)
		free(lw->tab[i].l.acc);
	free(lw->tab);
	free(lw->rank);
	free(lw->ns);
	free(lw->prev);
	free(lw->counts);
	free(lw->prev_counts);
	free(lw->req);
	free(lw);
}

const struct lw_stats *listen_watch_stats(const struct listen_watch *lw)
{
	return &lw->stats;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_listener_cookie(const void *a, const void *b)
{
	return cmp_u64(((const struct lw_slot *)a)->l.cookie,
		       ((const struct lw_slot *)b)->l.cookie);
}

struct lw_listener *listen_watch_find(struct listen_watch *lw, uint64_t cookie)
{
	size_t lo = 0, hi = lw->nsorted;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (lw->tab[mid].l.cookie == cookie)
			return &lw->tab[mid].l;
		if (lw->tab[mid].l.cookie < cookie)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lw->nsorted; i < lw->n; i++)
		if (lw->tab[i].l.cookie == cookie)
			return &lw->tab[i].l;
	return NULL;
}

static struct lw_listener *find_cb(void *ctx, uint64_t cookie)
{
	return listen_watch_find(ctx, cookie);
}

static bool is_any_addr(const struct lw_listener *l)
{
	static const uint8_t zero[TT_ADDR_LEN];

	return !memcmp(l->addr, zero, l->family == AF_INET6 ? 16 : 4);
}

/* Listen-overflow records come from the dropped packet, not the listener:
 * match the listener by namespace, port and address. With SO_REUSEPORT
 * several listeners match; the first takes the count. A wildcard of the
 * same family is preferred to a v6 one, which also takes IPv4 (unless
 * V6ONLY).
 */
static struct lw_listener *match_tuple(struct listen_watch *lw, uint32_t netns, uint16_t family,
				       const uint8_t *addr, uint16_t port)
{
	struct lw_listener *wildcard = NULL;

	for (size_t i = 0; i < lw->n; i++) {
		struct lw_listener *l = &lw->tab[i].l;

		if (l->netns != netns || l->port != port)
			continue;
		if (l->family == family && !memcmp(l->addr, addr, family == AF_INET6 ? 16 : 4))
			return l;
		if (is_any_addr(l) && (l->family == family || l->family == AF_INET6) &&
		    (!wildcard || (wildcard->family != family && l->family == family)))
			wildcard = l;
	}
	return wildcard;
}

/* A request sock_diag listed, matched to its listener by its local end.
 * A flood's requests share one: the last answer is kept, so that matching
 * does not scan every listener for every request.
 */
static struct lw_listener *match_request(struct listen_watch *lw, const struct tt_sock_record *r)
{
	struct lw_listener *l = lw->last_match;

	if (l && l->netns == r->netns && l->port == r->sport && l->seen_gen == lw->gen &&
	    lw->last_match_family == r->family &&
	    !memcmp(lw->last_match_addr, r->saddr, sizeof(r->saddr)))
		return l;
	l = match_tuple(lw, r->netns, r->family, r->saddr, r->sport);
	lw->last_match = l;
	lw->last_match_family = r->family;
	memcpy(lw->last_match_addr, r->saddr, sizeof(r->saddr));
	return l;
}

static struct lw_listener *match_listener(struct listen_watch *lw, const struct tt_event *e)
{
	return match_tuple(lw, e->netns, e->family, e->saddr, e->sport);
}

void listen_watch_event(struct listen_watch *lw, const struct tt_event *e)
{
	struct lw_listener *l;

	if (e->type == TT_EV_SYNACK_RETRANS) {
		l = listen_watch_find(lw, e->cookie);
		if (l) {
			l->synack_retrans++;
			return;
		}
	} else if (e->type == TT_EV_LISTEN_OVERFLOW) {
		l = match_listener(lw, e);
		if (l) {
			l->overflows++;
			return;
		}
	} else if (e->type == TT_EV_STATE && e->oldstate == TT_TCP_LISTEN &&
		   e->newstate == TT_TCP_SYN_RECV) {
		/* a child made: a handshake completed (a SYN cookie's too) */
		l = match_listener(lw, e);
		if (l)
			l->handshakes++;
		return;
	} else {
		return;
	}
	lw->stats.unmatched_events++;
}

static void add_accept_wait(struct listen_watch *lw, struct lw_listener *l, uint64_t wait_ns)
{
	if (!l->acc && !(l->acc = calloc(1, sizeof(*l->acc)))) {
		lw->stats.accepts_untimed++;
		return;
	}
	latency_add(&l->acc->interval, wait_ns);
	latency_series_add(&l->acc->pending, wait_ns);
}

void listen_watch_accept(struct listen_watch *lw, const struct tt_event *e, bool waited,
			 uint64_t wait_ns)
{
	struct lw_listener *l = match_listener(lw, e);

	if (!l) {
		lw->stats.unmatched_events++;
		return;
	}
	l->accepted++;
	if (waited)
		add_accept_wait(lw, l, wait_ns);
}

void listen_watch_accept_wait(struct listen_watch *lw, const struct tt_event *e,
			      uint64_t wait_ns)
{
	struct lw_listener *l = match_listener(lw, e);

	if (l)
		add_accept_wait(lw, l, wait_ns);
	else
		lw->stats.unmatched_events++;
}

void listen_watch_set_counts(struct listen_watch *lw, const struct tt_listen_key *k,
			     const struct tt_listen_counts *c)
{
	struct tt_event e = { .netns = k->netns, .sport = k->lport, .family = k->family };
	struct lw_listener *l;

	memcpy(e.saddr, k->laddr, sizeof(e.saddr));
	l = match_listener(lw, &e);
	if (!l)
		return;
	/* one listener may be the end of several keys (a wildcard's
	 * addresses): the first key of a sample sets, the others add
	 */
	if (listen_watch_slot(l)->counts_gen != lw->gen) {
		listen_watch_slot(l)->counts_gen = lw->gen;
		l->handshakes = l->accepted = 0;
	}
	l->handshakes += c->handshakes;
	l->accepted += c->accepts;
}

void listen_watch_mark_lost(struct listen_watch *lw)
{
	for (size_t i = 0; i < lw->n; i++)
		lw->tab[i].l.events_incomplete = true;
}

void listen_watch_sample_begin(struct listen_watch *lw, unsigned known)
{
	struct lw_netns *t = lw->prev;
	struct lw_ns_counts *c = lw->prev_counts;

	lw->gen++;
	lw->known = known;
	lw->last_match = NULL;
	lw->nreq = 0;
	lw->prev = lw->ns;
	lw->ns = t;
	lw->nns = 0;
	lw->prev_counts = lw->counts;
	lw->nprev_counts = lw->ncounts;
	lw->counts = c;
	lw->ncounts = 0;
}

static void sample_listener(struct listen_watch *lw, const struct tt_sock_record *r)
{
	struct lw_listener *l = listen_watch_find(lw, r->cookie);

	if (!l) {
		if (lw->n == lw->cfg.max_listeners) {
			lw->stats.listeners_dropped++;
			return;
		}
		memset(&lw->tab[lw->n], 0, sizeof(lw->tab[0]));
		l = &lw->tab[lw->n++].l;
		l->cookie = r->cookie;
		l->netns = r->netns;
		l->cgroup = r->cgroup;
		l->family = r->family;
		l->port = r->sport;
		memcpy(l->addr, r->saddr, sizeof(l->addr));
	}
	l->seen_gen = lw->gen;
	l->acceptq_len = r->acceptq_len;
	l->acceptq_max = r->acceptq_max;
	l->synq_known = lw->known & LW_KNOWN_SYNQ;
	l->cookies_known = lw->known & LW_KNOWN_COOKIES;
	l->synq_len = l->synq_known ? r->synq_len : 0;
	l->drops = r->drops;
	l->cookie_idle_ms = r->cookie_idle_ms;
	l->synq_retrans = 0;	/* its requests follow it in the walk */
}

void listen_watch_sample_sock(struct listen_watch *lw, const struct tt_sock_record *r)
{
	struct lw_listener *l;
	struct lw_request *q;

	if (r->state == TT_TCP_LISTEN) {
		sample_listener(lw, r);
		return;
	}
	if (r->state != TT_TCP_NEW_SYN_RECV)
		return;
	if (lw->nreq == lw->cfg.max_requests) {
		lw->stats.requests_dropped++;
		return;
	}
	l = r->listener ? listen_watch_find(lw, r->listener) : match_request(lw, r);
	if (l && r->req_retrans)
		l->synq_retrans++;
	q = &lw->req[lw->nreq++];
	q->listener = l ? l->cookie : r->listener;
	q->cookie = r->cookie;
	q->family = r->family;
	memcpy(q->addr, r->daddr, sizeof(q->addr));
}

static int cmp_counts(const void *a, const void *b)
{
	return cmp_u64(((const struct lw_ns_counts *)a)->inum,
		       ((const struct lw_ns_counts *)b)->inum);
}

/* v sorted by inum */
static struct lw_netns *search_netns(struct lw_netns *v, size_t n, uint32_t inum)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].inum == inum)
			return &v[mid];
		if (v[mid].inum < inum)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct lw_netns *find_netns(const struct listen_watch *lw, uint32_t inum)
{
	return search_netns(lw->ns, lw->nns, inum);
}

const struct lw_netns *listen_watch_netns_find(const struct listen_watch *lw, uint32_t inum)
{
	return find_netns(lw, inum);
}

void listen_watch_sample_netns(struct listen_watch *lw, uint32_t inum, bool have_counters,
		     const uint64_t counters[LW_N_COUNTERS],
		     const int64_t sysctls[LW_N_SYSCTLS])
{
	/* the previous sample's array is sorted: it ended that sample */
	const struct lw_ns_counts key = { .inum = inum };
	const struct lw_ns_counts *prev = bsearch(&key, lw->prev_counts, lw->nprev_counts,
						  sizeof(key), cmp_counts);
	struct lw_ns_counts *now;
	struct lw_netns *ns;

	if (lw->nns == lw->ns_cap) {
		lw->stats.namespaces_dropped++;
		return;
	}
	ns = &lw->ns[lw->nns++];
	memset(ns, 0, sizeof(*ns));
	ns->inum = inum;
	memcpy(ns->sysctl, sysctls, sizeof(ns->sysctl));
	ns->have_counters = have_counters;
	if (!have_counters)
		return;
	now = &lw->counts[lw->ncounts++];	/* no more of them than of ns */
	now->inum = inum;
	memcpy(now->v, counters, sizeof(now->v));
	if (!prev)
		return;	/* the first reading is the baseline */
	ns->sampled = true;
	for (int k = 0; k < LW_N_COUNTERS; k++)
		ns->delta[k] = counters[k] >= prev->v[k] ? counters[k] - prev->v[k] : 0;
}

static int cmp_netns(const void *a, const void *b)
{
	return cmp_u64(((const struct lw_netns *)a)->inum, ((const struct lw_netns *)b)->inum);
}

/* The interval's changes; the first sample is the baseline. */
static void listener_deltas(struct lw_listener *l, uint64_t interval)
{
	const struct lw_slot *s = listen_watch_slot(l);

	l->have_deltas = l->sampled && interval;
	if (!l->have_deltas) {
		l->d_drops = 0;
		l->d_synack_retrans = l->d_overflows = l->d_handshakes = l->d_accepted = 0;
		l->d_syns = l->syn_rate = 0;
		l->interval_ns = 0;
		return;
	}
	l->d_drops = l->drops - s->prev_drops;	/* wraps like the kernel's */
	l->d_synack_retrans = l->synack_retrans - s->prev_synack;
	l->d_overflows = l->overflows - s->prev_overflows;
	l->d_handshakes = l->handshakes - s->prev_handshakes;
	l->d_accepted = l->accepted - s->prev_accepted;
	l->interval_ns = interval;
	l->d_syns = (uint64_t)l->d_drops + l->d_handshakes;
	if (l->synq_known && l->synq_len > s->prev_synq)
		l->d_syns += l->synq_len - s->prev_synq;
	l->syn_rate = l->d_syns * 1000000000ull / interval;
}

/* The accept-queue waits of the interval, as percentiles. */
static void listener_accepts(struct lw_listener *l)
{
	l->aw_n = l->aw_p50_ns = l->aw_p99_ns = l->aw_max_ns = 0;
	if (!l->acc)
		return;
	if (l->sampled && l->acc->interval.n) {
		const struct latency_hist *h = &l->acc->interval;

		l->aw_n = h->n;
		l->aw_p50_ns = latency_quantile(h, 0.50);
		l->aw_p99_ns = latency_quantile(h, 0.99);
		l->aw_max_ns = h->max_ns;
	}
	latency_reset(&l->acc->interval);
	/* the first sample is the baseline here too */
	if (l->sampled)
		l->acc->last = l->acc->pending;
	else
		memset(&l->acc->last, 0, sizeof(l->acc->last));
	memset(&l->acc->pending, 0, sizeof(l->acc->pending));
}

static void update_listener(struct listen_watch *lw, struct lw_listener *l,
			    const struct lw_netns *ns, uint64_t now, lw_alert_fn fn, void *arg)
{
	uint64_t interval = lw->last_sample_ns && now > lw->last_sample_ns
				    ? now - lw->last_sample_ns : 0;
	uint64_t per_s, cookie_window_ms;
	struct lw_slot *s = listen_watch_slot(l);

	l->synq_max = listen_alerts_synq_limit(l, ns);
	listener_deltas(l, interval);
	listener_accepts(l);
	s->prev_accepted = l->accepted;
	s->prev_drops = l->drops;
	s->prev_synq = l->synq_len;
	s->prev_synack = l->synack_retrans;
	s->prev_overflows = l->overflows;
	s->prev_handshakes = l->handshakes;
	cookie_window_ms = COOKIE_STAMP_PERIOD_MS + (interval ? interval : 1000000000ull) / 1000000;
	l->cookies_active = l->cookies_known && l->cookie_idle_ms != ~0u &&
			    l->cookie_idle_ms <= cookie_window_ms;
	per_s = interval ? l->d_synack_retrans * 1000000000ull / interval : 0;
	if (l->sampled)
		lw->stats.alerts += listen_alerts_evaluate(&lw->cfg, l, ns, now, per_s, fn, arg);
	l->sampled = true;
}

static int cmp_rank(const void *a, const void *b)
{
	const struct lw_listener *x = *(const struct lw_listener *const *)a;
	const struct lw_listener *y = *(const struct lw_listener *const *)b;
	double px = listen_alerts_pressure(x), py = listen_alerts_pressure(y);
	int ax = listen_alerts_active(x), ay = listen_alerts_active(y);

	if (ax != ay)
		return ay - ax;
	if (px != py)
		return px < py ? 1 : -1;
	if (x->d_drops != y->d_drops)
		return x->d_drops < y->d_drops ? 1 : -1;
	if (x->netns != y->netns)
		return x->netns < y->netns ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return cmp_u64(x->cookie, y->cookie);
}

void listen_watch_sample_end(struct listen_watch *lw, uint64_t now, lw_alert_fn fn, void *arg)
{
	size_t kept = 0;

	qsort(lw->ns, lw->nns, sizeof(*lw->ns), cmp_netns);
	qsort(lw->counts, lw->ncounts, sizeof(*lw->counts), cmp_counts);
	for (size_t i = 0; i < lw->nns; i++)
		if (lw->ns[i].sampled && lw->last_sample_ns && now > lw->last_sample_ns)
			lw->ns[i].interval_ns = now - lw->last_sample_ns;

	/* Listeners that closed: clear their alerts, then drop them. */
	for (size_t i = 0; i < lw->n; i++) {
		struct lw_listener *l = &lw->tab[i].l;

		if (l->seen_gen != lw->gen) {
			for (int k = 0; k < LW_N_ALERTS; k++) {
				struct lw_alert a = { .kind = k, .ts_ns = now, .l = l,
						      .st = &l->alert[k], .gone = true,
						      .ns = find_netns(lw, l->netns) };

				if (l->alert[k].active) {
					l->alert[k].active = false;
					fn(&a, arg);
				}
			}
			free(l->acc);
			continue;
		}
		if (kept != i)
			lw->tab[kept] = lw->tab[i];
		kept++;
	}
	lw->n = lw->nsorted = kept;
	qsort(lw->tab, lw->n, sizeof(*lw->tab), cmp_listener_cookie);
	/* sources first: an alert that starts now names them */
	for (size_t i = 0; i < lw->n; i++)
		lw->tab[i].l.n_top_addrs = lw->tab[i].l.n_top_prefixes = 0;
	listen_sources_tally(lw->req, lw->nreq, find_cb, lw);

	for (size_t i = 0; i < lw->n; i++) {
		struct lw_listener *l = &lw->tab[i].l;
		struct lw_netns *ns = find_netns(lw, l->netns);

		if (ns)
			ns->listeners++;
		update_listener(lw, l, ns, now, fn, arg);
		lw->rank[i] = l;
	}
	qsort(lw->rank, lw->n, sizeof(*lw->rank), cmp_rank);
	lw->last_sample_ns = now;
	lw->stats.samples++;
}

size_t listen_watch_listeners(const struct listen_watch *lw, const struct lw_listener *const **v)
{
	*v = lw->rank;
	return lw->n;
}

size_t listen_watch_namespaces(const struct listen_watch *lw, const struct lw_netns **v)
{
	*v = lw->ns;
	return lw->nns;
}
