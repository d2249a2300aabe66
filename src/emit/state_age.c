/* The text view's memory of each socket's last transition (state_age.h). */
#include <errno.h>
#include <stdlib.h>
#include "state_age.h"

int state_age_init(struct state_age *a, uint32_t slots)
{
	uint32_t n = 2;

	while (n < slots && n < (1u << 30))
		n <<= 1;
	*a = (struct state_age){ .v = calloc(n, sizeof(*a->v)), .mask = n - 1 };
	return a->v ? 0 : -ENOMEM;
}

void state_age_free(struct state_age *a)
{
	free(a->v);
	a->v = NULL;
}

/* The pair of slots a cookie may sit in (cookies are unique counters or
 * keyed permutations: mixed so that neighbours spread).
 */
static struct state_age_slot *pair_of(const struct state_age *a, uint64_t cookie)
{
	uint64_t h = cookie * 0x9e3779b97f4a7c15ull;

	return &a->v[(uint32_t)(h >> 32) & a->mask & ~1u];
}

uint64_t state_age_step(struct state_age *a, uint64_t cookie, uint64_t ts_ns, bool begins,
			bool ends)
{
	struct state_age_slot *p = pair_of(a, cookie), *s = NULL;
	uint64_t age = UINT64_MAX;

	if (!cookie)
		return age;
	for (int i = 0; i < 2; i++)
		if (p[i].cookie == cookie)
			s = &p[i];
	if (s && !begins && ts_ns >= s->ts_ns)
		age = ts_ns - s->ts_ns;
	if (ends) {
		if (s)
			s->cookie = 0;
		return age;
	}
	if (!s) {
		/* a free slot, else the one that moved longest ago */
		s = !p[0].cookie ? &p[0] : !p[1].cookie ? &p[1]
		    : p[0].ts_ns <= p[1].ts_ns ? &p[0] : &p[1];
		if (s->cookie)
			a->evicted++;
		s->cookie = cookie;
	}
	s->ts_ns = ts_ns;
	return age;
}
