/* The most limited connections of the last minute. Each ten-second bucket
 * keeps its own best five, so the best five of any six buckets are among
 * their thirty: nothing the window still covers is ever forgotten.
 */
#include <stdlib.h>
#include <string.h>
#include "slow_conns.h"

/* The connections of one ten-second span. */
struct slow_bucket {
	uint32_t n;
	uint64_t epoch;		/* closed_ns / SLOW_CONNS_BUCKET_NS + 1 of them all */
	struct slow_conn top[SLOW_CONNS_SHOWN];	/* best first */
};

struct slow_conns {
	struct slow_bucket b[SLOW_CONNS_BUCKETS];
	struct slow_conns_counts counts;
};

struct slow_conns *slow_conns_new(void)
{
	return calloc(1, sizeof(struct slow_conns));
}

void slow_conns_free(struct slow_conns *sc)
{
	free(sc);
}

const struct slow_conns_counts *slow_conns_counts(const struct slow_conns *sc)
{
	return &sc->counts;
}

void slow_conns_retransmit(struct slow_conns *sc)
{
	sc->counts.retransmits++;
}

uint64_t slow_conns_held_ns(const struct tt_delivery *dl)
{
	switch (history_limited_by(dl)) {
	case LIMIT_RECEIVER:
	case LIMIT_SENDER_BUFFER:
		return dl->rwnd_limited_ns + dl->sndbuf_limited_ns;
	case LIMIT_LOSS:
		/* recovery has no chrono of its own: its busy time, and a
		 * place at the end of the list where there is none
		 */
		return (dl->flags & TT_D_CHRONO) && dl->busy_ns ? dl->busy_ns : 1;
	default:
		return 0;
	}
}

static void fill(struct slow_conn *r, const struct conn *c, const struct history_summary *s,
		 uint64_t held_ns)
{
	const struct tt_delivery *dl = s->dl;

	memset(r, 0, sizeof(*r));
	r->held_ns = held_ns;
	r->duration_ns = s->end_ns - s->start_ns;
	r->busy_ns = dl->busy_ns;
	r->rtt_us = dl->srtt_us ? dl->srtt_us : UINT32_MAX;
	r->retrans_segs = dl->retrans_segs;
	r->data_segs_out = dl->data_segs_out;
	r->pid = c->pid;
	r->lport = c->lport;
	r->rport = c->rport;
	memcpy(r->laddr, c->laddr, sizeof(r->laddr));
	memcpy(r->raddr, c->raddr, sizeof(r->raddr));
	r->family = c->family;
	r->role = c->role;
	r->limited_by = history_limited_by(dl);
	memcpy(r->comm, c->comm, sizeof(r->comm) - 1);
}

/* The epoch of b's connections; 0: empty. */
static uint64_t epoch_of(const struct slow_bucket *b)
{
	return b->n ? b->epoch : 0;
}

/* Put r in its place among b's best, best first; the last falls off. */
static void rank_in(struct slow_bucket *b, const struct slow_conn *r)
{
	uint32_t i = b->n < SLOW_CONNS_SHOWN ? b->n : SLOW_CONNS_SHOWN - 1;

	if (b->n == SLOW_CONNS_SHOWN && b->top[i].held_ns >= r->held_ns)
		return;
	while (i > 0 && b->top[i - 1].held_ns < r->held_ns) {
		b->top[i] = b->top[i - 1];
		i--;
	}
	b->top[i] = *r;
	if (b->n < SLOW_CONNS_SHOWN)
		b->n++;
}

void slow_conns_add(struct slow_conns *sc, const struct conn *c,
		    const struct history_summary *s)
{
	uint64_t held, epoch;
	struct slow_bucket *b;
	struct slow_conn r;

	sc->counts.closed++;
	if (!s->dl)
		return;
	sc->counts.retrans_segs += s->dl->retrans_segs;
	held = slow_conns_held_ns(s->dl);
	if (!held || s->end_ns < s->start_ns)
		return;
	/* epoch + 1: a zero epoch marks an empty bucket */
	epoch = s->end_ns / SLOW_CONNS_BUCKET_NS + 1;
	b = &sc->b[epoch % SLOW_CONNS_BUCKETS];
	if (epoch_of(b) != epoch) {
		/* a history older than the bucket's: past the window already */
		if (epoch_of(b) > epoch)
			return;
		b->n = 0;
		b->epoch = epoch;
	}
	fill(&r, c, s, held);
	rank_in(b, &r);
}

unsigned slow_conns_top(const struct slow_conns *sc, uint64_t now_ns,
			struct slow_conn out[SLOW_CONNS_SHOWN])
{
	struct slow_bucket all = { 0 };
	uint64_t now_epoch = now_ns / SLOW_CONNS_BUCKET_NS + 1;

	for (int k = 0; k < SLOW_CONNS_BUCKETS; k++) {
		const struct slow_bucket *b = &sc->b[k];
		uint64_t epoch = epoch_of(b);

		if (!epoch || epoch + SLOW_CONNS_BUCKETS <= now_epoch || epoch > now_epoch)
			continue;
		for (uint32_t i = 0; i < b->n; i++)
			rank_in(&all, &b->top[i]);
	}
	memcpy(out, all.top, all.n * sizeof(*out));
	return all.n;
}
