/* Metric state, updated by the reader thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"
#include "ports.h"

/* From a millisecond handshake-and-close to an hour-long session. */
const double metrics_duration_bounds[METRICS_BUCKETS] = {
	0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600,
};

/* A listener series and when it was last seen (for the linger). */
struct metrics_series {
	struct metrics_listener l;
	uint64_t last_seen_ns;
};

/* What only this file keeps, in one block with the listener series that
 * struct metrics points to.
 */
struct metrics_table {
	uint64_t linger_ns;
	uint64_t last_cgroup;	/* the cgroup conns_of() last placed, in */
	uint32_t last_slot;
	uint64_t *last_seen;	/* by series */
	/* the listener samples taken; a series met by the sample under way
	 * has its seen_gen equal to gen (until the series are sorted)
	 */
	uint64_t gen;
	uint64_t *seen_gen;	/* by series */
	struct metrics_series *sorting;	/* the series while they are sorted */
	struct metrics_listener listeners[];	/* max_listeners */
};

static struct metrics_table *table_of(const struct metrics *m)
{
	return (struct metrics_table *)(void *)((char *)m->listeners -
						 offsetof(struct metrics_table, listeners));
}

int metrics_init(struct metrics *m, uint32_t max_listeners, uint64_t linger_ns)
{
	uint32_t room = max_listeners ? max_listeners : 1;
	struct metrics_table *t = calloc(1, sizeof(*t) + room * sizeof(t->listeners[0]));

	memset(m, 0, sizeof(*m));
	m->nconns = 1;	/* [0]: no container */
	m->max_listeners = max_listeners;
	if (!t)
		return -ENOMEM;
	m->listeners = t->listeners;
	t->linger_ns = linger_ns;
	t->last_seen = calloc(room, sizeof(*t->last_seen));
	t->sorting = calloc(room, sizeof(*t->sorting));
	t->seen_gen = calloc(room, sizeof(*t->seen_gen));
	if (!t->last_seen || !t->sorting || !t->seen_gen) {
		metrics_free(m);
		return -ENOMEM;
	}
	return 0;
}

void metrics_free(struct metrics *m)
{
	struct metrics_table *t;

	if (!m->listeners)
		return;
	t = table_of(m);
	free(t->last_seen);
	free(t->sorting);
	free(t->seen_gen);
	free(t);
	m->listeners = NULL;
}

void metrics_copy(struct metrics *dst, const struct metrics *src)
{
	struct metrics_listener *keep = dst->listeners;

	memcpy(dst, src, sizeof(*dst));
	dst->listeners = keep;
	memcpy(keep, src->listeners, src->nlisteners * sizeof(*keep));
}

/* The short container id of a cgroup, "" for none. */
static void container_of(const struct metrics *m, uint64_t cgroup,
			 char out[CGROUP_SHORT_ID_LEN + 1])
{
	const struct cgroup_info *cg = m->cgroup_lookup && cgroup
					       ? m->cgroup_lookup(m->cgroup_ctx, cgroup) : NULL;

	out[0] = '\0';
	if (cg && cg->ids.container_id[0]) {
		memcpy(out, cg->ids.container_id, CGROUP_SHORT_ID_LEN);
		out[CGROUP_SHORT_ID_LEN] = '\0';
	}
}

/* The figures of the container of cgroup: a new slot on first sight, the
 * "other" slot once METRICS_CONTAINERS are named.
 */
static struct metrics_conns *conns_of(struct metrics *m, uint64_t cgroup)
{
	char id[CGROUP_SHORT_ID_LEN + 1];
	struct metrics_conns *c;

	/* a storm of one service's connections: the same cgroup in a row */
	if (cgroup && cgroup == table_of(m)->last_cgroup)
		return &m->conns[table_of(m)->last_slot];
	container_of(m, cgroup, id);
	for (uint32_t i = 0; i < m->nconns; i++)
		if (!strcmp(m->conns[i].container, id)) {
			table_of(m)->last_cgroup = cgroup;
			table_of(m)->last_slot = i;
			return &m->conns[i];
		}
	if (m->nconns == METRICS_CONTAINERS + 2)
		return &m->conns[METRICS_CONTAINERS + 1];
	c = &m->conns[m->nconns++];
	memset(c, 0, sizeof(*c));
	strcpy(c->container, m->nconns == METRICS_CONTAINERS + 2 ? "other" : id);
	return c;
}

/* The listener series a passive connection came through: its port in its
 * namespace, bound to its address or to any. Only connections that
 * retransmitted look (a scan of the series).
 */
static struct metrics_listener *listener_of(struct metrics *m, const struct conn *c)
{
	static const uint8_t any[TT_ADDR_LEN];
	struct metrics_listener *wild = NULL;

	for (uint32_t i = 0; i < m->nlisteners; i++) {
		struct metrics_listener *s = &m->listeners[i];

		if (s->netns != c->netns || s->port != c->lport)
			continue;
		if (s->family == c->family && !memcmp(s->addr, c->laddr, TT_ADDR_LEN))
			return s;
		if (!memcmp(s->addr, any, TT_ADDR_LEN))
			wild = s;
	}
	return wild;
}

/* How the connection delivered: RTT, retransmits, limited time. */
static void delivery(struct metrics *m, const struct conn *c, const struct tt_delivery *d,
		     uint8_t role)
{
	if (!d || !(d->flags & TT_D_READ))
		return;
	if (d->srtt_us)
		latency_series_add(&m->rtt[role], (uint64_t)d->srtt_us * 1000);
	m->retrans_segs[role] += d->retrans_segs;
	if (d->retrans_segs && c->role == ROLE_PASSIVE) {
		struct metrics_listener *s = listener_of(m, c);

		if (s)
			s->retrans_segs += d->retrans_segs;
	}
	if (d->flags & TT_D_CHRONO) {
		m->limited_s[METRICS_LIM_BUSY] += d->busy_ns / 1e9;
		m->limited_s[METRICS_LIM_RECEIVER] += d->rwnd_limited_ns / 1e9;
		m->limited_s[METRICS_LIM_SENDER_BUFFER] += d->sndbuf_limited_ns / 1e9;
	}
}

static void on_history(void *ctx, const struct conn *c, const struct history_summary *s)
{
	struct metrics *m = ctx;
	struct metrics_conns *k = conns_of(m, c->cgroup);
	uint8_t role = c->role < METRICS_ROLES ? c->role : ROLE_UNKNOWN;
	double secs;
	int b = 0;

	k->closed[role][s->end < METRICS_ENDS ? s->end : END_UNKNOWN]++;
	delivery(m, c, s->dl, role);
	/* a life begun before tracing has no known length */
	if (c->flags & CONN_PREEXISTING)
		return;
	secs = (s->end_ns > s->start_ns ? s->end_ns - s->start_ns : 0) / 1e9;
	while (b < METRICS_BUCKETS && secs > metrics_duration_bounds[b])
		b++;
	k->duration_bucket[role][b]++;
	k->duration_sum_s[role] += secs;
}

static void on_event(void *ctx, const struct tt_event *e)
{
	struct metrics *m = ctx;

	if (e->type == TT_EV_RESET_SENT)
		conns_of(m, e->cgroup)->resets[METRICS_RST_SENT]++;
	else if (e->type == TT_EV_RESET_RECV)
		conns_of(m, e->cgroup)->resets[METRICS_RST_RECEIVED]++;
}

static void on_lost(void *ctx, uint64_t ts_ns, uint64_t count, uint64_t total, uint8_t cause)
{
	struct metrics *m = ctx;

	(void)ts_ns;
	(void)total;
	if (cause < LOST_N_CAUSES)
		m->lost[cause] += count;
}

static void on_handshake(void *ctx, const struct conn *c, uint64_t ns)
{
	struct metrics *m = ctx;

	if (c->role < METRICS_ROLES)
		latency_series_add(&m->handshake[c->role], ns);
}

const struct sink_ops metrics_sink_ops = {
	.history = on_history,
	.handshake = on_handshake,
	.event = on_event,
	.lost = on_lost,
};

static int cmp_comm(const void *a, const void *b)
{
	const struct proc_leaks *x = *(const struct proc_leaks *const *)a;
	const struct proc_leaks *y = *(const struct proc_leaks *const *)b;

	return strncmp(x->comm, y->comm, TT_COMM_LEN);
}

/* Most leaks first, then by name, so the named set is stable. */
static int cmp_leaked(const void *a, const void *b)
{
	const struct metrics_comm *x = a, *y = b;

	if (x->leaked != y->leaked)
		return x->leaked < y->leaked ? 1 : -1;
	return strncmp(x->comm, y->comm, TT_COMM_LEN);
}

void metrics_connections(struct metrics *m, const uint32_t tracked[TT_TCP_MAX_STATES],
			 const struct leak_stats *ls)
{
	const struct proc_leaks *by_name[LEAK_STATS_MAX];
	struct metrics_comm groups[LEAK_STATS_MAX];
	uint32_t n = 0, ng = 0, other = 0;

	memcpy(m->tracked, tracked, sizeof(m->tracked));
	/* Every process ever reported stays in the table while it has room,
	 * so a name whose leaks were resolved shows 0 rather than vanishing.
	 */
	for (uint32_t i = 0; i < ls->n; i++)
		by_name[n++] = &ls->v[i];
	qsort(by_name, n, sizeof(*by_name), cmp_comm);
	for (uint32_t i = 0; i < n; i++) {
		if (!ng || cmp_comm(&by_name[i], &by_name[i - 1])) {
			memset(&groups[ng], 0, sizeof(groups[ng]));
			memcpy(groups[ng].comm, by_name[i]->comm, TT_COMM_LEN);
			ng++;
		}
		groups[ng - 1].leaked += by_name[i]->now;
	}
	qsort(groups, ng, sizeof(*groups), cmp_leaked);
	m->ncomms = ng < METRICS_COMMS ? ng : METRICS_COMMS;
	memcpy(m->comms, groups, m->ncomms * sizeof(*groups));
	if (ng > METRICS_COMMS) {
		for (uint32_t i = METRICS_COMMS; i < ng; i++)
			other += groups[i].leaked;
		memset(&m->comms[m->ncomms], 0, sizeof(m->comms[0]));
		m->comms[m->ncomms].leaked = other;
		m->ncomms++;	/* an empty name: "other" */
	}
}

static int cmp_key(const struct metrics_listener *x, const struct metrics_listener *y)
{
	if (x->netns != y->netns)
		return x->netns < y->netns ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, TT_ADDR_LEN);
}

static int cmp_listener(const void *a, const void *b)
{
	return cmp_key(a, b);
}

static int cmp_series(const void *a, const void *b)
{
	return cmp_key(&((const struct metrics_series *)a)->l,
		       &((const struct metrics_series *)b)->l);
}

/* The series for l's labels among the first n (sorted), or NULL. */
static struct metrics_listener *find_series(struct metrics *m, uint32_t n,
					    const struct lw_listener *l)
{
	struct metrics_listener key = { .netns = l->netns, .family = l->family, .port = l->port };

	memcpy(key.addr, l->addr, TT_ADDR_LEN);
	return bsearch(&key, m->listeners, n, sizeof(key), cmp_listener);
}

static void add_member(struct metrics *m, struct metrics_listener *s,
		       const struct lw_listener *l)
{
	const struct latency_series *waits = listen_watch_accept_waits(l);
	struct metrics_table *t = table_of(m);

	if (t->seen_gen[s - m->listeners] != t->gen) {
		t->seen_gen[s - m->listeners] = t->gen;
		s->acceptq = s->acceptq_limit = s->synq = s->synq_limit = 0;
		s->alerts = 0;
	}
	s->acceptq += l->acceptq_len;
	s->acceptq_limit += l->acceptq_max;
	s->synq += l->synq_len;
	s->synq_limit += l->synq_max;
	for (int k = 0; k < LW_N_ALERTS; k++)
		if (l->alert[k].active)
			s->alerts |= 1u << k;
	/* A member's first sample is its baseline: its totals so far. */
	if (!l->interval_ns) {
		s->drops += l->drops;
		s->synack_retrans += l->synack_retrans;
		s->overflows += l->overflows;
	} else {
		s->drops += l->d_drops;
		s->synack_retrans += l->d_synack_retrans;
		s->overflows += l->d_overflows;
	}
	if (waits)
		latency_series_merge(&s->accept_wait, waits);
}

/* Sum adjacent series with the same labels; returns how many remain. */
static uint32_t merge_equal(struct metrics_series *v, uint32_t n)
{
	uint32_t out = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct metrics_listener *d = out ? &v[out - 1].l : NULL;
		const struct metrics_listener *x = &v[i].l;

		if (d && !cmp_key(d, x)) {
			d->acceptq += x->acceptq;
			d->acceptq_limit += x->acceptq_limit;
			d->synq += x->synq;
			d->synq_limit += x->synq_limit;
			d->drops += x->drops;
			d->synack_retrans += x->synack_retrans;
			d->overflows += x->overflows;
			d->retrans_segs += x->retrans_segs;
			latency_series_merge(&d->accept_wait, &x->accept_wait);
			d->alerts |= x->alerts;
			continue;
		}
		v[out++] = v[i];
	}
	return out;
}

void metrics_listeners(struct metrics *m, const struct listen_watch *lw, uint64_t now_ns)
{
	struct metrics_table *t = table_of(m);
	const struct lw_listener *const *v;
	size_t n = listen_watch_listeners(lw, &v);
	uint32_t sorted = m->nlisteners, kept = 0;

	m->listeners_on = true;
	t->gen++;
	for (size_t i = 0; i < n; i++) {
		const struct lw_listener *l = v[i];
		struct metrics_listener *s = find_series(m, sorted, l);

		/* A new series goes after the sorted ones; two members of one
		 * (SO_REUSEPORT) are merged after the sort.
		 */
		if (!s) {
			if (m->nlisteners == m->max_listeners) {
				m->listeners_dropped++;
				continue;
			}
			s = &m->listeners[m->nlisteners++];
			memset(s, 0, sizeof(*s));
			s->netns = l->netns;
			s->family = l->family;
			s->port = l->port;
			memcpy(s->addr, l->addr, TT_ADDR_LEN);
			container_of(m, l->cgroup, s->container);
			t->seen_gen[s - m->listeners] = t->gen - 1;
		}
		add_member(m, s, l);
		t->last_seen[s - m->listeners] = now_ns;
	}
	/* Closed listeners: queues empty, alerts cleared, counters kept
	 * until the series is dropped after the linger.
	 */
	for (uint32_t i = 0; i < m->nlisteners; i++) {
		struct metrics_listener *s = &m->listeners[i];

		if (t->seen_gen[i] != t->gen) {
			s->acceptq = s->synq = s->acceptq_limit = s->synq_limit = 0;
			s->alerts = 0;
			if (now_ns - t->last_seen[i] >= t->linger_ns)
				continue;
		}
		t->sorting[kept++] = (struct metrics_series){ *s, t->last_seen[i] };
	}
	qsort(t->sorting, kept, sizeof(t->sorting[0]), cmp_series);
	m->nlisteners = merge_equal(t->sorting, kept);
	for (uint32_t i = 0; i < m->nlisteners; i++) {
		m->listeners[i] = t->sorting[i].l;
		t->last_seen[i] = t->sorting[i].last_seen_ns;
	}
}

void metrics_ports(struct metrics *m, struct ports *p)
{
	const struct ports_dest *const *v;
	size_t n = ports_hot(p, &v);

	m->ports_on = true;
	m->ndests = 0;
	m->dests_dropped = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ports_dest *d = v[i];
		uint32_t permille = ports_used_permille(p, d), k;

		for (k = 0; k < m->ndests; k++) {
			struct metrics_dest *e = &m->dests[k];

			if (e->netns == d->netns && e->family == d->family && e->rport == d->rport &&
			    !memcmp(e->raddr, d->raddr, TT_ADDR_LEN))
				break;
		}
		if (k < m->ndests) {
			if (permille > m->dests[k].permille)
				m->dests[k].permille = permille;
			continue;
		}
		if (m->ndests == METRICS_DESTS) {
			m->dests_dropped++;
			continue;
		}
		m->dests[k] = (struct metrics_dest){ .netns = d->netns, .family = d->family,
						     .rport = d->rport, .permille = permille };
		memcpy(m->dests[k].raddr, d->raddr, TT_ADDR_LEN);
		m->ndests++;
	}
}
