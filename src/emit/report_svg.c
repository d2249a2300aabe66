/* SVG charts of the report (report_svg.h). Coordinates are integers or
 * one decimal: a chart stays a few tens of kilobytes.
 */
#include <string.h>
#include "fmt.h"
#include "report_html.h"
#include "report_svg.h"

#define W 960
#define H 240
#define ML 64
#define MR 12
#define MT 26
#define MB 30
#define PW (W - ML - MR)
#define HW 480			/* a histogram */
#define HPW (HW - ML - MR)
#define PH (H - MT - MB)

/* The top of a y axis at or above v whose four gridlines fall on round
 * numbers: four times the smallest 1, 2 or 5 times a power of ten that is
 * at least a quarter of v.
 */
static uint64_t nice_ceil(uint64_t v)
{
	static const uint64_t steps[] = { 1, 2, 5 };
	uint64_t quarter = v / 4 + (v % 4 != 0);

	if (quarter <= 1)
		return 4;
	for (uint64_t p = 1; p <= UINT64_MAX / 40; p *= 10)
		for (int k = 0; k < 3; k++)
			if (steps[k] * p >= quarter)
				return 4 * steps[k] * p;
	return UINT64_MAX;	/* past 10^18: the axis ends at the largest value */
}

static double ypos(uint64_t v, uint64_t ymax)
{
	return MT + PH - (double)PH * ((double)v / (double)ymax);
}

/* An axis label that fits the margin: 12,500 or 1.2M, up to 18.4E. */
static void short_number(FILE *f, uint64_t v)
{
	static const char units[] = "kMGTPE";
	double d = (double)v;
	int u = -1;

	if (v < 100000) {
		html_u64(f, v);
		return;
	}
	while (d >= 1000 && u < 5) {
		d /= 1000;
		u++;
	}
	fprintf(f, d < 10 ? "%.1f%c" : "%.0f%c", d, units[u]);
}

static void y_axis(FILE *f, uint64_t ymax, const char *unit, int width)
{
	for (int k = 0; k <= 4; k++) {
		uint64_t v = ymax / 4 * (uint64_t)k;
		double y = ypos(v, ymax);

		fprintf(f, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>", ML,
			width - MR, y, y);
		fprintf(f, "<text class=\"ax\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", ML - 6,
			y + 4);
		short_number(f, v);
		fputs("</text>", f);
	}
	fprintf(f, "<text class=\"ax\" x=\"4\" y=\"%d\">", MT - 14);
	html_text(f, unit);
	fputs("</text>", f);
}

/* Time of day (UTC) of a bin boundary: HH:MM:SS, with milliseconds when
 * bins are shorter than a second.
 */
static void clock_label(FILE *f, int64_t ns, int64_t width, bool date)
{
	char buf[40];

	jsonl_format_time(ns, buf, sizeof(buf));
	if (date)
		fprintf(f, "%.10s ", buf);
	fprintf(f, "%.*s", width < 1000000000 ? 12 : 8, buf + 11);
}

static void x_axis(FILE *f, const struct timeline *tl, int first, int n)
{
	int every = (n + 5) / 6;
	double bw = (double)PW / n;

	for (int i = 0; i < n; i += every) {
		double x = ML + i * bw;

		fprintf(f, "<line class=\"tick\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>", x, x,
			MT + PH, MT + PH + 4);
		fprintf(f, "<text class=\"ax\" x=\"%.1f\" y=\"%d\"%s>", x, H - 10,
			i ? " text-anchor=\"middle\"" : "");
		clock_label(f, timeline_bin_start(tl, first + i), tl->width, false);
		fputs("</text>", f);
	}
}

static uint64_t value(const struct svg_series *s, int bin)
{
	return s->s ? tl_get(s->s, bin, s->field) : TL_NONE;
}

static uint64_t chart_max(const struct svg_chart *c, int first, int last)
{
	uint64_t ymax = 1;

	for (int b = first; b <= last; b++) {
		uint64_t sum = 0;

		for (int k = 0; k < c->nseries; k++) {
			uint64_t v = value(&c->series[k], b);

			if (v == TL_NONE)
				continue;
			if (c->bars)
				sum += v;
			else if (v > ymax)
				ymax = v;
		}
		if (sum > ymax)
			ymax = sum;
	}
	return nice_ceil(ymax);
}

static void spans(FILE *f, const struct svg_chart *c, int first, int n)
{
	int64_t t0 = timeline_bin_start(c->tl, first), t1 = timeline_bin_start(c->tl, first + n);

	for (int k = 0; k < c->nspans; k++) {
		const struct svg_span *s = &c->spans[k];
		int64_t a = s->start < t0 ? t0 : s->start, b = s->end > t1 ? t1 : s->end;
		double xa = ML + (double)PW * (double)(a - t0) / (double)(t1 - t0);
		double xb = ML + (double)PW * (double)(b - t0) / (double)(t1 - t0);

		if (b < a)
			continue;
		if (xb - xa < 2)
			xb = xa + 2;
		fprintf(f, "<rect class=\"span\" data-alert=\"%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
			"height=\"%d\" fill=\"%s\"/>", s->label, xa, MT, xb - xa, PH, s->color);
		fprintf(f, "<text class=\"spanlabel\" x=\"%.1f\" y=\"%d\">%s</text>", xa + 3, MT + 11,
			s->label);
	}
}

static void lines(FILE *f, const struct svg_chart *c, int first, int n, uint64_t ymax)
{
	double bw = (double)PW / n;

	for (int k = 0; k < c->nseries; k++) {
		const struct svg_series *s = &c->series[k];
		bool open = false;

		fprintf(f, "<path class=\"line%s\" stroke=\"%s\" d=\"", s->dashed ? " limit" : "",
			s->color);
		for (int i = 0; i < n; i++) {
			uint64_t v = value(s, first + i);

			/* a gauge between samples: the line goes on through */
			if (v == TL_NONE)
				continue;
			fprintf(f, "%c%.1f %.1f", open ? 'L' : 'M', ML + (i + 0.5) * bw,
				ypos(v, ymax));
			open = true;
		}
		fputs("\"/>", f);
	}
}

static void bars(FILE *f, const struct svg_chart *c, int first, int n, uint64_t ymax)
{
	double bw = (double)PW / n, gap = bw > 3 ? 1 : 0;

	for (int i = 0; i < n; i++) {
		uint64_t below = 0;

		for (int k = 0; k < c->nseries; k++) {
			uint64_t v = value(&c->series[k], first + i);

			if (v == TL_NONE || !v)
				continue;
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				"fill=\"%s\"/>", ML + i * bw, ypos(below + v, ymax), bw - gap,
				ypos(below, ymax) - ypos(below + v, ymax), c->series[k].color);
			below += v;
		}
	}
}

/* What a bin holds, as "name value" lines. */
static bool bin_values(FILE *f, const struct svg_chart *c, int bin, bool probe)
{
	bool any = false;

	for (int k = 0; k < c->nseries; k++) {
		uint64_t v = value(&c->series[k], bin);

		if (v == TL_NONE || (c->bars && !v))
			continue;
		any = true;
		if (probe)
			continue;
		fputc('\n', f);
		html_text(f, c->series[k].name);
		fputs(": ", f);
		html_u64(f, v);
	}
	return any;
}

static void hover(FILE *f, const struct svg_chart *c, int first, int n)
{
	double bw = (double)PW / n;

	for (int i = 0; i < n; i++) {
		if (!bin_values(f, c, first + i, true))
			continue;
		fprintf(f, "<rect class=\"col\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\">"
			"<title>", ML + i * bw, MT, bw, PH);
		clock_label(f, timeline_bin_start(c->tl, first + i), c->tl->width, true);
		bin_values(f, c, first + i, false);
		fputs("</title></rect>", f);
	}
}

static void legend(FILE *f, const struct svg_chart *c)
{
	fputs("<div class=\"legend\">", f);
	for (int k = 0; k < c->nseries; k++) {
		fprintf(f, "<span><i style=\"background:%s\"%s></i>", c->series[k].color,
			c->series[k].dashed ? " class=\"dash\"" : "");
		html_text(f, c->series[k].name);
		fputs("</span>", f);
	}
	fputs("</div>", f);
}

static void table(FILE *f, const struct svg_chart *c, int first, int n)
{
	fprintf(f, "<details class=\"nums\"><summary>Numbers per interval (");
	html_dur(f, (uint64_t)c->tl->width);
	fprintf(f, ")</summary><table id=\"%s-table\"><tr><th>interval start (UTC)</th>", c->id);
	for (int k = 0; k < c->nseries; k++) {
		fputs("<th>", f);
		html_text(f, c->series[k].name);
		fputs("</th>", f);
	}
	fputs("</tr>", f);
	for (int i = 0; i < n; i++) {
		if (!bin_values(f, c, first + i, true))
			continue;
		fputs("<tr><td>", f);
		clock_label(f, timeline_bin_start(c->tl, first + i), c->tl->width, true);
		fputs("</td>", f);
		for (int k = 0; k < c->nseries; k++) {
			uint64_t v = value(&c->series[k], first + i);

			fputs("<td class=\"n\">", f);
			if (v == TL_NONE)
				fputs("-", f);
			else
				html_u64(f, v);
			fputs("</td>", f);
		}
		fputs("</tr>", f);
	}
	fputs("</table></details>", f);
}

void svg_time_chart(FILE *f, const struct svg_chart *c)
{
	int first, last, n;
	uint64_t ymax;

	timeline_used(c->tl, &first, &last);
	if (first < 0) {
		fputs("<p class=\"none\">No records in the time range.</p>", f);
		return;
	}
	n = last - first + 1;
	ymax = chart_max(c, first, last);
	legend(f, c);
	fprintf(f, "<svg class=\"chart\" id=\"%s\" viewBox=\"0 0 %d %d\" role=\"img\">", c->id, W,
		H);
	y_axis(f, ymax, c->unit, W);
	spans(f, c, first, n);
	if (c->bars)
		bars(f, c, first, n, ymax);
	else
		lines(f, c, first, n, ymax);
	x_axis(f, c->tl, first, n);
	hover(f, c, first, n);
	fputs("</svg>", f);
	table(f, c, first, n);
}

static void dur_label(FILE *f, uint64_t ns)
{
	char buf[32], *p = fmt_duration(buf, ns);

	*p = '\0';
	fputs(buf, f);
}

void svg_histogram(FILE *f, const struct rm_dist *d, const char *color, const char *id)
{
	int lo = 0, hi = RM_DIST_BUCKETS - 1, n, every;
	uint64_t ymax = 1;
	double bw;

	while (lo < hi && !d->bucket[lo])
		lo++;
	while (hi > lo && !d->bucket[hi])
		hi--;
	n = hi - lo + 1;
	bw = (double)HPW / n;
	every = (int)(58 / bw) + 1;	/* a label is about 55 units wide */
	for (int b = lo; b <= hi; b++)
		if (d->bucket[b] > ymax)
			ymax = d->bucket[b];
	ymax = nice_ceil(ymax);
	/* half as wide: two side by side (.dists) */
	fprintf(f, "<svg class=\"chart hist\" id=\"%s\" viewBox=\"0 0 %d %d\" role=\"img\">", id,
		HW, H);
	y_axis(f, ymax, "connections", HW);
	for (int b = lo; b <= hi; b++) {
		double x = ML + (b - lo) * bw, y = ypos(d->bucket[b], ymax);

		fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			"fill=\"%s\"><title>", x + 1, y, bw - 2, MT + PH - y, color);
		if (b)
			dur_label(f, rm_dist_edge(b - 1));
		fputs(b ? " to " : "below ", f);
		if (b < RM_DIST_BUCKETS - 1)
			dur_label(f, rm_dist_edge(b));
		else
			fputs("more", f);
		fputs(": ", f);
		html_u64(f, d->bucket[b]);
		fputs("</title></rect>", f);
		if ((b - lo) % every)
			continue;
		fprintf(f, "<text class=\"ax\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">&lt;",
			x + bw / 2, H - 10);
		if (b < RM_DIST_BUCKETS - 1)
			dur_label(f, rm_dist_edge(b));
		else
			fputs("&#8734;", f);
		fputs("</text>", f);
	}
	fputs("</svg>", f);
}

#define ROW 26
#define LABEL_W 330
#define BAR_W (W - LABEL_W - MR)

/* A phase under a row's bar: a bracket from offset for len, labelled. */
static void phase(FILE *f, double scale, int y, uint64_t offset, uint64_t len,
		  const char *name)
{
	double x = LABEL_W + offset * scale, w = len * scale;

	if (len == TL_NONE || offset == TL_NONE)
		return;
	if (w < 1)
		w = 1;
	fprintf(f, "<g class=\"phase\" data-phase=\"%s\"><rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
		"height=\"3\"/><title>%s: ", name, x, y + 17, w, name);
	dur_label(f, len);
	fputs("</title>", f);
	if (w > 8.0 * strlen(name))
		fprintf(f, "<text class=\"phl\" x=\"%.1f\" y=\"%d\">%s</text>", x + 2, y + 25,
			name);
	fputs("</g>", f);
}

/* Where state name begins, from the start of the history; TL_NONE if it
 * is not there or an earlier state's time is not known.
 */
static uint64_t offset_of(const struct rm_conn *c, const char *name)
{
	uint64_t at = 0;

	for (uint8_t i = 0; i < c->nstates; i++) {
		if (!strcmp(c->states[i], name))
			return at;
		if (c->durations_ns[i] == TL_NONE)
			return TL_NONE;
		at += c->durations_ns[i];
	}
	return TL_NONE;
}

static void waterfall_row(FILE *f, const struct rm_conn *c, double scale, int y)
{
	double x = LABEL_W;

	fprintf(f, "<g class=\"wrow\" data-id=\"%llu\"><text class=\"wl\" x=\"4\" y=\"%d\">",
		(unsigned long long)c->id, y + 13);
	html_text(f, c->local);
	fputs(" \xe2\x86\x92 ", f);
	html_text(f, c->remote);
	fprintf(f, "</text><text class=\"wl2\" x=\"4\" y=\"%d\">", y + 24);
	html_text(f, rm_role_names[c->role]);
	fputs(", ", f);
	html_text(f, c->end);
	fputs(", ", f);
	dur_label(f, c->duration_ns);
	if (c->comm[0]) {
		fputs(", ", f);
		html_text(f, c->comm);
	}
	fputs("</text>", f);
	for (uint8_t i = 0; i < c->nstates; i++) {
		uint64_t d = c->durations_ns[i];
		double w = d == TL_NONE ? 0 : d * scale;

		if (w < 1.5)
			w = 1.5;
		fprintf(f, "<rect class=\"seg\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
			"height=\"14\" fill=\"%s\"><title>", x, y + 2, w,
			html_state_color(c->states[i]));
		html_text(f, c->states[i]);
		fputs(": ", f);
		if (d == TL_NONE)
			fputs("its last state", f);
		else
			dur_label(f, d);
		fputs("</title></rect>", f);
		if (w > 7.5 * strlen(c->states[i])) {
			fprintf(f, "<text class=\"segl\" x=\"%.1f\" y=\"%d\">", x + 3, y + 13);
			html_text(f, c->states[i]);
			fputs("</text>", f);
		}
		x += w;
	}
	phase(f, scale, y, 0, c->handshake_ns, "handshake");
	phase(f, scale, y, offset_of(c, "ESTABLISHED"), c->accept_wait_ns, "accept wait");
	phase(f, scale, y, offset_of(c, "FIN_WAIT1"), c->half_close_ns, "half-closed");
	fputs("</g>", f);
}

void svg_waterfall(FILE *f, const struct rm_conn *v, uint32_t n, const char *id)
{
	uint64_t longest = 1;
	int h = (int)n * (ROW + 6) + 30;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t sum = 0;

		for (uint8_t k = 0; k < v[i].nstates; k++)
			if (v[i].durations_ns[k] != TL_NONE)
				sum += v[i].durations_ns[k];
		if (sum > longest)
			longest = sum;
	}
	fprintf(f, "<svg class=\"chart wf\" id=\"%s\" viewBox=\"0 0 %d %d\" role=\"img\">", id, W,
		h);
	for (int k = 0; k <= 4; k++) {
		double x = LABEL_W + (double)BAR_W * k / 4;

		fprintf(f, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" y2=\"%d\"/>"
			"<text class=\"ax\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", x, x, h - 22,
			x, h - 8);
		dur_label(f, longest / 4 * (uint64_t)k);
		fputs("</text>", f);
	}
	for (uint32_t i = 0; i < n; i++)
		waterfall_row(f, &v[i], (double)BAR_W / (double)longest, (int)i * (ROW + 6));
	fputs("</svg>", f);
}
