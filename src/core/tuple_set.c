/* Sets of connection tuples, by fingerprint. */
#include <stdlib.h>
#include <sys/socket.h>
#include "tuple_set.h"

#define FNV_OFFSET 14695981039346656037ull
#define FNV_PRIME 1099511628211ull

struct tuple_set {
	uint64_t *v;		/* open addressing; 0 is a free slot */
	uint32_t mask;		/* slots - 1; 0: nothing kept */
};

struct tuple_set *tuple_set_new(void)
{
	return calloc(1, sizeof(struct tuple_set));
}

/* Drop what s holds: it then holds nothing. */
static void tuple_set_clear(struct tuple_set *s)
{
	free(s->v);
	s->v = NULL;
	s->mask = 0;
}

uint64_t tuple_fingerprint(uint32_t netns, uint16_t family, const uint8_t *laddr,
			   uint16_t lport, const uint8_t *raddr, uint16_t rport)
{
	uint8_t head[10] = { (uint8_t)netns, (uint8_t)(netns >> 8), (uint8_t)(netns >> 16),
			     (uint8_t)(netns >> 24), (uint8_t)family, (uint8_t)(family >> 8),
			     (uint8_t)lport, (uint8_t)(lport >> 8), (uint8_t)rport,
			     (uint8_t)(rport >> 8) };
	uint32_t alen = family == AF_INET ? 4 : 16;
	uint64_t h = FNV_OFFSET;

	for (size_t i = 0; i < sizeof(head); i++)
		h = (h ^ head[i]) * FNV_PRIME;
	for (uint32_t i = 0; i < alen; i++) {
		h = (h ^ laddr[i]) * FNV_PRIME;
		h = (h ^ raddr[i]) * FNV_PRIME;
	}
	return h ? h : 1;
}

bool tuple_set_reset(struct tuple_set *s, size_t n)
{
	size_t slots = 16;

	while (slots < 2 * n && slots <= UINT32_MAX / 2)
		slots <<= 1;
	tuple_set_clear(s);
	if (slots < 2 * n)
		return false;
	s->v = calloc(slots, sizeof(*s->v));
	if (!s->v)
		return false;
	s->mask = (uint32_t)(slots - 1);
	return true;
}

void tuple_set_add(struct tuple_set *s, uint64_t f)
{
	uint32_t i = (uint32_t)f & s->mask;

	if (!s->mask)
		return;
	while (s->v[i] && s->v[i] != f)
		i = (i + 1) & s->mask;
	s->v[i] = f;
}

bool tuple_set_has(const struct tuple_set *s, uint64_t f)
{
	if (!s->mask)
		return false;
	for (uint32_t i = (uint32_t)f & s->mask; s->v[i]; i = (i + 1) & s->mask)
		if (s->v[i] == f)
			return true;
	return false;
}

void tuple_set_free(struct tuple_set *s)
{
	if (s)
		free(s->v);
	free(s);
}
