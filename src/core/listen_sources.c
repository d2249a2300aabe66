/* Ranking half-open requests by source address and prefix. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "listen_sources.h"

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* By listener, then source; a request's own cookie last, so that the same
 * request seen in several walks lies in one run.
 */
static int cmp_request(const void *a, const void *b)
{
	const struct lw_request *x = a, *y = b;
	int c = cmp_u64(x->listener, y->listener);

	if (c)
		return c;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->addr, y->addr, sizeof(x->addr));
	return c ? c : cmp_u64(x->cookie, y->cookie);
}

static bool same_source(const struct lw_request *x, const struct lw_request *y)
{
	return x->listener == y->listener && x->family == y->family &&
	       !memcmp(x->addr, y->addr, sizeof(x->addr));
}

/* Keep the top LW_TOP_SOURCES by count, larger first. */
static void top_insert(struct lw_source *top, uint8_t *n, const struct lw_request *q,
		       uint8_t prefix_len, uint32_t count)
{
	int i = *n;

	if (i == LW_TOP_SOURCES && top[i - 1].half_open >= count)
		return;
	if (i < LW_TOP_SOURCES)
		(*n)++;
	else
		i--;
	while (i > 0 && top[i - 1].half_open < count) {
		top[i] = top[i - 1];
		i--;
	}
	memcpy(top[i].addr, q->addr, sizeof(top[i].addr));
	top[i].family = q->family;
	top[i].prefix_len = prefix_len;
	top[i].half_open = count;
}

/* Count the distinct requests in each run of one (listener, source). */
static void tally(struct lw_request *req, size_t n, bool prefixes, lw_find_fn find, void *ctx)
{
	struct lw_listener *l = NULL;
	size_t i = 0;

	qsort(req, n, sizeof(*req), cmp_request);
	while (i < n) {
		const struct lw_request *q = &req[i];
		uint32_t count = 1;
		size_t j = i + 1;

		for (; j < n && same_source(q, &req[j]); j++)
			count += req[j].cookie != req[j - 1].cookie;
		if (!l || l->cookie != q->listener)
			l = find(ctx, q->listener);
		if (l) {
			uint8_t plen = q->family == AF_INET6 ? (prefixes ? 64 : 128)
							     : (prefixes ? 24 : 32);

			if (prefixes)
				top_insert(l->top_prefixes, &l->n_top_prefixes, q, plen, count);
			else
				top_insert(l->top_addrs, &l->n_top_addrs, q, plen, count);
		}
		i = j;
	}
}

void listen_sources_tally(struct lw_request *req, size_t n, lw_find_fn find, void *ctx)
{
	tally(req, n, false, find, ctx);
	for (size_t i = 0; i < n; i++) {
		struct lw_request *q = &req[i];

		if (q->family == AF_INET6)
			memset(q->addr + 8, 0, 8);
		else
			memset(q->addr + 3, 0, TT_ADDR_LEN - 3);
	}
	tally(req, n, true, find, ctx);
}
