/* Half-open requests by source: which addresses and /24 (IPv4) or /64
 * (IPv6) prefixes hold a listener's SYN queue. Used by listen_watch.c.
 */
#ifndef TT_LISTEN_SOURCES_H
#define TT_LISTEN_SOURCES_H

#include <stddef.h>
#include <stdint.h>
#include "listen_watch.h"

/* One half-open request seen in a sample. */
struct lw_request {
	uint64_t listener;	/* its listener's cookie */
	uint64_t cookie;	/* its own: the same request seen twice counts once */
	uint8_t addr[TT_ADDR_LEN];
	uint16_t family;
};

typedef struct lw_listener *(*lw_find_fn)(void *ctx, uint64_t cookie);

/* Rank the sources of each listener's requests into its top_addrs and
 * top_prefixes (which the caller has emptied); find names the listener of
 * a cookie. Sorts req and rewrites its addresses.
 */
void listen_sources_tally(struct lw_request *req, size_t n, lw_find_fn find, void *ctx);

#endif
