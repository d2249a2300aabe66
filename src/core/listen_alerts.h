/* Listener alert rules (the thresholds are in docs/listeners.md). */
#ifndef TT_LISTEN_ALERTS_H
#define TT_LISTEN_ALERTS_H

#include <stdint.h>
#include "listen_watch.h"

/* The SYN queue limit the kernel applies to l in namespace ns. */
uint32_t listen_alerts_synq_limit(const struct lw_listener *l, const struct lw_netns *ns);

/* How full l's fuller queue is, 0..1 (and above: the kernel admits one more). */
double listen_alerts_pressure(const struct lw_listener *l);

/* The SYN rate (a second) at which l's rate is a cause of syn_flood: the
 * floor, or the factor times its baseline if higher.
 */
uint64_t listen_alerts_syn_threshold(const struct lw_config *cfg, const struct lw_listener *l);

/* l's usual SYNs a second, rounded (at most 2^64-1). */
uint64_t listen_alerts_baseline(const struct lw_listener *l);

/* Alerts of l now active. */
int listen_alerts_active(const struct lw_listener *l);

/* Start or clear l's alerts after a sample (its deltas set), calling fn for
 * each start and clear. Returns how many started.
 */
int listen_alerts_evaluate(const struct lw_config *cfg, struct lw_listener *l,
			   const struct lw_netns *ns, uint64_t now, uint64_t synack_per_s,
			   lw_alert_fn fn, void *arg);

#endif
