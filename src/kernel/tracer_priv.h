/* What the tracer's modules share: the tracer itself (tracer.c: its
 * lifecycle and the maps it reads; tracer_setup.c: what the kernel has,
 * what to load, and saying so).
 */
#ifndef TT_TRACER_PRIV_H
#define TT_TRACER_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include "tracer.h"
#include "tcptrail.skel.h"

struct tracer {
	struct tcptrail_bpf *skel;
	struct ring_buffer *rb;
	struct tracer_features feat;
	struct tracer_config cfg;
	int ncpus;
	uint64_t *percpu;	/* scratch for reading a per-CPU counter */
	struct tt_nest *nest;	/* scratch for reading the per-CPU state */
	uint64_t *cookies;	/* scratch for draining lost_cookies */
	/* destinations at 0 when last read, sorted: removed if still at 0 */
	struct tt_dest_key *idle, *idle_next;
	uint32_t nidle;
	struct rst_reasons rst;
	uint32_t hz;		/* the kernel's tick rate; 0: not known */
	struct tt_history history;	/* a history being put in ns */
	bool syscalls_off;	/* TCPTRAIL_SYSCALLS=off */
	bool userspace_lives;	/* TCPTRAIL_HISTORIES=userspace */
	bool storage_in_kernel;	/* tracing programs may keep socket storage */
};

/* Probe the kernel's features and the environment's overrides. */
int tracer_setup_probe(struct tracer *t);
/* Open, configure and load the skeleton, each program or its fallback;
 * every failure said. Returns 0 with *skel set, or a negative errno.
 */
int tracer_setup_load(struct tracer *t, void **skel);
/* What loaded decides what the tracer has (t->feat); one -v line says it. */
void tracer_setup_say(struct tracer *t);

#endif
