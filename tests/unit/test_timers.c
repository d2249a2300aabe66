/* The timer table of the tracing loop: deadlines, periods that do not drift
 * or bunch up after a late run, pulls and pushes, and the poll timeout.
 */
#include "harness.h"
#include "timers.h"

#define MS 1000000ull

struct ran {
	int n;
	uint64_t last;
};

static void count_run(void *arg, uint64_t now)
{
	struct ran *r = arg;

	r->n++;
	r->last = now;
}

static void periods_and_deadlines(void)
{
	struct timers *ts = timers_new();
	struct ran a = { 0 }, once = { 0 };
	int id;

	if (!ts)
		return;
	id = timers_add(ts, 100 * MS, 50 * MS, count_run, &a);
	CHECK(id >= 0 && timers_add(ts, 120 * MS, 0, count_run, &once) >= 0);
	CHECK(timers_timeout_ms(ts, 0, 1000) == 100);
	CHECK(timers_timeout_ms(ts, 0, 30) == 30);	/* capped */
	timers_run(ts, 99 * MS);
	CHECK(a.n == 0);
	timers_run(ts, 100 * MS);
	CHECK(a.n == 1 && timers_timeout_ms(ts, 100 * MS, 1000) == 20);
	/* a little late: the next stays on the period's grid */
	timers_run(ts, 160 * MS);
	CHECK(a.n == 2 && once.n == 1 && timers_timeout_ms(ts, 160 * MS, 1000) == 40);
	/* a whole period behind: one run, the next a period from now */
	timers_run(ts, 400 * MS);
	CHECK(a.n == 3 && timers_timeout_ms(ts, 400 * MS, 1000) == 50);
	timers_run(ts, 10000 * MS);
	CHECK(once.n == 1);	/* ran once only */
	CHECK(timers_timeout_ms(ts, 20000 * MS, 1000) == 0);	/* overdue */
	timers_free(ts);
	timers_free(NULL);
}

static void pulled_and_pushed(void)
{
	struct timers *ts = timers_new();
	struct ran a = { 0 };
	int id;

	if (!ts)
		return;
	id = timers_add(ts, 1000 * MS, 1000 * MS, count_run, &a);
	timers_pull(ts, id, 2000 * MS);	/* later: a pull keeps the sooner */
	CHECK(timers_timeout_ms(ts, 0, 5000) == 1000);
	timers_pull(ts, id, 300 * MS);
	CHECK(timers_timeout_ms(ts, 0, 5000) == 300);
	timers_push(ts, id, 200 * MS);	/* sooner: a push keeps the later */
	CHECK(timers_timeout_ms(ts, 0, 5000) == 300);
	timers_push(ts, id, 4000 * MS);
	CHECK(timers_timeout_ms(ts, 0, 5000) == 4000);
	timers_run(ts, 3999 * MS);
	CHECK(a.n == 0);
	timers_run(ts, 4000 * MS);
	CHECK(a.n == 1 && a.last == 4000 * MS);
	/* the period counts from the pushed deadline */
	CHECK(timers_timeout_ms(ts, 4000 * MS, 5000) == 1000);
	/* ids outside the table are ignored */
	timers_pull(ts, -1, 0);
	timers_push(ts, 7, 0);
	timers_free(ts);
}

static void table_bound(void)
{
	struct timers *ts = timers_new();
	struct ran a = { 0 };
	int last = 0;

	if (!ts)
		return;
	for (int i = 0; i < TIMERS_MAX; i++)
		last |= timers_add(ts, MS, MS, count_run, &a);
	CHECK(last >= 0);
	CHECK(timers_add(ts, MS, MS, count_run, &a) == -1);
	timers_run(ts, MS);
	CHECK(a.n == TIMERS_MAX);
	timers_free(ts);
}

const struct test_case timers_tests[] = {
	{ "timers_periods_and_deadlines", periods_and_deadlines },
	{ "timers_pulled_and_pushed", pulled_and_pushed },
	{ "timers_table_bound", table_bound },
	{ NULL, NULL },
};
