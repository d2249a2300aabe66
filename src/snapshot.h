/* Startup snapshot: every TCP socket in every reachable network namespace,
 * through the iter/tcp BPF iterator, or sock_diag netlink where the kernel
 * lacks it.
 */
#ifndef TT_SNAPSHOT_H
#define TT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include "tcptrail.h"

struct snapshot_bpf;
struct bpf_link;

struct snapshot {
	struct snapshot_bpf *skel;
	struct bpf_link *link;
	bool via_diag;		/* fallback in use */
};

typedef void (*snapshot_fn)(const struct tt_sock_record *r, void *arg);

/* Prepare the iterator; falls back to sock_diag when it cannot load (or when
 * TCPTRAIL_SNAPSHOT=diag asks for it). Returns 0 or negative errno.
 */
int snapshot_open(struct snapshot *s);
void snapshot_close(struct snapshot *s);

/* Visit every socket of the calling thread's namespace. */
int snapshot_here(struct snapshot *s, snapshot_fn fn, void *arg);

/* Visit every socket of every namespace; *visited gets how many namespaces
 * were read. Returns 0 or negative errno (a namespace that vanishes meanwhile
 * is not an error).
 */
int snapshot_all(struct snapshot *s, snapshot_fn fn, void *arg, size_t *visited);

#endif
