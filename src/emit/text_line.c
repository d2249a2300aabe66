/* The text view's line mechanics: columns, wrapping, time order. */
#include <string.h>
#include "log.h"
#include "text_line.h"

#define COL_EVENT 13
#define COL_PID 8
#define COL_COMM 16
#define COL_ADDR 26

static char *pad_to(char *p, char *col_start, int width)
{
	int used = (int)(p - col_start);

	do {
		*p++ = ' ';
	} while (++used < width);
	return p;
}

void emit_text_header(struct emitter *em)
{
	char *p = outbuf_begin(em->out), *col;

	em->header_done = true;
	p = fmt_lit(p, "TIME         ");
	col = p;
	p = pad_to(fmt_lit(p, "EVENT"), col, COL_EVENT);
	col = p;
	p = pad_to(fmt_lit(p, "PID"), col, COL_PID);
	col = p;
	p = pad_to(fmt_lit(p, "COMM"), col, COL_COMM);
	col = p;
	p = pad_to(fmt_lit(p, "LOCAL"), col, COL_ADDR);
	col = p;
	p = pad_to(fmt_lit(p, "REMOTE"), col, COL_ADDR);
	p = fmt_lit(p, "DETAIL\n");
	outbuf_commit(em->out, p);
}

char *text_line_comm(char *p, const char *comm)
{
	return comm[0] ? fmt_text_safe(p, comm, TT_COMM_LEN) : fmt_lit(p, "-");
}

char *text_line_bare(struct emitter *em, uint64_t ts)
{
	char *p;

	if (!em->header_done)
		emit_text_header(em);
	em->shown++;
	em->line_ts = ts;
	em->line_begin = em->order ? em->line : outbuf_begin(em->out);
	p = fmt_clock_ms(em->line_begin, &em->clock, ts);
	*p++ = ' ';
	em->detail_off = (size_t)(p - em->line_begin);
	return p;
}

char *text_line_start(struct emitter *em, uint64_t ts, const char *what, bool owner,
		      uint32_t pid, const char *comm, int family, const uint8_t *laddr,
		      uint16_t lport, const uint8_t *raddr, uint16_t rport)
{
	char *p = text_line_bare(em, ts), *col = p;

	p = pad_to(fmt_str(p, what), col, COL_EVENT);
	col = p;
	p = pad_to(owner ? fmt_u64(p, pid) : fmt_lit(p, "-"), col, COL_PID);
	col = p;
	p = pad_to(owner ? text_line_comm(p, comm) : fmt_lit(p, "-"), col,
		   COL_COMM);
	col = p;
	p = pad_to(fmt_endpoint(p, family, laddr, lport), col, COL_ADDR);
	col = p;
	p = pad_to(raddr ? fmt_endpoint(p, family, raddr, rport) : fmt_lit(p, "-"), col,
		   COL_ADDR);
	em->detail_off = (size_t)(p - em->line_begin);
	return p;
}

/* A new continuation line in out. */
static char *indent(char *out, size_t *col)
{
	*out++ = '\n';
	memset(out, ' ', TEXT_INDENT);
	*col = TEXT_INDENT;
	return out + TEXT_INDENT;
}

/* The word at s (up to a space, a break or the end), or the whole part up
 * to the next break when whole.
 */
static size_t span(const char *s, const char *end, bool whole)
{
	const char *e = s;

	while (e < end && *e != TEXT_BREAK && (whole || *e != ' '))
		e++;
	return (size_t)(e - s);
}

/* DETAIL (from d to end) refilled into out after the columns: a part
 * between breaks that does not fit on this line starts a new one; a word
 * that does not fit starts a new line. Returns the end of out, or NULL if
 * it would pass limit.
 */
static char *refill(char *out, const char *limit, size_t col, const char *d, const char *end)
{
	bool first = true;

	while (d < end) {
		bool part = *d == TEXT_BREAK;
		size_t w;

		if (*d == ' ' || *d == TEXT_BREAK)
			d++;
		w = span(d, end, part);
		if (out + w + TEXT_INDENT + 2 > limit)
			return NULL;
		if (part && col + 1 + w > TEXT_WIDTH && col > TEXT_INDENT)
			out = indent(out, &col);
		w = span(d, end, false);
		if (!w)
			continue;
		if (col + 1 + w > TEXT_WIDTH && col > TEXT_INDENT && !first)
			out = indent(out, &col);
		else if (!first && col > TEXT_INDENT)
			*out++ = ' ', col++;
		memcpy(out, d, w);
		out += w;
		col += w;
		d += w;
		first = false;
	}
	return out;
}

/* Break markers become spaces, or the line is refilled when too long.
 * Returns its new end (the '\n' not yet written).
 */
static char *wrap(struct emitter *em, char *begin, char *end)
{
	char *d = begin + em->detail_off, *out = NULL;

	if (!em->wide && (size_t)(end - begin) > TEXT_WIDTH && d < end) {
		memcpy(em->wrapped, begin, em->detail_off);
		out = refill(em->wrapped + em->detail_off, em->wrapped + sizeof(em->wrapped) - 1,
			     em->detail_off, d, end);
	}
	if (!out) {
		for (char *q = d; q < end; q++)
			if (*q == TEXT_BREAK)
				*q = ' ';
		return end;
	}
	memcpy(begin, em->wrapped, (size_t)(out - em->wrapped));
	return begin + (out - em->wrapped);
}

void text_line_end(struct emitter *em, char *p)
{
	p = wrap(em, em->line_begin, p);
	*p++ = '\n';
	if (!em->order) {
		outbuf_commit(em->out, p);
		return;
	}
	text_order_add(em->order, em->line_ts, em->line_begin, (size_t)(p - em->line_begin),
		       em->out);
}

int emit_text_ages(struct emitter *em, struct state_age *ages, uint32_t sockets)
{
	if (state_age_init(ages, sockets))
		return -1;
	em->ages = ages;
	return 0;
}

void emit_text_flush(struct emitter *em)
{
	uint64_t early, late;

	if (em->ages && em->ages->evicted)
		p_info("the text view forgot %llu sockets' last transitions to make room (their "
		       "next state line says ? for the time in the old state)",
		       (unsigned long long)em->ages->evicted);
	if (!em->order)
		return;
	text_order_release_all(em->order, em->out);
	early = text_order_early(em->order);
	late = text_order_late(em->order);
	if (early || late)
		p_warn("%llu text lines were printed out of time order (%llu late, marked; %llu "
		       "early, the hold buffer full)",
		       (unsigned long long)(early + late), (unsigned long long)late,
		       (unsigned long long)early);
}

struct text_order *emit_text_hold(struct emitter *em, uint64_t grace_ns, uint64_t (*now)(void))
{
	em->order = text_order_new(grace_ns + EMIT_TEXT_HOLD_SLACK_NS, EMIT_TEXT_HOLD_BYTES,
				   EMIT_TEXT_HOLD_LINES);
	em->now = now;
	return em->order;
}
