/* tcptrail report's page: one self-contained HTML file (inline CSS and
 * hand-written SVG, no script, no request to anywhere) drawn from the
 * report model. Each chart has its numbers on hover (SVG titles) and in a
 * table beside it.
 */
#ifndef TT_REPORT_HTML_H
#define TT_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>
#include "report_model.h"

/* Charts per section at most: listeners, destinations, processes. */
#define REPORT_TOP 8

struct report_page {
	const char *command;	/* the command line that made it, shown */
	int64_t generated_ns;	/* wall clock, ns since 1970 */
};

/* Write the page for the finished model m to f. Returns 0, or -1 when f
 * reports a write error.
 */
int report_html_write(FILE *f, const struct report_model *m, const struct report_page *p);

/* s as HTML text (safe in element content and in quoted attributes) into
 * dst of cap bytes, NUL-terminated; stops at a whole character or entity.
 * Bytes that are not valid UTF-8, and control characters, become U+FFFD.
 * Returns the bytes written.
 */
size_t report_html_escape(char *dst, size_t cap, const char *s);

/* The writer's own helpers, shared by its files. */
void html_text(FILE *f, const char *s);		/* escaped */
void html_u64(FILE *f, uint64_t v);		/* 1234567 as 1,234,567 */
void html_dur(FILE *f, uint64_t ns);		/* a duration; "-" for TL_NONE */
void html_time(FILE *f, int64_t ns);		/* wall clock, UTC */
/* Table cells: escaped text; a count, right-aligned, its exact value in
 * data-n (what the tests read).
 */
void html_td(FILE *f, const char *s);
void html_td_n(FILE *f, uint64_t v);
const char *html_state_color(const char *state);
void report_sections(FILE *f, const struct report_model *m);	/* report_sections.c */

#endif
