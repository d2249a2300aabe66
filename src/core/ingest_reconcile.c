/* The kernel's list of sockets against the table: sockets tracing never saw
 * begin (seeded), changes it missed are observed, and those gone are
 * finished as vanished.
 */
#include "history.h"
#include "ingest_priv.h"

/* Sockets that changed state this recently are left to the next reconcile:
 * a socket hashed just after its first record may be missing from a
 * snapshot that raced with it.
 */
#define RECONCILE_QUIET_NS 100000000ull

static void seed(struct ingest *in, const struct tt_sock_record *r, uint64_t now_ns,
		 bool initial)
{
	struct conn *c;

	/* Timewait and request minisockets are not connections we can follow:
	 * the first has ended, the second becomes a new socket when accepted.
	 */
	if (r->state == TT_TCP_TIME_WAIT || r->state == TT_TCP_NEW_SYN_RECV ||
	    r->state == TT_TCP_CLOSE)
		return;
	/* where the kernel keeps lives, only CLOSE_WAIT is watched here */
	if (in->cfg.kernel_lives && r->state != TT_TCP_CLOSE_WAIT)
		return;
	c = ingest_insert_evicting(in, r->cookie);
	history_seed(c, r, now_ns);
	if (in->cfg.kernel_lives)
		c->flags |= CONN_WATCHED;
	ingest_count_state(in, c, 1);
	c->flags |= CONN_SWEEP;	/* it is in the kernel's list: not vanished */
	if (!initial)
		c->flags |= CONN_LOST;
	in->stats.seeded++;
}

struct sweep {
	struct ingest *in;
	uint64_t quiet_before;
};

static void sweep_one(struct conn *c, void *arg)
{
	struct sweep *sw = arg;

	if (c->flags & CONN_SWEEP) {
		c->flags &= ~CONN_SWEEP;
		return;
	}
	if ((c->flags & CONN_CLOSED) || !c->nstates ||
	    c->entered[c->nstates - 1] >= sw->quiet_before)
		return;
	c->flags |= CONN_VANISHED;
	sw->in->stats.vanished++;
	ingest_finish(sw->in, c);
}

void ingest_reconcile(struct ingest *in, const struct tt_sock_record *v, size_t n,
		      uint64_t started_ns, bool initial)
{
	struct sweep sw = {
		in, started_ns > RECONCILE_QUIET_NS ? started_ns - RECONCILE_QUIET_NS : 0
	};

	for (size_t i = 0; i < n; i++) {
		const struct tt_sock_record *r = &v[i];
		struct conn *c = conn_table_find(in->table, r->cookie);
		uint8_t last;

		if (!c) {
			seed(in, r, started_ns, initial);
			continue;
		}
		c->flags |= CONN_SWEEP;
		last = c->states[c->nstates - 1];
		if ((c->flags & CONN_CLOSED) || r->state == last ||
		    r->state == TT_TCP_NEW_SYN_RECV ||
		    c->entered[c->nstates - 1] >= sw.quiet_before)
			continue;
		ingest_count_state(in, c, -1);
		history_observe(c, r->state, started_ns);
		ingest_count_state(in, c, 1);
		if (r->state == TT_TCP_TIME_WAIT) {
			c->flags |= CONN_VANISHED;
			in->stats.vanished++;
			ingest_finish(in, c);
		}
	}
	conn_table_foreach(in->table, sweep_one, &sw);
	in->seeded = true;
}
