/* Keys typed at tcptrail top: q quits. */
#ifndef TT_KEYS_H
#define TT_KEYS_H

#include <stdbool.h>
#include <termios.h>

struct keys {
	int fd;			/* -1: not reading keys */
	bool raw;		/* the terminal's mode was changed (and is restored) */
	struct termios saved;
};

/* Read keys from standard input when it is a terminal: single keys, not
 * echoed (Ctrl-C still interrupts). Never fails: without a terminal there
 * are no keys.
 */
void keys_open(struct keys *k);

/* Whether q (or Q) was typed since the last call. */
bool keys_quit(struct keys *k);

/* Give the terminal its mode back. */
void keys_close(struct keys *k);

#endif
