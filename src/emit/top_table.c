/* Column fitting for the top view. */
#include <stdio.h>
#include <string.h>
#include "top_table.h"

/* Column i is one of t's. */
static bool has(const struct top_table *t, int i)
{
	return i < TOP_MAX_COLS && t->cols[i].head;
}

void top_table_init(struct top_table *t, const struct top_col *cols)
{
	memset(t, 0, sizeof(*t));
	t->cols = cols;
	for (int i = 0; has(t, i); i++) {
		t->width[i] = (int)strlen(cols[i].head);
		t->shown[i] = true;
	}
}

void top_table_measure(struct top_table *t, top_row row)
{
	for (int i = 0; has(t, i); i++) {
		int n = (int)strnlen(row[i], TOP_CELL - 1);

		if (n > t->cols[i].cap)
			n = t->cols[i].cap;
		if (n > t->width[i])
			t->width[i] = n;
	}
}

static int row_width(const struct top_table *t)
{
	int w = -1;

	for (int i = 0; has(t, i); i++)
		if (t->shown[i])
			w += t->width[i] + 1;
	return w < 0 ? 0 : w;
}

int top_table_fit(struct top_table *t, int width)
{
	while (width > 0 && row_width(t) > width) {
		int worst = -1;

		for (int i = 0; has(t, i); i++)
			if (t->shown[i] && t->cols[i].prio > 1 &&
			    (worst < 0 || t->cols[i].prio > t->cols[worst].prio))
				worst = i;
		if (worst < 0)
			break;	/* only the essential columns are left */
		t->shown[worst] = false;
	}
	return row_width(t);
}

size_t top_table_row(const struct top_table *t, top_row row, char *buf, size_t len)
{
	size_t off = 0;
	int last = -1;

	for (int i = 0; has(t, i); i++)
		if (t->shown[i])
			last = i;
	buf[0] = '\0';
	for (int i = 0; has(t, i) && off < len; i++) {
		const char *cell = row ? row[i] : t->cols[i].head;
		int w = t->width[i], n;

		if (!t->shown[i])
			continue;
		/* the last column is not padded: no trailing blanks */
		if (i == last && t->cols[i].left)
			n = snprintf(buf + off, len - off, "%.*s", w, cell);
		else
			n = snprintf(buf + off, len - off, t->cols[i].left ? "%-*.*s" : "%*.*s",
				     w, w, cell);
		if (n < 0)
			break;
		off += (size_t)n;
		if (i != last && off < len - 1)
			buf[off++] = ' ';
	}
	if (off >= len)
		off = len - 1;
	buf[off] = '\0';
	return off;
}
