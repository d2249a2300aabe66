/* Payload bytes of a finished connection, from the kernel's counters.
 * tcpi_bytes_acked and tcpi_bytes_received (tcp_sock.bytes_acked,
 * bytes_received) count sequence space: the SYN and the FIN take one each.
 * Which of them a connection's counters include follows from its history.
 */
#ifndef TT_PAYLOAD_H
#define TT_PAYLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include "conn.h"
#include "history.h"

struct payload {
	/* the socket's counters were read as it closed: without a CLOSE
	 * record (evicted, vanished) none of these are known
	 */
	bool known;
	bool acked_known;	/* false also where the open was not seen (only an
				 * active open's SYN counts)
				 */
	uint64_t acked;		/* payload bytes the peer acknowledged */
	uint64_t received;	/* payload bytes received in order */
};

/* The payload of c, whose summary is s. */
void payload_of(const struct conn *c, const struct history_summary *s, struct payload *p);

#endif
