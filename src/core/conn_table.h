/* Bounded table of tracked sockets keyed by socket cookie, with
 * second-chance (CLOCK) eviction order, an approximation of LRU.
 * All memory is reserved up front (untouched pages cost nothing), so the hot
 * path never allocates and the table never grows past its limit.
 */
#ifndef TT_CONN_TABLE_H
#define TT_CONN_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "conn.h"

struct conn_table;

/* A table for at most max_conns sockets; NULL on allocation failure. */
struct conn_table *conn_table_new(uint32_t max_conns);
void conn_table_free(struct conn_table *t);

struct conn *conn_table_find(struct conn_table *t, uint64_t cookie);

/* A zeroed entry for cookie, newest in eviction order. NULL when the table
 * is full (the caller decides what to evict) or cookie is already present.
 */
struct conn *conn_table_insert(struct conn_table *t, uint64_t cookie);

/* Forget c; the pointer is invalid afterwards. */
void conn_table_remove(struct conn_table *t, struct conn *c);

/* Note that c was used: it gets a second chance before eviction. A bit in
 * the entry at hand, so the hot path touches no other entry.
 */
static inline void conn_table_touch(struct conn_table *t, struct conn *c)
{
	(void)t;
	c->flags |= CONN_REFERENCED;
}

/* The entry to evict: the oldest not used since the hand last passed it
 * (entries used meanwhile move to the back, their bit cleared). NULL when
 * empty.
 */
struct conn *conn_table_victim(struct conn_table *t);

/* The oldest entry in eviction order, whatever its bit. */
struct conn *conn_table_oldest(struct conn_table *t);

uint32_t conn_table_count(const struct conn_table *t);

/* Bytes reserved per tracked socket, index included. */
size_t conn_table_bytes_per_conn(void);

/* Call fn on every entry, oldest first in eviction order. fn may remove the entry it is given,
 * nothing else.
 */
void conn_table_foreach(struct conn_table *t, void (*fn)(struct conn *c, void *arg),
			void *arg);

#endif
