/* Connection table against a reference model under random churn. */
#include <stdlib.h>
#include "conn_table.h"
#include "harness.h"

static void matches_reference_under_churn(void)
{
	enum { MAX = 512, KEYS = 2048, STEPS = 200000 };
	static unsigned char present[KEYS];
	struct conn_table *t = conn_table_new(MAX);
	unsigned int seed = 12345, count = 0, mismatches = 0;

	memset(present, 0, sizeof(present));
	for (int step = 0; step < STEPS; step++) {
		uint64_t key = (uint64_t)(rand_r(&seed) % KEYS) + 1;
		struct conn *c = conn_table_find(t, key);

		if ((c != NULL) != present[key - 1])
			mismatches++;
		if (c) {
			conn_table_remove(t, c);
			present[key - 1] = 0;
			count--;
		} else if (count < MAX) {
			c = conn_table_insert(t, key);
			if (!c || c->cookie != key)
				mismatches++;
			present[key - 1] = 1;
			count++;
		} else {
			CHECK(conn_table_insert(t, key) == NULL);
		}
	}
	CHECK(mismatches == 0);
	CHECK(conn_table_count(t) == count);
	for (uint64_t k = 1; k <= KEYS; k++)
		CHECK((conn_table_find(t, k) != NULL) == present[k - 1]);
	conn_table_free(t);
}

static void second_chance_order(void)
{
	struct conn_table *t = conn_table_new(16);

	for (uint64_t k = 1; k <= 4; k++)
		conn_table_insert(t, k);
	CHECK(conn_table_victim(t)->cookie == 1);
	conn_table_touch(t, conn_table_find(t, 1));
	CHECK(conn_table_victim(t)->cookie == 2);
	/* 1 lost its bit and went to the back */
	CHECK(!(conn_table_find(t, 1)->flags & CONN_REFERENCED));
	conn_table_remove(t, conn_table_find(t, 2));
	CHECK(conn_table_victim(t)->cookie == 3);
	/* all used: the hand clears every bit and comes back to the first */
	for (uint64_t k = 1; k <= 4; k++)
		if (conn_table_find(t, k))
			conn_table_touch(t, conn_table_find(t, k));
	CHECK(conn_table_victim(t)->cookie == 3);
	CHECK(conn_table_insert(t, 3) == NULL);	/* duplicate */
	conn_table_free(t);
}

static void bounded_memory_per_conn(void)
{
	/* The scale target: at most 256 bytes per tracked socket. */
	CHECK(conn_table_bytes_per_conn() <= 256);
	CHECK(conn_table_new(0) == NULL);
}

TEST_LIST(table_tests) = {
	TEST_ENTRY(matches_reference_under_churn),
	TEST_ENTRY(second_chance_order),
	TEST_ENTRY(bounded_memory_per_conn),
	{ 0 },
};
