/* Ingest: dispatch kernel records to histories and sinks. */
#include <stdlib.h>
#include <string.h>
#include "history.h"
#include "ingest_priv.h"

/* The BPF side writes these with the same header; a size change means the
 * two sides (or a recorded file) no longer agree.
 */
_Static_assert(sizeof(struct tt_event) == 128, "tt_event layout changed");
_Static_assert(sizeof(struct tt_sock_record) == 104, "tt_sock_record layout changed");
_Static_assert(sizeof(struct tt_file_record) == 32, "tt_file_record layout changed");
_Static_assert(sizeof(struct tt_nest) == 664, "tt_nest layout changed");
_Static_assert(sizeof(struct tt_history) == 424, "tt_history layout changed");
_Static_assert(sizeof(struct tt_delivery) == 112, "tt_delivery layout changed");
_Static_assert(sizeof(struct tt_conn_store) == 152, "tt_conn_store layout changed");

/* Closes within one grace period rarely exceed this; past it the oldest are
 * finished early (and counted) rather than the queue growing.
 */
#define PENDING_MAX 65536

struct ingest *ingest_new(const struct ingest_config *cfg, const struct sink *sink)
{
	struct ingest *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	static const struct sink_ops none;

	in->cfg = *cfg;
	in->sink = *sink;
	in->tap = cfg->tap ? *cfg->tap : (struct sink){ &none, NULL };
	in->table = conn_table_new(cfg->max_conns);
	in->pending_cap = cfg->max_conns < PENDING_MAX ? cfg->max_conns : PENDING_MAX;
	in->pending = calloc(in->pending_cap ? in->pending_cap : 1, sizeof(*in->pending));
	if (!in->table || !in->pending) {
		ingest_free(in);
		return NULL;
	}
	return in;
}

void ingest_set_recorded(struct ingest *in, bool kernel_lives, bool states)
{
	in->cfg.kernel_lives = kernel_lives;
	if (!in->cfg.states_explicit)
		in->cfg.states = states;
	/* pages are touched as closes fill it */
	if (kernel_lives && !in->kept)
		in->kept = calloc(in->pending_cap ? in->pending_cap : 1, sizeof(*in->kept));
}

void ingest_free(struct ingest *in)
{
	if (!in)
		return;
	conn_table_free(in->table);
	free(in->pending);
	free(in->kept);
	free(in);
}

/* The filters see a record's socket with its owner as far as known: the
 * record's own task, else the connection's (a softirq transition of a
 * connection whose owner was seen earlier).
 */
static bool wanted(const struct ingest *in, const struct tt_event *e, const struct conn *c)
{
	const struct filter *f = in->cfg.filter;
	struct filter_subject s;

	if (!f)
		return true;
	s = (struct filter_subject){ .family = e ? e->family : c->family,
				     .laddr = e ? e->saddr : c->laddr,
				     .raddr = e ? e->daddr : c->raddr,
				     .lport = e ? e->sport : c->lport,
				     .rport = e ? e->dport : c->rport, .has_rport = true,
				     .netns = e ? e->netns : c->netns,
				     .cgroup = e ? e->cgroup : c->cgroup };
	if (e && (e->flags & TT_F_OWNER_CTX)) {
		s.pid = e->pid;
		s.comm = e->comm;
	} else if (c && (c->flags & CONN_OWNER_SEEN)) {
		s.pid = c->pid;
		s.comm = c->comm;
	}
	return filter_match_subject(f, &s);
}

bool ingest_wanted_conn(const struct ingest *in, const struct conn *c)
{
	return wanted(in, NULL, c);
}

static bool wanted_event(const struct ingest *in, const struct tt_event *e)
{
	const struct filter *f = in->cfg.filter;
	/* the owner filters alone need the connection: one lookup less */
	bool owner = f && (f->pid || f->comm[0]) && !(e->flags & TT_F_OWNER_CTX);

	return wanted(in, e, owner && e->cookie ? conn_table_find(in->table, e->cookie) : NULL);
}

/* When c entered the CLOSE_WAIT it is in (last state). */
uint64_t ingest_close_wait_since(const struct conn *c)
{
	return c->entered[c->nstates - 1];
}

static void resolve_leak(struct ingest *in, struct conn *c, uint64_t since, uint64_t ts)
{
	c->flags &= ~CONN_LEAK_REPORTED;
	leak_stats_resolve(&in->leaks, c->leak_pid);
	in->stats.leaks_resolved++;
	if (in->sink.ops->leak_resolved && ingest_wanted_conn(in, c))
		in->sink.ops->leak_resolved(in->sink.ctx, c, ts, ts > since ? ts - since : 0);
}

/* Count c under its current state (delta 1), or stop counting it (-1):
 * around every change of its last state.
 */
void ingest_count_state(struct ingest *in, const struct conn *c, int delta)
{
	uint8_t st = c->nstates ? c->states[c->nstates - 1] : 0;

	/* where the kernel keeps lives, it keeps this count too */
	if (c->nstates && st < TT_TCP_MAX_STATES && !in->cfg.kernel_lives)
		in->by_state[st] += delta;
}

/* Write c's history; dl, when known, is how it delivered. */
static void emit_history(struct ingest *in, const struct conn *c, const struct tt_delivery *dl)
{
	struct history_summary s;

	history_summarize(c, &s);
	s.dl = dl && (dl->flags & TT_D_READ) ? dl : NULL;
	in->stats.histories++;
	if (!s.complete)
		in->stats.incomplete++;
	if (c->flags & CONN_GAP)
		in->stats.gaps++;
	if (in->tap.ops->history)
		in->tap.ops->history(in->tap.ctx, c, &s);
	if (in->cfg.histories && in->sink.ops->history && ingest_wanted_conn(in, c))
		in->sink.ops->history(in->sink.ctx, c, &s);
}

/* Emit c's history (listeners have none) and forget c. */
void ingest_finish(struct ingest *in, struct conn *c)
{
	/* A leak still open when its socket is forgotten (vanished, evicted). */
	if ((c->flags & CONN_LEAK_REPORTED) && c->states[c->nstates - 1] == TT_TCP_CLOSE_WAIT)
		resolve_leak(in, c, ingest_close_wait_since(c), in->clock_ns);

	if (c->flags & CONN_WATCHED) {
		/* Only watched here: its history is the kernel's. Pushed out of
		 * a full table, it is still open and its leak goes unwatched;
		 * gone from the kernel's list, its history was lost, and is
		 * counted so: none is written from what the watch knew.
		 */
		if (!(c->flags & CONN_VANISHED))
			in->stats.unwatched++;
	} else if (c->role != ROLE_LISTENER) {
		emit_history(in, c, NULL);
	}
	ingest_count_state(in, c, -1);
	conn_table_remove(in->table, c);
}

struct conn *ingest_insert_evicting(struct ingest *in, uint64_t cookie)
{
	struct conn *c = conn_table_insert(in->table, cookie);

	if (!c) {
		struct conn *old = conn_table_victim(in->table);

		if (!(old->flags & CONN_CLOSED)) {
			old->flags |= CONN_EVICTED;
			in->stats.evicted++;
		}
		ingest_finish(in, old);
		c = conn_table_insert(in->table, cookie);
	}
	return c;
}

static void pending_pop_finish(struct ingest *in)
{
	const struct pending_close *pc = &in->pending[in->pending_head];
	struct conn *c;

	in->pending_head = (in->pending_head + 1) % in->pending_cap;
	in->pending_len--;
	c = conn_table_find(in->table, pc->cookie);
	/* Skip entries whose socket was evicted or started a new life since. */
	if (c && (c->flags & CONN_CLOSED) && c->entered[c->nstates - 1] == pc->closed_ns)
		ingest_finish(in, c);
}

static void pending_push(struct ingest *in, const struct conn *c)
{
	uint32_t tail;

	if (in->pending_len == in->pending_cap) {
		pending_pop_finish(in);
		in->forced++;
	}
	tail = (in->pending_head + in->pending_len) % in->pending_cap;
	in->pending[tail].cookie = c->cookie;
	in->pending[tail].closed_ns = c->entered[c->nstates - 1];
	in->pending_len++;
}

/* A transition to the output: followed by the view whatever the filters,
 * printed if they keep it.
 */
static void state_out(struct ingest *in, const struct tt_event *e)
{
	if (!in->cfg.states || !in->sink.ops->state)
		return;
	if (in->sink.ops->transition)
		in->sink.ops->transition(in->sink.ctx, e);
	if (wanted_event(in, e))
		in->sink.ops->state(in->sink.ctx, e);
}

/* A transition recorded twice: the kernel's catcher found no mark for it
 * (state.bpf.c, push_mark()), and the socket's own storage, which settles
 * it where lives are kept, is not there to ask. The life already stands in
 * the new state; a new life starts from CLOSE or LISTEN, never there.
 */
static bool repeats(const struct conn *c, const struct tt_event *e)
{
	return c && c->nstates && !history_begins_life(e) &&
	       c->states[c->nstates - 1] == e->newstate;
}

static void on_state(struct ingest *in, const struct tt_event *e)
{
	struct conn *c = conn_table_find(in->table, e->cookie);
	bool leaking = c && (c->flags & CONN_LEAK_REPORTED) &&
		       c->states[c->nstates - 1] == TT_TCP_CLOSE_WAIT;
	uint64_t leak_since = leaking ? ingest_close_wait_since(c) : 0;

	if (repeats(c, e)) {
		in->stats.repeated++;
		return;
	}
	if (c && history_begins_life(e)) {
		/* its end was skipped or lost: the kernel has moved on */
		if (!(c->flags & CONN_CLOSED)) {
			c->flags |= CONN_VANISHED;
			in->stats.vanished++;
		}
		ingest_finish(in, c);
		c = NULL;
	}
	if (!c) {
		c = ingest_insert_evicting(in, e->cookie);
		history_start(c, e);
		ingest_count_state(in, c, 1);
		/* Mid-life first record after the start-up snapshot: the socket
		 * was missed by it, or its earlier records were lost.
		 */
		if ((c->flags & CONN_PREEXISTING) && in->seeded && in->stats.lost)
			c->flags |= CONN_LOST;
	} else {
		ingest_count_state(in, c, -1);
		history_on_state(c, e);
		ingest_count_state(in, c, 1);
		conn_table_touch(in->table, c);
		if (e->newstate == TT_TCP_ESTABLISHED && c->handshake_ns &&
		    in->tap.ops->handshake)
			in->tap.ops->handshake(in->tap.ctx, c, c->handshake_ns);
		/* after the transition, so the record says where it went */
		if (leaking && e->newstate != TT_TCP_CLOSE_WAIT)
			resolve_leak(in, c, leak_since, e->ts_ns);
	}
	state_out(in, e);
	if (e->newstate == TT_TCP_CLOSE)
		pending_push(in, c);
}

/* Where and when the kept life went from the CLOSE_WAIT entered at since:
 * the next state (LAST_ACK, or CLOSE on a reset).
 */
static void left_close_wait(const struct tt_history *h, uint64_t since, struct tt_event *to)
{
	const struct tt_conn_store *st = &h->st;

	*to = h->ev;
	to->oldstate = TT_TCP_CLOSE_WAIT;
	for (uint8_t i = 0; i + 1 < st->nstates && i + 1 < TT_HIST_STATES; i++) {
		if (st->states[i] == TT_TCP_CLOSE_WAIT && st->entered[i + 1] >= since) {
			to->newstate = st->states[i + 1];
			to->ts_ns = st->entered[i + 1];
			return;
		}
	}
}

/* Lives kept by the kernel: a transition record is for the live stream,
 * and for the CLOSE_WAIT watch (leaks): a socket entering CLOSE_WAIT is
 * tracked until its history comes.
 */
static void on_state_watched(struct ingest *in, const struct tt_event *e)
{
	struct conn *c = conn_table_find(in->table, e->cookie);

	/* dropped, not counted: the same repeat is in the kept life, and
	 * counted when the history comes (history_from_kernel())
	 */
	if (repeats(c, e))
		return;
	if (c && !(c->flags & CONN_CLOSED)) {
		bool leaking = (c->flags & CONN_LEAK_REPORTED) &&
			       c->states[c->nstates - 1] == TT_TCP_CLOSE_WAIT;
		uint64_t since = leaking ? ingest_close_wait_since(c) : 0;

		history_on_state(c, e);
		conn_table_touch(in->table, c);
		if (leaking && e->newstate != TT_TCP_CLOSE_WAIT)
			resolve_leak(in, c, since, e->ts_ns);
	} else if (!c && e->newstate == TT_TCP_CLOSE_WAIT) {
		c = ingest_insert_evicting(in, e->cookie);
		history_start(c, e);
		c->flags |= CONN_WATCHED;
	}
	if (e->type == TT_EV_STATE)
		state_out(in, e);
}

/* The oldest kept close: its grace is over. */
static void kept_pop(struct ingest *in)
{
	struct kept_close *k = &in->kept[in->kept_head];

	in->kept_head = (in->kept_head + 1) % in->pending_cap;
	in->kept_len--;
	emit_history(in, &k->c, &k->dl);
}

/* The latest close of this socket, among the last few. */
static struct conn *kept_find(struct ingest *in, uint64_t cookie)
{
	for (uint32_t i = 0; i < in->kept_len && i < KEPT_RESET_SCAN; i++) {
		struct kept_close *k =
			&in->kept[(in->kept_head + in->kept_len - 1 - i) % in->pending_cap];

		if (k->c.cookie == cookie)
			return &k->c;
	}
	return NULL;
}

/* A whole life from the kernel. A watched CLOSE_WAIT socket gives way to
 * it, its leak resolved when it left CLOSE_WAIT.
 */
static void on_history(struct ingest *in, const struct tt_history *h)
{
	struct conn *c = conn_table_find(in->table, h->ev.cookie);
	uint32_t leak_pid = 0;
	struct kept_close *k;

	if (!in->kept)
		return;		/* a recording that never said so: not ours to read */
	if (c) {
		bool leaking = (c->flags & CONN_LEAK_REPORTED) &&
			       c->states[c->nstates - 1] == TT_TCP_CLOSE_WAIT;

		if (leaking) {
			uint64_t since = ingest_close_wait_since(c);
			struct tt_event to;

			left_close_wait(h, since, &to);
			history_on_state(c, &to);
			resolve_leak(in, c, since, to.ts_ns);
			leak_pid = c->leak_pid;
		}
		conn_table_remove(in->table, c);
	}
	if (in->kept_len == in->pending_cap) {
		kept_pop(in);
		in->forced++;
	}
	k = &in->kept[(in->kept_head + in->kept_len) % in->pending_cap];
	in->kept_len++;
	memset(&k->c, 0, sizeof(k->c));
	k->c.cookie = h->ev.cookie;
	in->stats.repeated += history_from_kernel(&k->c, h);
	k->c.leak_pid = leak_pid;
	k->dl = h->dl;
	if (k->c.handshake_ns && in->tap.ops->handshake)
		in->tap.ops->handshake(in->tap.ctx, &k->c, k->c.handshake_ns);
}

void ingest_event(struct ingest *in, const struct tt_event *e)
{
	in->stats.records++;
	if (e->ts_ns > in->clock_ns)
		in->clock_ns = e->ts_ns;
	switch (e->type) {
	case TT_EV_STATE:
		/* a recording from before the kernel side dropped them: a
		 * close() after shutdown() "moves" to the state it is in
		 */
		if (e->oldstate == e->newstate)
			return;
		if (in->cfg.kernel_lives)
			on_state_watched(in, e);
		else
			on_state(in, e);
		return;
	case TT_EV_HISTORY:
		on_history(in, (const struct tt_history *)e);
		return;
	case TT_EV_CLOSE_WAIT:
		if (in->cfg.kernel_lives)
			on_state_watched(in, e);
		return;
	case TT_EV_RESET_SENT:
	case TT_EV_RESET_RECV:
		if (e->cookie) {
			struct conn *c = conn_table_find(in->table, e->cookie);

			if (!c && in->kept)
				c = kept_find(in, e->cookie);
			if (c)
				history_on_reset(c, e);
		}
		break;
	case TT_EV_SYNACK_RETRANS:
	case TT_EV_LISTEN_OVERFLOW:
	case TT_EV_RETRANSMIT:
		break;
	case TT_EV_ACCEPT: {
		/* folded into the history; no record of its own */
		struct conn *c = conn_table_find(in->table, e->cookie);

		if (c)
			history_on_accept(c, e);
		else
			in->accepts_unmatched++;
		return;
	}
	default:
		return;
	}
	if (in->tap.ops->event)
		in->tap.ops->event(in->tap.ctx, e);
	if (in->sink.ops->event && wanted_event(in, e))
		in->sink.ops->event(in->sink.ctx, e);
}

void ingest_lost(struct ingest *in, uint64_t ts_ns, uint64_t count, uint8_t cause)
{
	if (cause >= LOST_N_CAUSES)
		return;
	in->stats.lost += count;
	in->stats.lost_by_cause[cause] += count;
	if (in->tap.ops->lost)
		in->tap.ops->lost(in->tap.ctx, ts_ns, count, in->stats.lost, cause);
	if (in->sink.ops->lost)
		in->sink.ops->lost(in->sink.ctx, ts_ns, count, in->stats.lost, cause);
}

void ingest_mark_lost(struct ingest *in, uint64_t cookie)
{
	struct conn *c = conn_table_find(in->table, cookie);

	if (c)
		c->flags |= CONN_LOST;
}

static void mark_lost(struct conn *c, void *arg)
{
	(void)arg;
	c->flags |= CONN_LOST;
}

void ingest_mark_all_lost(struct ingest *in)
{
	conn_table_foreach(in->table, mark_lost, NULL);
}

void ingest_expire(struct ingest *in, uint64_t now_ns)
{
	if (now_ns > in->clock_ns)
		in->clock_ns = now_ns;
	while (in->pending_len) {
		const struct pending_close *pc = &in->pending[in->pending_head];

		if (pc->closed_ns + in->cfg.close_grace_ns > now_ns)
			break;
		pending_pop_finish(in);
	}
	while (in->kept_len) {
		const struct conn *c = &in->kept[in->kept_head].c;

		if (c->entered[c->nstates - 1] + in->cfg.close_grace_ns > now_ns)
			break;
		kept_pop(in);
	}
}

void ingest_flush(struct ingest *in)
{
	while (in->pending_len)
		pending_pop_finish(in);
	while (in->kept_len)
		kept_pop(in);
}

void ingest_batch_end(struct ingest *in)
{
	if (in->sink.ops->batch_end)
		in->sink.ops->batch_end(in->sink.ctx);
}

void ingest_note_cgroup(struct ingest *in, uint64_t cookie, uint64_t id)
{
	struct conn *c = conn_table_find(in->table, cookie);

	if (c && !c->cgroup)
		c->cgroup = id;
}

bool ingest_accept_wait(const struct ingest *in, struct tt_event *e, uint64_t *wait_ns)
{
	const struct conn *c = conn_table_find(in->table, e->cookie);
	uint64_t est = c && !c->accept_ns ? history_established_at(c) : 0;

	if (c && !e->family) {
		/* the kernel leaves the tuple to the history it belongs to */
		e->family = c->family;
		e->netns = c->netns;
		memcpy(e->saddr, c->laddr, sizeof(e->saddr));
		memcpy(e->daddr, c->raddr, sizeof(e->daddr));
		e->sport = c->lport;
		e->dport = c->rport;
	}
	if (!est)
		return false;
	*wait_ns = e->ts_ns > est ? e->ts_ns - est : 0;
	return true;
}

const uint32_t *ingest_tracked(const struct ingest *in)
{
	return in->by_state;
}

const struct leak_stats *ingest_leak_stats(const struct ingest *in)
{
	return &in->leaks;
}

const struct ingest_stats *ingest_stats(const struct ingest *in)
{
	return &in->stats;
}

struct conn_table *ingest_table(struct ingest *in)
{
	return in->table;
}
