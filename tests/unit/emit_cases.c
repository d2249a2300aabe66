/* The round-trip oracle of the emitters (emit_cases.h): write, parse back,
 * compare. The JSON expectations of each record type are in
 * emit_cases_json.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "emit.h"
#include "emit_cases.h"
#include "emit_cases_int.h"
#include "rec.h"

void emit_case_init(struct emit_case *k, enum case_kind kind)
{
	static const uint8_t types[CASE_N] = {
		[CASE_STATE] = TT_EV_STATE, [CASE_RESET] = TT_EV_RESET_SENT,
		[CASE_SYNACK] = TT_EV_SYNACK_RETRANS, [CASE_OVERFLOW] = TT_EV_LISTEN_OVERFLOW,
		[CASE_RETRANSMIT] = TT_EV_RETRANSMIT,
	};

	memset(k, 0, sizeof(*k));
	k->kind = kind;
	k->e.type = types[kind];
	k->e.family = k->c.family = k->l.family = k->d.family = AF_INET;
	k->c.nstates = 1;
	k->c.states[0] = TT_TCP_CLOSE_WAIT;
	k->s.nstates = 1;
	k->s.durations_ns[0] = DURATION_UNKNOWN;
	k->age = kind == CASE_LEAK_PROCESS ? DURATION_UNKNOWN : 0;
	k->lim = (struct ports_limits){ -1, -1, -1, -1 };
}

void case_fail(struct case_check *ck, const char *fmt, ...)
{
	va_list ap;

	if (ck->bad++)
		return;
	va_start(ap, fmt);
	vsnprintf(ck->why, ck->len, fmt, ap);
	va_end(ap);
}

/* The case's cgroup, whatever the id. */
static const struct cgroup_info *lookup(void *ctx, uint64_t id)
{
	static struct cgroup_info info;
	const struct emit_case *k = ctx;

	info.id = id;
	info.path = k->cgroup_known ? k->cgroup_path : NULL;
	info.ids = k->ids;
	return &info;
}

/* Reset reasons' names by value: the case's name at its reason's value. */
static const char *reasons[1u << 16];

static void emitter_for(struct emitter *em, struct outbuf *out, const struct emit_case *k)
{
	emitter_init(em, out);
	fmt_clock_set(&em->clock, k->clock_offset);
	em->own_netns = k->own_netns;
	em->cgroup_lookup = lookup;
	em->cgroup_ctx = (void *)k;
	if (k->reason[0]) {
		reasons[k->e.reason] = k->reason;
		em->rst_reasons = reasons;
		em->n_rst_reasons = (uint32_t)k->e.reason + 1;
	}
}

static void emit_listen_json(struct emitter *em, const struct emit_case *k, struct ports *ports,
			     const struct lw_alert *a, const struct ports_alert *pa)
{
	switch (k->kind) {
	case CASE_LISTENER:
		emit_json_listen_listener(em, &k->l, k->ts);
		break;
	case CASE_NETNS:
		emit_json_listen_netns(em, &k->ns, k->ts);
		break;
	case CASE_ALERT:
		emit_json_listen_ops.alert(em, a);
		break;
	case CASE_PORTS_ALERT:
		emit_json_listen_ops.ports_alert(em, pa, ports);
		break;
	case CASE_PORTS:
		emit_json_listen_ports(em, ports, &k->d, k->ts);
		break;
	default:
		break;
	}
}

/* The record of k in one view (ops: JSON or text); false when the view
 * writes none for it.
 */
static bool emit(struct emitter *em, const struct emit_case *k, struct ports *ports, bool json)
{
	const struct sink_ops *ops = json ? &emit_json_ops : &emit_text_ops;
	struct lw_alert a = { (enum lw_alert_kind)k->alert_kind, k->start, k->ts, &k->l, &k->st,
			      k->with_ns ? &k->ns : NULL, k->gone, k->syn_threshold };
	struct ports_alert pa = { .start = k->start, .gone = k->gone, .ts_ns = k->ts, .d = &k->d,
				  .lim = ports_limits_of(ports, k->d.netns),
				  .range = ports_range(ports, &k->d),
				  .tw_reusable = ports_tw_reusable(ports, &k->d) };

	switch (k->kind) {
	case CASE_STATE:
		ops->state(em, &k->e);
		return true;
	case CASE_RESET:
	case CASE_SYNACK:
	case CASE_OVERFLOW:
	case CASE_RETRANSMIT:
		ops->event(em, &k->e);
		return true;
	case CASE_HISTORY: {
		struct history_summary s = k->s;

		s.dl = k->with_dl ? &k->dl : NULL;
		ops->history(em, &k->c, &s);
		return true;
	}
	case CASE_LOST:
		ops->lost(em, k->ts, k->count, k->total, k->cause);
		return true;
	case CASE_LEAK:
		ops->leak(em, &k->c, k->ts, k->age, k->lower_bound, k->owners, k->nowners,
			  k->process_leaks);
		break;
	case CASE_LEAK_RESOLVED:
		ops->leak_resolved(em, &k->c, k->ts, k->age);
		break;
	case CASE_LEAK_PROCESS:
		if (!json)
			return false;
		emit_json_leak_process(em, k->ts, k->c.pid,
				       k->c.flags & CONN_OWNER_SEEN ? k->c.comm : NULL,
				       k->ids.container_id, k->count, k->age);
		return true;
	case CASE_ALERT:
		if (!json)
			emit_text_listen_ops.alert(em, &a);
		break;
	case CASE_PORTS_ALERT:
		if (!json)
			emit_text_listen_ops.ports_alert(em, &pa, ports);
		break;
	default:
		if (!json)
			return false;
		break;
	}
	if (json)
		emit_listen_json(em, k, ports, &a, &pa);
	else if (ops->batch_end)
		ops->batch_end(em);	/* the text view's leak lines */
	return true;
}

/* Measure the three parts of a record's budget (rec.h). */
static void measure(const struct json_node *r, struct case_sizes *z)
{
	static const char *const lists[] = { "owners", "top_processes", "top_sources",
					     "top_prefixes" };
	static const char *const strings[] = { "comm", "cgroup", "container_id", "pod_uid",
					       "reason" };
	const struct json_node *by = json_check_get(r, "accepted_by");
	const struct json_node *comm = json_check_get(by, "comm");

	z->strings = comm ? comm->end - comm->start : 0;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		const struct json_node *m = json_check_get(r, lists[i]);

		if (m) {
			z->lists += m->end - m->start;
			z->listed += m->count;
		}
	}
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		const struct json_node *m = json_check_get(r, strings[i]);

		if (m)
			z->strings += m->end - m->start;
	}
	z->fixed = z->record - z->strings - z->lists;
}

/* "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" is the wall time of mono. */
void case_check_time(struct case_check *ck, const char *key, uint64_t mono)
{
	const struct json_node *m = json_check_get(ck->r, key);
	int64_t want = (int64_t)(mono + (uint64_t)ck->k->clock_offset);
	struct tm tm = { 0 };
	char s[40];
	unsigned ns;
	int used = 0;

	if (!m || m->type != JSON_STRING || m->len >= sizeof(s)) {
		case_fail(ck, "%s is not a time string", key);
		return;
	}
	/* years from 1970 (to 2262, the most 63 bits of nanoseconds hold) */
	if (want < 0)
		return;
	memcpy(s, m->str, m->len);
	s[m->len] = '\0';
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%9uZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ns, &used) != 7 ||
	    (size_t)used != m->len || m->len != 30) {
		case_fail(ck, "%s %s is not RFC 3339 with nanoseconds", key, s);
		return;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((int64_t)timegm(&tm) * 1000000000 + ns != want)
		case_fail(ck, "%s %s is not monotonic %llu + %lld", key, s,
			  (unsigned long long)mono, (long long)ck->k->clock_offset);
}

/* When the record says it happened: a history ends when its last state
 * began, a kernel record carries its own time.
 */
static uint64_t record_time(const struct emit_case *k)
{
	if (k->kind == CASE_HISTORY)
		return k->s.end_ns;
	if (k->kind <= CASE_RETRANSMIT)
		return k->e.ts_ns;
	return k->ts;
}

static const char *const type_names[CASE_N] = {
	[CASE_STATE] = "state", [CASE_RESET] = "reset", [CASE_SYNACK] = "synack_retransmit",
	[CASE_OVERFLOW] = "listen_overflow", [CASE_RETRANSMIT] = "retransmit", [CASE_HISTORY] = "history", [CASE_LOST] = "lost",
	[CASE_LEAK] = "close_wait_leak", [CASE_LEAK_RESOLVED] = "close_wait_resolved",
	[CASE_LISTENER] = "listener", [CASE_NETNS] = "netns", [CASE_ALERT] = "alert",
	[CASE_PORTS_ALERT] = "alert", [CASE_PORTS] = "ports", [CASE_LEAK_PROCESS] = "leak_process",
};

/* One whole line: a newline at its end and nowhere else, within the
 * largest record.
 */
static bool whole_line(struct case_check *ck, const char *view, const char *s, size_t n)
{
	if (!n || s[n - 1] != '\n' || memchr(s, '\n', n - 1)) {
		case_fail(ck, "%s: not one whole line (%zu bytes)", view, n);
		return false;
	}
	if (n > OUTBUF_MAX_RECORD) {
		case_fail(ck, "%s: a record of %zu bytes, more than %d", view, n, OUTBUF_MAX_RECORD);
		return false;
	}
	return true;
}

static void check_json(struct case_check *ck, const char *s, size_t n, struct case_sizes *z)
{
	struct json_doc *d;
	char err[128];

	if (!whole_line(ck, "json", s, n))
		return;
	d = json_check_parse(s, n - 1, err, sizeof(err));
	if (!d) {
		case_fail(ck, "not JSON (%s): %.300s", err, s);
		return;
	}
	ck->r = json_check_root(d);
	ck->line = s;
	if (ck->r->type != JSON_OBJECT || !json_check_str_is(ck->r, "type",
							     type_names[ck->k->kind],
							     strlen(type_names[ck->k->kind]))) {
		case_fail(ck, "not a %s record: %.200s", type_names[ck->k->kind], s);
	} else {
		z->record = n;
		measure(ck->r, z);
		if (z->fixed > REC_FIXED_MAX || z->strings > REC_STRINGS_MAX ||
		    z->lists > REC_LISTS_MAX + 8)
			case_fail(ck, "parts of %zu, %zu, %zu bytes: over the budget", z->fixed,
				  z->strings, z->lists);
		case_check_time(ck, "ts", record_time(ck->k));
		case_check_values(ck, z);
	}
	json_check_free(d);
}

int emit_case_check(const struct emit_case *k, struct case_sizes *sizes, char *why, size_t len)
{
	struct case_check ck = { .k = k, .why = why, .len = len };
	struct ports_config pcfg = { .max_dests = 4 };
	struct ports *ports = ports_new(&pcfg);
	struct case_sizes z = { 0 };
	struct outbuf out;
	struct emitter em;

	if (!ports || outbuf_init(&out, -1, 4 * OUTBUF_MAX_RECORD)) {
		snprintf(why, len, "out of memory");
		ports_free(ports);
		return -1;
	}
	if (k->with_lim)
		ports_set_limits(ports, k->d.netns, &k->lim);
	emitter_for(&em, &out, k);
	emit(&em, k, ports, true);
	check_json(&ck, out.buf, out.len, &z);
	out.len = 0;
	emitter_for(&em, &out, k);
	emit_text_header(&em);
	out.len = 0;
	if (emit(&em, k, ports, false)) {
		z.text = out.len;
		case_check_text(&ck, out.buf, out.len);
	}
	reasons[k->e.reason] = NULL;
	outbuf_free(&out);
	ports_free(ports);
	if (sizes)
		*sizes = z;
	return ck.bad ? -1 : 0;
}

/* The text view: whole lines of printable ASCII. */
bool case_text_lines(struct case_check *ck, const char *s, size_t n)
{
	for (size_t start = 0; start < n;) {
		const char *nl = memchr(s + start, '\n', n - start);
		size_t end = nl ? (size_t)(nl - s) + 1 : n;

		if (!whole_line(ck, "text", s + start, end - start))
			return false;
		for (size_t i = start; i + 1 < end; i++)
			if (s[i] < 0x20 || s[i] > 0x7e) {
				case_fail(ck, "text: byte 0x%02x unescaped: %.200s",
					  (unsigned char)s[i], s + start);
				return false;
			}
		start = end;
	}
	return true;
}

/* A comm from the text view (\xNN escapes) is the input's. */
bool case_text_comm_is(const char *tok, size_t n, const char *comm)
{
	char got[TT_COMM_LEN * 4];
	size_t k = 0, want = strnlen(comm, TT_COMM_LEN);

	if (!want)
		return n == 1 && tok[0] == '-';
	for (size_t i = 0; i < n && k < sizeof(got); i++) {
		unsigned v;

		if (tok[i] == '\\' && i + 3 < n && tok[i + 1] == 'x' &&
		    sscanf(tok + i + 2, "%2x", &v) == 1) {
			got[k++] = (char)v;
			i += 3;
		} else {
			got[k++] = tok[i];
		}
	}
	return k == want && !memcmp(got, comm, want);
}
