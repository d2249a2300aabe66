/* `tcptrail top`: listeners sorted by pressure, with their namespaces'
 * counters and limits, redrawn in place after every sample.
 */
#ifndef TT_TOP_VIEW_H
#define TT_TOP_VIEW_H

#include <stdbool.h>
#include <stdint.h>
#include "cgroup_path.h"
#include "filter.h"
#include "fmt.h"
#include "listen_watch.h"
#include "outbuf.h"
#include "sink.h"
#include "top_slow.h"

struct ports;

/* What a view draws from and where, fixed for its life. */
struct top_view_config {
	struct outbuf *out;
	const struct fmt_clock *clock;
	bool ansi;		/* a terminal: redraw in place */
	uint64_t interval_ns;
	uint32_t own_netns;
	const struct filter *filter;	/* NULL: every listener */
	cgroup_lookup_fn cgroup_lookup;	/* NULL: no container column values */
	void *cgroup_ctx;
	struct ports *ports;		/* NULL: no destinations shown */
	struct top_slow *slow;		/* NULL: no connection lines */
	bool wide;			/* every column, lines not cut */
	/* the name `ip netns` gave a namespace, or NULL (none: numbers) */
	const char *(*netns_name)(uint32_t inum);
};

struct top_view;

/* NULL without memory. */
struct top_view *top_view_new(const struct top_view_config *cfg);
/* NULL-safe. */
void top_view_free(struct top_view *tv);

/* Remember an alert for the frame's alert lines. */
void top_view_alert(struct top_view *tv, const struct lw_alert *a);

/* Draw one frame of the listeners' latest sample. */
void top_view_render(struct top_view *tv, const struct listen_watch *lw, uint64_t now_ns);

/* The same as listener output, with the top_view as ctx: each sample is a
 * frame sized to the terminal.
 */
extern const struct listen_sink_ops top_view_listen_ops;

#endif
