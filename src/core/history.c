/* History reconstruction from kernel state transitions and resets. */
#include <errno.h>
#include <string.h>
#include "history.h"

static void copy_identity(struct conn *c, const struct tt_event *e)
{
	c->family = (uint8_t)e->family;
	c->netns = e->netns;
	memcpy(c->laddr, e->saddr, sizeof(c->laddr));
	memcpy(c->raddr, e->daddr, sizeof(c->raddr));
	/* An unbound client has no local port at CLOSE -> SYN_SENT: the kernel
	 * picks it right after (tcp_v4_connect() -> inet_hash_connect()).
	 */
	if (e->sport)
		c->lport = e->sport;
	if (e->dport)
		c->rport = e->dport;
}

static void note_owner(struct conn *c, const struct tt_event *e)
{
	/* The socket's cgroup never changes; where it comes from the owner
	 * (v1-only hosts) the first answer is the one read nearest its birth.
	 */
	if (e->cgroup && !c->cgroup)
		c->cgroup = e->cgroup;
	if (!(e->flags & TT_F_OWNER_CTX) || c->accepted == ACCEPT_YES)
		return;
	c->pid = e->pid;
	memcpy(c->comm, e->comm, sizeof(c->comm));
	c->flags |= CONN_OWNER_SEEN;
}

static void append_state(struct conn *c, uint8_t state, uint64_t ts)
{
	if (c->nstates == CONN_MAX_STATES) {
		/* Keep the beginning and the latest state. */
		c->flags |= CONN_TRUNCATED;
		c->nstates--;
	}
	c->states[c->nstates] = state;
	c->entered[c->nstates] = ts;
	c->nstates++;
}

static bool begins_life(uint8_t oldstate, uint8_t newstate)
{
	switch (newstate) {
	case TT_TCP_SYN_SENT:
	case TT_TCP_LISTEN:
		return oldstate == TT_TCP_CLOSE;
	case TT_TCP_SYN_RECV:
		/* A passive child is cloned from its listener, so the kernel
		 * reports LISTEN -> SYN_RECV (inet_csk_clone_lock()); a
		 * simultaneous open goes SYN_SENT -> SYN_RECV instead.
		 */
		return oldstate == TT_TCP_LISTEN || oldstate == TT_TCP_CLOSE ||
		       oldstate == TT_TCP_NEW_SYN_RECV;
	default:
		return false;
	}
}

static uint8_t role_of(uint8_t newstate)
{
	switch (newstate) {
	case TT_TCP_SYN_SENT:
		return ROLE_ACTIVE;
	case TT_TCP_SYN_RECV:
		return ROLE_PASSIVE;
	case TT_TCP_LISTEN:
		return ROLE_LISTENER;
	default:
		return ROLE_UNKNOWN;
	}
}

void history_start(struct conn *c, const struct tt_event *e)
{
	copy_identity(c, e);
	c->role = role_of(e->newstate);
	if (!begins_life(e->oldstate, e->newstate)) {
		c->flags |= CONN_PREEXISTING;
		c->role = ROLE_UNKNOWN;
		/* What we know of the earlier life: it was in oldstate. */
		if (e->oldstate != TT_TCP_CLOSE)
			append_state(c, e->oldstate, e->ts_ns);
	}
	note_owner(c, e);
	history_on_state(c, e);
}

void history_seed(struct conn *c, const struct tt_sock_record *r, uint64_t now_ns)
{
	c->family = (uint8_t)r->family;
	c->netns = r->netns;
	c->cgroup = r->cgroup;
	memcpy(c->laddr, r->saddr, sizeof(c->laddr));
	memcpy(c->raddr, r->daddr, sizeof(c->raddr));
	c->lport = r->sport;
	c->rport = r->dport;
	c->flags |= CONN_PREEXISTING;
	c->role = r->state == TT_TCP_LISTEN ? ROLE_LISTENER : ROLE_UNKNOWN;
	if (r->state == TT_TCP_CLOSE_WAIT || r->state == TT_TCP_LAST_ACK)
		c->closer = CLOSER_PEER;
	else if (r->state >= TT_TCP_FIN_WAIT1 && r->state <= TT_TCP_FIN_WAIT2)
		c->closer = CLOSER_LOCAL;
	/* The peer's FIN came no later than its last ACK: time since that ACK
	 * is a lower bound of the time in CLOSE_WAIT.
	 */
	if (r->state == TT_TCP_CLOSE_WAIT && r->rcv_idle_ms != ~0u) {
		uint64_t idle = (uint64_t)r->rcv_idle_ms * 1000000ull;

		now_ns = now_ns > idle ? now_ns - idle : 0;
	}
	append_state(c, r->state, now_ns);
}

/* The handshake's length: the client's from its own transitions; a passive
 * child's from the kernel's SYN-ACK figures, since its first transition
 * comes only with the completing ACK. last is the state it left, at ts.
 */
static void note_handshake(struct conn *c, const struct tt_estab_info *h, uint8_t last,
			   uint64_t ts)
{
	if (c->nstates == 0 || (c->flags & CONN_PREEXISTING))
		return;
	c->hs_retrans = h->retrans > UINT8_MAX ? UINT8_MAX : (uint8_t)h->retrans;
	if (last == TT_TCP_SYN_SENT && c->role == ROLE_ACTIVE) {
		c->handshake_ns = ts - c->entered[c->nstates - 1];
	} else if (last == TT_TCP_SYN_RECV && c->role == ROLE_PASSIVE) {
		/* With a retransmitted SYN-ACK the kernel takes no RTT sample
		 * from it (tcp_synack_rtt_meas()): the first one's send time
		 * is needed instead.
		 */
		if (!h->retrans && h->srtt_us)
			c->handshake_ns = (uint64_t)h->srtt_us * 1000;
		else if (h->retrans && h->synack_us && h->synack_us * 1000 < ts)
			c->handshake_ns = ts - h->synack_us * 1000;
	}
	c->flags |= CONN_HS_SEEN;
}

/* What entering newstate from oldstate says of who closed. */
static void note_closer(struct conn *c, uint8_t oldstate, uint8_t newstate)
{
	switch (newstate) {
	case TT_TCP_FIN_WAIT1:
		if (c->closer == CLOSER_NONE)
			c->closer = CLOSER_LOCAL;
		break;
	case TT_TCP_CLOSE_WAIT:
		if (c->closer == CLOSER_NONE)
			c->closer = CLOSER_PEER;
		break;
	case TT_TCP_CLOSING:
		/* Our FIN was unacknowledged when the peer's arrived. */
		if (oldstate == TT_TCP_FIN_WAIT1)
			c->closer = CLOSER_SIMULTANEOUS;
		break;
	default:
		break;
	}
}

static uint8_t fin_by_of(uint16_t call)
{
	return call == TT_FIN_CALL_SHUTDOWN ? FIN_BY_SHUTDOWN
	       : call == TT_FIN_CALL_CLOSE  ? FIN_BY_CLOSE
					    : FIN_BY_UNKNOWN;
}

void history_on_accept(struct conn *c, const struct tt_event *e)
{
	if (c->role != ROLE_PASSIVE || c->accept_ns)
		return;
	note_owner(c, e);
	c->accepted = ACCEPT_YES;
	c->accept_ns = e->ts_ns;
}

uint64_t history_established_at(const struct conn *c)
{
	uint64_t born = 0;

	if (c->role != ROLE_PASSIVE || (c->flags & CONN_PREEXISTING))
		return 0;
	for (uint8_t i = 0; i < c->nstates; i++) {
		if (c->states[i] == TT_TCP_ESTABLISHED)
			return c->entered[i];
		/* the child is made (SYN_RECV) by the same ACK that completes it */
		if (c->states[i] == TT_TCP_SYN_RECV && !born)
			born = c->entered[i];
	}
	return born;
}

void history_on_state(struct conn *c, const struct tt_event *e)
{
	uint8_t last = c->nstates ? c->states[c->nstates - 1] : TT_TCP_CLOSE;

	copy_identity(c, e);
	note_owner(c, e);
	/* A transition that does not leave the state we last saw means records
	 * are missing in between (only possible through loss or a late start).
	 */
	if (c->nstates && e->oldstate != last)
		c->flags |= CONN_GAP;
	note_closer(c, e->oldstate, e->newstate);
	switch (e->newstate) {
	case TT_TCP_FIN_WAIT1:
		/* only the owner's own call moves a socket to FIN_WAIT1 */
		if (e->flags & TT_F_OWNER_CTX)
			c->fin_by = fin_by_of(e->reason);
		break;
	case TT_TCP_CLOSE:
		c->close = e->close;
		c->close_flags = e->flags;
		c->flags |= CONN_CLOSED;
		if (c->role == ROLE_PASSIVE && c->accepted == ACCEPT_UNKNOWN &&
		    (e->flags & TT_F_UNACCEPTED))
			c->accepted = ACCEPT_NO;
		break;
	case TT_TCP_ESTABLISHED:
		note_handshake(c, &e->estab, last, e->ts_ns);
		break;
	default:
		break;
	}
	append_state(c, e->newstate, e->ts_ns);
}

/* The life the kernel kept, state by state, as the transitions would have
 * told it; then the accept and the CLOSE transition itself.
 */
unsigned history_from_kernel(struct conn *c, const struct tt_history *h)
{
	const struct tt_conn_store *st = &h->st;
	uint8_t n = st->nstates < TT_HIST_STATES ? st->nstates : TT_HIST_STATES;
	unsigned twice = 0;

	copy_identity(c, &h->ev);
	c->cgroup = h->ev.cgroup;
	if (st->flags & TT_H_PREEXISTING)
		c->flags |= CONN_PREEXISTING;
	else if (n)
		c->role = role_of(st->states[0]);
	if (st->flags & TT_H_TRUNCATED)
		c->flags |= CONN_TRUNCATED;
	if (st->flags & TT_H_GAP)
		c->flags |= CONN_GAP;
	if (st->flags & TT_H_RST_RECV)
		c->flags |= CONN_RST_RECV;
	if ((st->flags & TT_H_RST_SENT) && history_reset_sent_ends(st->rst_sent_in))
		c->flags |= CONN_RST_SENT;
	for (uint8_t i = 0; i < n; i++) {
		/* recorded twice (a recording of an older tcptrail): no
		 * transition, as on the live path (ingest's repeats())
		 */
		if (i && st->states[i] == st->states[i - 1]) {
			twice++;
			continue;
		}
		if (i) {
			note_closer(c, st->states[i - 1], st->states[i]);
			if (st->states[i] == TT_TCP_ESTABLISHED && (st->flags & TT_H_HS_SEEN)) {
				struct tt_estab_info hs = { .synack_us = st->synack_us,
							    .srtt_us = st->hs_srtt_us,
							    .retrans = st->hs_retrans };

				note_handshake(c, &hs, st->states[i - 1], st->entered[i]);
			}
		}
		append_state(c, st->states[i], st->entered[i]);
	}
	if (st->flags & TT_H_FIN_CALL)
		c->fin_by = fin_by_of(st->fin_call);
	if (st->flags & TT_H_OWNER_SEEN) {
		c->pid = st->owner_pid;
		memcpy(c->comm, st->owner_comm, sizeof(c->comm));
		c->flags |= CONN_OWNER_SEEN;
	}
	if (h->acc.ts_ns && c->role == ROLE_PASSIVE) {
		struct tt_event acc = { .ts_ns = h->acc.ts_ns, .pid = h->acc.pid,
					.flags = TT_F_OWNER_CTX };

		memcpy(acc.comm, h->acc.comm, sizeof(acc.comm));
		history_on_accept(c, &acc);
	}
	history_on_state(c, &h->ev);
	return twice;
}

bool history_reset_sent_ends(uint8_t state)
{
	return state != TT_TCP_SYN_SENT;
}

void history_on_reset(struct conn *c, const struct tt_event *e)
{
	if (e->type == TT_EV_RESET_RECV)
		c->flags |= CONN_RST_RECV;
	else if (history_reset_sent_ends(e->newstate))
		c->flags |= CONN_RST_SENT;
	note_owner(c, e);
}

void history_observe(struct conn *c, uint8_t state, uint64_t ts)
{
	c->flags |= CONN_GAP;
	if (state == TT_TCP_TIME_WAIT && c->closer == CLOSER_NONE)
		c->closer = CLOSER_LOCAL;
	append_state(c, state, ts);
}

bool history_begins_life(const struct tt_event *e)
{
	return begins_life(e->oldstate, e->newstate);
}

/* Which timer gave up, from the socket's state at its CLOSE (tcp_write_err()
 * and the keepalive timer both end in ETIMEDOUT). TCP_USER_TIMEOUT replaces
 * the retry limits of both timers, so when it is set it decided.
 */
static uint8_t timeout_kind(const struct conn *c)
{
	uint8_t f = c->close_flags;

	if (f & TT_F_USER_TIMEOUT)
		return END_USER_TIMEOUT;
	if ((f & TT_F_UNACKED) && c->close.rto_retrans)
		return END_RETRANSMIT_TIMEOUT;
	if ((f & TT_F_UNSENT) && c->close.probes)
		return END_ZERO_WINDOW_TIMEOUT;
	if ((f & TT_F_KEEPALIVE) && c->close.probes)
		return END_KEEPALIVE_TIMEOUT;
	return END_TIMEOUT;	/* a recording without these facts */
}

/* How many probes or retransmits the timer that gave up had made. */
static int16_t timeout_attempts(const struct conn *c, uint8_t end)
{
	switch (end) {
	case END_RETRANSMIT_TIMEOUT:
		return c->close.rto_retrans;
	case END_KEEPALIVE_TIMEOUT:
	case END_ZERO_WINDOW_TIMEOUT:
		return c->close.probes;
	case END_USER_TIMEOUT:
		return (c->close_flags & TT_F_UNACKED) ? c->close.rto_retrans : c->close.probes;
	default:
		return -1;
	}
}

/* How a history that reached CLOSE ended. 'before' is the state it closed
 * from. Resets are the strongest evidence, then the socket's error, then the
 * path taken.
 */
static uint8_t end_of_closed(const struct conn *c, uint8_t before)
{
	bool handshake = before == TT_TCP_SYN_SENT || before == TT_TCP_SYN_RECV;

	if (c->flags & CONN_RST_RECV)
		return before == TT_TCP_SYN_SENT ? END_REFUSED : END_RST_RECEIVED;
	/* tcp_v4_connect()/tcp_v6_connect(): inet_hash_connect() found no
	 * port, so the socket went back to CLOSE without one, and without an
	 * error of its own (connect() returned it)
	 */
	if (before == TT_TCP_SYN_SENT && c->role == ROLE_ACTIVE && !c->lport &&
	    !(c->flags & CONN_RST_SENT) && !c->close.sk_err)
		return END_NO_LOCAL_PORT;
	/* the keepalive timer resets the connection as it gives up */
	if ((c->flags & CONN_RST_SENT) && c->close.sk_err != ETIMEDOUT)
		return END_RST_SENT;
	switch (c->close.sk_err) {
	case ECONNREFUSED:
		return END_REFUSED;
	case ETIMEDOUT:
		return handshake ? END_HANDSHAKE_TIMEOUT : timeout_kind(c);
	case ECONNRESET:
	case EPIPE:
		/* tcp_reset(): EPIPE when the reset hit CLOSE_WAIT */
		return END_RST_RECEIVED;
	default:
		break;
	}
	switch (before) {
	case TT_TCP_FIN_WAIT2:
	case TT_TCP_CLOSING:
	case TT_TCP_LAST_ACK:
	case TT_TCP_TIME_WAIT:
		return END_ORDERLY;
	default:
		return END_CLOSED;
	}
}

/* The half-closed span: from entering FIN_WAIT1 by shutdown() to the state
 * after FIN_WAIT2 (or CLOSING): the peer's FIN, or our close handing the
 * socket to a FIN_WAIT2 timewait.
 */
static uint64_t half_close(const struct conn *c)
{
	for (uint8_t i = 0; i + 1 < c->nstates; i++) {
		if (c->states[i] != TT_TCP_FIN_WAIT1)
			continue;
		for (uint8_t j = i + 1; j < c->nstates; j++)
			if (c->states[j] != TT_TCP_FIN_WAIT2)
				return c->entered[j] - c->entered[i];
		break;
	}
	return DURATION_UNKNOWN;
}

static void summarize_phases(const struct conn *c, struct history_summary *s)
{
	uint64_t est;

	s->handshake_ns = c->handshake_ns ? c->handshake_ns : DURATION_UNKNOWN;
	s->handshake_retrans = (c->flags & CONN_HS_SEEN) ? c->hs_retrans : -1;
	s->accepted = c->role == ROLE_PASSIVE ? c->accepted : ACCEPT_UNKNOWN;
	s->accept_wait_ns = DURATION_UNKNOWN;
	est = history_established_at(c);
	if (s->accepted == ACCEPT_YES && est)
		s->accept_wait_ns = c->accept_ns > est ? c->accept_ns - est : 0;
	s->fin_by = s->closer == CLOSER_LOCAL || s->closer == CLOSER_SIMULTANEOUS
			    ? c->fin_by : FIN_BY_UNKNOWN;
	s->half_close_ns = s->fin_by == FIN_BY_SHUTDOWN ? half_close(c) : DURATION_UNKNOWN;
	s->timeout_attempts = timeout_attempts(c, s->end);
	s->last_ack_age_ns = DURATION_UNKNOWN;
	if (s->timeout_attempts >= 0 && c->close.ack_idle_ms != ~0u)
		s->last_ack_age_ns = (uint64_t)c->close.ack_idle_ms * 1000000ull;
}

void history_summarize(const struct conn *c, struct history_summary *s)
{
	uint8_t n = c->nstates;

	memset(s, 0, sizeof(*s));
	s->nstates = n;
	memcpy(s->states, c->states, n);
	for (uint8_t i = 0; i + 1 < n; i++)
		s->durations_ns[i] = c->entered[i + 1] - c->entered[i];
	if (n) {
		s->durations_ns[n - 1] = DURATION_UNKNOWN;
		s->start_ns = c->entered[0];
		s->end_ns = c->entered[n - 1];
	}
	s->closer = c->closer;
	s->end = END_OPEN;
	if ((c->flags & CONN_CLOSED) && n >= 2) {
		uint8_t before = c->states[n - 2];

		s->end = end_of_closed(c, before);
		/* The kernel hands a socket entering TIME_WAIT to a timewait
		 * minisocket (tcp_time_wait()), so the full socket reports
		 * FIN_WAIT2/CLOSING -> CLOSE. The connection lives on in
		 * TIME_WAIT: say so.
		 */
		if (s->end == END_ORDERLY &&
		    (before == TT_TCP_FIN_WAIT2 || before == TT_TCP_CLOSING)) {
			s->states[n - 1] = TT_TCP_TIME_WAIT;
			s->tw_inferred = true;
		}
	} else if (c->flags & CONN_CLOSED) {
		s->end = end_of_closed(c, TT_TCP_CLOSE);
	} else if (c->flags & CONN_VANISHED) {
		/* A timewait socket in the kernel's list proves an orderly close. */
		s->end = n && c->states[n - 1] == TT_TCP_TIME_WAIT ? END_ORDERLY : END_UNKNOWN;
	}
	if (s->closer == CLOSER_NONE) {
		switch (s->end) {
		case END_RST_SENT:
		case END_CLOSED:
			s->closer = CLOSER_LOCAL;
			break;
		case END_RST_RECEIVED:
		case END_REFUSED:
			s->closer = CLOSER_PEER;
			break;
		default:
			break;
		}
	}
	s->complete = !(c->flags & (CONN_PREEXISTING | CONN_LOST | CONN_GAP |
				    CONN_TRUNCATED | CONN_EVICTED | CONN_VANISHED));
	summarize_phases(c, s);
}

uint8_t history_limited_by(const struct tt_delivery *dl)
{
	if (!dl || !(dl->flags & TT_D_READ))
		return LIMIT_UNKNOWN;
	/* time-based where the times are known; busy counts the limited
	 * spans too (tcpi_busy_time)
	 */
	if ((dl->flags & TT_D_CHRONO) && dl->busy_ns) {
		uint64_t third = dl->busy_ns / 3 + (dl->busy_ns % 3 != 0);

		if (dl->rwnd_limited_ns >= third && dl->rwnd_limited_ns >= dl->sndbuf_limited_ns)
			return LIMIT_RECEIVER;
		if (dl->sndbuf_limited_ns >= third)
			return LIMIT_SENDER_BUFFER;
	}
	if (dl->retrans_segs >= 3 && (uint64_t)dl->retrans_segs * 10 >= dl->data_segs_out)
		return LIMIT_LOSS;
	if (!(dl->flags & TT_D_CHRONO) || !dl->busy_ns)
		return dl->data_segs_out ? LIMIT_UNKNOWN : LIMIT_NONE;
	return LIMIT_NONE;
}

uint64_t history_delivery_rate_bps(const struct tt_delivery *dl)
{
	unsigned __int128 bits;

	if (!dl || !(dl->flags & TT_D_READ) || !dl->rate_interval_us)
		return DURATION_UNKNOWN;
	/* tcp_get_info(): delivered segments times the MSS over the interval */
	bits = (unsigned __int128)dl->rate_delivered * dl->mss * 8 * 1000000u /
	       dl->rate_interval_us;
	return bits >= DURATION_UNKNOWN ? DURATION_UNKNOWN - 1 : (uint64_t)bits;
}

const char *conn_limit_name(uint8_t limit)
{
	switch (limit) {
	case LIMIT_NONE:
		return "none";
	case LIMIT_RECEIVER:
		return "receiver";
	case LIMIT_SENDER_BUFFER:
		return "sender_buffer";
	case LIMIT_LOSS:
		return "loss";
	default:
		return NULL;
	}
}

const char *conn_role_name(uint8_t role)
{
	switch (role) {
	case ROLE_ACTIVE:
		return "active";
	case ROLE_PASSIVE:
		return "passive";
	case ROLE_LISTENER:
		return "listener";
	default:
		return "unknown";
	}
}

const char *conn_closer_name(uint8_t closer)
{
	switch (closer) {
	case CLOSER_LOCAL:
		return "local";
	case CLOSER_PEER:
		return "peer";
	case CLOSER_SIMULTANEOUS:
		return "simultaneous";
	default:
		return NULL;
	}
}

const char *conn_fin_by_name(uint8_t fin_by)
{
	return fin_by == FIN_BY_CLOSE ? "close" : fin_by == FIN_BY_SHUTDOWN ? "shutdown" : NULL;
}

const char *conn_end_name(uint8_t end)
{
	static const char *const names[] = {
		[END_OPEN] = "open",
		[END_ORDERLY] = "orderly",
		[END_RST_SENT] = "rst_sent",
		[END_RST_RECEIVED] = "rst_received",
		[END_REFUSED] = "refused",
		[END_HANDSHAKE_TIMEOUT] = "handshake_timeout",
		[END_TIMEOUT] = "timeout",
		[END_CLOSED] = "closed",
		[END_UNKNOWN] = "unknown",
		[END_RETRANSMIT_TIMEOUT] = "retransmit_timeout",
		[END_KEEPALIVE_TIMEOUT] = "keepalive_timeout",
		[END_USER_TIMEOUT] = "user_timeout",
		[END_ZERO_WINDOW_TIMEOUT] = "zero_window_timeout",
		[END_NO_LOCAL_PORT] = "no_local_port",
	};

	return end < sizeof(names) / sizeof(names[0]) ? names[end] : "unknown";
}
