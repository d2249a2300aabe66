/* Latency histograms: log-linear buckets for percentiles, fixed bounds for
 * the exposition.
 */
#include <string.h>
#include "latency.h"

const double latency_bounds_s[LATENCY_BOUNDS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

static unsigned bucket_of(uint64_t ns)
{
	unsigned msb, idx;

	if (ns < (1ull << LATENCY_MIN_SHIFT))
		return 0;
	msb = 63u - (unsigned)__builtin_clzll(ns);
	/* the octave, then the next LATENCY_SUB_SHIFT bits below its top bit */
	idx = 1 + ((msb - LATENCY_MIN_SHIFT) << LATENCY_SUB_SHIFT) +
	      (unsigned)((ns >> (msb - LATENCY_SUB_SHIFT)) & ((1u << LATENCY_SUB_SHIFT) - 1));
	return idx < LATENCY_BUCKETS ? idx : LATENCY_BUCKETS - 1;
}

/* The first value past bucket idx. */
static uint64_t bucket_end(unsigned idx)
{
	unsigned octave, sub;

	if (idx == 0)
		return 1ull << LATENCY_MIN_SHIFT;
	octave = (idx - 1) >> LATENCY_SUB_SHIFT;
	sub = (idx - 1) & ((1u << LATENCY_SUB_SHIFT) - 1);
	return (uint64_t)((1u << LATENCY_SUB_SHIFT) + sub + 1)
	       << (octave + LATENCY_MIN_SHIFT - LATENCY_SUB_SHIFT);
}

void latency_add(struct latency_hist *h, uint64_t ns)
{
	h->count[bucket_of(ns)]++;
	h->n++;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

uint64_t latency_quantile(const struct latency_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->n)
		return 0;
	/* the smallest value with at least q of the samples at or below it */
	rank = (uint64_t)(q * (double)h->n + 0.999999);
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < LATENCY_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= rank) {
			/* the last bucket also holds everything longer */
			uint64_t end = i + 1 < LATENCY_BUCKETS ? bucket_end(i) - 1 : h->max_ns;

			return end < h->max_ns ? end : h->max_ns;
		}
	}
	return h->max_ns;
}

void latency_reset(struct latency_hist *h)
{
	memset(h, 0, sizeof(*h));
}

void latency_series_add(struct latency_series *s, uint64_t ns)
{
	double sec = (double)ns / 1e9;
	int i = 0;

	while (i < LATENCY_BOUNDS && sec > latency_bounds_s[i])
		i++;
	s->bucket[i]++;
	s->count++;
	s->sum_s += sec;
}

void latency_series_merge(struct latency_series *a, const struct latency_series *b)
{
	for (int i = 0; i <= LATENCY_BOUNDS; i++)
		a->bucket[i] += b->bucket[i];
	a->count += b->count;
	a->sum_s += b->sum_s;
}
