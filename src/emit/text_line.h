/* One line of the text view: the columns up to DETAIL, the details wrapped
 * onto indented lines past TEXT_WIDTH, and the line held back for time
 * order (text_order.h). Internal to the text view.
 */
#ifndef TT_TEXT_LINE_H
#define TT_TEXT_LINE_H

#include <stdbool.h>
#include <stdint.h>
#include "emit.h"

#define TEXT_WIDTH 160		/* longest line, unless --wide */
#define TEXT_INDENT 13		/* continuation lines start under EVENT */
/* Written between parts of DETAIL: where a long line is best broken (a
 * space when it is not).
 */
#define TEXT_BREAK '\001'

/* The columns TIME EVENT PID COMM LOCAL REMOTE; no remote end (a
 * listener's line) prints "-". Returns where DETAIL goes.
 */
char *text_line_start(struct emitter *em, uint64_t ts, const char *what, bool owner,
		      uint32_t pid, const char *comm, int family, const uint8_t *laddr,
		      uint16_t lport, const uint8_t *raddr, uint16_t rport);

/* A process name made safe for a terminal; an empty one (prctl can set
 * it) as "-", so that the columns stay apart.
 */
char *text_line_comm(char *p, const char *comm);

/* TIME, then free text (a line outside the columns). */
char *text_line_bare(struct emitter *em, uint64_t ts);

/* The line ends at p: wrapped, then held or written. */
void text_line_end(struct emitter *em, char *p);

#endif
