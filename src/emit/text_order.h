/* The text view's lines in time order. A history is finished a grace
 * period after its CLOSE, so its line (stamped with its close time) comes
 * after lines of later events; every line is held back that long and
 * printed in time order. A line that still comes too late is printed at
 * once, marked so: time never runs backwards silently.
 */
#ifndef TT_TEXT_ORDER_H
#define TT_TEXT_ORDER_H

#include <stddef.h>
#include <stdint.h>
#include "outbuf.h"

/* A held line (text_order.c's). */
struct text_line;

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

/* Hold lines hold_ns; at most arena_bytes of them, max_lines lines.
 * Returns 0 or -ENOMEM.
 */
int text_order_init(struct text_order *o, uint64_t hold_ns, size_t arena_bytes,
		    size_t max_lines);
void text_order_free(struct text_order *o);

/* One line of len bytes (its '\n' included) at time ts. When the buffer is
 * full the oldest lines go to out first.
 */
void text_order_add(struct text_order *o, uint64_t ts, const char *line, size_t len,
		    struct outbuf *out);

/* Print to out every line older than now_ns less the hold (now_ns 0: the
 * newest line's time stands for now).
 */
void text_order_release(struct text_order *o, uint64_t now_ns, struct outbuf *out);

/* Print every line held. */
void text_order_release_all(struct text_order *o, struct outbuf *out);

#endif
