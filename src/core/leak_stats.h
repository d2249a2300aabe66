/* CLOSE_WAIT leaks per process: how many a process holds now and has ever
 * been reported for. Bounded: processes beyond the limit are counted only in
 * aggregate.
 */
#ifndef TT_LEAK_STATS_H
#define TT_LEAK_STATS_H

#include <stdint.h>
#include "tcptrail.h"

#define LEAK_STATS_MAX 1024

struct proc_leaks {
	uint32_t pid;
	uint32_t now;		/* reported and not resolved */
	uint64_t total;		/* ever reported */
	char comm[TT_COMM_LEN];
};

struct leak_stats {
	struct proc_leaks v[LEAK_STATS_MAX];
	uint32_t n;
	uint64_t untracked;	/* leaks of processes beyond the limit */
};

/* A leak reported for pid; returns how many pid now holds. */
uint32_t leak_stats_add(struct leak_stats *ls, uint32_t pid, const char *comm);
/* A leak of pid resolved. */
void leak_stats_resolve(struct leak_stats *ls, uint32_t pid);

#endif
