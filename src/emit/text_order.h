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

struct text_order;

/* Hold lines hold_ns; at most arena_bytes of them, max_lines lines.
 * Returns NULL without memory.
 */
struct text_order *text_order_new(uint64_t hold_ns, size_t arena_bytes, size_t max_lines);
/* NULL-safe. */
void text_order_free(struct text_order *o);

/* Lines printed before their time (the buffer was full), and lines that
 * came after a later line was printed (marked late).
 */
uint64_t text_order_early(const struct text_order *o);
uint64_t text_order_late(const struct text_order *o);
/* Lines held now. */
size_t text_order_held(const struct text_order *o);

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
