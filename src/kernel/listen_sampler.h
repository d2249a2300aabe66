/* Feeds the listener watch: every listener and half-open request of every
 * namespace (iter/tcp), each namespace's counters and sysctls read inside
 * it, and the processes that own the listeners.
 */
#ifndef TT_LISTEN_SAMPLER_H
#define TT_LISTEN_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>
#include "listen_watch.h"
#include "owners.h"
#include "ports.h"
#include "snapshot.h"

/* What a sampler reads and where it reports. */
struct listen_sampler_config {
	struct snapshot *snap;
	struct listen_watch *lw;
	uint32_t max_socks;		/* the /proc owner fallback's socket list */
	/* NULL, or the port watch whose namespaces' port limits are read
	 * here too
	 */
	struct ports *ports;
	/* NULL, or called after each sample's sockets are read, before its
	 * figures are final (the kernel's per-listener counts go in there)
	 */
	void (*counts)(struct listen_watch *lw, void *arg);
	void *counts_arg;
};

struct listen_sampler;

/* NULL when out of memory. */
struct listen_sampler *listen_sampler_new(const struct listen_sampler_config *cfg);
/* NULL-safe. */
void listen_sampler_free(struct listen_sampler *ls);

/* Whether the last sample's walk met every reachable namespace. */
bool listen_sampler_walk_complete(const struct listen_sampler *ls);

/* Take one sample of every namespace; alerts go to fn. Returns 0 or
 * negative errno.
 */
int listen_sampler_run(struct listen_sampler *ls, uint64_t now_ns, lw_alert_fn fn, void *arg);

#endif
