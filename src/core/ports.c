/* Ephemeral-port use per destination. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "history.h"
#include "ports.h"
#include "tuple_set.h"

#define NS_PER_S 1000000000ull
#define DEFAULT_CLEAR_AFTER_NS (10 * NS_PER_S)
/* An empty, quiet destination is forgotten after this long. */
#define IDLE_FORGET_NS (2 * PORTS_TW_SECONDS * NS_PER_S)
#define LIMITS_MAX 4096
/* Linux's default ip_local_port_range, for namespaces not read yet. */
#define DEFAULT_LO 32768
#define DEFAULT_HI 60999
#define RING (PORTS_TW_SECONDS + 1)

/* A destination and what only this file keeps of it. */
struct ports_slot {
	struct ports_dest d;	/* first: a dest's slot is at its address */
	/* timewait sockets by the second they expire (ring, by second % 60+1) */
	uint16_t tw_expiring[RING];
	uint64_t tw_second;	/* the ring's current second */
	uint64_t last_active_ns;
	uint64_t calm_since_ns;	/* the alert's calm began; 0 while not calm */
	uint32_t next;		/* hash chain: index + 1 */
};

struct ports {
	struct ports_config cfg;
	struct ports_slot *slot;	/* max_dests slots; netns 0: free */
	uint32_t n;			/* slots ever used */
	uint32_t free_head;		/* free slots chained by next; index + 1 */
	uint32_t *index;		/* hash heads: index + 1 */
	uint32_t index_mask;
	struct ports_ns *ns;		/* the namespaces' limits */
	const struct ports_dest **hot;
	size_t nhot;
	/* the last reconcile: when its snapshot began, and the timewait
	 * sockets it counted
	 */
	uint64_t recount_ns;
	struct tuple_set *counted;
	struct ports_stats stats;
};

/* The slot of d, a destination of the table (never one made elsewhere). */
static struct ports_slot *slot_of(const struct ports_dest *d)
{
	return (struct ports_slot *)d;
}

struct ports *ports_new(const struct ports_config *cfg)
{
	struct ports *p = calloc(1, sizeof(*p));
	uint32_t size = 2;

	if (!p || !cfg->max_dests)
		goto fail;
	p->cfg = *cfg;
	if (!p->cfg.clear_after_ns)
		p->cfg.clear_after_ns = DEFAULT_CLEAR_AFTER_NS;
	while (size < 2 * cfg->max_dests)
		size <<= 1;
	p->index_mask = size - 1;
	p->slot = calloc(cfg->max_dests, sizeof(*p->slot));
	p->index = calloc(size, sizeof(*p->index));
	p->hot = calloc(cfg->max_dests, sizeof(*p->hot));
	p->ns = ports_ns_new(LIMITS_MAX);
	p->counted = tuple_set_new();
	if (p->slot && p->index && p->ns && p->hot && p->counted)
		return p;
fail:
	ports_free(p);
	return NULL;
}

void ports_free(struct ports *p)
{
	if (!p)
		return;
	free(p->slot);
	free(p->index);
	ports_ns_free(p->ns);
	free(p->hot);
	tuple_set_free(p->counted);
	free(p);
}

const struct ports_stats *ports_stats(const struct ports *p)
{
	return &p->stats;
}

static uint32_t addr_len(uint16_t family)
{
	return family == AF_INET6 ? 16 : 4;
}

static uint32_t hash_key(uint32_t netns, uint16_t family, const uint8_t *laddr,
			 const uint8_t *raddr, uint16_t rport)
{
	uint32_t h = 2166136261u ^ netns;

	h = (h ^ family) * 16777619u;
	h = (h ^ rport) * 16777619u;
	for (uint32_t i = 0; i < addr_len(family); i++) {
		h = (h ^ laddr[i]) * 16777619u;
		h = (h ^ raddr[i]) * 16777619u;
	}
	return h;
}

static bool same(const struct ports_dest *d, uint32_t netns, uint16_t family,
		 const uint8_t *laddr, const uint8_t *raddr, uint16_t rport)
{
	return d->netns == netns && d->family == family && d->rport == rport &&
	       !memcmp(d->laddr, laddr, addr_len(family)) &&
	       !memcmp(d->raddr, raddr, addr_len(family));
}

static uint32_t *head_of(struct ports *p, const struct ports_dest *d)
{
	return &p->index[hash_key(d->netns, d->family, d->laddr, d->raddr, d->rport) &
			 p->index_mask];
}

static void unlink_dest(struct ports *p, struct ports_dest *d)
{
	uint32_t *link = head_of(p, d), self = (uint32_t)(slot_of(d) - p->slot) + 1;

	while (*link && *link != self)
		link = &p->slot[*link - 1].next;
	if (*link)
		*link = slot_of(d)->next;
	memset(slot_of(d), 0, sizeof(struct ports_slot));
	slot_of(d)->next = p->free_head;
	p->free_head = self;
}

/* The quietest destination: no alert, fewest ports held, oldest activity. */
static struct ports_dest *victim(struct ports *p)
{
	struct ports_dest *best = NULL;

	for (uint32_t i = 0; i < p->n; i++) {
		struct ports_dest *d = &p->slot[i].d;
		uint64_t load = (uint64_t)d->in_use + d->time_wait + d->d_failures;

		if (!d->netns || d->alert)
			continue;
		if (!best || load < (uint64_t)best->in_use + best->time_wait + best->d_failures ||
		    (load == (uint64_t)best->in_use + best->time_wait + best->d_failures &&
		     slot_of(d)->last_active_ns < slot_of(best)->last_active_ns))
			best = d;
	}
	return best;
}

static void tw_reset(struct ports_dest *d, uint64_t now_ns)
{
	struct ports_slot *s = slot_of(d);

	memset(s->tw_expiring, 0, sizeof(s->tw_expiring));
	d->time_wait = 0;
	s->tw_second = now_ns / NS_PER_S;
}

static struct ports_dest *find(struct ports *p, uint32_t netns, uint16_t family,
			       const uint8_t *laddr, const uint8_t *raddr, uint16_t rport,
			       uint64_t now_ns, bool add)
{
	uint32_t *head = &p->index[hash_key(netns, family, laddr, raddr, rport) & p->index_mask];
	struct ports_dest *d;

	for (uint32_t i = *head; i; i = p->slot[i - 1].next)
		if (same(&p->slot[i - 1].d, netns, family, laddr, raddr, rport))
			return &p->slot[i - 1].d;
	if (!add || !netns)
		return NULL;
	if (!p->free_head && p->n == p->cfg.max_dests) {
		d = victim(p);
		if (!d)
			return NULL;	/* every one alerted: keep them */
		unlink_dest(p, d);	/* onto the free list */
		p->stats.evicted++;
	}
	if (p->free_head) {
		d = &p->slot[p->free_head - 1].d;
		p->free_head = slot_of(d)->next;
	} else {
		d = &p->slot[p->n++].d;
	}
	memset(slot_of(d), 0, sizeof(struct ports_slot));
	d->netns = netns;
	d->family = family;
	d->rport = rport;
	memcpy(d->laddr, laddr, addr_len(family));
	memcpy(d->raddr, raddr, addr_len(family));
	tw_reset(d, now_ns);
	slot_of(d)->last_active_ns = now_ns;
	slot_of(d)->next = *head;
	*head = (uint32_t)(slot_of(d) - p->slot) + 1;
	return d;
}

/* Expire the timewait sockets whose second has passed. */
static void tw_advance(struct ports_dest *d, uint64_t now_s)
{
	struct ports_slot *sl = slot_of(d);

	if (now_s <= sl->tw_second)
		return;
	for (uint64_t s = sl->tw_second + 1, n = 0; s <= now_s && n < RING; s++, n++) {
		d->time_wait -= sl->tw_expiring[s % RING];
		sl->tw_expiring[s % RING] = 0;
	}
	sl->tw_second = now_s;
}

static void tw_add(struct ports_dest *d, uint64_t expires_s)
{
	struct ports_slot *sl = slot_of(d);

	if (expires_s <= sl->tw_second)
		return;		/* gone already */
	if (expires_s > sl->tw_second + PORTS_TW_SECONDS)
		expires_s = sl->tw_second + PORTS_TW_SECONDS;
	if (sl->tw_expiring[expires_s % RING] == UINT16_MAX)
		return;
	sl->tw_expiring[expires_s % RING]++;
	d->time_wait++;
}

static void note_failure(struct ports_dest *d, const struct conn *c)
{
	uint32_t pid = (c->flags & CONN_OWNER_SEEN) ? c->pid : 0;

	d->failures++;
	d->d_failures++;
	for (uint8_t i = 0; i < d->ntop; i++)
		if (d->top[i].pid == pid) {
			d->top[i].failures++;
			return;
		}
	if (d->ntop == PORTS_TOP_PROCESSES) {
		d->other_failures++;
		return;
	}
	d->top[d->ntop].pid = pid;
	memset(d->top[d->ntop].comm, 0, TT_COMM_LEN);
	if (pid)
		memcpy(d->top[d->ntop].comm, c->comm, TT_COMM_LEN);
	d->top[d->ntop].cgroup = c->cgroup;
	d->top[d->ntop].failures = 1;
	d->ntop++;
}

static void on_history(void *ctx, const struct conn *c, const struct history_summary *s)
{
	struct ports *p = ctx;
	bool failed = s->end == END_NO_LOCAL_PORT;
	bool tw = c->role == ROLE_ACTIVE && s->nstates &&
		  s->states[s->nstates - 1] == TT_TCP_TIME_WAIT;
	struct ports_dest *d;

	if (!failed && !tw)
		return;
	d = find(p, c->netns, c->family, c->laddr, c->raddr, c->rport, s->end_ns, true);
	if (!d)
		return;
	slot_of(d)->last_active_ns = s->end_ns;
	if (failed) {
		note_failure(d, c);
		p->stats.failures++;
		return;
	}
	/* the history waited out its grace period: the last recount may have
	 * had its timewait socket already
	 */
	if (s->end_ns < p->recount_ns ||
	    tuple_set_has(p->counted, tuple_fingerprint(c->netns, c->family, c->laddr,
							 c->lport, c->raddr, c->rport)))
		return;
	tw_advance(d, s->end_ns / NS_PER_S);
	tw_add(d, s->end_ns / NS_PER_S + PORTS_TW_SECONDS);
}

const struct sink_ops ports_sink_ops = {
	.history = on_history,
};

const struct ports_limits *ports_limits_of(const struct ports *p, uint32_t inum)
{
	return ports_ns_limits(p->ns, inum);
}

void ports_set_limits(struct ports *p, uint32_t inum, const struct ports_limits *lim)
{
	ports_ns_set(p->ns, inum, lim);
}

void ports_netns_begin(struct ports *p)
{
	ports_ns_begin(p->ns);
}

struct forget_ctx {
	struct ports *p;
	uint64_t now_ns;
	ports_alert_fn fn;
	void *arg;
};

/* Forget the destinations of the namespace inum, clearing their alerts. */
static void forget_netns(uint32_t inum, void *arg)
{
	struct forget_ctx *f = arg;
	struct ports *p = f->p;

	for (uint32_t i = 0; i < p->n; i++) {
		struct ports_dest *d = &p->slot[i].d;
		struct ports_alert a = { .gone = true, .ts_ns = f->now_ns, .d = d,
					 .lim = ports_limits_of(p, inum),
					 .range = ports_range(p, d),
					 .tw_reusable = ports_tw_reusable(p, d) };

		if (d->netns != inum)
			continue;
		if (d->alert && f->fn)
			f->fn(&a, f->arg);
		unlink_dest(p, d);
	}
}

void ports_netns_end(struct ports *p, bool complete, uint64_t now_ns, ports_alert_fn fn,
		     void *arg)
{
	struct forget_ctx f = { p, now_ns, fn, arg };

	ports_ns_end(p->ns, complete, forget_netns, &f);
}

bool ports_wants_netns(const struct ports *p, uint32_t inum)
{
	for (uint32_t i = 0; i < p->n; i++)
		if (p->slot[i].d.netns == inum)
			return true;
	return false;
}

uint32_t ports_range(const struct ports *p, const struct ports_dest *d)
{
	const struct ports_limits *l = ports_limits_of(p, d->netns);
	int64_t n;

	if (!l || l->lo < 0 || l->hi < l->lo)
		return 0;
	n = (int64_t)l->hi - l->lo + 1 - (l->reserved > 0 ? l->reserved : 0);
	return n > 0 ? (uint32_t)n : 0;
}

static bool loopback(const struct ports_dest *d)
{
	static const uint8_t v6_loop[16] = { [15] = 1 };

	if (d->family == AF_INET6)
		return !memcmp(d->raddr, v6_loop, 16);
	return d->raddr[0] == 127;
}

bool ports_tw_reusable(const struct ports *p, const struct ports_dest *d)
{
	const struct ports_limits *l = ports_limits_of(p, d->netns);

	return l && (l->tw_reuse == 1 || (l->tw_reuse == 2 && loopback(d)));
}

/* Ports that count against the range: with TIME_WAIT reuse, only those
 * held by live sockets.
 */
static uint32_t used_of(const struct ports *p, const struct ports_dest *d)
{
	return d->in_use + (ports_tw_reusable(p, d) ? 0 : d->time_wait);
}

uint32_t ports_used_permille(const struct ports *p, const struct ports_dest *d)
{
	uint32_t range = ports_range(p, d);

	return range ? (uint32_t)((uint64_t)used_of(p, d) * 1000 / range) : 0;
}

bool ports_rule_starts(uint32_t used, uint32_t range, uint32_t failures)
{
	return failures > 0 || (range && (uint64_t)used * 10 >= (uint64_t)range * 8);
}

bool ports_rule_calm(uint32_t used, uint32_t range, uint32_t failures)
{
	return failures == 0 && (!range || (uint64_t)used * 2 < range);
}

void ports_reconcile(struct ports *p, const struct tt_sock_record *v, size_t n,
		     uint64_t now_ns)
{
	uint64_t now_s = now_ns / NS_PER_S;
	size_t ntw = 0;

	for (uint32_t i = 0; i < p->n; i++)
		if (p->slot[i].d.netns)
			tw_reset(&p->slot[i].d, now_ns);
	for (size_t i = 0; i < n; i++)
		ntw += v[i].state == TT_TCP_TIME_WAIT;
	/* short of memory, a history closed during the walk may count its
	 * TIME_WAIT twice until the next recount
	 */
	tuple_set_reset(p->counted, ntw);
	p->recount_ns = now_ns;
	for (size_t i = 0; i < n; i++) {
		const struct tt_sock_record *r = &v[i];
		const struct ports_limits *l;
		struct ports_dest *d;
		int32_t lo, hi;

		if (r->state != TT_TCP_TIME_WAIT)
			continue;
		/* an ephemeral local port: the side that connected */
		l = ports_limits_of(p, r->netns);
		lo = l && l->lo >= 0 ? l->lo : DEFAULT_LO;
		hi = l && l->hi >= 0 ? l->hi : DEFAULT_HI;
		if (r->sport < lo || r->sport > hi)
			continue;
		d = find(p, r->netns, r->family, r->saddr, r->daddr, r->dport, now_ns, true);
		if (!d)
			continue;
		tuple_set_add(p->counted, tuple_fingerprint(r->netns, r->family, r->saddr,
							     r->sport, r->daddr, r->dport));
		tw_add(d, r->tw_left_ms == ~0u ? now_s + PORTS_TW_SECONDS
					       : now_s + (r->tw_left_ms + 999) / 1000);
	}
}

struct count_ctx {
	struct ports *p;
	uint64_t now_ns;
};

static void count_conn(struct conn *c, void *arg)
{
	struct count_ctx *cc = arg;
	uint8_t st;
	struct ports_dest *d;

	if (c->role != ROLE_ACTIVE || !c->nstates || (c->flags & CONN_CLOSED))
		return;
	st = c->states[c->nstates - 1];
	if (st == TT_TCP_CLOSE || st == TT_TCP_TIME_WAIT)
		return;
	d = find(cc->p, c->netns, c->family, c->laddr, c->raddr, c->rport, cc->now_ns, true);
	if (d) {
		d->in_use++;
		slot_of(d)->last_active_ns = cc->now_ns;
	}
}

static int cmp_hot(const void *a, const void *b)
{
	const struct ports_dest *x = *(const struct ports_dest *const *)a;
	const struct ports_dest *y = *(const struct ports_dest *const *)b;
	uint64_t ux = (uint64_t)x->in_use + x->time_wait, uy = (uint64_t)y->in_use + y->time_wait;

	if (x->d_failures != y->d_failures)
		return x->d_failures < y->d_failures ? 1 : -1;
	if (ux != uy)
		return ux < uy ? 1 : -1;
	return x->rport - y->rport;
}

static void evaluate(struct ports *p, struct ports_dest *d, uint64_t now,
		     ports_alert_fn fn, void *arg)
{
	uint32_t range = ports_range(p, d), used = used_of(p, d);
	struct ports_slot *s = slot_of(d);
	struct ports_alert a = { .ts_ns = now, .d = d, .lim = ports_limits_of(p, d->netns),
				 .range = range, .tw_reusable = ports_tw_reusable(p, d) };

	if (!d->alert) {
		if (!ports_rule_starts(used, range, d->d_failures))
			return;
		d->alert = true;
		d->alert_since_ns = now;
		s->calm_since_ns = 0;
		d->peak_used = used;
		/* a range near full is the cause, failures its effect */
		d->failed_once = !ports_rule_starts(used, range, 0);
		p->stats.alerts++;
		a.start = true;
		if (fn)
			fn(&a, arg);
		return;
	}
	if (used > d->peak_used)
		d->peak_used = used;
	if (!ports_rule_calm(used, range, d->d_failures)) {
		s->calm_since_ns = 0;
		return;
	}
	if (!s->calm_since_ns)
		s->calm_since_ns = now;
	if (now - s->calm_since_ns < p->cfg.clear_after_ns)
		return;
	a.start = false;
	if (fn)
		fn(&a, arg);
	d->alert = false;
}

void ports_in_use_begin(struct ports *p)
{
	for (uint32_t i = 0; i < p->n; i++)
		p->slot[i].d.in_use = 0;
}

void ports_in_use(struct ports *p, const struct tt_dest_key *k, uint32_t n, uint64_t now_ns)
{
	struct ports_dest *d;

	if (!n)
		return;
	d = find(p, k->netns, k->family, k->laddr, k->raddr, k->rport, now_ns, true);
	if (d) {
		d->in_use = n;
		slot_of(d)->last_active_ns = now_ns;
	}
}

void ports_count_table(struct ports *p, struct conn_table *t, uint64_t now_ns)
{
	struct count_ctx cc = { p, now_ns };

	ports_in_use_begin(p);
	conn_table_foreach(t, count_conn, &cc);
}

void ports_interval(struct ports *p, uint64_t now_ns, ports_alert_fn fn, void *arg)
{
	p->nhot = 0;
	for (uint32_t i = 0; i < p->n; i++) {
		struct ports_dest *d = &p->slot[i].d;
		uint32_t range;

		if (!d->netns)
			continue;
		tw_advance(d, now_ns / NS_PER_S);
		evaluate(p, d, now_ns, fn, arg);
		range = ports_range(p, d);
		if (d->alert || d->d_failures || (range && (uint64_t)used_of(p, d) * 2 >= range))
			p->hot[p->nhot++] = d;
		else if (!d->in_use && !d->time_wait && !d->alert &&
			 now_ns - slot_of(d)->last_active_ns > IDLE_FORGET_NS)
			unlink_dest(p, d);
	}
	qsort(p->hot, p->nhot, sizeof(*p->hot), cmp_hot);
}

size_t ports_hot(struct ports *p, const struct ports_dest *const **v)
{
	*v = p->hot;
	return p->nhot;
}

void ports_interval_done(struct ports *p)
{
	for (uint32_t i = 0; i < p->n; i++) {
		p->slot[i].d.d_failures = 0;
		p->slot[i].d.ntop = 0;
		p->slot[i].d.other_failures = 0;
	}
}
