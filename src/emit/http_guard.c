/* Connection slots and the choices made on them. The table is small
 * (HTTP_GUARD_SLOTS): a linear pass per accepted connection costs less than
 * the accept itself, and keeps every choice in one readable loop.
 */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "http_guard.h"

#define NS 1000000000ull

/* A slot and what only the guard reads: the client, the times. */
struct guard_entry {
	struct guard_slot s;
	uint8_t addr[17];	/* family byte, then the address (IPv6: its /64) */
	uint64_t since_ns;	/* entered this phase */
	uint64_t born_ns;	/* connected */
	uint64_t deadline_ns;
};

struct http_guard {
	struct guard_entry e[HTTP_GUARD_SLOTS];
	uint32_t used;		/* slots not free */
	uint32_t open;		/* slots neither free nor closing */
};

struct http_guard *http_guard_new(void)
{
	struct http_guard *g = calloc(1, sizeof(*g));

	for (int i = 0; g && i < HTTP_GUARD_SLOTS; i++)
		g->e[i].s.fd = -1;
	return g;
}

void http_guard_free(struct http_guard *g)
{
	free(g);
}

struct guard_slot *http_guard_slot(struct http_guard *g, int i)
{
	return &g->e[i].s;
}

int http_guard_index(const struct http_guard *g, const struct guard_slot *s)
{
	return (int)((const struct guard_entry *)(const void *)s - g->e);
}

uint32_t http_guard_open(const struct http_guard *g)
{
	return g->open;
}

uint32_t http_guard_used(const struct http_guard *g)
{
	return g->used;
}

/* The key a client is counted by: an IPv4 address (also when mapped into
 * IPv6), or an IPv6 /64, which one host usually holds whole.
 */
static void addr_key(const struct sockaddr *sa, uint8_t key[17])
{
	memset(key, 0, 17);
	if (sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			key[0] = 4;
			memcpy(key + 1, a->s6_addr + 12, 4);
		} else {
			key[0] = 6;
			memcpy(key + 1, a->s6_addr, 8);
		}
	}
}

#define GRACE_NS (HTTP_GUARD_GRACE_MS * 1000000ull)

static bool open_slot(const struct guard_slot *s)
{
	return s->phase != GUARD_FREE && s->phase != GUARD_CLOSING;
}

/* Which open slot past its grace to give up: the lowest phase, longest in
 * it. While any connection is in its grace only a silent one goes: a young
 * connection that stays silent is the likelier attacker than one that has
 * spoken, and waiting for the grace to end costs at most
 * HTTP_GUARD_GRACE_MS. -1: wait.
 */
static int pick_victim(const struct http_guard *g, uint64_t now_ns)
{
	bool young = false;
	int best = -1;

	for (int i = 0; i < HTTP_GUARD_SLOTS; i++) {
		const struct guard_slot *s = &g->e[i].s;

		if (!open_slot(s))
			continue;
		if (g->e[i].born_ns + GRACE_NS > now_ns) {
			young = true;
			continue;
		}
		if (best < 0 || s->phase < g->e[best].s.phase ||
		    (s->phase == g->e[best].s.phase && g->e[i].since_ns < g->e[best].since_ns))
			best = i;
	}
	if (best >= 0 && young && g->e[best].s.phase != GUARD_SILENT)
		return -1;
	return best;
}

static void set_closing(struct http_guard *g, int i, enum guard_cause cause)
{
	g->e[i].s.phase = GUARD_CLOSING;
	g->e[i].s.cause = cause;
	g->open--;
}

enum guard_verdict http_guard_admit(struct http_guard *g, int fd, const struct sockaddr *sa,
				    uint64_t now_ns, int *slot)
{
	uint8_t key[17];
	int free_slot = -1, same = 0;

	*slot = -1;
	addr_key(sa, key);
	for (int i = 0; i < HTTP_GUARD_SLOTS; i++) {
		const struct guard_slot *s = &g->e[i].s;

		if (s->phase == GUARD_FREE) {
			if (free_slot < 0)
				free_slot = i;
		} else if (!memcmp(g->e[i].addr, key, sizeof(key))) {
			same++;
		}
	}
	if (same >= HTTP_GUARD_PER_ADDRESS)
		return GUARD_PER_ADDRESS;
	if (free_slot < 0)
		return GUARD_FULL;
	memset(&g->e[free_slot], 0, sizeof(g->e[free_slot]));
	g->e[free_slot].s.fd = fd;
	g->e[free_slot].born_ns = now_ns;
	memcpy(g->e[free_slot].addr, key, sizeof(key));
	g->used++;
	g->open++;
	http_guard_phase(g, free_slot, GUARD_SILENT, now_ns);
	*slot = free_slot;
	return GUARD_ADMIT;
}

int http_guard_trim(struct http_guard *g, uint64_t now_ns)
{
	int victim;

	if (g->open <= HTTP_GUARD_OPEN || (victim = pick_victim(g, now_ns)) < 0)
		return -1;
	set_closing(g, victim, GUARD_EVICTED);
	return victim;
}

void http_guard_phase(struct http_guard *g, int i, enum guard_phase p, uint64_t now_ns)
{
	struct guard_entry *e = &g->e[i];
	struct guard_slot *s = &e->s;

	if (s->phase == GUARD_CLOSING)
		return;
	/* A request's deadline runs from connect or from the last answer:
	 * a handshake or a first header line does not restart it.
	 */
	if (p == GUARD_SILENT || p == GUARD_IDLE)
		e->deadline_ns = now_ns + HTTP_GUARD_REQUEST_S * NS;
	else if (p == GUARD_ANSWERING)
		e->deadline_ns = now_ns + HTTP_GUARD_ANSWER_S * NS;
	if (p != s->phase)
		e->since_ns = now_ns;
	s->phase = p;
}

int http_guard_expired(struct http_guard *g, uint64_t now_ns)
{
	for (int i = 0; i < HTTP_GUARD_SLOTS; i++) {
		struct guard_slot *s = &g->e[i].s;

		if (open_slot(s) && now_ns >= g->e[i].deadline_ns) {
			set_closing(g, i, GUARD_TIMEOUT);
			return i;
		}
	}
	return -1;
}

uint64_t http_guard_next_deadline(const struct http_guard *g, uint64_t now_ns)
{
	uint64_t next = UINT64_MAX;

	for (int i = 0; i < HTTP_GUARD_SLOTS; i++) {
		const struct guard_slot *s = &g->e[i].s;

		if (!open_slot(s))
			continue;
		if (g->e[i].deadline_ns < next)
			next = g->e[i].deadline_ns;
		if (g->open > HTTP_GUARD_OPEN && g->e[i].born_ns + GRACE_NS > now_ns &&
		    g->e[i].born_ns + GRACE_NS < next)
			next = g->e[i].born_ns + GRACE_NS;
	}
	return next;
}

void http_guard_release(struct http_guard *g, int i)
{
	struct guard_slot *s = &g->e[i].s;

	if (s->phase == GUARD_FREE)
		return;
	if (s->phase != GUARD_CLOSING)
		g->open--;
	g->used--;
	s->phase = GUARD_FREE;
	s->fd = -1;
	s->ctx = NULL;
}

int http_guard_find(const struct http_guard *g, int fd)
{
	for (int i = 0; i < HTTP_GUARD_SLOTS; i++)
		if (g->e[i].s.phase != GUARD_FREE && g->e[i].s.fd == fd)
			return i;
	return -1;
}
