/* One tracked socket: its identity and the states it went through. */
#ifndef TT_CONN_H
#define TT_CONN_H

#include <stdint.h>
#include "tcptrail.h"

/* A normal life has at most 6 states (SYN_SENT, ESTABLISHED, FIN_WAIT1,
 * FIN_WAIT2/CLOSING, TIME_WAIT); the rest is headroom. Longer lives keep the
 * first states and the last one, and are marked truncated.
 */
#define CONN_MAX_STATES 10

enum conn_role {
	ROLE_UNKNOWN = 0,
	ROLE_ACTIVE,	/* connect(): began in SYN_SENT */
	ROLE_PASSIVE,	/* accepted: began in SYN_RECV */
	ROLE_LISTENER,
};

enum conn_closer {
	CLOSER_NONE = 0,	/* nobody closed: a timeout, or still open */
	CLOSER_LOCAL,
	CLOSER_PEER,
	CLOSER_SIMULTANEOUS,	/* both FINs crossed: FIN_WAIT1 -> CLOSING */
};

enum conn_flags {
	CONN_PREEXISTING = 1 << 0, /* began before tracing: start unknown */
	CONN_LOST = 1 << 1,	   /* a record of it was lost in the kernel */
	CONN_GAP = 1 << 2,	   /* a transition did not follow from the last state */
	CONN_RST_SENT = 1 << 3,
	CONN_RST_RECV = 1 << 4,
	CONN_CLOSED = 1 << 5,	   /* reached CLOSE; waiting out the grace period */
	CONN_TRUNCATED = 1 << 6,   /* more states than CONN_MAX_STATES */
	CONN_EVICTED = 1 << 7,	   /* pushed out of a full table before it ended */
	CONN_OWNER_SEEN = 1 << 8,  /* pid/comm come from the socket's own task */
	CONN_VANISHED = 1 << 9,	   /* the kernel no longer has it; its CLOSE was not seen */
	CONN_SWEEP = 1 << 10,	   /* reconcile: found in the kernel's list */
	CONN_LEAK_REPORTED = 1 << 11, /* reported as a CLOSE_WAIT leak, not resolved */
	CONN_REFERENCED = 1 << 12, /* conn_table's: used since it last passed the eviction hand */
	CONN_HS_SEEN = 1 << 13,	   /* its handshake's completion was recorded */
	CONN_WATCHED = 1 << 14,	   /* only watched in CLOSE_WAIT: the kernel keeps its life */
};

/* Did the application take a passive connection from the accept queue? */
enum conn_accept {
	ACCEPT_UNKNOWN = 0,	/* not seen: a path not traced (io_uring), no hooks, or
				 * a history not wholly seen
				 */
	ACCEPT_YES,		/* accept()/accept4() returned it */
	ACCEPT_NO,		/* closed while still queued */
};

/* Which call sent our FIN, when we closed first. */
enum conn_fin_by {
	FIN_BY_UNKNOWN = 0,
	FIN_BY_CLOSE,
	FIN_BY_SHUTDOWN,
};

struct conn {
	uint64_t cookie;
	uint64_t cgroup;	     /* cgroup v2 id of the socket; 0: not known */
	uint64_t entered[CONN_MAX_STATES]; /* CLOCK_MONOTONIC ns each state began */
	struct tt_close_info close;
	uint8_t laddr[TT_ADDR_LEN];
	uint8_t raddr[TT_ADDR_LEN];
	uint32_t netns;
	uint32_t pid;
	uint32_t lru_prev, lru_next; /* conn_table's; pool index + 1, 0 = none */
	uint16_t lport, rport;
	uint16_t flags;		     /* enum conn_flags */
	uint8_t family;		     /* AF_INET / AF_INET6 */
	uint8_t nstates;
	uint8_t states[CONN_MAX_STATES];
	uint8_t role;		     /* enum conn_role */
	uint8_t closer;		     /* enum conn_closer: who sent the first FIN */
	char comm[TT_COMM_LEN];
	uint32_t leak_pid;	     /* owner named when reported as a leak */
	uint64_t handshake_ns;	     /* 0: not known */
	/* when accept() returned it; 0: not seen. From then on pid/comm name
	 * the accepting task and no later one: the truest owner there is.
	 */
	uint64_t accept_ns;
	uint8_t hs_retrans;	     /* SYNs or SYN-ACKs retransmitted, if established */
	uint8_t accepted;	     /* enum conn_accept */
	uint8_t fin_by;		     /* enum conn_fin_by */
	uint8_t close_flags;	     /* the CLOSE record's flags (enum tt_event_flags) */
};

#endif
