/* Time series of bounded size for the report: every series shares one row
 * of at most TL_BINS bins, whose width grows (1 ms, 2 ms, 10 ms, ... 1 h,
 * 2 h, 6 h, 12 h, 1 d, then doubling) as the time span seen grows, merging
 * neighbouring bins. Bins are aligned to multiples of their width since
 * 1970, so the result does not depend on the order records arrive in:
 * rotated pieces may be read in any order.
 *
 * A field is a sum (counts per interval) or a maximum (queue lengths,
 * limits); a maximum bin with no sample holds TL_NONE.
 */
#ifndef TT_TIMELINE_H
#define TT_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#define TL_BINS 240
#define TL_NONE UINT64_MAX
/* Series a timeline holds at most (listeners, destinations, processes and
 * the overall ones): past it timeline_series() returns NULL.
 */
#define TL_MAX_SERIES 1024
#define TL_MAX_FIELDS 16

enum tl_kind {
	TL_SUM = 0,
	TL_MAX,
};

/* TL_BINS rows of a few fields (timeline.c's). */
struct tl_series;

struct timeline {
	int64_t origin;		/* start of bin 0, ns since 1970 */
	int64_t width;		/* ns per bin */
	int64_t min_ts, max_ts;	/* the span seen; min_ts > max_ts: nothing yet */
	uint32_t nseries;
	struct tl_series *series[TL_MAX_SERIES];
};

void timeline_init(struct timeline *t);
void timeline_free(struct timeline *t);

/* A new series of nfields (at most TL_MAX_FIELDS) of the given kinds, all
 * bins empty; NULL when out of memory or past TL_MAX_SERIES.
 */
struct tl_series *timeline_series(struct timeline *t, uint32_t nfields, const uint8_t *kinds);

/* The bin of ts, after widening or shifting the bins so that it fits
 * (which moves every series' data): use it before the next call.
 */
int timeline_bin(struct timeline *t, int64_t ts);

/* Add v to a sum field (saturating below TL_NONE) or raise a maximum. */
void tl_put(struct tl_series *s, int bin, uint32_t field, uint64_t v);
/* Set a field, whatever its kind (TL_NONE: empty again). */
void tl_set(struct tl_series *s, int bin, uint32_t field, uint64_t v);
uint64_t tl_get(const struct tl_series *s, int bin, uint32_t field);

/* The bins from the first to the last one that time has been seen in:
 * [*first, *last]; both -1 when nothing was seen.
 */
void timeline_used(const struct timeline *t, int *first, int *last);
/* Where bin starts, ns since 1970; a hostile file's times near the ends of
 * int64 put bins past them: those are clamped, never wrapped.
 */
static inline int64_t timeline_bin_start(const struct timeline *t, int bin)
{
	__int128 v = (__int128)t->origin + (__int128)bin * t->width;

	return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : (int64_t)v;
}

#endif
