/* The listener watch's owners (found by a search that backs off while a
 * listener's process stays hidden) and its listeners' accept waits.
 */
#include <string.h>
#include "listen_watch_priv.h"

/* An owner not found is looked for again after this, doubling to the cap:
 * not every interval, and never holding up another listener's search.
 */
#define OWNER_RETRY_FIRST_NS (10 * 1000000000ull)
#define OWNER_RETRY_MAX_NS (300 * 1000000000ull)

size_t listen_watch_unowned(const struct listen_watch *lw, uint64_t now_ns, uint64_t *cookies,
			    size_t max, bool *fresh)
{
	size_t n = 0;

	*fresh = false;
	for (size_t i = 0; i < lw->n && n < max; i++)
		if (!lw->tab[i].l.pid && lw->tab[i].owner_next_ns <= now_ns) {
			cookies[n++] = lw->tab[i].l.cookie;
			if (!lw->tab[i].l.owner_not_visible)
				*fresh = true;
		}
	return n;
}

void listen_watch_owner_missed(struct listen_watch *lw, uint64_t cookie, uint64_t now_ns)
{
	struct lw_listener *l = listen_watch_find(lw, cookie);
	struct lw_slot *s;

	if (!l)
		return;
	s = listen_watch_slot(l);
	l->owner_not_visible = true;
	s->owner_backoff_ns = s->owner_backoff_ns ? s->owner_backoff_ns * 2 : OWNER_RETRY_FIRST_NS;
	if (s->owner_backoff_ns > OWNER_RETRY_MAX_NS)
		s->owner_backoff_ns = OWNER_RETRY_MAX_NS;
	s->owner_next_ns = now_ns + s->owner_backoff_ns;
}

void listen_watch_set_owner(struct listen_watch *lw, uint64_t cookie, uint32_t pid,
		  const char comm[TT_COMM_LEN])
{
	struct lw_listener *l = listen_watch_find(lw, cookie);

	if (!l)
		return;
	l->pid = pid;
	memcpy(l->comm, comm, TT_COMM_LEN);
	l->owner_not_visible = false;
}

const struct latency_series *listen_watch_accept_waits(const struct lw_listener *l)
{
	return l->acc ? &l->acc->last : NULL;
}
