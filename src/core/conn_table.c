/* Connection table: a pool of struct conn, an open-addressing index over it
 * (linear probing, backward-shift deletion: no tombstones to pile up over
 * months), and an intrusive list in insertion order walked by a
 * second-chance eviction hand.
 */
#include <stdlib.h>
#include <string.h>
#include "conn_table.h"

/* An index slot keeps the entry's hash beside it: probes and deletions
 * compare and re-home by hash without touching the entries, which with a
 * million sockets would each be a cache miss.
 */
struct slot {
	uint32_t ref;		/* pool index + 1; 0 = empty */
	uint32_t hash;
};

struct conn_table {
	struct conn *pool;
	struct slot *slots;
	uint32_t slot_mask;
	uint32_t max;
	uint32_t count;
	uint32_t free_head;	/* free pool entries chained through lru_next */
	uint32_t lru_head;	/* oldest */
	uint32_t lru_tail;	/* newest */
};

static inline uint32_t hash_of(uint64_t cookie)
{
	/* The kernel hands out cookies from a counter, in per-CPU batches
	 * (sock_gen_cookie()), so sockets alive at one time have nearby
	 * numbers. Sixteen consecutive cookies keep neighbouring slots (a storm
	 * stays in few cache lines); the blocks of sixteen are scattered, so no
	 * long run of occupied slots forms, which backward-shift deletion would
	 * have to walk on every removal.
	 */
	uint32_t block = (uint32_t)(((cookie >> 4) * 0x9E3779B97F4A7C15ull) >> 32);

	return (block << 4) | (uint32_t)(cookie & 15);
}

static inline struct conn *at(const struct conn_table *t, uint32_t ref)
{
	return &t->pool[ref - 1];
}

static inline uint32_t ref_of(const struct conn_table *t, const struct conn *c)
{
	return (uint32_t)(c - t->pool) + 1;
}

struct conn_table *conn_table_new(uint32_t max_conns)
{
	struct conn_table *t;
	uint64_t nslots = 16;

	if (max_conns == 0 || max_conns > (1u << 30))
		return NULL;
	while (nslots < 2ull * max_conns)
		nslots <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	/* calloc of large blocks maps zero pages lazily: memory is committed
	 * only as the pool fills, but can never exceed max_conns entries.
	 */
	t->pool = calloc(max_conns, sizeof(*t->pool));
	t->slots = calloc(nslots, sizeof(*t->slots));
	if (!t->pool || !t->slots) {
		conn_table_free(t);
		return NULL;
	}
	t->slot_mask = (uint32_t)(nslots - 1);
	t->max = max_conns;
	/* The free list starts implicit: entries past 'count' never used are
	 * taken in order, so untouched pages stay untouched.
	 */
	t->free_head = 0;
	return t;
}

void conn_table_free(struct conn_table *t)
{
	if (!t)
		return;
	free(t->pool);
	free(t->slots);
	free(t);
}

struct conn *conn_table_find(struct conn_table *t, uint64_t cookie)
{
	uint32_t h = hash_of(cookie), i = h & t->slot_mask;

	for (;;) {
		const struct slot *sl = &t->slots[i];

		if (!sl->ref)
			return NULL;
		if (sl->hash == h && at(t, sl->ref)->cookie == cookie)
			return at(t, sl->ref);
		i = (i + 1) & t->slot_mask;
	}
}

static void lru_unlink(struct conn_table *t, struct conn *c)
{
	if (c->lru_prev)
		at(t, c->lru_prev)->lru_next = c->lru_next;
	else
		t->lru_head = c->lru_next;
	if (c->lru_next)
		at(t, c->lru_next)->lru_prev = c->lru_prev;
	else
		t->lru_tail = c->lru_prev;
	c->lru_prev = c->lru_next = 0;
}

static void lru_append(struct conn_table *t, struct conn *c)
{
	uint32_t ref = ref_of(t, c);

	c->lru_prev = t->lru_tail;
	c->lru_next = 0;
	if (t->lru_tail)
		at(t, t->lru_tail)->lru_next = ref;
	else
		t->lru_head = ref;
	t->lru_tail = ref;
}

struct conn *conn_table_insert(struct conn_table *t, uint64_t cookie)
{
	uint32_t h = hash_of(cookie), i = h & t->slot_mask, ref;
	struct conn *c;

	if (t->count >= t->max)
		return NULL;
	for (;;) {
		ref = t->slots[i].ref;
		if (!ref)
			break;
		if (t->slots[i].hash == h && at(t, ref)->cookie == cookie)
			return NULL;
		i = (i + 1) & t->slot_mask;
	}
	if (t->free_head) {
		ref = t->free_head;
		t->free_head = at(t, ref)->lru_next;
	} else {
		/* Never-used entries: count of entries ever handed out is the
		 * live count plus the free list, and the free list is empty.
		 */
		ref = t->count + 1;
	}
	c = at(t, ref);
	memset(c, 0, sizeof(*c));
	c->cookie = cookie;
	t->slots[i].ref = ref;
	t->slots[i].hash = h;
	t->count++;
	lru_append(t, c);
	return c;
}

void conn_table_remove(struct conn_table *t, struct conn *c)
{
	uint32_t ref = ref_of(t, c);
	uint32_t i = hash_of(c->cookie) & t->slot_mask, j;

	while (t->slots[i].ref != ref)
		i = (i + 1) & t->slot_mask;
	/* Backward-shift: pull later members of the probe run into the hole so
	 * lookups never need tombstones.
	 */
	j = i;
	for (;;) {
		uint32_t home;

		j = (j + 1) & t->slot_mask;
		if (!t->slots[j].ref)
			break;
		home = t->slots[j].hash & t->slot_mask;
		/* Move slots[j] to i unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i].ref = 0;
	lru_unlink(t, c);
	c->cookie = 0;
	c->lru_next = t->free_head;
	t->free_head = ref;
	t->count--;
}

struct conn *conn_table_victim(struct conn_table *t)
{
	/* Each pass clears a bit, so within count + 1 steps an entry without
	 * one reaches the head.
	 */
	for (uint32_t i = 0; t->lru_head && i <= t->count; i++) {
		struct conn *c = at(t, t->lru_head);

		if (!(c->flags & CONN_REFERENCED))
			return c;
		c->flags &= ~CONN_REFERENCED;
		if (t->count > 1) {
			lru_unlink(t, c);
			lru_append(t, c);
		}
	}
	return conn_table_oldest(t);
}

struct conn *conn_table_oldest(struct conn_table *t)
{
	return t->lru_head ? at(t, t->lru_head) : NULL;
}

uint32_t conn_table_count(const struct conn_table *t)
{
	return t->count;
}

size_t conn_table_bytes_per_conn(void)
{
	/* one pool entry plus two index slots (load factor <= 0.5) */
	return sizeof(struct conn) + 2 * sizeof(struct slot);
}

void conn_table_foreach(struct conn_table *t, void (*fn)(struct conn *c, void *arg),
			void *arg)
{
	uint32_t ref = t->lru_head;

	while (ref) {
		struct conn *c = at(t, ref);

		ref = c->lru_next;
		fn(c, arg);
	}
}
