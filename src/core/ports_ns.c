/* The port watch's namespaces: limits, and which are gone. */
#include <stdlib.h>
#include <string.h>
#include "ports_ns.h"

struct ports_ns_entry {
	uint32_t inum;
	bool seen;		/* met by the walk under way */
	bool replaced;		/* the number names another namespace: fresh is its */
	struct ports_limits lim, fresh;
};

struct ports_ns {
	struct ports_ns_entry *v;
	uint32_t n, max;
};

struct ports_ns *ports_ns_new(uint32_t max)
{
	struct ports_ns *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->max = max;
	t->v = calloc(max ? max : 1, sizeof(*t->v));
	if (t->v)
		return t;
	free(t);
	return NULL;
}

void ports_ns_free(struct ports_ns *t)
{
	if (t)
		free(t->v);
	free(t);
}

static struct ports_ns_entry *entry(const struct ports_ns *t, uint32_t inum)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->v[i].inum == inum)
			return &t->v[i];
	return NULL;
}

const struct ports_limits *ports_ns_limits(const struct ports_ns *t, uint32_t inum)
{
	const struct ports_ns_entry *e = entry(t, inum);

	return e ? &e->lim : NULL;
}

void ports_ns_set(struct ports_ns *t, uint32_t inum, const struct ports_limits *lim)
{
	struct ports_ns_entry *e = entry(t, inum);

	if (!e) {
		if (t->n == t->max)
			return;
		e = &t->v[t->n++];
		memset(e, 0, sizeof(*e));
		e->inum = inum;
	}
	e->seen = true;
	if (e->lim.cookie && lim->cookie && e->lim.cookie != lim->cookie) {
		/* the old limits stay while what was in it is forgotten */
		e->replaced = true;
		e->fresh = *lim;
		return;
	}
	e->lim = *lim;
}

void ports_ns_begin(struct ports_ns *t)
{
	for (uint32_t i = 0; i < t->n; i++)
		t->v[i].seen = false;
}

void ports_ns_end(struct ports_ns *t, bool complete, void (*gone)(uint32_t inum, void *arg),
		  void *arg)
{
	for (uint32_t i = 0; i < t->n;) {
		struct ports_ns_entry *e = &t->v[i];
		bool dead = complete && !e->seen;

		if (dead || e->replaced)
			gone(e->inum, arg);
		if (dead) {
			*e = t->v[--t->n];	/* its slot to the last */
			continue;
		}
		if (e->replaced)
			e->lim = e->fresh;
		e->replaced = false;
		i++;
	}
}
