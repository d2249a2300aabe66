/* libFuzzer target: the writers. Random bytes become one record of any type
 * (the emitters' inputs, filled from the bytes and kept only to the ranges
 * the rest of tcptrail guarantees), which goes through the JSON and text
 * emitters. The oracle needs no sanitizer: the JSON line must parse
 * (strictly) and read back the numbers and strings it was given, within
 * each part of its byte budget, and the text line must be printable ASCII
 * naming the same owner (tests/unit/emit_cases.c). Any disagreement aborts
 * with the reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "emit_cases.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct bytes {
	const uint8_t *p;
	size_t n;
};

/* len bytes from the input, zeros once it is used up. */
static void take(struct bytes *b, void *dst, size_t len)
{
	size_t k = len < b->n ? len : b->n;

	memcpy(dst, b->p, k);
	memset((char *)dst + k, 0, len - k);
	b->p += k;
	b->n -= k;
}

static uint8_t byte(struct bytes *b)
{
	uint8_t v;

	take(b, &v, 1);
	return v;
}

static uint16_t family(struct bytes *b)
{
	return byte(b) & 1 ? AF_INET6 : AF_INET;
}

/* A string of up to max bytes (any but the NUL that ends it). */
static void text(struct bytes *b, char *dst, size_t max)
{
	size_t len = byte(b) | (size_t)byte(b) << 8;

	len %= max + 1;
	take(b, dst, len);
	dst[len] = '\0';
}

#define TIME_MASK ((1ull << 62) - 1)	/* what a recording may hold */

/* A bool filled from raw bytes holds 0 or 1 again (any other byte in it is
 * not a bool to C).
 */
#define BOOL(field)                                        \
	do {                                               \
		uint8_t v_;                                \
		memcpy(&v_, &(field), 1);                  \
		v_ &= 1;                                   \
		memcpy(&(field), &v_, 1);                  \
	} while (0)

static void fill(struct emit_case *k, struct bytes *b)
{
	uint8_t kind = byte(b) % CASE_N, bits = byte(b);

	emit_case_init(k, (enum case_kind)kind);
	take(b, &k->ts, sizeof(k->ts));
	take(b, &k->clock_offset, sizeof(k->clock_offset));
	k->ts &= TIME_MASK;
	k->clock_offset &= (int64_t)TIME_MASK;
	take(b, &k->own_netns, sizeof(k->own_netns));
	k->cgroup_known = bits & 1;
	text(b, k->cgroup_path, CASE_PATH_MAX);
	take(b, &k->ids, sizeof(k->ids));
	k->ids.container_id[CGROUP_CONTAINER_ID_LEN] = k->ids.pod_uid[CGROUP_POD_UID_LEN] = '\0';
	text(b, k->reason, CASE_REASON_MAX);
	take(b, &k->e, sizeof(k->e));
	k->e.type = kind == CASE_RESET ? (bits & 2 ? TT_EV_RESET_SENT : TT_EV_RESET_RECV)
		  : kind == CASE_SYNACK ? TT_EV_SYNACK_RETRANS
		  : kind == CASE_OVERFLOW ? TT_EV_LISTEN_OVERFLOW
		  : kind == CASE_RETRANSMIT ? TT_EV_RETRANSMIT : TT_EV_STATE;
	k->e.family = family(b);
	k->e.ts_ns &= TIME_MASK;
	take(b, &k->c, sizeof(k->c));
	k->c.family = family(b);
	k->c.nstates = k->c.nstates % CONN_MAX_STATES + 1;
	take(b, &k->s, sizeof(k->s));
	k->s.start_ns &= TIME_MASK;
	k->s.end_ns &= TIME_MASK;
	BOOL(k->s.tw_inferred);
	BOOL(k->s.complete);
	k->s.dl = NULL;		/* the case's own, below */
	take(b, &k->dl, sizeof(k->dl));
	k->with_dl = bits & 8;
	take(b, &k->count, sizeof(k->count));
	take(b, &k->total, sizeof(k->total));
	k->cause = byte(b);
	take(b, &k->age, sizeof(k->age));
	k->lower_bound = bits & 4;
	k->nowners = byte(b) % (CASE_MAX_OWNERS + 1);
	take(b, k->owners, k->nowners * sizeof(k->owners[0]));
	take(b, &k->process_leaks, sizeof(k->process_leaks));
}

static void fill_listen(struct emit_case *k, struct bytes *b)
{
	uint8_t bits = byte(b);

	take(b, &k->l, sizeof(k->l));
	k->l.family = family(b);
	k->l.acc = NULL;
	BOOL(k->l.cookies_active);
	BOOL(k->l.events_incomplete);
	BOOL(k->l.sampled);
	BOOL(k->l.owner_not_visible);
	BOOL(k->l.synq_known);
	BOOL(k->l.cookies_known);
	BOOL(k->l.have_deltas);
	/* syn_baseline stays any double: NaN, negative, past 2^64 */
	for (int i = 0; i < LW_N_ALERTS; i++)
		BOOL(k->l.alert[i].active);
	for (int i = 0; i < LW_TOP_SOURCES; i++) {
		k->l.top_addrs[i].family = family(b);
		k->l.top_prefixes[i].family = family(b);
	}
	take(b, &k->ns, sizeof(k->ns));
	BOOL(k->ns.have_counters);
	BOOL(k->ns.sampled);
	take(b, &k->st, sizeof(k->st));
	BOOL(k->st.active);
	k->alert_kind = byte(b) % LW_N_ALERTS;
	k->start = bits & 1;
	k->gone = bits & 2;
	k->with_ns = bits & 4;
	take(b, &k->syn_threshold, sizeof(k->syn_threshold));
	take(b, &k->d, sizeof(k->d));
	k->d.family = family(b);
	BOOL(k->d.alert);
	BOOL(k->d.failed_once);
	/* one destination's sockets each hold one of its 65535 local ports,
	 * live or in TIME_WAIT: twice that each leaves room for miscounts, and
	 * keeps used_ratio's per mille within the 32 bits ports.c gives it
	 */
	k->d.in_use &= (1u << 17) - 1;
	k->d.time_wait &= (1u << 17) - 1;
	take(b, &k->lim, sizeof(k->lim));
	k->with_lim = bits & 8;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct emit_case k;
	struct bytes b = { data, size };
	char why[512];

	fill(&k, &b);
	fill_listen(&k, &b);
	if (emit_case_check(&k, NULL, why, sizeof(why))) {
		fprintf(stderr, "fuzz_emit: record kind %d: %s\n", k.kind, why);
		abort();
	}
	return 0;
}
