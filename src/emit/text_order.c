/* Holding text lines back and printing them in time order. Lines arrive
 * almost in order, so the index is kept sorted by insertion from its end;
 * the arena keeps them in arrival order and is compacted as lines go.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "fmt.h"
#include "text_order.h"

struct text_line {
	uint64_t ts;
	uint64_t seq;		/* arrival: equal times keep their order */
	uint32_t off, len;	/* in the arena */
};

/* What a line that comes after a later one says, before its newline. */
static const char late_note[] = " (late: printed after later lines)";

struct text_order {
	char *arena;
	size_t len, cap;
	struct text_line *v;	/* sorted by (ts, seq) */
	size_t n, max;
	uint32_t *by_off;	/* scratch: the index by arena offset */
	uint64_t hold_ns;
	uint64_t seq;
	uint64_t newest_ts;	/* the newest line added */
	uint64_t released_ts;	/* the newest line printed */
	uint64_t early;		/* lines printed before their time: the buffer was full */
	uint64_t late;		/* came after a later line was printed (marked) */
};

struct text_order *text_order_new(uint64_t hold_ns, size_t arena_bytes, size_t max_lines)
{
	struct text_order *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->hold_ns = hold_ns;
	o->cap = arena_bytes;
	o->max = max_lines;
	o->arena = malloc(arena_bytes);
	o->v = calloc(max_lines, sizeof(*o->v));
	o->by_off = calloc(max_lines, sizeof(*o->by_off));
	if (!o->arena || !o->v || !o->by_off) {
		text_order_free(o);
		return NULL;
	}
	return o;
}

void text_order_free(struct text_order *o)
{
	if (!o)
		return;
	free(o->arena);
	free(o->v);
	free(o->by_off);
	free(o);
}

uint64_t text_order_early(const struct text_order *o)
{
	return o->early;
}

uint64_t text_order_late(const struct text_order *o)
{
	return o->late;
}

size_t text_order_held(const struct text_order *o)
{
	return o->n;
}

static void write_line(struct outbuf *out, const char *line, size_t len, bool late)
{
	char *p = outbuf_begin(out);

	if (len > OUTBUF_MAX_RECORD - sizeof(late_note))
		len = OUTBUF_MAX_RECORD - sizeof(late_note);
	if (late && len) {
		p = fmt_mem(p, line, len - 1);
		p = fmt_mem(p, late_note, sizeof(late_note) - 1);
		*p++ = '\n';
	} else {
		p = fmt_mem(p, line, len);
	}
	outbuf_commit(out, p);
}

/* qsort has no context argument: the index being compacted. */
static const struct text_line *by_off_index;

static int cmp_off(const void *a, const void *b)
{
	uint32_t x = by_off_index[*(const uint32_t *)a].off;
	uint32_t y = by_off_index[*(const uint32_t *)b].off;

	return (x > y) - (x < y);
}

/* Print the first k lines of the index and drop them. */
static void release_first(struct text_order *o, size_t k, struct outbuf *out)
{
	size_t keep = 0;

	for (size_t i = 0; i < k; i++) {
		write_line(out, o->arena + o->v[i].off, o->v[i].len, false);
		if (o->v[i].ts > o->released_ts)
			o->released_ts = o->v[i].ts;
	}
	memmove(o->v, o->v + k, (o->n - k) * sizeof(*o->v));
	o->n -= k;
	/* compact the arena: the remaining lines, in arrival order */
	for (size_t i = 0; i < o->n; i++)
		o->by_off[i] = (uint32_t)i;
	by_off_index = o->v;
	qsort(o->by_off, o->n, sizeof(*o->by_off), cmp_off);
	for (size_t i = 0; i < o->n; i++) {
		struct text_line *l = &o->v[o->by_off[i]];

		memmove(o->arena + keep, o->arena + l->off, l->len);
		l->off = (uint32_t)keep;
		keep += l->len;
	}
	o->len = keep;
}

void text_order_add(struct text_order *o, uint64_t ts, const char *line, size_t len,
		    struct outbuf *out)
{
	size_t i;

	if (o->released_ts && ts < o->released_ts) {
		o->late++;
		write_line(out, line, len, true);
		return;
	}
	while (o->n && (o->n == o->max || o->cap - o->len < len)) {
		size_t k = o->n < 64 ? o->n : 64;

		o->early += k;
		release_first(o, k, out);
	}
	if (o->n == o->max || o->cap - o->len < len) {
		write_line(out, line, len, false);	/* longer than the whole arena */
		return;
	}
	for (i = o->n; i > 0 && o->v[i - 1].ts > ts; i--)
		;
	memmove(o->v + i + 1, o->v + i, (o->n - i) * sizeof(*o->v));
	o->v[i] = (struct text_line){ ts, o->seq++, (uint32_t)o->len, (uint32_t)len };
	memcpy(o->arena + o->len, line, len);
	o->len += len;
	o->n++;
	if (ts > o->newest_ts)
		o->newest_ts = ts;
}

void text_order_release(struct text_order *o, uint64_t now_ns, struct outbuf *out)
{
	uint64_t now = now_ns ? now_ns : o->newest_ts, until;
	size_t k = 0;

	if (now < o->hold_ns)
		return;
	until = now - o->hold_ns;
	while (k < o->n && o->v[k].ts <= until)
		k++;
	if (k)
		release_first(o, k, out);
}

void text_order_release_all(struct text_order *o, struct outbuf *out)
{
	if (o->n)
		release_first(o, o->n, out);
}
