/* Open addressing, twice the entries in slots. */
#include <stdlib.h>
#include <string.h>
#include "cgroup_names.h"

#define SLOTS (2 * CGROUP_NAMES_MAX)

struct cgroup_names {
	uint32_t n;
	struct cgroup_info v[CGROUP_NAMES_MAX];
	uint32_t slot[SLOTS];	/* index + 1 */
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
	free(t);
}

static uint32_t *find(struct cgroup_names *t, uint64_t id)
{
	uint32_t h = (uint32_t)((id * 0x9e3779b97f4a7c15ull) >> 40) % SLOTS;

	while (t->slot[h] && t->v[t->slot[h] - 1].id != id)
		h = (h + 1) % SLOTS;
	return &t->slot[h];
}

void cgroup_names_set(void *ctx, uint64_t id, const char *path)
{
	struct cgroup_names *t = ctx;
	uint32_t *s = find(t, id);
	struct cgroup_info *e;

	if (!*s) {
		if (t->n == CGROUP_NAMES_MAX)
			return;
		*s = ++t->n;
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
	uint32_t *s = find(t, id);

	return *s ? &t->v[*s - 1] : NULL;
}
