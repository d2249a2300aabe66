/* The timer table of the tracing loop. */
#include <stdlib.h>
#include "timers.h"

struct timer {
	uint64_t due_ns;	/* 0: not armed */
	uint64_t period_ns;	/* 0: fires once */
	timer_fn fn;
	void *arg;
};

struct timers {
	struct timer t[TIMERS_MAX];
	size_t n;
};

struct timers *timers_new(void)
{
	return calloc(1, sizeof(struct timers));
}

void timers_free(struct timers *ts)
{
	free(ts);
}

int timers_add(struct timers *ts, uint64_t first_ns, uint64_t period_ns, timer_fn fn, void *arg)
{
	if (ts->n == TIMERS_MAX)
		return -1;
	ts->t[ts->n] = (struct timer){ first_ns ? first_ns : 1, period_ns, fn, arg };
	return (int)ts->n++;
}

void timers_pull(struct timers *ts, int id, uint64_t due_ns)
{
	struct timer *t;

	if (id < 0 || (size_t)id >= ts->n)
		return;
	t = &ts->t[id];
	if (!t->due_ns || due_ns < t->due_ns)
		t->due_ns = due_ns;
}

void timers_push(struct timers *ts, int id, uint64_t due_ns)
{
	struct timer *t;

	if (id < 0 || (size_t)id >= ts->n)
		return;
	t = &ts->t[id];
	if (t->due_ns && due_ns > t->due_ns)
		t->due_ns = due_ns;
}

int timers_timeout_ms(const struct timers *ts, uint64_t now_ns, int max_ms)
{
	uint64_t wait = (uint64_t)max_ms * 1000000ull;

	for (size_t i = 0; i < ts->n; i++) {
		const struct timer *t = &ts->t[i];

		if (!t->due_ns)
			continue;
		if (t->due_ns <= now_ns)
			return 0;
		if (t->due_ns - now_ns < wait)
			wait = t->due_ns - now_ns;
	}
	return (int)(wait / 1000000ull);
}

void timers_run(struct timers *ts, uint64_t now_ns)
{
	for (size_t i = 0; i < ts->n; i++) {
		struct timer *t = &ts->t[i];
		uint64_t due = t->due_ns;

		if (!due || due > now_ns)
			continue;
		if (!t->period_ns)
			t->due_ns = 0;
		else
			t->due_ns = (now_ns - due < t->period_ns ? due : now_ns) + t->period_ns;
		t->fn(t->arg, now_ns);
	}
}
