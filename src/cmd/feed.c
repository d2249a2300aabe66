/* The tee of reconstruction inputs: ingest, listener watch, recording. */
#include <string.h>
#include "feed.h"

/* Where the kernel keeps lives, a passive history brings its accept:
 * how long it waited, from its handshake's end (ESTABLISHED) to accept().
 */
static void accept_wait_of(struct listen_watch *lw, const struct tt_history *h)
{
	const struct tt_conn_store *st = &h->st;
	uint64_t est = 0;

	if (!h->acc.ts_ns || !st->nstates || st->states[0] != TT_TCP_SYN_RECV ||
	    (st->flags & TT_H_PREEXISTING))
		return;
	for (uint8_t i = 0; i < st->nstates && i < TT_HIST_STATES; i++)
		if (st->states[i] == TT_TCP_ESTABLISHED) {
			est = st->entered[i];
			break;
		}
	if (est)
		listen_watch_accept_wait(lw, &h->ev, h->acc.ts_ns > est ? h->acc.ts_ns - est : 0);
}

void feed_event(const struct tt_event *e, void *arg)
{
	struct feed *f = arg;
	union {
		struct tt_event e;
		struct tt_history h;
	} owned;

	if (f->by_owner && (e->flags & TT_F_OWNER_CTX)) {
		memcpy(&owned, e, e->type == TT_EV_HISTORY ? sizeof(owned.h) : sizeof(owned.e));
		owned.e.cgroup = cgroups_of_pid(f->by_owner, e->pid, e->ts_ns);
		e = &owned.e;
	}
	if (f->journal) {
		cgroups_lookup(f->names, e->cgroup);
		journal_event(f->journal, e);
	}
	if (f->lw && e->type == TT_EV_HISTORY)
		accept_wait_of(f->lw, (const struct tt_history *)e);
	else if (f->lw && e->type == TT_EV_ACCEPT) {
		struct tt_event acc = *e;
		uint64_t wait = 0;
		bool waited = ingest_accept_wait(f->in, &acc, &wait);

		listen_watch_accept(f->lw, &acc, waited, wait);
	} else if (f->lw && !(f->kernel_counts && e->type == TT_EV_STATE)) {
		/* takes the listener records, ignores the rest; where the
		 * kernel counts handshakes, a child's first record is not one
		 */
		listen_watch_event(f->lw, e);
	}
	ingest_event(f->in, e);
}

void feed_reconcile(struct feed *f, const struct tt_sock_record *v, size_t n,
		    uint64_t started_ns, bool initial)
{
	if (f->journal) {
		for (size_t i = 0; i < n; i++)
			cgroups_lookup(f->names, v[i].cgroup);
		journal_reconcile(f->journal, v, n, started_ns, initial);
	}
	ingest_reconcile(f->in, v, n, started_ns, initial);
}

void feed_lost(struct feed *f, uint64_t ts_ns, uint64_t count, uint8_t cause)
{
	if (f->journal)
		journal_lost(f->journal, ts_ns, count, cause);
	ingest_lost(f->in, ts_ns, count, cause);
}

void feed_mark_lost(struct feed *f, uint64_t cookie)
{
	if (f->journal)
		journal_mark_lost(f->journal, cookie);
	ingest_mark_lost(f->in, cookie);
}

void feed_mark_listeners_lost(struct feed *f)
{
	/* listener samples are live only: nothing to record */
	if (f->lw)
		listen_watch_mark_lost(f->lw);
}

void feed_mark_all_lost(struct feed *f)
{
	if (f->journal)
		journal_mark_all(f->journal);
	ingest_mark_all_lost(f->in);
	feed_mark_listeners_lost(f);
}

void feed_leak(struct feed *f, uint64_t cookie, uint64_t now_ns, const struct owner *owners,
	       size_t n)
{
	if (f->journal)
		journal_leak(f->journal, cookie, now_ns, owners, n);
	if (f->by_owner && n)
		ingest_note_cgroup(f->in, cookie, cgroups_of_pid(f->by_owner, owners[0].pid, now_ns));
	ingest_report_leak(f->in, cookie, now_ns, owners, n);
}

void feed_expire(struct feed *f, uint64_t now_ns)
{
	if (f->journal)
		journal_expire(f->journal, now_ns);
	ingest_expire(f->in, now_ns);
}

void feed_batch_end(struct feed *f)
{
	if (f->journal)
		journal_batch_end(f->journal);
	ingest_batch_end(f->in);
}
