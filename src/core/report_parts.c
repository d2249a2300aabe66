/* Listeners, destinations, alerts and leaks of the report's model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report_parts.h"

/* Open addressing, four slots per entry: index + 1, 0 empty. */
#define SLOTS 1024
struct rm_index {
	uint32_t listeners[SLOTS], dests[SLOTS], procs[SLOTS];
};

int rm_parts_init(struct report_model *m)
{
	m->index = calloc(1, sizeof(*m->index));
	return m->index ? 0 : -1;
}

void rm_parts_free(struct report_model *m)
{
	free(m->index);
	m->index = NULL;
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;

	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

void rm_copy_text(char *dst, size_t cap, const char *s)
{
	size_t n = strlen(s), o = 0;

	if (!cap)
		return;
	for (size_t i = 0; i < n;) {
		const unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : utf8_seq((const unsigned char *)s + i, n - i);

		if (!len)
			len = 1;	/* not from the parser: keep going safely */
		if (cap >= 4 && o + len + 4 > cap && i + len < n) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (o + len >= cap)
			break;
		if (len == 1 && (c < 0x20 || c == 0x7f || c >= 0x80))
			dst[o++] = '?';
		else
			memcpy(dst + o, s + i, len), o += len;
		i += len;
	}
	dst[o] = '\0';
}

void rm_copy_bytes(char *dst, size_t cap, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (!cap)
		return;
	for (size_t i = 0; i < n;) {
		const unsigned char c = (unsigned char)s[i];
		size_t len = c >= 0x80 ? utf8_seq((const unsigned char *)s + i, n - i) : 1;

		if (len && !(len == 1 && (c < 0x20 || c == 0x7f))) {
			if (o + len >= cap)
				break;
			memcpy(dst + o, s + i, len);
			o += len;
			i += len;
			continue;
		}
		if (o + 4 >= cap)
			break;
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[c >> 4];
		dst[o++] = hex[c & 15];
		i++;
	}
	dst[o] = '\0';
}

void rm_endpoint(struct jsonl *j, const char *addr_key, const char *port_key, char *buf,
		 size_t cap)
{
	const char *addr = jsonl_str(j, jsonl_get(j, addr_key));
	uint64_t port = 0;
	char tmp[96];

	jsonl_u64(j, jsonl_get(j, port_key), &port);
	if (!addr)
		addr = "?";
	snprintf(tmp, sizeof(tmp), strchr(addr, ':') ? "[%.60s]:%llu" : "%.60s:%llu", addr,
		 (unsigned long long)port);
	rm_copy_text(buf, cap, tmp);
}

static uint64_t get_u64(struct jsonl *j, const char *key, uint64_t dflt)
{
	uint64_t v;

	return jsonl_u64(j, jsonl_get(j, key), &v) ? v : dflt;
}

/* Find the entry whose hash is h and that same() accepts, or add one with
 * add() when there is room: its index, or -1.
 */
static int lookup(uint32_t *slots, uint64_t h, uint32_t *n, uint32_t max,
		  bool (*same)(const void *ctx, uint32_t i), const void *ctx)
{
	for (uint64_t k = 0; k < SLOTS; k++) {
		uint32_t *s = &slots[(h + k) % SLOTS];

		if (*s && same(ctx, *s - 1))
			return (int)*s - 1;
		if (!*s) {
			if (*n >= max)
				return -1;
			*s = ++*n;
			return (int)*n - 1;
		}
	}
	return -1;
}

struct lkey {
	const struct report_model *m;
	uint64_t id, netns;
};

static bool same_listener(const void *ctx, uint32_t i)
{
	const struct lkey *k = ctx;

	return k->m->listeners[i].id == k->id && k->m->listeners[i].netns == k->netns;
}

static struct rm_listener *listener_of(struct report_model *m, struct jsonl *j, uint64_t id)
{
	struct lkey k = { m, id, get_u64(j, "netns", 0) };
	uint32_t before = m->n_listeners;
	int i = lookup(m->index->listeners, mix(id ^ mix(k.netns)), &m->n_listeners,
		       RM_MAX_LISTENERS, same_listener, &k);
	static const uint8_t kinds[LF_N] = { TL_MAX, TL_MAX, TL_MAX, TL_MAX, TL_SUM, TL_SUM,
					     TL_SUM, TL_SUM };
	struct rm_listener *l;

	if (i < 0) {
		m->listeners_dropped++;
		return NULL;
	}
	l = &m->listeners[i];
	if (m->n_listeners != before) {
		memset(l, 0, sizeof(*l));
		l->id = id;
		l->netns = k.netns;
		rm_endpoint(j, "laddr", "lport", l->addr, sizeof(l->addr));
		l->s = timeline_series(&m->tl, LF_N, kinds);
	}
	return l;
}

/* A listen_overflow names no listener: the one at its port and namespace. */
static struct rm_listener *listener_by_port(struct report_model *m, struct jsonl *j)
{
	char addr[RM_NAME];
	uint64_t netns = get_u64(j, "netns", 0);
	const char *port;

	rm_endpoint(j, "laddr", "lport", addr, sizeof(addr));
	port = strrchr(addr, ':');
	for (uint32_t i = 0; i < m->n_listeners; i++) {
		const char *p = strrchr(m->listeners[i].addr, ':');

		if (m->listeners[i].netns == netns && p && port && !strcmp(p, port))
			return &m->listeners[i];
	}
	return listener_of(m, j, 0);
}

static void put(struct tl_series *s, int bin, uint32_t f, uint64_t v)
{
	if (s)
		tl_put(s, bin, f, v);
}

static void raise_to(uint64_t *peak, uint64_t v)
{
	if (v > *peak)
		*peak = v;
}

void rm_on_listener(struct report_model *m, struct jsonl *j, int type, int bin)
{
	struct rm_listener *l;
	uint64_t v;

	if (type == RT_OVERFLOW) {
		l = listener_by_port(m, j);
		if (l) {
			l->overflow_ev++;
			put(l->s, bin, LF_OVERFLOW_EV, 1);
		}
		return;
	}
	l = listener_of(m, j, get_u64(j, "listener_id", 0));
	if (!l)
		return;
	if (type == RT_SYNACK) {
		l->synack_ev++;
		put(l->s, bin, LF_SYNACK_EV, 1);
		if (jsonl_u64(j, jsonl_get(j, "acceptq"), &v))
			put(l->s, bin, LF_ACCEPTQ, v), raise_to(&l->peak_acceptq, v);
		if (jsonl_u64(j, jsonl_get(j, "acceptq_max"), &v))
			put(l->s, bin, LF_ACCEPTQ_MAX, v), raise_to(&l->acceptq_max, v);
		if (jsonl_u64(j, jsonl_get(j, "synq"), &v))
			put(l->s, bin, LF_SYNQ, v), raise_to(&l->peak_synq, v);
		return;
	}
	/* the listener's own sample: its address as bound, and its owner */
	l->samples++;
	rm_endpoint(j, "laddr", "lport", l->addr, sizeof(l->addr));
	if (jsonl_u64(j, jsonl_get(j, "pid"), &v) && jsonl_str(j, jsonl_get(j, "comm"))) {
		l->pid = (uint32_t)v;
		rm_copy_text(l->comm, sizeof(l->comm), jsonl_str(j, jsonl_get(j, "comm")));
	}
	static const struct { const char *key; uint32_t f; } gauges[] = {
		{ "acceptq_len", LF_ACCEPTQ }, { "acceptq_max", LF_ACCEPTQ_MAX },
		{ "synq_len", LF_SYNQ }, { "synq_max", LF_SYNQ_MAX },
		/* sk_drops_delta; drops_delta in logs written before it was
		 * named after its counter (a record has one or the other)
		 */
		{ "sk_drops_delta", LF_DROPS }, { "drops_delta", LF_DROPS },
		{ "synack_retrans_delta", LF_SYNACK },
	};
	for (size_t g = 0; g < sizeof(gauges) / sizeof(gauges[0]); g++) {
		if (!jsonl_u64(j, jsonl_get(j, gauges[g].key), &v))
			continue;
		put(l->s, bin, gauges[g].f, v);
		switch (gauges[g].f) {
		case LF_ACCEPTQ: raise_to(&l->peak_acceptq, v); break;
		case LF_ACCEPTQ_MAX: raise_to(&l->acceptq_max, v); break;
		case LF_SYNQ: raise_to(&l->peak_synq, v); break;
		case LF_SYNQ_MAX: raise_to(&l->synq_max, v); break;
		case LF_DROPS: l->drops += v; break;
		default: l->synack += v; break;
		}
	}
}

struct dkey {
	const struct report_model *m;
	const char *label;
	uint64_t netns;
};

static bool same_dest(const void *ctx, uint32_t i)
{
	const struct dkey *k = ctx;

	return k->m->dests[i].netns == k->netns && !strcmp(k->m->dests[i].label, k->label);
}

static struct rm_dest *dest_of(struct report_model *m, struct jsonl *j)
{
	static const uint8_t kinds[PF_N] = { TL_MAX, TL_MAX, TL_SUM };
	char local[RM_NAME], remote[RM_NAME], label[2 * RM_NAME + 8];
	const char *laddr = jsonl_str(j, jsonl_get(j, "laddr")) ?: "?";
	struct dkey k = { m, label, get_u64(j, "netns", 0) };
	uint32_t before = m->n_dests;
	struct rm_dest *d;
	int i;

	rm_copy_text(local, sizeof(local), laddr);
	rm_endpoint(j, "raddr", "rport", remote, sizeof(remote));
	snprintf(label, sizeof(label), "%s \xe2\x86\x92 %s", local, remote);
	i = lookup(m->index->dests, mix(hash_str(k.netns, label)), &m->n_dests, RM_MAX_DESTS,
		   same_dest, &k);
	if (i < 0) {
		m->dests_dropped++;
		return NULL;
	}
	d = &m->dests[i];
	if (m->n_dests != before) {
		memset(d, 0, sizeof(*d));
		memcpy(d->label, label, sizeof(label));
		d->netns = k.netns;
		d->s = timeline_series(&m->tl, PF_N, kinds);
	}
	return d;
}

void rm_on_ports(struct report_model *m, struct jsonl *j, int bin)
{
	struct rm_dest *d = dest_of(m, j);
	uint64_t used = get_u64(j, "in_use", 0), range, fails;

	if (!d)
		return;
	d->samples++;
	/* what tcptrail's used_ratio counts: TIME_WAIT only where not reusable */
	if (!jsonl_is_true(j, jsonl_get(j, "tw_reusable")))
		used += get_u64(j, "time_wait", 0);
	put(d->s, bin, PF_USED, used);
	raise_to(&d->peak_used, used);
	if (jsonl_u64(j, jsonl_get(j, "range"), &range) && range) {
		put(d->s, bin, PF_RANGE, range);
		raise_to(&d->range, range);
		if (used * 1000 / range > d->peak_permille)
			d->peak_permille = (uint32_t)(used * 1000 / range > 100000 ? 100000
										: used * 1000 / range);
	}
	fails = get_u64(j, "connect_failures_delta", 0);
	put(d->s, bin, PF_FAILS, fails);
	d->failures += fails;
}

const char *const rm_alert_names[AK_N] = { "syn_flood", "syn_backlog_overflow",
					   "accept_queue_full", "ephemeral_ports" };

void rm_on_alert(struct report_model *m, struct jsonl *j, int64_t ts, int bin)
{
	const char *kind_s = jsonl_str(j, jsonl_get(j, "alert")) ?: "";
	const char *state = jsonl_str(j, jsonl_get(j, "state")) ?: "";
	struct rm_span *s;
	int kind = -1, owner;

	(void)bin;
	for (int k = 0; k < AK_N; k++)
		if (!strcmp(kind_s, rm_alert_names[k]))
			kind = k;
	if (kind < 0 || (strcmp(state, "start") && strcmp(state, "clear")))
		return;		/* a kind this version cannot draw: counted only */
	m->alerts_by_kind[kind] += !strcmp(state, "start");
	if (kind == AK_PORTS) {
		struct rm_dest *d = dest_of(m, j);

		if (!d)
			return;
		d->alerts += !strcmp(state, "start");
		owner = (int)(d - m->dests);
	} else {
		struct rm_listener *l = listener_of(m, j, get_u64(j, "listener_id", 0));

		if (!l)
			return;
		l->alerts += !strcmp(state, "start");
		owner = (int)(l - m->listeners);
	}
	if (m->n_spans >= RM_MAX_SPANS) {
		m->spans_dropped++;
		return;
	}
	s = &m->spans[m->n_spans++];
	memset(s, 0, sizeof(*s));
	s->sort_ts = ts;
	s->kind = (uint8_t)kind;
	s->owner = (uint16_t)owner;
	s->is_clear = !strcmp(state, "clear");
	s->start = ts;
	if (s->is_clear) {
		uint64_t ms = get_u64(j, "duration_ms", 0);

		/* a clear whose start is not in the input began this long ago */
		s->start = ms < (uint64_t)ts / 1000000 ? ts - (int64_t)ms * 1000000 : 0;
	}
}

struct pkey {
	const struct report_model *m;
	uint32_t pid;
	const char *comm;
};

static bool same_proc(const void *ctx, uint32_t i)
{
	const struct pkey *k = ctx;

	return k->m->procs[i].pid == k->pid && !strcmp(k->m->procs[i].comm, k->comm);
}

static uint16_t proc_of(struct report_model *m, uint32_t pid, const char *comm)
{
	char kept[RM_TEXT];
	struct pkey k = { m, pid, kept };
	uint32_t before = m->n_procs;
	int i;

	rm_copy_text(kept, sizeof(kept), comm);
	i = lookup(m->index->procs, mix(hash_str(pid, kept)), &m->n_procs, RM_MAX_PROCS,
		   same_proc, &k);
	if (i < 0)
		return UINT16_MAX;
	if (m->n_procs != before) {
		memset(&m->procs[i], 0, sizeof(m->procs[i]));
		m->procs[i].pid = pid;
		memcpy(m->procs[i].comm, kept, sizeof(kept));
	}
	return (uint16_t)i;
}

void rm_on_leak(struct report_model *m, struct jsonl *j, int64_t ts, bool resolved)
{
	struct rm_leak *l;
	int arr, i;

	if (m->n_leaks >= m->cap_leaks) {
		uint32_t cap = m->cap_leaks ? 2 * m->cap_leaks : 1024;
		struct rm_leak *v = m->n_leaks < RM_MAX_LEAK_EVENTS
					    ? realloc(m->leaks, sizeof(*v) * (cap < RM_MAX_LEAK_EVENTS
										  ? cap
										  : RM_MAX_LEAK_EVENTS))
					    : NULL;

		if (!v) {	/* at the limit (or out of memory): counted */
			m->leaks_dropped++;
			return;
		}
		m->leaks = v;
		m->cap_leaks = cap < RM_MAX_LEAK_EVENTS ? cap : RM_MAX_LEAK_EVENTS;
	}
	l = &m->leaks[m->n_leaks++];
	memset(l, 0, sizeof(*l));
	l->ts = ts;
	l->id = get_u64(j, "id", 0);
	l->close_wait_ns = get_u64(j, "close_wait_ns", 0);
	l->resolved = resolved;
	l->proc = UINT16_MAX;
	if (resolved) {
		rm_copy_text(l->to, sizeof(l->to), jsonl_str(j, jsonl_get(j, "to")) ?: "gone");
		return;
	}
	l->lower_bound = jsonl_is_true(j, jsonl_get(j, "age_lower_bound"));
	if (jsonl_get(j, "pid") >= 0)
		l->proc = proc_of(m, (uint32_t)get_u64(j, "pid", 0),
				  jsonl_str(j, jsonl_get(j, "comm")) ?: "");
	arr = jsonl_get(j, "owners");
	for (i = jsonl_first(j, arr); i >= 0; i = jsonl_next(j, arr, i)) {
		uint64_t pid = 0, fd = 0;

		jsonl_u64(j, jsonl_member(j, i, "pid"), &pid);
		jsonl_u64(j, jsonl_member(j, i, "fd"), &fd);
		if (l->nowners < RM_OWNERS)
			l->owners[l->nowners++] = (struct rm_owner){ (uint32_t)pid, (uint32_t)fd };
		l->owners_total++;
	}
	l->owners_total += (uint32_t)get_u64(j, "owners_not_listed", 0);
	if (l->proc != UINT16_MAX)
		m->procs[l->proc].leaks++;
}
