/* Keys typed at tcptrail top: q quits. */
#ifndef TT_KEYS_H
#define TT_KEYS_H

#include <stdbool.h>

#include <stdint.h>

/* Keys are looked at this often (keys_job's period). */
#define KEYS_PERIOD_NS 100000000ull

struct keys;

/* Read keys from standard input when it is a terminal: single keys, not
 * echoed (Ctrl-C still interrupts); q sets *quit. *k is NULL without a
 * terminal (there are no keys then). Returns 0, or -ENOMEM.
 */
int keys_open(struct keys **k, bool *quit);

/* Whether q (or Q) was typed since the last call. */
bool keys_quit(struct keys *k);

/* A timer job (timers.h) over k: reads what was typed. */
void keys_job(void *k, uint64_t now_ns);

/* Give the terminal its mode back. NULL-safe. */
void keys_close(struct keys *k);

#endif
