/* One timer table drives everything periodic in the tracing loop (as redis's
 * ae.c does): each job registers once, and the poll timeout comes from the
 * earliest deadline.
 */
#ifndef TT_TIMERS_H
#define TT_TIMERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIMERS_MAX 8

typedef void (*timer_fn)(void *arg, uint64_t now_ns);

struct timers;

/* An empty table of TIMERS_MAX timers, or NULL without memory. */
struct timers *timers_new(void);
/* NULL-safe. */
void timers_free(struct timers *ts);

/* Register fn to run first at first_ns, then every period_ns (0: once).
 * Returns the timer's id, or -1 when the table is full.
 */
int timers_add(struct timers *ts, uint64_t first_ns, uint64_t period_ns, timer_fn fn, void *arg);

/* Bring timer id forward to due_ns if that is sooner. */
void timers_pull(struct timers *ts, int id, uint64_t due_ns);

/* Put timer id off to due_ns if that is later (its period then counts
 * from there).
 */
void timers_push(struct timers *ts, int id, uint64_t due_ns);

/* Milliseconds until the earliest deadline, at most max_ms (0 if overdue). */
int timers_timeout_ms(const struct timers *ts, uint64_t now_ns, int max_ms);

/* Run every timer that is due. A late run does not make the next one early:
 * the next is a period after the deadline, or after now if it fell behind
 * by a whole period.
 */
void timers_run(struct timers *ts, uint64_t now_ns);

#endif
