/* Per-process CLOSE_WAIT leak counts. Few processes leak at once, so a
 * linear table is both small and fast enough.
 */
#include <string.h>
#include "leak_stats.h"

static struct proc_leaks *lookup(struct leak_stats *ls, uint32_t pid)
{
	for (uint32_t i = 0; i < ls->n; i++)
		if (ls->v[i].pid == pid)
			return &ls->v[i];
	return NULL;
}

uint32_t leak_stats_add(struct leak_stats *ls, uint32_t pid, const char *comm)
{
	struct proc_leaks *p = lookup(ls, pid);

	if (!p) {
		if (ls->n == LEAK_STATS_MAX) {
			/* Reuse the slot of a process with no open leak. */
			for (uint32_t i = 0; i < ls->n && !p; i++)
				if (!ls->v[i].now)
					p = &ls->v[i];
			if (!p) {
				ls->untracked++;
				return 0;
			}
		} else {
			p = &ls->v[ls->n++];
		}
		memset(p, 0, sizeof(*p));
		p->pid = pid;
		/* comm may be a short string ("" when no process holds it) */
		memcpy(p->comm, comm, strnlen(comm, sizeof(p->comm) - 1));
	}
	p->now++;
	p->total++;
	return p->now;
}

void leak_stats_resolve(struct leak_stats *ls, uint32_t pid)
{
	struct proc_leaks *p = lookup(ls, pid);

	if (p && p->now)
		p->now--;
}
