/* The tracing run's periodic jobs: reconcile with the kernel's sockets,
 * losses, leaks, listener samples, the gauge of connections by state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "clock.h"
#include "ingest.h"
#include "log.h"
#include "trace_priv.h"

/* Reconcile with the kernel's list of sockets this long after a loss (so the
 * ring has drained), and at this period regardless, as a safety net for any
 * path that ends a socket without a CLOSE record.
 */
#define RECONCILE_AFTER_LOSS_NS 1000000000ull
#define RECONCILE_PERIOD_NS (60 * 1000000000ull)
/* A reconcile walks every socket of the machine (seconds of CPU at a
 * million connections): the next waits until this one has cost at most
 * 1/RECONCILE_SHARE of the time since. A loss still brings one at once.
 */
#define RECONCILE_SHARE 200
/* How often CLOSE_WAIT ages are checked, and how many new leaks one check
 * reports at most (the rest wait for the next).
 */
#define LEAK_CHECK_NS 500000000ull

/* Where the kernel keeps lives, a reconcile needs only the sockets the
 * watches hold here: CLOSE_WAIT (leaks) and TIME_WAIT (ports).
 */
#define KEPT_STATES (1u << TT_TCP_CLOSE_WAIT | 1u << TT_TCP_TIME_WAIT)

/* The kernel's sockets by state at one moment: counted between two reads of
 * the programs' per-state changes that agree (no change ran meanwhile), so
 * that the two can be compared exactly; false when never quiet.
 */
static bool counted_quietly(struct tracing *t, uint64_t counts[16],
			    int64_t deltas[TT_TCP_MAX_STATES], int *err)
{
	int64_t after[TT_TCP_MAX_STATES];

	for (int tries = 0; tries < 3; tries++) {
		tracer_state_deltas(t->tr, deltas);
		*err = snapshot_count_states(t->snap, counts);
		if (*err)
			return false;
		tracer_state_deltas(t->tr, after);
		if (!memcmp(deltas, after, sizeof(after)))
			return true;
	}
	return false;
}

/* The count by state starts from the kernel's sockets now (kept lives). */
static void baseline_states(struct tracing *t)
{
	int err;

	t->base_exact = counted_quietly(t, t->base_states, t->base_deltas, &err);
	if (err)
		p_warn("failed to count the kernel's sockets by state: %s; the count of "
		       "connections by state shows changes since start only", strerror(-err));
}

/* A state change the kernel makes without running any program on the
 * tracepoint (seen on 6.18: both programs' run counts short by the change,
 * no recursion miss, while an ftrace probe on the same tracepoint fired)
 * leaves the socket in its old state in the count by state: that socket's
 * history is gone with its storage. At a quiet moment the count is exact,
 * and a state holding more sockets than the kernel's own count shows each
 * such change, less the changes both programs skipped (kernel_skipped
 * counts those already). 0 when the moment was not quiet.
 */
static bool unseen_excess(struct tracing *t, uint64_t *excess)
{
	int64_t d[TT_TCP_MAX_STATES];
	uint64_t k[16], skipped;
	int err;

	*excess = 0;
	if (!counted_quietly(t, k, d, &err))
		return false;
	/* LISTEN: a child's first change leaves it (LISTEN -> SYN_RECV) */
	for (int s = 0; s < TT_TCP_MAX_STATES && s < 16; s++) {
		int64_t held = (int64_t)t->base_states[s] + d[s] - t->base_deltas[s];

		if (s != TT_TCP_TIME_WAIT && s != TT_TCP_NEW_SYN_RECV && s != TT_TCP_CLOSE &&
		    s != TT_TCP_LISTEN && held > (int64_t)k[s])
			*excess += (uint64_t)(held - (int64_t)k[s]);
	}
	skipped = t->lost.missed > t->lost.caught ? t->lost.missed - t->lost.caught : 0;
	*excess = *excess > skipped ? *excess - skipped : 0;
	return true;
}

/* Only an excess that outlives a moment is counted (a socket counted as it
 * changes, hashed a little after its first state, or in a namespace being
 * torn down is not one): the smaller of two quiet counts, the last
 * reconcile's and this one's, or at exit two counts 100 ms apart; its
 * growth is what is new.
 */
void trace_check_unseen(struct tracing *t, bool final)
{
	uint64_t now, held;

	if (!t->kept || !t->base_exact || !unseen_excess(t, &now))
		return;
	if (final) {
		uint64_t again;

		usleep(100000);
		if (!unseen_excess(t, &again))
			return;
		held = now < again ? now : again;
	} else {
		held = now < t->unseen_prev ? now : t->unseen_prev;
		t->unseen_prev = now;
	}
	if (held <= t->unseen)
		return;
	if (!t->unseen)
		p_warn("the kernel changed %llu sockets' states without running tcptrail's "
		       "programs (no run and no recursion miss counted): their histories are "
		       "missing or incomplete, counted as lost (unseen_change)",
		       (unsigned long long)(held - t->unseen));
	feed_lost(&t->feed, clock_mono_ns(), held - t->unseen, TT_LOST_UNSEEN_CHANGE);
	t->unseen = held;
}

/* Read the sockets of every namespace, ingest everything queued meanwhile,
 * then reconcile: records first, so a socket born after the snapshot began
 * is never mistaken for an old or a vanished one.
 */
int trace_reconcile(struct tracing *t, bool initial)
{
	struct snapshot_list l;
	uint64_t started = clock_mono_ns();
	uint32_t max = t->p->max_conns;
	int err;

	if (t->kept && initial)
		baseline_states(t);
	err = snapshot_collect(t->snap, t->kept ? KEPT_STATES : 0, &l, max);
	if (err == -EOPNOTSUPP) {
		/* snapshot_open() has said why there is no list */
		snapshot_list_free(&l);
		return 0;
	}
	if (err) {
		p_warn("failed to read the kernel's sockets: %s%s", strerror(-err),
		       initial ? "; connections opened before tcptrail started have no history"
			       : "");
		snapshot_list_free(&l);
		return 0;
	}
	while (tracer_poll(t->tr, 0) > 0)
		;
	/* A truncated list must not make live sockets look vanished. */
	if (!l.dropped || initial)
		feed_reconcile(&t->feed, l.v, l.n, started, initial);
	if (t->ports && !l.dropped)
		ports_reconcile(t->ports, l.v, l.n, started);
	if (l.dropped && !t->said_truncated) {
		p_warn("the kernel has more %s than --max-conns (%u)%s; %zu not read: none of them "
		       "is taken for closed", t->kept ? "CLOSE_WAIT and TIME_WAIT sockets" :
		       "TCP sockets", max, l.nomem ? " or memory allows" : "", l.dropped);
		t->said_truncated = true;
	}
	p_info("snapshot: %zu sockets in %zu network namespaces%s", l.n, l.namespaces,
	       snapshot_via_diag(t->snap) ? " (sock_diag)" : "");
	snapshot_list_free(&l);
	if (!initial)
		trace_check_unseen(t, false);
	t->reconcile_ns = clock_mono_ns() - started;
	return 0;
}

static void job_reconcile(void *arg, uint64_t now)
{
	struct tracing *t = arg;

	/* While the ring still overflows (a mass close), a walk of every
	 * socket would only keep the reader from it: the repair waits for
	 * the losses to stop, a reconcile period at most.
	 */
	uint64_t cur = clock_mono_ns();	/* losses are stamped on this clock, after 'now' */

	if (t->lost_since_reconcile && cur - t->last_loss_ns < RECONCILE_AFTER_LOSS_NS &&
	    cur - t->first_loss_ns < RECONCILE_PERIOD_NS) {
		/* the table re-armed this timer a period on: bring it back */
		timers_pull(t->timers, t->reconcile_timer, cur + RECONCILE_AFTER_LOSS_NS);
		return;
	}

	if (trace_reconcile(t, !t->seeded))
		p_warn("out of memory reading the kernel's sockets");
	t->seeded = true;
	t->lost_since_reconcile = false;
	timers_push(t->timers, t->reconcile_timer, now + t->reconcile_ns * RECONCILE_SHARE);
}

static void mark_lost_cookie(uint64_t cookie, void *arg)
{
	feed_mark_lost(arg, cookie);
}

static void forget_cookie(uint64_t cookie, void *arg)
{
	(void)cookie;
	(void)arg;
}

/* Report records lost since the last call and taint what they touched.
 * Returns true when records of connections may have been lost (a
 * reconcile then repairs what it can).
 */
bool trace_account_losses(struct tracing *t)
{
	uint64_t by[TT_LOST_N_CAUSES], now = clock_mono_ns();
	struct loss_seen *seen = &t->lost;
	struct feed *f = &t->feed;
	struct tracer_skips sk;
	bool any = false;

	tracer_lost(t->tr, by);
	for (uint8_t c = 0; c < TT_LOST_N_CAUSES; c++) {
		uint64_t fresh = by[c] - seen->by_cause[c];

		if (by[c] <= seen->by_cause[c])
			continue;
		seen->by_cause[c] = by[c];
		if (c == TT_LOST_RING_FULL) {
			/* Records lost to a full ring taint the histories they
			 * named. Where the kernel keeps lives, a lost record was
			 * a whole history (gone, counted), a watch entry or the
			 * live stream's: no history here is missing a step. A
			 * loss that named no socket taints nothing: the
			 * reconcile it brings finds what it touched.
			 */
			tracer_drain_lost_cookies(t->tr, t->kept ? forget_cookie : mark_lost_cookie,
						  f);
			feed_mark_listeners_lost(f);
			any = true;
		}
		feed_lost(f, now, fresh, c);
	}
	tracer_skips(t->tr, ingest_stats(t->feed.in)->repeated, &sk);
	seen->caught = sk.caught;
	seen->missed = sk.missed;
	if (sk.records > seen->skipped) {
		/* A skipped run names no socket. The histories it touched show
		 * it themselves: a transition that does not follow the last one
		 * (missing_transition), a first record in mid-life, or a socket
		 * gone at the reconcile this triggers (close_not_seen; in
		 * TIME_WAIT: orderly).
		 */
		feed_mark_listeners_lost(f);
		feed_lost(f, now, sk.records - seen->skipped, LOST_KERNEL_SKIPPED);
		seen->skipped = sk.records;
		any = true;
	}
	if (sk.filter > seen->filter) {
		/* maybe a listen overflow: listener figures only */
		feed_mark_listeners_lost(f);
		feed_lost(f, now, sk.filter - seen->filter, LOST_FILTER_SKIPPED);
		seen->filter = sk.filter;
	}
	if (t->o->retransmits_per_s) {
		uint64_t over = tracer_retransmits_unwritten(t->tr);

		if (over && !t->retrans_unwritten)
			p_warn("more than %u retransmits a second: the rest are counted, not "
			       "written (histories count them all; --retransmits-per-s)",
			       t->o->retransmits_per_s);
		t->retrans_unwritten = over;
		if (t->slow)
			top_slow_set_unwritten(t->slow, over);
	}
	if (any && t->p->connections) {
		if (!t->lost_since_reconcile)
			t->first_loss_ns = now;
		t->last_loss_ns = now;
		t->lost_since_reconcile = true;
		timers_pull(t->timers, t->reconcile_timer, now + RECONCILE_AFTER_LOSS_NS);
	}
	return any;
}

/* Report sockets that have sat in CLOSE_WAIT too long, each with the
 * processes and descriptors holding it now.
 */
static void job_leaks(void *arg, uint64_t now)
{
	struct tracing *t = arg;
	struct owner_index *ix = t->owners;
	size_t n = ingest_leak_candidates(t->feed.in, now, t->leak_cands, TRACE_LEAK_BATCH_MAX);
	int err;

	if (!n)
		return;
	err = owner_index_scan_all(ix, t->snap, TT_TCP_CLOSE_WAIT, t->p->max_conns);
	if (err)
		p_warn("failed to find the processes holding leaked sockets: %s", strerror(-err));
	if (owner_index_dropped(ix))
		p_warn("more than %u descriptors of CLOSE_WAIT sockets; some owners not named",
		       TRACE_LEAK_OWNERS_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct owner *first;
		size_t k = owner_index_find(ix, t->leak_cands[i], &first);

		feed_leak(&t->feed, t->leak_cands[i], now, first, k);
	}
}

static void on_alert(const struct lw_alert *a, void *arg)
{
	struct tracing *t = arg;

	if (t->lsink.ops->alert &&
	    listen_sink_wanted(&t->filter, a->l))
		t->lsink.ops->alert(t->lsink.ctx, a);
}

static void on_ports_alert(const struct ports_alert *a, void *arg)
{
	struct tracing *t = arg;

	if (t->lsink.ops->ports_alert &&
	    filter_match_destination(&t->filter, a->d->family, a->d->raddr, a->d->rport,
				     a->d->netns))
		t->lsink.ops->ports_alert(t->lsink.ctx, a, t->ports);
}

static void on_dest(const struct tt_dest_key *k, int64_t in_use, void *arg)
{
	struct tracing *t = arg;

	ports_in_use(t->ports, k, in_use > UINT32_MAX ? UINT32_MAX : (uint32_t)in_use,
		     clock_mono_ns());
}

static void on_listen_counts(const struct tt_listen_key *k, const struct tt_listen_counts *c,
			     void *arg)
{
	listen_watch_set_counts(arg, k, c);
}

/* Handshakes and accepts per listener, from the kernel (kept lives). */
void trace_listen_counts(struct listen_watch *lw, void *arg)
{
	struct tracing *t = arg;

	tracer_listen_counts(t->tr, on_listen_counts, lw);
}

static void job_sample(void *arg, uint64_t now)
{
	struct tracing *t = arg;
	int err;

	/* The destinations first: the walk of the namespaces reads the
	 * limits of theirs, new ones included, before the alert is
	 * evaluated; and says which namespaces are gone.
	 */
	if (t->ports && t->kept) {
		ports_in_use_begin(t->ports);
		tracer_dest_use(t->tr, on_dest, t);
	} else if (t->ports) {
		ports_count_table(t->ports, ingest_table(t->feed.in), now);
	}
	if (t->ports)
		ports_netns_begin(t->ports);
	err = listen_sampler_run(t->sampler, now, on_alert, t);
	/* the same failure every interval is said once */
	if (err && err != t->sample_err)
		p_warn("failed to sample listeners: %s", strerror(-err));
	t->sample_err = err;
	/* the destinations before the listeners: the view draws them under */
	if (t->ports) {
		ports_netns_end(t->ports, !err && listen_sampler_walk_complete(t->sampler), now,
				on_ports_alert, t);
		ports_interval(t->ports, now, on_ports_alert, t);
	}
	if (!err && t->lsink.ops->sample)
		t->lsink.ops->sample(t->lsink.ctx, t->feed.lw, now, &t->filter);
	if (t->ports && t->lsink.ops->ports)
		t->lsink.ops->ports(t->lsink.ctx, t->ports, now, &t->filter);
	if (!err && t->http)
		metrics_listeners(&t->metrics, t->feed.lw, now);
	if (t->ports) {
		if (t->http)
			metrics_ports(&t->metrics, t->ports);
		ports_interval_done(t->ports);
	}
}

static void job_stop(void *arg, uint64_t now)
{
	(void)now;
	((struct tracing *)arg)->stop = true;
}

/* Register the periodic jobs this profile needs. */
int trace_add_jobs(struct tracing *t, uint64_t now)
{
	const struct options *o = t->o;
	int err = 0;

	if (t->p->connections) {
		uint64_t wait = t->reconcile_ns * RECONCILE_SHARE;

		t->reconcile_timer = timers_add(t->timers,
						now + (wait > RECONCILE_PERIOD_NS ? wait : RECONCILE_PERIOD_NS),
						RECONCILE_PERIOD_NS, job_reconcile, t);
		err |= t->reconcile_timer;
	}
	if (t->feed.lw)
		err |= timers_add(t->timers, now, (uint64_t)(o->interval_s * 1e9), job_sample, t);
	if (o->leak_after_s > 0)
		err |= timers_add(t->timers, now, LEAK_CHECK_NS, job_leaks, t);
	if (o->duration_s > 0)
		err |= timers_add(t->timers, now + (uint64_t)(o->duration_s * 1e9), 0, job_stop, t);
	if (t->keys)
		err |= timers_add(t->timers, now, KEYS_PERIOD_NS, keys_job, t->keys);
	return err < 0 ? -ENOSPC : 0;
}

/* Connections by state: ingest's count, or where the kernel keeps lives,
 * the start-up snapshot's moved by the kernel's deltas since. Timewait and
 * request sockets make no transitions: they are not in it either way.
 */
const uint32_t *trace_tracked_states(struct tracing *t)
{
	int64_t d[TT_TCP_MAX_STATES];

	if (!t->kept)
		return ingest_tracked(t->feed.in);
	tracer_state_deltas(t->tr, d);
	for (int s = 0; s < TT_TCP_MAX_STATES; s++) {
		int64_t v = (int64_t)t->base_states[s] + d[s] - t->base_deltas[s];

		t->gauge[s] = s == TT_TCP_TIME_WAIT || s == TT_TCP_NEW_SYN_RECV || s == TT_TCP_CLOSE ||
				      v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	}
	return t->gauge;
}

