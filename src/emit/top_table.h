/* Tables of the top view that fit a width: each column has a priority, and
 * the least important are dropped first until a row fits.
 */
#ifndef TT_TOP_TABLE_H
#define TT_TOP_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#define TOP_CELL 64		/* bytes of one cell, with its NUL */
#define TOP_MAX_COLS 16

struct top_col {
	const char *head;
	unsigned char prio;	/* 1: the last to go */
	bool left;		/* left-aligned (text), else right (numbers) */
	unsigned char cap;	/* widest it may be; longer cells are cut */
};

struct top_table {
	const struct top_col *cols;
	int width[TOP_MAX_COLS];
	bool shown[TOP_MAX_COLS];
};

typedef char top_row[TOP_MAX_COLS][TOP_CELL];

/* Start measuring: every column as wide as its header. cols ends with one
 * whose head is NULL (at most TOP_MAX_COLS before it).
 */
void top_table_init(struct top_table *t, const struct top_col *cols);
/* Widen the columns to a row's cells (up to each column's cap). */
void top_table_measure(struct top_table *t, top_row row);
/* Drop columns, least important first, until a row fits in width
 * characters (0: keep them all). Returns the width of a row.
 */
int top_table_fit(struct top_table *t, int width);
/* One row of the shown columns into buf (len bytes); the header if row is
 * NULL. Returns its length.
 */
size_t top_table_row(const struct top_table *t, top_row row, char *buf, size_t len);

#endif
