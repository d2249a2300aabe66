/* Startup snapshot: every TCP socket in every reachable network namespace,
 * through the iter/tcp BPF iterator, or sock_diag netlink where the kernel
 * lacks it.
 */
#ifndef TT_SNAPSHOT_H
#define TT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tcptrail.h"

/* The iterators, or what stands in for them (snapshot.c's). */
struct snapshot;

typedef void (*snapshot_fn)(const struct tt_sock_record *r, void *arg);

/* Prepare the iterators; falls back to sock_diag (sockets) and /proc
 * (descriptors) when they cannot load, or when TCPTRAIL_SNAPSHOT=diag and
 * TCPTRAIL_OWNERS=proc ask for it. Fails (NULL) only when memory is short:
 * a fallback that loses a capability is said once here, and the visits
 * below report what they cannot do.
 */
struct snapshot *snapshot_open(void);
/* NULL is fine. */
void snapshot_close(struct snapshot *s);

/* The kernel's tick rate, measured at open; 0 if it could not be. */
uint32_t snapshot_hz(const struct snapshot *s);

/* Descriptors come through the /proc fallback. */
bool snapshot_files_via_proc(const struct snapshot *s);

/* Sockets come through the sock_diag fallback. */
bool snapshot_via_diag(const struct snapshot *s);

/* Visit every socket of the calling thread's namespace. -EOPNOTSUPP when
 * no source of sockets can name them as the tracer does.
 */
int snapshot_here(struct snapshot *s, snapshot_fn fn, void *arg);

/* Visit the listeners of the calling thread's namespace, and their request
 * sockets when asked (or where only sock_diag is there). Without requests
 * the iterator stops at the end of the listening hash: a machine holding a
 * million connections is not walked for its listeners.
 */
int snapshot_listeners_here(struct snapshot *s, bool requests, snapshot_fn fn, void *arg);

/* Visit the request sockets (SYN queues) of the calling thread's namespace:
 * the whole established hash is walked.
 */
int snapshot_requests_here(struct snapshot *s, snapshot_fn fn, void *arg);

/* Visit every socket of every namespace whose state's bit (1 << state) is
 * in states (0: all); *visited gets how many namespaces were read. The
 * kernel filters, so few are copied. Returns 0 or negative errno (a
 * namespace that vanishes meanwhile is not an error).
 */
int snapshot_all(struct snapshot *s, uint32_t states, snapshot_fn fn, void *arg,
		 size_t *visited);

/* Sockets of every namespace, in one list. */
struct snapshot_list {
	struct tt_sock_record *v;
	size_t n, cap;
	size_t dropped;		/* sockets beyond cap (or memory) */
	bool nomem;		/* some were dropped for want of memory */
	size_t namespaces;	/* namespaces read */
};

/* Fill l with at most cap sockets in states (as snapshot_all()), the rest
 * counted in l->dropped. Returns 0 or negative errno; free l with
 * snapshot_list_free() either way.
 */
int snapshot_collect(struct snapshot *s, uint32_t states, struct snapshot_list *l, size_t cap);
void snapshot_list_free(struct snapshot_list *l);

/* Every TCP socket of every namespace, counted by state: in the kernel
 * (nothing copied) with the iterator, else through sock_diag.
 */
int snapshot_count_states(struct snapshot *s, uint64_t counts[16]);

/* Full and timewait TCP sockets of the whole machine, from /proc/net/sockstat
 * (cheap: no walk); 0 if unknown.
 */
uint64_t snapshot_tcp_allocated(void);

typedef void (*snapshot_file_fn)(const struct tt_file_record *r, void *arg);

/* Visit every descriptor of a TCP socket (in 'state', or any if 0) held by
 * any process, through iter/task_file. Returns -EOPNOTSUPP when only the
 * /proc fallback is available (see owners.c).
 */
int snapshot_files(struct snapshot *s, uint8_t state, snapshot_file_fn fn, void *arg);

#endif
