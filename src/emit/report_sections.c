/* The report's sections after the overview: listeners, connections, leaks,
 * ports. Each picks what to draw from the model (the REPORT_TOP busiest),
 * draws it, and lists its numbers.
 */
#include <stdlib.h>
#include <string.h>
#include "report_html.h"
#include "report_svg.h"

static const char *const palette[] = { "#3f6fd1", "#d1495b", "#4e9f3d", "#f2a541", "#8e7cc3",
				       "#2a9d8f", "#e07a5f", "#6c757d" };
static const char *const alert_colors[AK_N] = { "#d1495b", "#f2a541", "#8e7cc3", "#d1495b" };

/* Indices 0..n-1 ordered by key, largest first. */
static uint32_t rank(uint32_t n, double (*key)(const struct report_model *, uint32_t),
		     const struct report_model *m, uint32_t *out)
{
	for (uint32_t i = 0; i < n; i++)
		out[i] = i;
	for (uint32_t i = 1; i < n; i++)	/* n is at most a few hundred */
		for (uint32_t k = i; k > 0 && key(m, out[k]) > key(m, out[k - 1]); k--) {
			uint32_t t = out[k];

			out[k] = out[k - 1];
			out[k - 1] = t;
		}
	return n < REPORT_TOP ? n : REPORT_TOP;
}

static double listener_key(const struct report_model *m, uint32_t i)
{
	const struct rm_listener *l = &m->listeners[i];

	return l->alerts * 1e15 + (double)(l->drops + l->overflow_ev) * 1e6 +
	       (double)(l->synack + l->synack_ev) + (double)l->peak_synq / 1e6;
}

/* The alert spans of one listener or destination, for its charts. */
static int spans_of(const struct report_model *m, bool ports, uint32_t owner,
		    struct svg_span *out, int max)
{
	int n = 0;

	for (uint32_t i = 0; i < m->n_spans && n < max; i++) {
		const struct rm_span *s = &m->spans[i];

		if ((s->kind == AK_PORTS) != ports || s->owner != owner)
			continue;
		out[n++] = (struct svg_span){ s->start, s->end, rm_alert_names[s->kind],
					      alert_colors[s->kind] };
	}
	return n;
}

static void listener_charts(FILE *f, const struct report_model *m, uint32_t i)
{
	const struct rm_listener *l = &m->listeners[i];
	struct svg_span sp[64];
	bool sampled = l->samples > 0;
	struct svg_series q[] = {
		{ .name = "accept queue", .color = palette[0], .s = l->s, .field = LF_ACCEPTQ },
		{ .name = "accept queue limit", .color = palette[0], .s = l->s,
		  .field = LF_ACCEPTQ_MAX, .dashed = true },
		{ .name = "SYN queue", .color = palette[1], .s = l->s, .field = LF_SYNQ },
		{ .name = "SYN queue limit", .color = palette[1], .s = l->s, .field = LF_SYNQ_MAX,
		  .dashed = true },
	};
	struct svg_series d[] = {
		{ sampled ? "drops" : "accept-queue overflows", palette[3], l->s,
		  sampled ? LF_DROPS : LF_OVERFLOW_EV, false },
		{ "SYN-ACK retransmits", palette[4], l->s, sampled ? LF_SYNACK : LF_SYNACK_EV, false },
	};
	char id[48];
	struct svg_chart c = { .tl = &m->tl, .id = id, .unit = "sockets", .series = q,
			       .nseries = sampled ? 4 : 3, .spans = sp,
			       .nspans = spans_of(m, false, i, sp, 64) };

	fprintf(f, "<div class=\"lazy\"><h3 class=\"listener\" data-addr=\"");
	html_text(f, l->addr);
	fputs("\">", f);
	html_text(f, l->addr);
	fprintf(f, " <small>netns %llu", (unsigned long long)l->netns);
	if (l->comm[0]) {
		fputs(", ", f);
		html_text(f, l->comm);
		fprintf(f, " (pid %u)", l->pid);
	}
	fputs("</small></h3><p>", f);
	fputs("Peak accept queue ", f);
	html_u64(f, l->peak_acceptq);
	fputs(" of ", f);
	html_u64(f, l->acceptq_max);
	fputs(", peak SYN queue ", f);
	html_u64(f, l->peak_synq);
	if (sampled) {
		fputs(" of ", f);
		html_u64(f, l->synq_max);
	}
	fputs("; ", f);
	html_u64(f, sampled ? l->drops : l->overflow_ev);
	fputs(sampled ? " drops, " : " overflows, ", f);
	html_u64(f, sampled ? l->synack : l->synack_ev);
	fprintf(f, " SYN-ACK retransmits, %u alerts.%s</p>", l->alerts,
		sampled ? "" : " (No listener samples: queues as the SYN-ACK retransmits saw "
			       "them.)");
	snprintf(id, sizeof(id), "listener-%u-queues", i);
	svg_time_chart(f, &c);
	snprintf(id, sizeof(id), "listener-%u-drops", i);
	c.series = d;
	c.nseries = 2;
	c.unit = "per interval";
	c.bars = true;
	svg_time_chart(f, &c);
	fputs("</div>", f);
}

/* Alert spans listed at most (all of them are drawn). */
#define ALERT_ROWS 500

/* Nothing happened to it: no queue, no drop, no retransmit, no alert. */
static bool quiet(const struct rm_listener *l)
{
	return !l->alerts && !l->drops && !l->overflow_ev && !l->synack && !l->synack_ev &&
	       !l->peak_acceptq && !l->peak_synq;
}

/* The listeners not drawn, the quiet ones among the busiest and the rest,
 * one line each.
 */
static void quiet_table(FILE *f, const struct report_model *m, const uint32_t *order)
{
	uint32_t shown = 0;

	for (uint32_t k = 0; k < m->n_listeners; k++) {
		const struct rm_listener *l = &m->listeners[order[k]];

		if (k < REPORT_TOP && !quiet(l))
			continue;
		if (!shown++)
			fputs("<h3>Listeners not drawn</h3><table id=\"quiet\"><tr><th>listener</th>"
			      "<th>netns</th><th>process</th><th>peak accept queue</th><th>drops</th>"
			      "</tr>", f);
		if (shown > 50)
			continue;
		fputs("<tr>", f);
		html_td(f, l->addr);
		fprintf(f, "<td>%llu</td>", (unsigned long long)l->netns);
		html_td(f, l->comm);
		html_td_n(f, l->peak_acceptq);
		html_td_n(f, l->drops + l->overflow_ev);
		fputs("</tr>", f);
	}
	if (shown)
		fputs("</table>", f);
	if (shown > 50)
		fprintf(f, "<p>and %u more.</p>", shown - 50);
}

static void alerts_table(FILE *f, const struct report_model *m)
{
	fputs("<h3>Alerts</h3><table id=\"alerts\"><tr><th>alert</th><th>where</th><th>start"
	      "</th><th>end</th><th>lasted</th></tr>", f);
	for (uint32_t i = 0; i < m->n_spans && i < ALERT_ROWS; i++) {
		const struct rm_span *s = &m->spans[i];
		const char *where = s->kind == AK_PORTS ? m->dests[s->owner].label
							: m->listeners[s->owner].addr;

		fprintf(f, "<tr data-alert=\"%s\" data-start=\"%lld\" data-end=\"%lld\"><td>%s</td>"
			"<td class=\"where\">", rm_alert_names[s->kind], (long long)s->start,
			s->end == INT64_MAX ? -1ll : (long long)s->end, rm_alert_names[s->kind]);
		html_text(f, where);
		fputs("</td><td>", f);
		if (s->start_seen)
			html_time(f, s->start);
		else
			fputs("before the input", f);
		fputs("</td><td>", f);
		if (s->end == INT64_MAX)
			fputs("still active at the end", f);
		else
			html_time(f, s->end);
		fputs("</td><td>", f);
		if (s->end != INT64_MAX)
			html_dur(f, (uint64_t)(s->end - s->start));
		fputs("</td></tr>", f);
	}
	fputs("</table>", f);
	if (m->n_spans > ALERT_ROWS)
		fprintf(f, "<p id=\"alerts-not-listed\">%u more alert spans, drawn above, are not "
			"listed.</p>", m->n_spans - ALERT_ROWS);
	if (m->spans_dropped) {
		fputs("<p>", f);
		html_u64(f, m->spans_dropped);
		fputs(" alert records past the limit are not drawn.</p>", f);
	}
}

static void listeners(FILE *f, const struct report_model *m)
{
	uint32_t order[RM_MAX_LISTENERS], n = rank(m->n_listeners, listener_key, m, order);

	fputs("<section id=\"listeners\"><h2>Listeners</h2>", f);
	if (!m->n_listeners)
		fputs("<p class=\"none\">No listener records (recordings keep connections only: "
		      "give the JSON log of a live run for queues and alerts).</p>", f);
	for (uint32_t k = 0; k < n; k++)
		if (!quiet(&m->listeners[order[k]]))
			listener_charts(f, m, order[k]);
	quiet_table(f, m, order);
	if (m->listeners_dropped)
		fprintf(f, "<p>Records of listeners past the first %d are not drawn: %llu.</p>",
			RM_MAX_LISTENERS, (unsigned long long)m->listeners_dropped);
	alerts_table(f, m);
	fputs("</section>", f);
}

static void dist_table(FILE *f, const struct report_model *m)
{
	static const char *const names[RM_N_DISTS] = { "handshake", "accept wait", "duration" };

	fputs("<table id=\"dists\"><tr><th>measure</th><th>role</th><th>connections</th><th>min"
	      "</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>", f);
	for (int d = 0; d < RM_N_DISTS; d++)
		for (int r = 0; r < RM_N_ROLES; r++) {
			const struct rm_dist *x = &m->dist[d][r];

			if (!x->n)
				continue;
			fprintf(f, "<tr data-kind=\"%s\" data-role=\"%s\"><td>%s</td><td>%s</td>",
				names[d], rm_role_names[r], names[d], rm_role_names[r]);
			html_td_n(f, x->n);
			fputs("<td class=\"n\">", f);
			html_dur(f, x->min);
			fputs("</td><td class=\"n\">&le; ", f);
			html_dur(f, rm_dist_quantile(x, 0.5));
			fputs("</td><td class=\"n\">&le; ", f);
			html_dur(f, rm_dist_quantile(x, 0.9));
			fputs("</td><td class=\"n\">&le; ", f);
			html_dur(f, rm_dist_quantile(x, 0.99));
			fputs("</td><td class=\"n\">", f);
			html_dur(f, x->max);
			fputs("</td></tr>", f);
		}
	fputs("</table><div class=\"dists\">", f);
	for (int d = 0; d < RM_N_DISTS; d++)
		for (int r = 0; r < RM_N_ROLES; r++) {
			char id[48];

			if (!m->dist[d][r].n)
				continue;
			snprintf(id, sizeof(id), "dist-%d-%s", d, rm_role_names[r]);
			fputs("<div>", f);
			fprintf(f, "<h3>%s, %s connections</h3>", names[d], rm_role_names[r]);
			svg_histogram(f, &m->dist[d][r], palette[r], id);
			fputs("</div>", f);
		}
	fputs("</div>", f);
}

static int by_duration(const void *a, const void *b)
{
	const struct rm_conn *x = a, *y = b;

	return x->duration_ns < y->duration_ns ? 1 : x->duration_ns > y->duration_ns ? -1 : 0;
}

static int by_end(const void *a, const void *b)
{
	const struct rm_conn *x = a, *y = b;

	return x->end_ns < y->end_ns ? 1 : x->end_ns > y->end_ns ? -1 : 0;
}

static void conn_table(FILE *f, const struct rm_conn *v, uint32_t n, const char *id)
{
	fprintf(f, "<details class=\"nums\"><summary>Numbers</summary><table id=\"%s\"><tr>"
		"<th>id</th><th>local</th><th>remote</th><th>role</th><th>end</th><th>ended</th>"
		"<th>duration</th><th>handshake</th><th>accept wait</th><th>process</th></tr>", id);
	for (uint32_t i = 0; i < n; i++) {
		fprintf(f, "<tr data-id=\"%llu\" data-duration=\"%llu\"><td>%llu</td>",
			(unsigned long long)v[i].id, (unsigned long long)v[i].duration_ns,
			(unsigned long long)v[i].id);
		html_td(f, v[i].local);
		html_td(f, v[i].remote);
		html_td(f, rm_role_names[v[i].role]);
		html_td(f, v[i].end);
		fputs("<td>", f);
		html_time(f, v[i].end_ns);
		fputs("</td><td class=\"n\">", f);
		html_dur(f, v[i].duration_ns);
		fputs("</td><td class=\"n\">", f);
		html_dur(f, v[i].handshake_ns);
		fputs("</td><td class=\"n\">", f);
		html_dur(f, v[i].accept_wait_ns);
		fputs("</td><td>", f);
		html_text(f, v[i].comm);
		if (v[i].pid)
			fprintf(f, " (%u)", v[i].pid);
		fputs("</td></tr>", f);
	}
	fputs("</table></details>", f);
}

static void connections(FILE *f, const struct report_model *m)
{
	static const char *const end_colors[RM_N_ENDS] = {
		"#4e9f3d", "#e07a5f", "#d1495b", "#8e7cc3", "#f2a541", "#b5651d", "#c0392b",
		"#7f8c8d", "#16a085", "#2c3e50", "#3f6fd1", "#a0522d", "#999", "#ccc", "#555",
	};
	struct svg_series ends[RM_N_ENDS];
	struct rm_conn sorted[RM_WATERFALL];
	struct svg_chart c = { .tl = &m->tl, .id = "ended", .unit = "connections",
			       .series = ends, .bars = true };

	for (int e = 0; e < RM_N_ENDS; e++)
		if (m->ends[e])
			ends[c.nseries++] = (struct svg_series){ rm_end_names[e], end_colors[e],
								 m->ended, (uint32_t)e, false };
	fputs("<section class=\"lazy\" id=\"connections\"><h2>Connections</h2><h3>Ended per interval, by how they"
	      " ended</h3>", f);
	svg_time_chart(f, &c);
	fputs("<table id=\"ends\"><tr><th>end</th><th>connections</th></tr>", f);
	for (int e = 0; e < RM_N_ENDS; e++)
		if (m->ends[e]) {
			fprintf(f, "<tr data-end=\"%s\"><td>%s</td>", rm_end_names[e],
				rm_end_names[e]);
			html_td_n(f, m->ends[e]);
			fputs("</tr>", f);
		}
	fputs("</table><h3>Handshake, accept wait and duration, by role</h3>", f);
	dist_table(f, m);
	memcpy(sorted, m->slowest, sizeof(sorted[0]) * m->n_slowest);
	qsort(sorted, m->n_slowest, sizeof(sorted[0]), by_duration);
	fprintf(f, "<h3>The %u slowest connections</h3>", m->n_slowest);
	svg_waterfall(f, sorted, m->n_slowest, "slowest");
	conn_table(f, sorted, m->n_slowest, "slowest-table");
	memcpy(sorted, m->failed, sizeof(sorted[0]) * m->n_failed);
	qsort(sorted, m->n_failed, sizeof(sorted[0]), by_end);
	fprintf(f, "<h3>The %u last failed connections</h3>", m->n_failed);
	if (m->n_failed) {
		svg_waterfall(f, sorted, m->n_failed, "failed");
		conn_table(f, sorted, m->n_failed, "failed-table");
	} else {
		fputs("<p class=\"none\">None failed.</p>", f);
	}
	fputs("</section>", f);
}

static double proc_key(const struct report_model *m, uint32_t i)
{
	return (double)m->procs[i].peak_open * 1e6 + (double)m->procs[i].leaks;
}

static void oldest(FILE *f, const struct report_model *m)
{
	fputs("<h3>The oldest</h3><table id=\"oldest\"><tr><th>socket id</th><th>in CLOSE_WAIT"
	      "</th><th>now</th><th>process</th><th>descriptors (pid:fd)</th></tr>", f);
	for (uint32_t i = 0; i < m->n_oldest; i++) {
		const struct rm_leak *l = &m->leaks[m->oldest[i].leak];
		const struct rm_proc *p = l->proc != UINT16_MAX ? &m->procs[l->proc] : NULL;

		fprintf(f, "<tr data-id=\"%llu\" data-pid=\"%u\"><td>%llu</td><td class=\"n\">%s",
			(unsigned long long)l->id, p ? p->pid : 0, (unsigned long long)l->id,
			m->oldest[i].open || l->lower_bound ? "&ge; " : "");
		html_dur(f, m->oldest[i].age_ns);
		fprintf(f, "</td><td>%s</td><td class=\"owner\">", m->oldest[i].open ? "open" : "closed");
		if (p) {
			html_text(f, p->comm);
			fprintf(f, " (%u)", p->pid);
		}
		fputs("</td><td class=\"fds\">", f);
		for (uint8_t k = 0; k < l->nowners; k++)
			fprintf(f, "%s%u:%u", k ? ", " : "", l->owners[k].pid, l->owners[k].fd);
		if (l->owners_total > l->nowners)
			fprintf(f, " and %u more", l->owners_total - l->nowners);
		fputs("</td></tr>", f);
	}
	fputs("</table>", f);
}

static void leaks(FILE *f, const struct report_model *m)
{
	uint32_t order[RM_MAX_PROCS], n = rank(m->n_procs, proc_key, m, order);
	struct svg_series s[REPORT_TOP];
	char names[REPORT_TOP][RM_TEXT + 16];
	struct svg_chart c = { .tl = &m->tl, .id = "leaks-chart", .unit = "sockets in CLOSE_WAIT",
			       .series = s, .nseries = (int)n };

	fputs("<section class=\"lazy\" id=\"leaks\"><h2>Leaks: sockets left in CLOSE_WAIT</h2>", f);
	if (!m->n_leaks) {
		fputs("<p class=\"none\">No CLOSE_WAIT leak records.</p></section>", f);
		return;
	}
	for (uint32_t k = 0; k < n; k++) {
		const struct rm_proc *p = &m->procs[order[k]];

		snprintf(names[k], sizeof(names[k]), "%s (%u)", p->comm, p->pid);
		s[k] = (struct svg_series){ names[k], palette[k], p->s, 0, false };
	}
	fputs("<h3>Open leaks by process</h3>", f);
	svg_time_chart(f, &c);
	fputs("<table id=\"leak-procs\"><tr><th>process</th><th>pid</th><th>leaks reported</th>"
	      "<th>resolved</th><th>most open at once</th></tr>", f);
	for (uint32_t k = 0; k < m->n_procs; k++) {
		const struct rm_proc *p = &m->procs[order[k]];

		fprintf(f, "<tr data-pid=\"%u\"><td class=\"comm\">", p->pid);
		html_text(f, p->comm);
		fprintf(f, "</td><td class=\"n\">%u</td>", p->pid);
		html_td_n(f, p->leaks);
		html_td_n(f, p->resolved);
		html_td_n(f, p->peak_open);
		fputs("</tr>", f);
	}
	fputs("</table>", f);
	oldest(f, m);
	if (m->leaks_dropped)
		fprintf(f, "<p>Leak records past the first %d are not counted: %llu.</p>",
			RM_MAX_LEAK_EVENTS, (unsigned long long)m->leaks_dropped);
	fputs("</section>", f);
}

static double dest_key(const struct report_model *m, uint32_t i)
{
	const struct rm_dest *d = &m->dests[i];

	return d->alerts * 1e12 + d->peak_permille * 1e6 + (double)d->failures;
}

static void ports(FILE *f, const struct report_model *m)
{
	uint32_t order[RM_MAX_DESTS], n = rank(m->n_dests, dest_key, m, order);

	fputs("<section class=\"lazy\" id=\"ports\"><h2>Ephemeral ports per destination</h2>", f);
	if (!m->n_dests)
		fputs("<p class=\"none\">No ports records: no destination used half its range,"
		      " alerted or failed a connect.</p>", f);
	for (uint32_t k = 0; k < n; k++) {
		const struct rm_dest *d = &m->dests[order[k]];
		struct svg_span sp[64];
		struct svg_series s[] = {
			{ .name = "ports used", .color = palette[0], .s = d->s, .field = PF_USED },
			{ .name = "range", .color = palette[1], .s = d->s, .field = PF_RANGE,
			  .dashed = true },
		};
		char id[32];
		struct svg_chart c = { .tl = &m->tl, .id = id, .unit = "ports", .series = s,
				       .nseries = 2, .spans = sp,
				       .nspans = spans_of(m, true, order[k], sp, 64) };

		snprintf(id, sizeof(id), "dest-%u", order[k]);
		fputs("<div class=\"lazy\"><h3 class=\"dest\">", f);
		html_text(f, d->label);
		fprintf(f, " <small>netns %llu</small></h3><p>Peak ", (unsigned long long)d->netns);
		html_u64(f, d->peak_used);
		fputs(" of ", f);
		html_u64(f, d->range);
		fprintf(f, " ports (%u.%u%%), ", d->peak_permille / 10, d->peak_permille % 10);
		html_u64(f, d->failures);
		fprintf(f, " connects found no port, %u alerts.</p>", d->alerts);
		svg_time_chart(f, &c);
		fputs("</div>", f);
	}
	if (m->dests_dropped)
		fprintf(f, "<p>Records of destinations past the first %d are not drawn: %llu.</p>",
			RM_MAX_DESTS, (unsigned long long)m->dests_dropped);
	fputs("</section>", f);
}

void report_sections(FILE *f, const struct report_model *m)
{
	listeners(f, m);
	connections(f, m);
	leaks(f, m);
	ports(f, m);
}
