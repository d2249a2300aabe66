/* Feeds the listener watch: every listener and half-open request of every
 * namespace (iter/tcp), each namespace's counters and sysctls read inside
 * it, and the processes that own the listeners.
 */
#ifndef TT_LISTEN_SAMPLER_H
#define TT_LISTEN_SAMPLER_H

#include <stdint.h>
#include "listen_watch.h"
#include "owners.h"
#include "ports.h"
#include "snapshot.h"

struct listen_sampler {
	struct snapshot *snap;
	struct listen_watch *lw;
	struct owner_index owners;
	int owner_err;			/* the last owner search's failure, said once */
	uint32_t max_socks;		/* the /proc owner fallback's socket list */
	uint64_t *unowned;		/* listeners without a known owner */
	uint64_t *missed;		/* those the last search missed, sorted */
	size_t nmissed;
	uint64_t search_next_ns;	/* no search for missed ones before */
	char *text;			/* /proc/net/netstat */
	size_t text_cap;
	bool warned_counters;
	/* NULL, or the port watch whose namespaces' port limits are read
	 * here too
	 */
	struct ports *ports;
	/* the last sample's walk met every reachable namespace */
	bool walk_complete;
	/* NULL, or called after each sample's sockets are read, before its
	 * figures are final (the kernel's per-listener counts go in there)
	 */
	void (*counts)(struct listen_watch *lw, void *arg);
	void *counts_arg;
};

/* Returns 0 or -ENOMEM. */
int listen_sampler_init(struct listen_sampler *ls, struct snapshot *snap,
			struct listen_watch *lw, uint32_t max_socks);
void listen_sampler_free(struct listen_sampler *ls);

/* Take one sample of every namespace; alerts go to fn. Returns 0 or
 * negative errno.
 */
int listen_sampler_run(struct listen_sampler *ls, uint64_t now_ns, lw_alert_fn fn, void *arg);

#endif
