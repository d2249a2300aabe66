/* The most limited connections of the last minute, for `tcptrail top`:
 * finished histories ranked by the time a limit held them back, kept in
 * ten-second buckets so a connection leaves the list exactly when its
 * bucket grows older than the window, and the next-ranked takes its place.
 */
#ifndef TT_SLOW_CONNS_H
#define TT_SLOW_CONNS_H

#include <stdint.h>
#include "conn.h"
#include "history.h"

#define SLOW_CONNS_SHOWN 5			/* rows top draws */
#define SLOW_CONNS_BUCKETS 6
#define SLOW_CONNS_BUCKET_NS 10000000000ull	/* 6 x 10 s: the last minute */

struct slow_conn {
	uint64_t held_ns;	/* the ranking key: see slow_conns_held_ns() */
	uint64_t duration_ns;
	uint64_t busy_ns;
	uint32_t rtt_us;	/* UINT32_MAX: not known */
	uint32_t retrans_segs, data_segs_out;
	uint32_t pid;
	uint16_t lport, rport;
	uint8_t laddr[16], raddr[16];
	uint8_t family, role, limited_by;
	char comm[16];
};

/* The list and its counts (slow_conns.c's). */
struct slow_conns;

struct slow_conns_counts {
	uint64_t closed;		/* histories seen, all time */
	uint64_t retrans_segs;		/* their retransmitted segments */
	uint64_t retransmits;		/* live retransmit records */
};

/* An empty list; NULL when memory is short. */
struct slow_conns *slow_conns_new(void);
void slow_conns_free(struct slow_conns *sc);
const struct slow_conns_counts *slow_conns_counts(const struct slow_conns *sc);
/* A live retransmit record was seen. */
void slow_conns_retransmit(struct slow_conns *sc);

/* How long a limit held c back: its receive-window and send-buffer
 * limited time, or, limited by loss, all its busy time; 0 when nothing
 * limited it (such connections are never listed).
 */
uint64_t slow_conns_held_ns(const struct tt_delivery *dl);

/* Take a finished history (those without delivery facts only count). */
void slow_conns_add(struct slow_conns *sc, const struct conn *c,
		    const struct history_summary *s);

/* The up to SLOW_CONNS_SHOWN most held-back connections closed within the
 * minute before now_ns, best first, into out; returns how many.
 */
unsigned slow_conns_top(const struct slow_conns *sc, uint64_t now_ns,
			struct slow_conn out[SLOW_CONNS_SHOWN]);

#endif
