/* The report's model: records in, bounded aggregates out (report_model.h).
 * Listeners, destinations, alerts and leaks are in report_parts.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "report_model.h"
#include "report_parts.h"

const char *const rm_type_names[RT_N] = {
	"state", "history", "reset", "synack_retransmit", "listen_overflow", "lost",
	"close_wait_leak", "close_wait_resolved", "listener", "netns", "alert", "ports",
	"leak_process",
};

const char *const rm_end_names[RM_N_ENDS] = {
	"orderly", "rst_sent", "rst_received", "refused", "handshake_timeout", "timeout",
	"retransmit_timeout", "keepalive_timeout", "user_timeout", "zero_window_timeout",
	"closed", "no_local_port", "unknown", "open", "other",
};

const char *const rm_role_names[RM_N_ROLES] = { "active", "passive", "unknown" };


uint64_t rm_dist_edge(int b)
{
	static const uint64_t step[3] = { 1, 2, 5 };
	uint64_t v = 1000 * step[b % 3];

	if (b < 0)
		return 0;
	if (b >= RM_DIST_BUCKETS - 1)
		return UINT64_MAX;
	for (int i = 0; i < b / 3; i++)
		v *= 10;
	return v;
}

int rm_dist_bucket(uint64_t ns)
{
	int b = 0;

	while (b < RM_DIST_BUCKETS - 1 && ns >= rm_dist_edge(b))
		b++;
	return b;
}

uint64_t rm_dist_quantile(const struct rm_dist *d, double q)
{
	uint64_t want, seen = 0;

	if (!d->n)
		return TL_NONE;
	want = (uint64_t)(q * (double)d->n);
	if (want >= d->n)
		want = d->n - 1;
	for (int b = 0; b < RM_DIST_BUCKETS; b++) {
		seen += d->bucket[b];
		if (seen > want) {
			uint64_t edge = rm_dist_edge(b);

			return edge > d->max ? d->max : edge;
		}
	}
	return d->max;
}

static void dist_add(struct rm_dist *d, uint64_t ns)
{
	if (!d->n || ns < d->min)
		d->min = ns;
	if (!d->n || ns > d->max)
		d->max = ns;
	d->n++;
	d->bucket[rm_dist_bucket(ns)]++;
}

int rm_parse_listener(const char *spec, struct rm_config *cfg, char *err, size_t errlen)
{
	const char *colon = strrchr(spec, ':'), *port_s = colon ? colon + 1 : spec;
	size_t alen = colon ? (size_t)(colon - spec) : 0;
	unsigned char bin[16];
	char addr[64];
	unsigned long port;
	char *end;

	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (*port_s < '0' || *port_s > '9' || *end || errno || port < 1 || port > 65535) {
		snprintf(err, errlen, "'%.80s' does not end in a port from 1 to 65535", spec);
		return -1;
	}
	cfg->lport = (uint16_t)port;
	cfg->laddr[0] = '\0';
	if (!alen || (alen == 1 && spec[0] == '*'))
		return 0;
	if (spec[0] == '[' && alen >= 2 && spec[alen - 1] == ']' && alen - 2 < sizeof(addr)) {
		memcpy(addr, spec + 1, alen - 2);
		addr[alen - 2] = '\0';
		if (inet_pton(AF_INET6, addr, bin) == 1 &&
		    inet_ntop(AF_INET6, bin, cfg->laddr, sizeof(cfg->laddr)))
			return 0;
	} else if (alen < sizeof(addr)) {
		memcpy(addr, spec, alen);
		addr[alen] = '\0';
		if (inet_pton(AF_INET, addr, bin) == 1 &&
		    inet_ntop(AF_INET, bin, cfg->laddr, sizeof(cfg->laddr)))
			return 0;
	}
	snprintf(err, errlen, "'%.80s' is not ADDR:PORT (an IPv4 address, [IPv6] or *)", spec);
	return -1;
}

/* A model and what only this file reads of it. */
struct rm_whole {
	struct report_model m;	/* first: a model's whole is at its address */
	struct rm_config cfg;
};

static const struct rm_config *cfg_of(const struct report_model *m)
{
	return &((const struct rm_whole *)(const void *)m)->cfg;
}

struct report_model *rm_new(const struct rm_config *cfg)
{
	struct rm_whole *w = calloc(1, sizeof(*w));
	struct report_model *m = w ? &w->m : NULL;
	uint8_t kinds[RM_N_ENDS] = { 0 };	/* all sums */

	if (!m)
		return NULL;
	w->cfg = *cfg;
	timeline_init(&m->tl);
	m->spans = malloc(sizeof(*m->spans) * RM_MAX_SPANS);
	m->ended = timeline_series(&m->tl, RM_N_ENDS, kinds);
	if (!m->spans || !m->ended || rm_parts_init(m)) {
		rm_free(m);
		return NULL;
	}
	return m;
}

void rm_free(struct report_model *m)
{
	if (!m)
		return;
	rm_parts_free(m);
	timeline_free(&m->tl);
	free(m->spans);
	free(m->leaks);
	free(m);
}

const struct rm_input *rm_current_input(const struct report_model *m)
{
	return m->n_inputs ? &m->inputs[m->n_inputs - 1] : NULL;
}

void rm_input(struct report_model *m, const char *name, uint8_t kind, bool compressed)
{
	struct rm_input *in;

	if (m->n_inputs >= RM_MAX_INPUTS) {
		/* the last slot stands for all the rest */
		m->inputs_not_listed++;
		return;
	}
	in = &m->inputs[m->n_inputs++];
	rm_copy_text(in->name, sizeof(in->name), name);
	in->kind = kind;
	in->compressed = compressed;
}

void rm_input_error(struct report_model *m, const char *why)
{
	if (m->n_inputs)
		rm_copy_text(m->inputs[m->n_inputs - 1].error, sizeof(m->inputs[0].error), why);
}

void rm_input_note(struct report_model *m, const char *note)
{
	if (m->n_inputs)
		rm_copy_text(m->inputs[m->n_inputs - 1].note, sizeof(m->inputs[0].note), note);
}

void rm_bad_line(struct report_model *m, uint64_t line, const char *why, const char *text,
		 size_t len)
{
	struct rm_bad *b;
	char quoted[RM_TEXT];
	size_t n = len < sizeof(quoted) - 1 ? len : sizeof(quoted) - 1;

	m->bad++;
	if (m->n_inputs)
		m->inputs[m->n_inputs - 1].bad++;
	if (m->n_bad_lines >= RM_MAX_BAD)
		return;
	b = &m->bad_lines[m->n_bad_lines++];
	rm_copy_text(b->file, sizeof(b->file), m->n_inputs ? m->inputs[m->n_inputs - 1].name : "");
	b->line = line;
	rm_copy_text(b->why, sizeof(b->why), why);
	/* the line's bytes may be anything: keep them as bytes, the writer
	 * shows what is not printable UTF-8 as escapes
	 */
	memcpy(quoted, text, n);
	quoted[n] = '\0';
	rm_copy_bytes(b->text, sizeof(b->text), quoted, n);
}

static int type_of(const char *name)
{
	for (int t = 0; t < RT_N; t++)
		if (!strcmp(name, rm_type_names[t]))
			return t;
	return -1;
}

static void count_other_type(struct report_model *m, const char *name)
{
	m->other_types++;
	for (uint32_t i = 0; i < m->n_other_names; i++)
		if (!strcmp(m->other_names[i], name)) {
			m->other_counts[i]++;
			return;
		}
	if (m->n_other_names < RM_MAX_OTHER_TYPES) {
		rm_copy_text(m->other_names[m->n_other_names], sizeof(m->other_names[0]), name);
		m->other_counts[m->n_other_names++] = 1;
	}
}

/* Does the record belong to the --listener given (its local end)? */
static bool listener_match(const struct report_model *m, struct jsonl *j)
{
	const char *laddr;
	uint64_t lport;

	if (!cfg_of(m)->lport)
		return true;
	if (!jsonl_u64(j, jsonl_get(j, "lport"), &lport))
		return true;	/* no local end: not about a listener */
	if (lport != cfg_of(m)->lport)
		return false;
	laddr = jsonl_str(j, jsonl_get(j, "laddr"));
	return !cfg_of(m)->laddr[0] || !laddr || !strcmp(laddr, cfg_of(m)->laddr);
}

static uint64_t u64_or(struct jsonl *j, const char *key, uint64_t dflt)
{
	uint64_t v;

	return jsonl_u64(j, jsonl_get(j, key), &v) ? v : dflt;
}

static void history_conn(struct jsonl *j, struct rm_conn *c, int64_t ts, int role)
{
	int arr, i, k;

	memset(c, 0, sizeof(*c));
	c->end_ns = ts;
	c->role = (uint8_t)role;
	c->id = u64_or(j, "id", 0);
	rm_endpoint(j, "laddr", "lport", c->local, sizeof(c->local));
	rm_endpoint(j, "raddr", "rport", c->remote, sizeof(c->remote));
	arr = jsonl_get(j, "states");
	for (i = jsonl_first(j, arr); i >= 0 && c->nstates < RM_STATES; i = jsonl_next(j, arr, i))
		rm_copy_text(c->states[c->nstates++], RM_STATE,
			     jsonl_str(j, i) ? jsonl_str(j, i) : "?");
	arr = jsonl_get(j, "durations_ns");
	for (i = jsonl_first(j, arr), k = 0; k < RM_STATES; k++) {
		c->durations_ns[k] = TL_NONE;
		if (i >= 0) {
			jsonl_u64(j, i, &c->durations_ns[k]);
			i = jsonl_next(j, arr, i);
		}
	}
	c->duration_ns = u64_or(j, "duration_ns", 0);
	rm_copy_text(c->end, sizeof(c->end), jsonl_str(j, jsonl_get(j, "end")) ?: "?");
	c->handshake_ns = u64_or(j, "handshake_ns", TL_NONE);
	c->accept_wait_ns = u64_or(j, "accept_wait_ns", TL_NONE);
	c->half_close_ns = u64_or(j, "half_close_ns", TL_NONE);
	c->pid = (uint32_t)u64_or(j, "pid", 0);
	rm_copy_text(c->comm, sizeof(c->comm), jsonl_str(j, jsonl_get(j, "comm")) ?: "");
}

/* Keep the n largest by key: where a new one goes (or -1: not among them). */
static int top_slot(const struct rm_conn *v, uint32_t *n, bool by_end, uint64_t key)
{
	uint32_t low = 0;

	if (*n < RM_WATERFALL)
		return (int)(*n)++;
	for (uint32_t i = 1; i < *n; i++)
		if ((by_end ? (uint64_t)v[i].end_ns : v[i].duration_ns) <
		    (by_end ? (uint64_t)v[low].end_ns : v[low].duration_ns))
			low = i;
	if (key <= (by_end ? (uint64_t)v[low].end_ns : v[low].duration_ns))
		return -1;
	return (int)low;
}

static void on_history(struct report_model *m, struct jsonl *j, int64_t ts, int bin)
{
	static const char *const dist_keys[RM_N_DISTS] = { "handshake_ns", "accept_wait_ns",
							   "duration_ns" };
	const char *end = jsonl_str(j, jsonl_get(j, "end")) ?: "";
	const char *role_s = jsonl_str(j, jsonl_get(j, "role")) ?: "";
	int e = RM_END_OTHER, role = RM_UNKNOWN_ROLE, slot;
	uint64_t dur = u64_or(j, "duration_ns", 0);
	bool failed;

	for (int i = 0; i < RM_END_OTHER; i++)
		if (!strcmp(end, rm_end_names[i]))
			e = i;
	for (int i = 0; i < RM_N_ROLES; i++)
		if (!strcmp(role_s, rm_role_names[i]))
			role = i;
	m->ends[e]++;
	tl_put(m->ended, bin, (uint32_t)e, 1);
	if (jsonl_get(j, "complete") >= 0 && !jsonl_is_true(j, jsonl_get(j, "complete")))
		m->incomplete++;
	for (int d = 0; d < RM_N_DISTS; d++) {
		uint64_t v;

		if (jsonl_u64(j, jsonl_get(j, dist_keys[d]), &v))
			dist_add(&m->dist[d][role], v);
	}
	slot = top_slot(m->slowest, &m->n_slowest, false, dur);
	if (slot >= 0)
		history_conn(j, &m->slowest[slot], ts, role);
	failed = strcmp(end, "orderly") && strcmp(end, "open");
	if (failed) {
		slot = top_slot(m->failed, &m->n_failed, true, (uint64_t)ts);
		if (slot >= 0)
			history_conn(j, &m->failed[slot], ts, role);
	}
}

static void on_lost(struct report_model *m, struct jsonl *j)
{
	const char *cause = jsonl_str(j, jsonl_get(j, "cause")) ?: "";
	uint64_t count = u64_or(j, "count", 0);
	int c = LOST_N_CAUSES;

	for (int i = 0; i < LOST_N_CAUSES; i++)
		if (!strcmp(cause, lost_cause_name((uint8_t)i)))
			c = i;
	m->lost[c] = m->lost[c] > UINT64_MAX - count ? UINT64_MAX : m->lost[c] + count;
}

int rm_record(struct report_model *m, struct jsonl *j, char *why, size_t whylen)
{
	const char *type = jsonl_str(j, jsonl_get(j, "type"));
	const char *ts_s = jsonl_str(j, jsonl_get(j, "ts"));
	int64_t ts;
	int t, bin;

	if (!type || !ts_s) {
		snprintf(why, whylen, "not a tcptrail record (no \"type\" or \"ts\")");
		return -1;
	}
	if (jsonl_rfc3339(ts_s, &ts)) {
		snprintf(why, whylen, "\"ts\" is not an RFC 3339 time");
		return -1;
	}
	m->records++;
	if (m->n_inputs)
		m->inputs[m->n_inputs - 1].records++;
	if (ts < cfg_of(m)->since || ts > cfg_of(m)->until) {
		m->outside++;
		return 0;
	}
	if (!listener_match(m, j)) {
		m->filtered++;
		return 0;
	}
	t = type_of(type);
	if (t < 0) {
		count_other_type(m, type);
		timeline_bin(&m->tl, ts);
		return 0;
	}
	m->by_type[t]++;
	bin = timeline_bin(&m->tl, ts);
	switch (t) {
	case RT_HISTORY:
		on_history(m, j, ts, bin);
		break;
	case RT_LOST:
		on_lost(m, j);
		break;
	case RT_LISTENER:
	case RT_SYNACK:
	case RT_OVERFLOW:
		rm_on_listener(m, j, t, bin);
		break;
	case RT_PORTS:
		rm_on_ports(m, j, bin);
		break;
	case RT_ALERT:
		rm_on_alert(m, j, ts, bin);
		break;
	case RT_LEAK:
	case RT_RESOLVED:
		rm_on_leak(m, j, ts, t == RT_RESOLVED);
		break;
	default:
		break;	/* counted only */
	}
	return 0;
}
