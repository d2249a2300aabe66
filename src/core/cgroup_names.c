/* Open addressing, twice the entries in slots; both grow by doubling, so
 * that a recording naming few cgroups costs little.
 */
#include <stdlib.h>
#include <string.h>
#include "cgroup_names.h"

#define FIRST_CAP 64

struct cgroup_names {
	uint32_t n, cap;		/* entries, and room for them */
	struct cgroup_info *v;
	uint32_t *slot;			/* 2 * cap of them: index + 1 */
};

struct cgroup_names *cgroup_names_new(void)
{
	return calloc(1, sizeof(struct cgroup_names));
}

void cgroup_names_free(struct cgroup_names *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->n; i++)
		free((char *)t->v[i].path);
	free(t->v);
	free(t->slot);
	free(t);
}

static uint32_t *find(uint32_t *slot, uint32_t nslots, const struct cgroup_info *v, uint64_t id)
{
	uint32_t h = (uint32_t)((id * 0x9e3779b97f4a7c15ull) >> 40) % nslots;

	while (slot[h] && v[slot[h] - 1].id != id)
		h = (h + 1) % nslots;
	return &slot[h];
}

/* Room for one more entry: false when full (CGROUP_NAMES_MAX) or out of
 * memory.
 */
static bool grow(struct cgroup_names *t)
{
	uint32_t cap = t->cap ? 2 * t->cap : FIRST_CAP;
	struct cgroup_info *v;
	uint32_t *slot;

	if (t->n < t->cap)
		return true;
	if (t->cap >= CGROUP_NAMES_MAX)
		return false;
	v = realloc(t->v, cap * sizeof(*v));
	if (!v)
		return false;
	t->v = v;
	slot = calloc(2 * (size_t)cap, sizeof(*slot));
	if (!slot)
		return false;
	for (uint32_t i = 0; i < t->n; i++)
		*find(slot, 2 * cap, v, v[i].id) = i + 1;
	free(t->slot);
	t->slot = slot;
	t->cap = cap;
	return true;
}

void cgroup_names_set(void *ctx, uint64_t id, const char *path)
{
	struct cgroup_names *t = ctx;
	uint32_t *s = t->cap ? find(t->slot, 2 * t->cap, t->v, id) : NULL;
	struct cgroup_info *e;

	if (!s || !*s) {
		if (!grow(t))
			return;
		s = find(t->slot, 2 * t->cap, t->v, id);
		*s = ++t->n;
		t->v[t->n - 1].path = NULL;
	}
	e = &t->v[*s - 1];
	free((char *)e->path);
	memset(e, 0, sizeof(*e));
	e->id = id;
	e->path = path ? strdup(path) : NULL;
	if (e->path)
		cgroup_path_parse(e->path, &e->ids);
}

const struct cgroup_info *cgroup_names_lookup(void *ctx, uint64_t id)
{
	struct cgroup_names *t = ctx;
	uint32_t *s = t->cap ? find(t->slot, 2 * t->cap, t->v, id) : NULL;

	return s && *s ? &t->v[*s - 1] : NULL;
}
