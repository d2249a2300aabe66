/* Bounded table of tracked sockets keyed by socket cookie, with LRU order.
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

/* A zeroed entry for cookie, newest in LRU order. NULL when the table is full
 * (the caller decides what to evict) or cookie is already present.
 */
struct conn *conn_table_insert(struct conn_table *t, uint64_t cookie);

/* Forget c; the pointer is invalid afterwards. */
void conn_table_remove(struct conn_table *t, struct conn *c);

/* Mark c most recently used. */
void conn_table_touch(struct conn_table *t, struct conn *c);

/* The least recently used entry, or NULL when empty. */
struct conn *conn_table_oldest(struct conn_table *t);

uint32_t conn_table_count(const struct conn_table *t);
uint32_t conn_table_capacity(const struct conn_table *t);

/* Bytes reserved per tracked socket, index included. */
size_t conn_table_bytes_per_conn(void);

/* Call fn on every entry, oldest first. fn may remove the entry it is given,
 * nothing else.
 */
void conn_table_foreach(struct conn_table *t, void (*fn)(struct conn *c, void *arg),
			void *arg);

#endif
