/* Hand-written SVG charts for the report: time charts (lines, or stacked
 * bars) over the model's shared bins with shaded spans, histograms, and a
 * waterfall of connections. Every mark carries a <title> with its numbers
 * (shown on hover, no script), and each chart has a table of them.
 */
#ifndef TT_REPORT_SVG_H
#define TT_REPORT_SVG_H

#include <stdbool.h>
#include <stdio.h>
#include "report_model.h"
#include "timeline.h"

struct svg_series {
	const char *name;
	const char *color;
	const struct tl_series *s;
	uint32_t field;
	bool dashed;		/* a limit rather than a measure */
};

struct svg_span {
	int64_t start, end;	/* end INT64_MAX: to the end of the chart */
	const char *label;
	const char *color;
};

struct svg_chart {
	const struct timeline *tl;
	const char *id;		/* DOM id prefix */
	const char *unit;	/* what the y axis counts */
	const struct svg_series *series;
	int nseries;
	const struct svg_span *spans;
	int nspans;
	bool bars;		/* stacked bars instead of lines */
};

/* The chart, then a collapsed table of its numbers per bin (bins with any
 * value only).
 */
void svg_time_chart(FILE *f, const struct svg_chart *c);
/* One bar per bucket, labelled by its upper edge. */
void svg_histogram(FILE *f, const struct rm_dist *d, const char *color, const char *id);
/* One row per connection: each state a coloured segment on a shared scale,
 * the handshake, accept wait and half-close marked under it.
 */
void svg_waterfall(FILE *f, const struct rm_conn *v, uint32_t n, const char *id);

#endif
