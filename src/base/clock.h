/* The one monotonic clock: CLOCK_MONOTONIC, as bpf_ktime_get_ns() reads it. */
#ifndef TT_CLOCK_H
#define TT_CLOCK_H

#include <stdint.h>

uint64_t clock_mono_ns(void);
/* Milliseconds since this process was exec'd (10 ms steps); 0 unknown. */
uint64_t clock_since_exec_ms(void);

#endif
