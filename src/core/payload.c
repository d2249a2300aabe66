/* Sequence space to payload. Verified on the real kernel against ss -ti
 * (tests/integration/test_payload.py):
 * - bytes_acked moves with snd_una (tcp_snd_una_update()). An active open's
 *   snd_una starts at its ISN, so the SYN-ACK's ACK of the SYN counts one;
 *   a passive child starts at the ISN + 1 (tcp_create_openreq_child()), so
 *   its SYN-ACK does not count. Our FIN counts one once the peer ACKs it.
 * - bytes_received moves with rcv_nxt (tcp_rcv_nxt_update()), which starts
 *   past the peer's SYN in both roles; the peer's FIN counts one.
 */
#include "payload.h"

/* The states a summary holds (it never says more than it has room for,
 * but a summary is not trusted here: fuzz_emit hands in any count).
 */
static uint8_t held(const struct history_summary *s)
{
	return s->nstates < CONN_MAX_STATES ? s->nstates : CONN_MAX_STATES;
}

static bool passed(const struct history_summary *s, uint8_t state)
{
	for (uint8_t i = 0; i < held(s); i++)
		if (s->states[i] == state)
			return true;
	return false;
}

/* The peer acknowledged our FIN: FIN_WAIT2 or TIME_WAIT reached, or
 * LAST_ACK ended in order.
 */
static bool our_fin_acked(const struct history_summary *s)
{
	uint8_t n = held(s), last = n ? s->states[n - 1] : 0;

	return passed(s, TT_TCP_FIN_WAIT2) || passed(s, TT_TCP_TIME_WAIT) ||
	       (last == TT_TCP_CLOSE && n >= 2 && s->states[n - 2] == TT_TCP_LAST_ACK &&
		s->end == END_ORDERLY);
}

/* The peer's FIN arrived: CLOSE_WAIT, CLOSING or TIME_WAIT reached. */
static bool peer_fin_received(const struct history_summary *s)
{
	return passed(s, TT_TCP_CLOSE_WAIT) || passed(s, TT_TCP_CLOSING) ||
	       passed(s, TT_TCP_TIME_WAIT);
}

static uint64_t less(uint64_t v, unsigned n)
{
	return v > n ? v - n : 0;
}

void payload_of(const struct conn *c, const struct history_summary *s, struct payload *p)
{
	unsigned seq = our_fin_acked(s);

	/* an active open's SYN was acknowledged if it got past SYN_SENT */
	if (c->role == ROLE_ACTIVE && c->close.bytes_acked)
		seq++;
	p->known = c->flags & CONN_CLOSED;
	p->acked_known = p->known && (c->role == ROLE_ACTIVE || c->role == ROLE_PASSIVE);
	p->acked = less(c->close.bytes_acked, seq);
	p->received = less(c->close.bytes_received, peer_fin_received(s));
}
