/* The report page: skeleton, style, overview and the escaping every string
 * from the input goes through (report_html.h).
 */
#include <string.h>
#include "fmt.h"
#include "report_html.h"

size_t report_html_escape(char *dst, size_t cap, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	if (!cap)
		return 0;
	while (*p) {
		const char *rep = NULL;
		char one[5] = { 0 };
		size_t len = 1;

		switch (*p) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default:
			if (*p >= 0x20 && *p < 0x7f) {
				one[0] = (char)*p;
			} else if (*p >= 0xc2 && *p <= 0xf4) {
				size_t want = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2, i;

				for (i = 1; i < want && (p[i] & 0xc0) == 0x80; i++)
					;
				/* the overlong, surrogate and out-of-range forms */
				if (i == want && !((p[0] == 0xe0 && p[1] < 0xa0) ||
						   (p[0] == 0xed && p[1] >= 0xa0) ||
						   (p[0] == 0xf0 && p[1] < 0x90) ||
						   (p[0] == 0xf4 && p[1] >= 0x90))) {
					memcpy(one, p, want);
					len = want;
				}
			}
			if (!one[0])
				rep = "\xef\xbf\xbd";	/* U+FFFD */
		}
		if (!rep)
			rep = one;
		if (o + strlen(rep) >= cap)
			break;
		memcpy(dst + o, rep, strlen(rep));
		o += strlen(rep);
		p += len;
	}
	dst[o] = '\0';
	return o;
}

void html_text(FILE *f, const char *s)
{
	char buf[1024];
	size_t n = strlen(s);

	/* in pieces that end on a character: a bounded buffer, any length */
	while (n) {
		char piece[160];
		size_t take = n < sizeof(piece) - 1 ? n : sizeof(piece) - 1;

		while (take < n && take > 1 && ((unsigned char)s[take] & 0xc0) == 0x80)
			take--;
		memcpy(piece, s, take);
		piece[take] = '\0';
		report_html_escape(buf, sizeof(buf), piece);
		fputs(buf, f);
		s += take;
		n -= take;
	}
}

void html_u64(FILE *f, uint64_t v)
{
	char digits[32];
	int n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v);

	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			fputc(',', f);
		fputc(digits[i], f);
	}
}

void html_td(FILE *f, const char *s)
{
	fputs("<td>", f);
	html_text(f, s);
	fputs("</td>", f);
}

void html_td_n(FILE *f, uint64_t v)
{
	fprintf(f, "<td class=\"n\" data-n=\"%llu\">", (unsigned long long)v);
	html_u64(f, v);
	fputs("</td>", f);
}

void html_dur(FILE *f, uint64_t ns)
{
	char buf[32], *p;

	if (ns == TL_NONE) {
		fputs("-", f);
		return;
	}
	p = fmt_duration(buf, ns);
	*p = '\0';
	fputs(buf, f);
}

void html_time(FILE *f, int64_t ns)
{
	char buf[40];

	jsonl_format_time(ns, buf, sizeof(buf));
	/* to the millisecond: "2026-11-21 10:42:10.123" */
	fprintf(f, "%.10s %.12s", buf, buf + 11);
}

const char *html_state_color(const char *state)
{
	static const struct { const char *name, *color; } colors[] = {
		{ "SYN_SENT", "#f2a541" }, { "SYN_RECV", "#f2c14e" },
		{ "ESTABLISHED", "#4e9f3d" }, { "FIN_WAIT1", "#5b8def" },
		{ "FIN_WAIT2", "#3f6fd1" }, { "CLOSING", "#8e7cc3" },
		{ "TIME_WAIT", "#9aa5b1" }, { "CLOSE_WAIT", "#d1495b" },
		{ "LAST_ACK", "#e07a5f" }, { "CLOSE", "#444" },
	};

	for (size_t i = 0; i < sizeof(colors) / sizeof(colors[0]); i++)
		if (!strcmp(state, colors[i].name))
			return colors[i].color;
	return "#bbb";
}

static const char style[] =
"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
"color:#1d2430;background:#f5f6f8}"
"header{background:#1d2430;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}"
"header p{margin:4px 0 0;color:#c9d1dc}main{padding:8px 28px 40px;max-width:1180px}"
"section{background:#fff;border-radius:8px;padding:14px 20px;margin:16px 0;"
"box-shadow:0 1px 3px rgba(0,0,0,.08)}"
/* what is off screen is laid out only when scrolled to: a page of many
 * charts shows its top at once
 */
".lazy{content-visibility:auto;contain-intrinsic-size:auto 900px}h2{font-size:18px;margin:4px 0 10px}"
"h3{font-size:15px;margin:18px 0 6px}nav a{color:#c9d1dc;margin-right:14px}"
".cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #e2e6eb;border-radius:6px;"
"padding:8px 14px;min-width:120px}.card b{display:block;font-size:20px}"
".card.bad{border-color:#d1495b;background:#fdecee}"
".alarm{background:#d1495b;color:#fff;padding:10px 14px;border-radius:6px;font-weight:600;"
"margin:8px 0}table{border-collapse:collapse;margin:6px 0;font-size:13px}"
"td,th{border-bottom:1px solid #e8ebef;padding:3px 10px;text-align:left;vertical-align:top}"
"td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f0f2f5}"
".chart{width:100%;height:auto;display:block;background:#fff}"
".grid{stroke:#e5e8ec}.tick{stroke:#888}.ax{font-size:11px;fill:#555}"
".line{fill:none;stroke-width:2}.limit{stroke-dasharray:6 4;stroke-width:1.5}"
".col{fill:transparent}.col:hover{fill:rgba(29,36,48,.08)}"
".span{opacity:.18}.spanlabel{font-size:11px;fill:#8a1c2b}"
".bar:hover,.seg:hover{opacity:.75}.legend{font-size:12px;margin:4px 0}"
".legend span{margin-right:14px;white-space:nowrap}.legend i{display:inline-block;width:12px;"
"height:12px;margin-right:4px;vertical-align:-1px;border-radius:2px}"
".legend i.dash{height:3px;vertical-align:3px}"
".wl{font-size:12px;fill:#1d2430}.wl2{font-size:11px;fill:#666}.segl{font-size:10px;fill:#fff}"
".phase rect{fill:#1d2430}.phl{font-size:10px;fill:#1d2430}"
"details.nums summary{cursor:pointer;color:#3f6fd1;font-size:12px}"
".none{color:#777;font-style:italic}.two{display:grid;grid-template-columns:1fr 1fr;gap:12px}"
"code{background:#f0f2f5;padding:1px 4px;border-radius:3px}header code{background:#2b3444;"
"color:#fff}.dists{display:grid;grid-template-columns:1fr 1fr;gap:4px 16px}"
".dists h3{margin:8px 0 0}";

static void card(FILE *f, const char *id, const char *label, uint64_t v, bool bad)
{
	fprintf(f, "<div class=\"card%s\" id=\"card-%s\" data-n=\"%llu\"><b>", bad ? " bad" : "",
		id, (unsigned long long)v);
	html_u64(f, v);
	fprintf(f, "</b>%s</div>", label);
}

static void count_row(FILE *f, const char *type, uint64_t n)
{
	fputs("<tr data-type=\"", f);
	html_text(f, type);
	fputs("\">", f);
	html_td(f, type);
	html_td_n(f, n);
	fputs("</tr>", f);
}

static void losses(FILE *f, const struct report_model *m)
{
	uint64_t total = 0;

	for (int c = 0; c <= LOST_N_CAUSES; c++)
		total = total > UINT64_MAX - m->lost[c] ? UINT64_MAX : total + m->lost[c];
	if (total) {
		fputs("<div class=\"alarm\" id=\"loss-alarm\">", f);
		html_u64(f, total);
		fputs(" records or counts were lost, by cause below. Histories they touched are"
		      " marked incomplete; listener and port figures may be short.</div>", f);
	}
	fputs("<h3>Losses by cause</h3><table id=\"lost\"><tr><th>cause</th><th>records lost"
	      "</th></tr>", f);
	/* the three main causes always, the others where they happened */
	for (int c = 0; c <= LOST_N_CAUSES; c++)
		if (c <= LOST_FILTER_SKIPPED || m->lost[c])
			count_row(f, c < LOST_N_CAUSES ? lost_cause_name((uint8_t)c) : "other",
				  m->lost[c]);
	fputs("</table>", f);
}

static void inputs(FILE *f, const struct report_model *m)
{
	fputs("<h3>Inputs</h3><table id=\"inputs\"><tr><th>file</th><th>kind</th><th>records"
	      "</th><th>bad lines</th><th>notes</th></tr>", f);
	for (uint32_t i = 0; i < m->n_inputs; i++) {
		const struct rm_input *in = &m->inputs[i];

		fputs("<tr>", f);
		html_td(f, in->name);
		fprintf(f, "<td>%s%s</td>", in->kind == RI_RECORDING ? "recording" : "JSON lines",
			in->compressed ? ", gzip" : "");
		html_td_n(f, in->records);
		html_td_n(f, in->bad);
		fputs("<td>", f);
		html_text(f, in->note);
		if (in->error[0]) {
			fputs(" <b>ends early:</b> ", f);
			html_text(f, in->error);
		}
		fputs("</td></tr>", f);
	}
	fputs("</table>", f);
	if (m->inputs_not_listed) {
		fputs("<p>and ", f);
		html_u64(f, m->inputs_not_listed);
		fputs(" more inputs, not listed.</p>", f);
	}
}

static void bad_lines(FILE *f, const struct report_model *m)
{
	fprintf(f, "<h3>Lines that are not records: <span id=\"bad-count\" data-n=\"%llu\">",
		(unsigned long long)m->bad);
	html_u64(f, m->bad);
	fputs("</span></h3>", f);
	if (!m->n_bad_lines)
		return;
	fputs("<table id=\"bad\"><tr><th>file</th><th>line</th><th>why</th><th>text</th></tr>", f);
	for (uint32_t i = 0; i < m->n_bad_lines; i++) {
		const struct rm_bad *b = &m->bad_lines[i];

		fputs("<tr>", f);
		html_td(f, b->file);
		html_td_n(f, b->line);
		html_td(f, b->why);
		fputs("<td><code>", f);
		html_text(f, b->text);
		fputs("</code></td></tr>", f);
	}
	fputs("</table>", f);
	if (m->bad > m->n_bad_lines)
		fprintf(f, "<p>The first %u are quoted.</p>", m->n_bad_lines);
}

static void overview(FILE *f, const struct report_model *m)
{
	uint64_t alerts = 0;

	for (int k = 0; k < AK_N; k++)
		alerts += m->alerts_by_kind[k];
	fputs("<section id=\"overview\"><h2>Overview</h2>", f);
	losses(f, m);
	fputs("<div class=\"cards\">", f);
	card(f, "records", "records", m->records - m->outside - m->filtered, false);
	card(f, "histories", "connections ended", m->by_type[RT_HISTORY], false);
	card(f, "incomplete", "incomplete histories", m->incomplete, m->incomplete > 0);
	card(f, "alerts", "alerts started", alerts, alerts > 0);
	card(f, "leaks", "CLOSE_WAIT leaks", m->by_type[RT_LEAK], m->by_type[RT_LEAK] > 0);
	card(f, "bad", "bad lines", m->bad, m->bad > 0);
	fputs("</div><div class=\"two\"><div><h3>Records by type</h3><table id=\"counts\">"
	      "<tr><th>type</th><th>records</th></tr>", f);
	for (int t = 0; t < RT_N; t++)
		count_row(f, rm_type_names[t], m->by_type[t]);
	for (uint32_t i = 0; i < m->n_other_names; i++)
		count_row(f, m->other_names[i], m->other_counts[i]);
	fputs("</table>", f);
	if (m->outside || m->filtered) {
		fputs("<p>Left out: ", f);
		html_u64(f, m->outside);
		fputs(" records outside --since/--until, ", f);
		html_u64(f, m->filtered);
		fputs(" of other listeners (--listener).</p>", f);
	}
	fputs("</div><div>", f);
	fputs("<h3>Kernel and features</h3><p>The records name neither the kernel nor the "
	      "tracer's features; recordings carry the settings they were made with (Inputs, "
	      "below).</p>", f);
	inputs(f, m);
	fputs("</div></div>", f);
	bad_lines(f, m);
	fputs("</section>", f);
}

int report_html_write(FILE *f, const struct report_model *m, const struct report_page *p)
{
	int64_t from = m->tl.min_ts, to = m->tl.max_ts;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      /* nothing on this page may load or run anything */
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; img-src data:\">"
	      "<meta name=\"viewport\" content=\"width=device-width\">"
	      "<title>tcptrail report</title><style>", f);
	fputs(style, f);
	fputs("</style></head><body><header><h1>tcptrail report</h1><p id=\"span\">", f);
	if (from <= to) {
		html_time(f, from);
		fputs(" to ", f);
		html_time(f, to);
		fputs(" UTC (", f);
		html_dur(f, (uint64_t)(to - from));
		fputs(")", f);
	} else {
		fputs("no records", f);
	}
	fputs("</p><p>Made ", f);
	html_time(f, p->generated_ns);
	fputs(" UTC by <code>", f);
	html_text(f, p->command ? p->command : "tcptrail report");
	fputs("</code></p><nav><a href=\"#overview\">Overview</a><a href=\"#listeners\">Listeners"
	      "</a><a href=\"#connections\">Connections</a><a href=\"#leaks\">Leaks</a>"
	      "<a href=\"#ports\">Ports</a></nav></header><main>", f);
	overview(f, m);
	report_sections(f, m);
	fputs("</main></body></html>\n", f);
	return ferror(f) ? -1 : 0;
}
