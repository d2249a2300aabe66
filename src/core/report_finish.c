/* The report model's last step, once every record is in: alert records
 * paired into spans, leaks counted per process over time, the oldest leaks
 * picked. Done at the end because the inputs may come in any order.
 */
#include <stdlib.h>
#include <string.h>
#include "report_model.h"

static int by_owner_time(const void *a, const void *b)
{
	const struct rm_span *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->owner != y->owner)
		return x->owner < y->owner ? -1 : 1;
	if (x->sort_ts != y->sort_ts)
		return x->sort_ts < y->sort_ts ? -1 : 1;
	return x->is_clear - y->is_clear;	/* a start before its clear */
}

/* Records in, spans out (in place): a start opens, the next clear of the
 * same alert closes; a clear with no start began duration_ms before it; a
 * start never cleared lasts to the end of the input (end INT64_MAX).
 */
static void pair_spans(struct report_model *m)
{
	uint32_t out = 0;

	qsort(m->spans, m->n_spans, sizeof(*m->spans), by_owner_time);
	for (uint32_t i = 0; i < m->n_spans; i++) {
		struct rm_span *s = &m->spans[i];
		struct rm_span span = *s;

		if (!s->is_clear) {
			const struct rm_span *c = i + 1 < m->n_spans ? &m->spans[i + 1] : NULL;

			span.start_seen = true;
			span.end = INT64_MAX;
			if (c && c->is_clear && c->kind == s->kind && c->owner == s->owner) {
				span.end = c->sort_ts;
				i++;
			}
		} else {
			span.end = s->sort_ts;	/* its start was before the input */
		}
		span.is_clear = false;
		m->spans[out++] = span;
	}
	m->n_spans = out;
}

static int by_time(const void *a, const void *b)
{
	const struct rm_leak *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->resolved - y->resolved;
}

/* Open leaks by socket id: where each is in m->leaks. Removed entries
 * stay as tombstones so that later probes go past them.
 */
enum { EMPTY = 0, USED, GONE };
struct open_set {
	uint64_t *ids;
	uint32_t *at;		/* leak index */
	uint8_t *state;
	size_t cap;
};

/* The slot holding id, or NULL; with add, a free one for it (never NULL:
 * the set has room for every leak twice over).
 */
static size_t *find(struct open_set *o, uint64_t id, bool add, size_t *out)
{
	size_t h = (size_t)((id * 0x9e3779b97f4a7c15ull) >> 17) % o->cap, free_at = SIZE_MAX;

	for (size_t k = 0; k < o->cap; k++) {
		size_t i = (h + k) % o->cap;

		if (o->state[i] == USED && o->ids[i] == id) {
			*out = i;
			return out;
		}
		if (o->state[i] == GONE && free_at == SIZE_MAX)
			free_at = i;
		if (o->state[i] == EMPTY) {
			if (free_at == SIZE_MAX)
				free_at = i;
			break;
		}
	}
	if (!add || free_at == SIZE_MAX)
		return NULL;
	*out = free_at;
	o->state[free_at] = EMPTY;	/* the caller fills it */
	return out;
}

/* Step through the leak events in time order, counting each process's open
 * leaks; a socket reported twice (two runs, or the one-shot report) counts
 * once while open.
 */
static void count_open(struct report_model *m)
{
	struct open_set o = { NULL, NULL, NULL, (size_t)m->n_leaks * 2 + 1 };
	static const uint8_t kinds[1] = { TL_MAX };
	uint64_t *open_now = calloc(RM_MAX_PROCS, sizeof(uint64_t));

	o.ids = calloc(o.cap, sizeof(*o.ids));
	o.at = calloc(o.cap, sizeof(*o.at));
	o.state = calloc(o.cap, 1);
	if (!o.ids || !o.at || !o.state || !open_now)
		goto cleanup;
	if (m->n_leaks)
		qsort(m->leaks, m->n_leaks, sizeof(*m->leaks), by_time);
	for (uint32_t i = 0; i < m->n_procs; i++)
		m->procs[i].s = timeline_series(&m->tl, 1, kinds);
	for (uint32_t i = 0; i < m->n_leaks; i++) {
		struct rm_leak *l = &m->leaks[i];
		size_t at = 0;
		bool have = find(&o, l->id, !l->resolved, &at) != NULL;
		bool found = have && o.state[at] == USED;

		l->resolved_ns = TL_NONE;
		if (!l->resolved) {
			if (found) {
				l->dup = true;	/* already open: not again */
				continue;
			}
			if (!have)
				continue;
			o.state[at] = USED;
			o.ids[at] = l->id;
			o.at[at] = i;
			if (l->proc == UINT16_MAX)
				continue;
			if (++open_now[l->proc] > m->procs[l->proc].peak_open)
				m->procs[l->proc].peak_open = open_now[l->proc];
		} else {
			if (!found)
				continue;	/* its leak record is not in the input */
			o.state[at] = GONE;
			m->leaks[o.at[at]].resolved_ns = l->close_wait_ns;
			l->proc = m->leaks[o.at[at]].proc;
			if (l->proc == UINT16_MAX)
				continue;
			m->procs[l->proc].resolved++;
			open_now[l->proc]--;
		}
		if (m->procs[l->proc].s)
			tl_put(m->procs[l->proc].s, timeline_bin(&m->tl, l->ts), 0,
			       open_now[l->proc]);
	}
	for (size_t i = 0; i < o.cap; i++)
		m->open_at_end += o.state[i] == USED;
cleanup:
	free(o.ids);
	free(o.at);
	free(o.state);
	free(open_now);
}

/* Between events a process's count stays what it was: carry it forward. */
static void fill_steps(struct report_model *m)
{
	int first, last;

	timeline_used(&m->tl, &first, &last);
	for (uint32_t i = 0; i < m->n_procs; i++) {
		struct tl_series *s = m->procs[i].s;
		uint64_t prev = TL_NONE;

		if (!s)
			continue;
		for (int b = first; b >= 0 && b <= last; b++) {
			uint64_t v = tl_get(s, b, 0);

			if (v == TL_NONE && prev != TL_NONE)
				tl_set(s, b, 0, v = prev);
			prev = v;
		}
	}
}

/* The oldest leaks: by age at resolution, or (open) at the input's end. */
static void pick_oldest(struct report_model *m)
{
	for (uint32_t i = 0; i < m->n_leaks; i++) {
		const struct rm_leak *l = &m->leaks[i];
		struct rm_oldest c = { i, l->close_wait_ns, true };
		uint32_t slot = m->n_oldest;

		if (l->resolved || l->dup)
			continue;
		if (l->resolved_ns != TL_NONE) {
			c.age_ns = l->resolved_ns;
			c.open = false;
		}
		if (c.open && m->tl.max_ts > l->ts)
			c.age_ns += (uint64_t)(m->tl.max_ts - l->ts);
		if (slot >= RM_OLDEST) {
			slot = 0;
			for (uint32_t k = 1; k < RM_OLDEST; k++)
				if (m->oldest[k].age_ns < m->oldest[slot].age_ns)
					slot = k;
			if (m->oldest[slot].age_ns >= c.age_ns)
				continue;
		} else {
			m->n_oldest++;
		}
		m->oldest[slot] = c;
	}
}

static int by_age(const void *a, const void *b)
{
	const struct rm_oldest *x = a, *y = b;

	return x->age_ns < y->age_ns ? 1 : x->age_ns > y->age_ns ? -1 : 0;
}

void rm_finish(struct report_model *m)
{
	if (m->finished)
		return;
	m->finished = true;
	pair_spans(m);
	count_open(m);
	fill_steps(m);
	pick_oldest(m);
	qsort(m->oldest, m->n_oldest, sizeof(*m->oldest), by_age);
}
