/* Shared, self-widening time bins for the report's charts (timeline.h). */
#include <stdlib.h>
#include <string.h>
#include "timeline.h"

struct tl_series {
	uint32_t nfields;
	uint8_t kinds[TL_MAX_FIELDS];	/* enum tl_kind per field */
	uint64_t *v;			/* TL_BINS rows of nfields */
};

#define MS 1000000ll
#define SEC (1000 * MS)

/* Each width a multiple of the one before, so that merging never splits a
 * bin; past the table, widths double.
 */
static const int64_t ladder[] = {
	1 * MS, 2 * MS, 10 * MS, 20 * MS, 100 * MS, 200 * MS,
	1 * SEC, 2 * SEC, 10 * SEC, 20 * SEC, 60 * SEC, 120 * SEC, 600 * SEC, 1200 * SEC,
	3600 * SEC, 7200 * SEC, 21600 * SEC, 43200 * SEC, 86400 * SEC,
};
#define NLADDER (sizeof(ladder) / sizeof(ladder[0]))

static int64_t width_at(uint32_t step)
{
	if (step < NLADDER)
		return ladder[step];
	/* doubling days, up to 2^16 days (179 years): any span of int64
	 * nanoseconds since 1970 fits TL_BINS of those
	 */
	return ladder[NLADDER - 1] << (step - NLADDER + 1 < 16 ? step - NLADDER + 1 : 16);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

void timeline_init(struct timeline *t)
{
	memset(t, 0, sizeof(*t));
	t->width = ladder[0];
	t->min_ts = INT64_MAX;
	t->max_ts = INT64_MIN;
}

void timeline_free(struct timeline *t)
{
	for (uint32_t i = 0; i < t->nseries; i++) {
		free(t->series[i]->v);
		free(t->series[i]);
	}
	t->nseries = 0;
}

static void clear_rows(struct tl_series *s, uint64_t *v, int from, int to)
{
	for (int b = from; b < to; b++)
		for (uint32_t f = 0; f < s->nfields; f++)
			v[(size_t)b * s->nfields + f] = s->kinds[f] == TL_MAX ? TL_NONE : 0;
}

struct tl_series *timeline_series(struct timeline *t, uint32_t nfields, const uint8_t *kinds)
{
	struct tl_series *s;

	if (t->nseries >= TL_MAX_SERIES || !nfields || nfields > TL_MAX_FIELDS)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->v = malloc(sizeof(uint64_t) * TL_BINS * nfields);
	if (!s->v) {
		free(s);
		return NULL;
	}
	s->nfields = nfields;
	memcpy(s->kinds, kinds, nfields);
	clear_rows(s, s->v, 0, TL_BINS);
	t->series[t->nseries++] = s;
	return s;
}

void tl_put(struct tl_series *s, int bin, uint32_t field, uint64_t v)
{
	uint64_t *slot = &s->v[(size_t)bin * s->nfields + field];

	if (s->kinds[field] == TL_MAX) {
		if (*slot == TL_NONE || v > *slot)
			*slot = v == TL_NONE ? TL_NONE - 1 : v;
	} else {
		*slot = *slot > TL_NONE - 1 - v ? TL_NONE - 1 : *slot + v;
	}
}

void tl_set(struct tl_series *s, int bin, uint32_t field, uint64_t v)
{
	s->v[(size_t)bin * s->nfields + field] = v;
}

uint64_t tl_get(const struct tl_series *s, int bin, uint32_t field)
{
	return s->v[(size_t)bin * s->nfields + field];
}

/* Move every series onto the bins [origin, origin + TL_BINS * width). */
static void remap(struct timeline *t, int64_t origin, int64_t width)
{
	for (uint32_t i = 0; i < t->nseries; i++) {
		struct tl_series *s = t->series[i];
		uint64_t old[TL_BINS * TL_MAX_FIELDS];

		memcpy(old, s->v, sizeof(uint64_t) * TL_BINS * s->nfields);
		clear_rows(s, s->v, 0, TL_BINS);
		for (int b = 0; b < TL_BINS; b++) {
			/* 128 bits: a hostile file's times reach the ends of
			 * int64, where start - origin overflows
			 */
			__int128 d = (__int128)t->origin + (__int128)b * t->width - origin;
			int nb;

			/* empty bins outside the new row: nothing seen there */
			if (d < 0 || d >= (__int128)TL_BINS * width)
				continue;
			nb = (int)(d / width);
			for (uint32_t f = 0; f < s->nfields; f++) {
				uint64_t v = old[(size_t)b * s->nfields + f];

				if (s->kinds[f] == TL_MAX && v == TL_NONE)
					continue;
				tl_put(s, (int)nb, f, v);
			}
		}
	}
	t->origin = origin;
	t->width = width;
}

int timeline_bin(struct timeline *t, int64_t ts)
{
	int64_t lo, hi, w;
	uint32_t step;

	if (t->min_ts > t->max_ts) {	/* the first time seen */
		t->min_ts = t->max_ts = ts;
		t->origin = floor_div(ts, t->width) * t->width;
		return (int)((ts - t->origin) / t->width);
	}
	if (ts >= t->origin && (ts - t->origin) / t->width < TL_BINS) {
		if (ts < t->min_ts)
			t->min_ts = ts;
		if (ts > t->max_ts)
			t->max_ts = ts;
		return (int)((ts - t->origin) / t->width);
	}
	lo = ts < t->min_ts ? ts : t->min_ts;
	hi = ts > t->max_ts ? ts : t->max_ts;
	/* the narrowest width, from the one in use up (bins are never
	 * split), at which the whole span fits
	 */
	for (step = 0; width_at(step) < t->width; step++)
		;
	for (;; step++) {
		w = width_at(step);
		if (floor_div(hi, w) - floor_div(lo, w) < TL_BINS)
			break;
	}
	remap(t, floor_div(lo, w) * w, w);
	t->min_ts = lo;
	t->max_ts = hi;
	return (int)((ts - t->origin) / t->width);
}

void timeline_used(const struct timeline *t, int *first, int *last)
{
	if (t->min_ts > t->max_ts) {
		*first = *last = -1;
		return;
	}
	*first = (int)((t->min_ts - t->origin) / t->width);
	*last = (int)((t->max_ts - t->origin) / t->width);
}
