/* Latency figures kept per listener and per role: a log-linear histogram
 * that answers percentiles over an interval within 1/8 of an octave, and
 * Prometheus's cumulative buckets. Pure, fixed-size, no allocation.
 */
#ifndef TT_LATENCY_H
#define TT_LATENCY_H

#include <stdint.h>

/* 8 buckets per octave from 1.024 us (2^10 ns) up to 2^42 ns (73 min);
 * bucket 0 holds everything shorter.
 */
#define LATENCY_MIN_SHIFT 10
#define LATENCY_SUB_SHIFT 3
#define LATENCY_OCTAVES 32
#define LATENCY_BUCKETS ((LATENCY_OCTAVES << LATENCY_SUB_SHIFT) + 1)

struct latency_hist {
	uint64_t n;
	uint64_t max_ns;
	uint32_t count[LATENCY_BUCKETS];
};

void latency_add(struct latency_hist *h, uint64_t ns);
/* The q-quantile (0 < q <= 1): the upper edge of the bucket holding it,
 * never above the largest value seen, so it overstates by less than one
 * eighth of an octave (about 9%) and never understates. 0 when empty.
 */
uint64_t latency_quantile(const struct latency_hist *h, double q);
void latency_reset(struct latency_hist *h);

/* The exposition's histogram: upper bounds in seconds, then +Inf. */
#define LATENCY_BOUNDS 16
extern const double latency_bounds_s[LATENCY_BOUNDS];

struct latency_series {
	uint64_t bucket[LATENCY_BOUNDS + 1];	/* per bucket, not cumulative */
	uint64_t count;
	double sum_s;
};

void latency_series_add(struct latency_series *s, uint64_t ns);
/* Add b's figures to a (series summed over SO_REUSEPORT members). */
void latency_series_merge(struct latency_series *a, const struct latency_series *b);

#endif
