/* Builders of synthetic kernel records for the unit tests. */
#ifndef TT_TEST_EVENTS_H
#define TT_TEST_EVENTS_H

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "listen_watch.h"
#include "tcptrail.h"

/* The namespace the listener builders put their sockets in. */
#define LISTEN_NETNS 4026532000u

static inline struct tt_event ev_state(uint64_t cookie, uint64_t ts, uint8_t old, uint8_t new_,
				       int owner)
{
	struct tt_event e;

	memset(&e, 0, sizeof(e));
	e.type = TT_EV_STATE;
	e.cookie = cookie;
	e.ts_ns = ts;
	e.family = AF_INET;
	e.saddr[0] = 127, e.saddr[3] = 1;
	e.daddr[0] = 127, e.daddr[3] = 1;
	e.sport = 40000;
	e.dport = 8080;
	e.netns = 4026531840u;
	e.oldstate = old;
	e.newstate = new_;
	e.pid = 1234;
	strcpy(e.comm, "client");
	if (owner)
		e.flags = TT_F_OWNER_CTX;
	return e;
}

static inline struct tt_event ev_close(uint64_t cookie, uint64_t ts, uint8_t old, int sk_err)
{
	struct tt_event e = ev_state(cookie, ts, old, TT_TCP_CLOSE, 0);

	e.close.sk_err = sk_err;
	e.close.bytes_acked = 100;
	e.close.bytes_received = 200;
	return e;
}

static inline struct tt_event ev_reset(uint64_t cookie, uint64_t ts, int sent, uint8_t state)
{
	struct tt_event e = ev_state(cookie, ts, state, state, 0);

	e.type = sent ? TT_EV_RESET_SENT : TT_EV_RESET_RECV;
	return e;
}

/* A life the kernel kept, sent at its CLOSE from the last of states[]
 * (each entered 1 ms after the one before, from ts).
 */
static inline struct tt_history ev_history(uint64_t cookie, uint64_t ts, const uint8_t *states,
					   int n, uint16_t flags, int sk_err)
{
	struct tt_history h;

	memset(&h, 0, sizeof(h));
	h.ev = ev_close(cookie, ts + (uint64_t)n * 1000000ull, states[n - 1], sk_err);
	h.ev.type = TT_EV_HISTORY;
	for (int i = 0; i < n && i < TT_HIST_STATES; i++) {
		h.st.states[i] = states[i];
		h.st.entered[i] = ts + (uint64_t)i * 1000000ull;
	}
	h.st.nstates = (uint8_t)n;
	h.st.flags = flags;
	return h;
}

/* A listener's sample record. */
static inline struct tt_sock_record listener_rec(uint64_t cookie, uint16_t port, uint32_t acc,
						 uint32_t max, uint32_t synq, uint32_t drops)
{
	struct tt_sock_record r;

	memset(&r, 0, sizeof(r));
	r.cookie = cookie;
	r.family = AF_INET;
	r.netns = LISTEN_NETNS;
	r.state = TT_TCP_LISTEN;
	r.sport = port;
	r.acceptq_len = acc;
	r.acceptq_max = max;
	r.synq_len = synq;
	r.drops = drops;
	r.cookie_idle_ms = ~0u;
	return r;
}

/* Sysctls as a default-configured machine has them. */
static inline void sysctls_default(int64_t s[LW_N_SYSCTLS])
{
	s[LW_SOMAXCONN] = 4096;
	s[LW_MAX_SYN_BACKLOG] = 2048;
	s[LW_SYNCOOKIES] = 1;
	s[LW_ABORT_ON_OVERFLOW] = 0;
	s[LW_SYNACK_RETRIES] = 5;
}

#endif
