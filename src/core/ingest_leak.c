/* CLOSE_WAIT leaks: the candidates past --leak-after, and each reported
 * with the processes holding it.
 */
#include <string.h>
#include "ingest_priv.h"

struct leak_scan {
	const struct ingest *in;
	uint64_t now_ns;
	uint64_t *cookies;
	size_t n, max;
};

static void leak_candidate(struct conn *c, void *arg)
{
	struct leak_scan *ls = arg;

	if (ls->n == ls->max || c->role == ROLE_LISTENER ||
	    (c->flags & CONN_LEAK_REPORTED) || c->states[c->nstates - 1] != TT_TCP_CLOSE_WAIT)
		return;
	if (ls->now_ns < ingest_close_wait_since(c) + ls->in->cfg.leak_after_ns)
		return;
	ls->cookies[ls->n++] = c->cookie;
}

size_t ingest_leak_candidates(struct ingest *in, uint64_t now_ns, uint64_t *cookies,
			      size_t max)
{
	struct leak_scan ls = { in, now_ns, cookies, 0, max };

	if (!in->cfg.leak_after_ns)
		return 0;
	conn_table_foreach(in->table, leak_candidate, &ls);
	return ls.n;
}

void ingest_report_leak(struct ingest *in, uint64_t cookie, uint64_t now_ns,
			const struct owner *owners, size_t n)
{
	struct conn *c = conn_table_find(in->table, cookie);
	uint32_t held = 0;
	uint64_t since;

	/* It may have closed between the candidate scan and now. */
	if (!c || (c->flags & CONN_LEAK_REPORTED) ||
	    c->states[c->nstates - 1] != TT_TCP_CLOSE_WAIT)
		return;
	since = ingest_close_wait_since(c);
	c->flags |= CONN_LEAK_REPORTED;
	/* The descriptor holder is the owner, whatever task ran before
	 * (but the task that accepted it stays its owner).
	 */
	if (n && c->accepted != ACCEPT_YES) {
		c->pid = owners[0].pid;
		memcpy(c->comm, owners[0].comm, sizeof(c->comm));
		c->flags |= CONN_OWNER_SEEN;
	}
	c->leak_pid = n ? owners[0].pid : 0;
	held = leak_stats_add(&in->leaks, c->leak_pid, n ? owners[0].comm : "");
	in->stats.leaks++;
	if (in->sink.ops->leak && ingest_wanted_conn(in, c))
		in->sink.ops->leak(in->sink.ctx, c, now_ns, now_ns > since ? now_ns - since : 0,
				   (c->flags & CONN_PREEXISTING) && c->nstates == 1, owners, n,
				   held);
}
