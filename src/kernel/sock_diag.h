/* The sock_diag fallback of the socket snapshot (no SYN queue length, no
 * SYN cookie stamp: the socket iterator's are the kernel's own).
 */
#ifndef TT_SOCK_DIAG_H
#define TT_SOCK_DIAG_H

#include <stdint.h>
#include <stdbool.h>
#include "snapshot.h"

/* Every TCP socket of family in this namespace (recorded as netns) whose
 * state is in states (a bit per TT_TCP_*; 0: all) to fn. 0 or a negative
 * errno.
 */
int sock_diag_dump(int family, uint32_t netns, uint32_t states, snapshot_fn fn, void *arg);

/* Whether this namespace has a TCP socket of family in states: the dump
 * stops at the first. 0 or a negative errno (then *any is unknown).
 */
int sock_diag_any(int family, uint32_t states, bool *any);

#endif
