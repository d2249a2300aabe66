/* Which processes hold descriptors of which TCP sockets: the true owners,
 * found by walking every process's file table, not by guessing from the task
 * that happened to be running when a packet arrived.
 */
#ifndef TT_OWNERS_H
#define TT_OWNERS_H

#include <stddef.h>
#include <stdint.h>
#include "owner.h"
#include "snapshot.h"
#include "tcptrail.h"

/* The index (owners.c's). */
struct owner_index;

/* An empty index holding at most max descriptors; NULL when memory is
 * short.
 */
struct owner_index *owner_index_new(size_t max);
/* Free ix (NULL is fine). */
void owner_index_free(struct owner_index *ix);

/* Replace the contents with every descriptor of a TCP socket in 'state' (any
 * if 0) held by any process. Uses iter/task_file, or /proc/PID/fd matched by
 * socket inode against socks (the caller's snapshot) where the iterator is
 * unavailable. Returns 0 or negative errno (the index is then empty).
 */
int owner_index_scan(struct owner_index *ix, struct snapshot *snap, uint8_t state,
		     const struct tt_sock_record *socks, size_t nsocks);

/* owner_index_scan() for callers without a socket list: reads one (at most
 * max_socks sockets) only when the /proc fallback needs it.
 */
int owner_index_scan_all(struct owner_index *ix, struct snapshot *snap, uint8_t state,
			 size_t max_socks);

/* Descriptors the last scan found beyond the index's limit. */
size_t owner_index_dropped(const struct owner_index *ix);

/* The owners of cookie: count, with *first pointing at the first. */
size_t owner_index_find(const struct owner_index *ix, uint64_t cookie,
			const struct owner **first);

#endif
