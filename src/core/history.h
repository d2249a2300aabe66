/* History reconstruction: turns a socket's kernel records into the story of
 * its life (states, durations, who closed, how it ended). Pure logic: no I/O,
 * no clock, no allocation; fed by live tracing, replay and unit tests alike.
 */
#ifndef TT_HISTORY_H
#define TT_HISTORY_H

#include <stdbool.h>
#include <stdint.h>
#include "conn.h"
#include "tcptrail.h"

enum conn_end {
	END_OPEN = 0,		/* not ended (still open, or evicted) */
	END_ORDERLY,		/* FIN exchange completed */
	END_RST_SENT,		/* we aborted it with a reset */
	END_RST_RECEIVED,	/* the peer reset it */
	END_REFUSED,		/* the peer answered our SYN with a reset */
	END_HANDSHAKE_TIMEOUT,	/* no answer to SYN (or SYN-ACK) in time */
	END_TIMEOUT,		/* retransmissions or keepalives gave up */
	END_CLOSED,		/* closed without FIN exchange or reset (e.g. listener gone) */
	END_UNKNOWN,		/* gone from the kernel without a CLOSE we saw */
	/* END_TIMEOUT told apart by the socket's state when it gave up */
	END_RETRANSMIT_TIMEOUT,	/* sent data never acknowledged */
	END_KEEPALIVE_TIMEOUT,	/* keepalive probes unanswered */
	END_USER_TIMEOUT,	/* TCP_USER_TIMEOUT set: it decided */
	END_ZERO_WINDOW_TIMEOUT,/* window probes unanswered (data waiting) */
	/* connect() found no free local port (EADDRNOTAVAIL): SYN_SENT, then
	 * CLOSE, no packet sent; the port watch counts these per destination
	 */
	END_NO_LOCAL_PORT,
	END_N,
};

#define DURATION_UNKNOWN UINT64_MAX

struct history_summary {
	uint8_t nstates;
	uint8_t states[CONN_MAX_STATES];
	uint64_t durations_ns[CONN_MAX_STATES]; /* DURATION_UNKNOWN for the last */
	uint64_t start_ns;	/* when the first state began (lower bound if preexisting) */
	uint64_t end_ns;	/* when the last state began */
	uint8_t end;		/* enum conn_end */
	uint8_t closer;		/* enum conn_closer */
	bool tw_inferred;	/* last state TIME_WAIT reconstructed, not seen */
	bool complete;
	/* Handshake: active, SYN_SENT to ESTABLISHED; passive, first SYN-ACK
	 * sent to the completing ACK. DURATION_UNKNOWN if not known.
	 */
	uint64_t handshake_ns;
	int16_t handshake_retrans;	/* SYNs / SYN-ACKs retransmitted; -1 unknown */
	uint8_t accepted;		/* enum conn_accept (passive only) */
	uint8_t fin_by;			/* enum conn_fin_by */
	/* handshake completion (entering the accept queue) to accept() */
	uint64_t accept_wait_ns;
	/* our FIN by shutdown() to the end of the half-closed span: the peer's
	 * FIN, or our own close
	 */
	uint64_t half_close_ns;
	/* timeouts: since the peer's last ACK, and the probes or retransmits
	 * the timer made (-1, DURATION_UNKNOWN: not a timeout, or not known)
	 */
	uint64_t last_ack_age_ns;
	int16_t timeout_attempts;
	/* how it delivered (lives the kernel kept); NULL: not known */
	const struct tt_delivery *dl;
};

/* Start c (zeroed but for its cookie) from the first record seen for it.
 * A first transition that does not begin a life (connect, passive open,
 * listen) marks the history as begun before tracing.
 */
void history_start(struct conn *c, const struct tt_event *e);

/* Start c from a socket found by the startup snapshot: in 'state' since at
 * least now_ns.
 */
void history_seed(struct conn *c, const struct tt_sock_record *r, uint64_t now_ns);

/* Apply a state transition to a started history. */
void history_on_state(struct conn *c, const struct tt_event *e);

/* Start c (zeroed but for its cookie) from a whole life the kernel kept
 * (a TT_EV_HISTORY record): it ends closed. Returns the states the life
 * held twice in a row, left out (older kernels' catchers kept some).
 */
unsigned history_from_kernel(struct conn *c, const struct tt_history *h);

/* accept() returned this socket (a TT_EV_ACCEPT record). */
void history_on_accept(struct conn *c, const struct tt_event *e);

/* When c finished its handshake: the time it entered the accept queue, for
 * a passive socket. 0 if not seen.
 */
uint64_t history_established_at(const struct conn *c);

/* Note a reset sent or received on this socket. */
void history_on_reset(struct conn *c, const struct tt_event *e);

/* Does a reset we sent in state end the connection's life? Not one sent
 * in SYN_SENT: that answers an ACK for none of our SYNs (as a challenge
 * ACK from the peer's older socket on the same ports), and the socket goes
 * on connecting (tcp_rcv_synsent_state_process(), reset_and_undo). A state
 * of 0 (not known) counts.
 */
bool history_reset_sent_ends(uint8_t state);

/* The kernel reports the socket in 'state' although no record said so:
 * records were lost. Appends the state, marks the gap.
 */
void history_observe(struct conn *c, uint8_t state, uint64_t ts);

/* Does this transition begin a life (connect, passive open, listen)? On a
 * tracked socket it starts a new history: connect() again after a failed
 * connect or a disconnect, or (where ids are socket addresses) a new socket
 * where a tracked one's end was never seen.
 */
bool history_begins_life(const struct tt_event *e);

/* Compute the finished story. Valid for open histories too (END_OPEN). */
void history_summarize(const struct conn *c, struct history_summary *s);

/* What held a connection back, from how it delivered (docs/why-slow.md, "The
 * diagnosis" gives the rule).
 */
enum conn_limit {
	LIMIT_UNKNOWN = 0,	/* no delivery facts, or no time sending data */
	LIMIT_NONE,		/* nothing held it back most of the time */
	/* a third of the busy time or more, and more than the other limit:
	 * BBR's pacing keeps a send-buffer-limited sender "busy" more than
	 * half the time, so "most" is the largest share, not a majority
	 */
	LIMIT_RECEIVER,		/* the peer's receive window */
	LIMIT_SENDER_BUFFER,	/* our send buffer */
	LIMIT_LOSS,		/* a tenth of its data segments, and 3 or more, retransmitted */
};

uint8_t history_limited_by(const struct tt_delivery *dl);
/* The last delivery-rate sample in bits per second, as ss -ti prints it;
 * DURATION_UNKNOWN when there is none.
 */
uint64_t history_delivery_rate_bps(const struct tt_delivery *dl);
const char *conn_limit_name(uint8_t limit);	/* NULL for LIMIT_UNKNOWN */

const char *conn_role_name(uint8_t role);
const char *conn_closer_name(uint8_t closer); /* NULL for CLOSER_NONE */
const char *conn_end_name(uint8_t end);
const char *conn_fin_by_name(uint8_t fin_by);	/* NULL for unknown */

#endif
