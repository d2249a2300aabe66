/* The live listener view. Not a hot path: one frame a sample, so plain
 * snprintf keeps it readable. Every table fits the terminal (100 columns
 * when it is not one) by dropping its least important columns first; wide
 * mode keeps them all.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include "listen_alerts.h"
#include "ports.h"
#include "top_table.h"
#include "top_view.h"

/* Lines above and below the listener rows, kept when the terminal is short. */
#define TOP_FIXED_LINES 10
/* The width a frame fits when the output is not a terminal. */
#define TOP_DEFAULT_COLS 100

#define TOP_RECENT_ALERTS 5

struct top_view {
	struct top_view_config c;
	bool drawn;		/* a frame is on screen */
	int rows, cols;		/* terminal size; 0: unlimited */
	/* the latest alert starts and clears, newest last */
	char recent[TOP_RECENT_ALERTS][256];
	int nrecent;
};

struct top_view *top_view_new(const struct top_view_config *cfg)
{
	struct top_view *tv = calloc(1, sizeof(*tv));

	if (tv)
		tv->c = *cfg;
	return tv;
}

void top_view_free(struct top_view *tv)
{
	free(tv);
}

/* The width rows must fit; 0 in wide mode. */
static int budget(const struct top_view *tv)
{
	if (tv->c.wide)
		return 0;
	return tv->cols > 0 ? tv->cols : TOP_DEFAULT_COLS;
}

/* One screen line, cut to the width; in place, it also erases what the
 * previous frame left to its right.
 */
__attribute__((format(printf, 2, 3)))
static void line(struct top_view *tv, const char *f, ...)
{
	char *p = outbuf_begin(tv->c.out);
	size_t room = OUTBUF_MAX_RECORD - 8;
	int n, width = budget(tv);
	va_list ap;

	va_start(ap, f);
	n = vsnprintf(p, room, f, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= room)
		n = (int)room - 1;
	if (width > 0 && n > width)
		n = width;
	p += n;
	if (tv->c.ansi)
		p = fmt_lit(p, "\033[K");
	*p++ = '\n';
	outbuf_commit(tv->c.out, p);
}

static void endpoint(char *buf, size_t len, int family, const uint8_t *addr, uint16_t port)
{
	char a[64];

	*fmt_endpoint(a, family, addr, port) = '\0';
	snprintf(buf, len, "%s", a);
}

static void text_safe(char *buf, const char *s, size_t n)
{
	*fmt_text_safe(buf, s, n) = '\0';
}

/* A namespace as people name it: "host" for ours, the name `ip netns`
 * gave it, or its inode number.
 */
static void netns_label(const struct top_view *tv, uint32_t inum, char *buf, size_t len)
{
	const char *name = tv->c.netns_name ? tv->c.netns_name(inum) : NULL;

	if (inum == tv->c.own_netns)
		snprintf(buf, len, "host");
	else if (name)
		*fmt_text_safe(buf, name, len / 4 - 1) = '\0';
	else
		snprintf(buf, len, "%u", inum);
}

/* A rate over the interval, "?" before there is one. */
static void rate(char *buf, bool known, uint64_t delta, uint64_t interval_ns)
{
	if (!known || !interval_ns)
		snprintf(buf, TOP_CELL, "?");
	else
		snprintf(buf, TOP_CELL, "%.0f", delta * 1e9 / interval_ns);
}

void top_view_alert(struct top_view *tv, const struct lw_alert *a)
{
	const struct lw_listener *l = a->l;
	char when[16], ep[80], comm[TT_COMM_LEN * 4 + 1];

	*fmt_clock_ms(when, tv->c.clock, a->ts_ns) = '\0';
	endpoint(ep, sizeof(ep), l->family, l->addr, l->port);
	text_safe(comm, l->comm, TT_COMM_LEN);
	if (tv->nrecent == TOP_RECENT_ALERTS) {
		memmove(tv->recent[0], tv->recent[1], sizeof(tv->recent[0]) * (TOP_RECENT_ALERTS - 1));
		tv->nrecent--;
	}
	snprintf(tv->recent[tv->nrecent++], sizeof(tv->recent[0]), "%s %-17s %-5s %s %s%s",
		 when, lw_alert_names[a->kind], a->start ? "START" : "CLEAR", ep,
		 l->pid ? comm : "", a->gone ? " (listener closed)" : "");
}

static const char *alert_label(const struct lw_listener *l)
{
	bool flood = l->alert[LW_SYN_FLOOD].active;
	bool backlog = l->alert[LW_SYN_BACKLOG_OVERFLOW].active;
	bool acceptq = l->alert[LW_ACCEPTQ_FULL].active;

	if (flood)
		return acceptq ? "SYN-FLOOD+ACCEPTQ-FULL" : "SYN-FLOOD";
	if (backlog)
		return acceptq ? "SYN-BACKLOG+ACCEPTQ-FULL" : "SYN-BACKLOG";
	return acceptq ? "ACCEPTQ-FULL" : "ok";
}

/* The listener table, in display order; prio says what goes first when the
 * width is short (docs/top.md).
 */
enum { LC_NETNS, LC_CONTAINER, LC_LISTEN, LC_PROCESS, LC_ACCEPTQ, LC_SYNQ, LC_SYN, LC_DROPS,
       LC_SYNACK, LC_OVFL, LC_WAIT, LC_COOKIES, LC_STATE, LC_N };

/* each table ends with an empty column (head NULL) */
static const struct top_col listener_cols[LC_N + 1] = {
	[LC_NETNS] = { .head = "NETNS", .prio = 7, .left = true, .cap = 16 },
	[LC_CONTAINER] = { .head = "CONTAINER", .prio = 13, .left = true, .cap = 12 },
	[LC_LISTEN] = { .head = "LISTEN", .prio = 1, .left = true, .cap = 47 },
	[LC_PROCESS] = { .head = "PROCESS", .prio = 8, .left = true, .cap = 24 },
	[LC_ACCEPTQ] = { .head = "ACCEPTQ", .prio = 5, .cap = 23 },
	[LC_SYNQ] = { .head = "SYNQ", .prio = 6, .cap = 23 },
	[LC_SYN] = { .head = "SYN/s", .prio = 3, .cap = 12 },
	[LC_DROPS] = { .head = "SK_DROPS/s", .prio = 4, .cap = 12 },
	[LC_SYNACK] = { .head = "SYNACK-RTX/s", .prio = 10, .cap = 12 },
	[LC_OVFL] = { .head = "OVERFLOW/s", .prio = 12, .cap = 12 },
	[LC_WAIT] = { .head = "ACCEPT-P99", .prio = 11, .cap = 10 },
	[LC_COOKIES] = { .head = "COOKIES", .prio = 9, .left = true, .cap = 7 },
	[LC_STATE] = { .head = "STATE", .prio = 2, .left = true, .cap = 40 },
};

static void listener_cells(const struct top_view *tv, const struct lw_listener *l, top_row c)
{
	const struct cgroup_info *cg = tv->c.cgroup_lookup && l->cgroup
					       ? tv->c.cgroup_lookup(tv->c.cgroup_ctx, l->cgroup) : NULL;
	char comm[TT_COMM_LEN * 4 + 1];
	bool d = l->have_deltas;

	netns_label(tv, l->netns, c[LC_NETNS], TOP_CELL);
	snprintf(c[LC_CONTAINER], TOP_CELL, "%.12s",
		 cg && cg->ids.container_id[0] ? cg->ids.container_id : "-");
	endpoint(c[LC_LISTEN], TOP_CELL, l->family, l->addr, l->port);
	text_safe(comm, l->comm, TT_COMM_LEN);
	if (l->pid)
		snprintf(c[LC_PROCESS], TOP_CELL, "%u/%.40s", l->pid, comm);
	else
		snprintf(c[LC_PROCESS], TOP_CELL, "-");
	snprintf(c[LC_ACCEPTQ], TOP_CELL, "%u/%u", l->acceptq_len, l->acceptq_max);
	if (l->synq_known)
		snprintf(c[LC_SYNQ], TOP_CELL, "%u/%u", l->synq_len, l->synq_max);
	else
		snprintf(c[LC_SYNQ], TOP_CELL, "?/%u", l->synq_max);
	rate(c[LC_SYN], d, l->d_syns, l->interval_ns);
	rate(c[LC_DROPS], d, l->d_drops, l->interval_ns);
	rate(c[LC_SYNACK], d, l->d_synack_retrans, l->interval_ns);
	rate(c[LC_OVFL], d, l->d_overflows, l->interval_ns);
	if (l->aw_n)
		*fmt_duration(c[LC_WAIT], l->aw_p99_ns) = '\0';
	else
		snprintf(c[LC_WAIT], TOP_CELL, "-");
	snprintf(c[LC_COOKIES], TOP_CELL, "%s",
		 !l->cookies_known ? "?" : l->cookies_active ? "yes" : "no");
	snprintf(c[LC_STATE], TOP_CELL, "%s%s", alert_label(l),
		 l->events_incomplete ? " (events lost)" : "");
}

static void table_line(struct top_view *tv, const struct top_table *t, top_row row)
{
	char buf[TOP_MAX_COLS * TOP_CELL];

	top_table_row(t, row, buf, sizeof(buf));
	line(tv, "%s", buf);
}

static void listener_rows(struct top_view *tv, const struct lw_listener **v, size_t shown)
{
	struct top_table t;
	top_row row;

	top_table_init(&t, listener_cols);
	for (size_t i = 0; i < shown; i++) {
		listener_cells(tv, v[i], row);
		top_table_measure(&t, row);
	}
	top_table_fit(&t, budget(tv));
	table_line(tv, &t, NULL);
	for (size_t i = 0; i < shown; i++) {
		listener_cells(tv, v[i], row);
		table_line(tv, &t, row);
	}
}

/* The destinations using most of their ephemeral ports, under the listeners. */
#define TOP_DESTINATIONS 5

enum { DC_NETNS, DC_FROM, DC_TO, DC_INUSE, DC_TW, DC_RANGE, DC_USED, DC_FAILED, DC_STATE,
       DC_N };

static const struct top_col dest_cols[DC_N + 1] = {
	[DC_NETNS] = { .head = "NETNS", .prio = 5, .left = true, .cap = 16 },
	[DC_FROM] = { .head = "FROM", .prio = 6, .left = true, .cap = 39 },
	[DC_TO] = { .head = "TO", .prio = 1, .left = true, .cap = 47 },
	[DC_INUSE] = { .head = "IN-USE", .prio = 3, .cap = 10 },
	[DC_TW] = { .head = "TIME-WAIT", .prio = 4, .cap = 10 },
	[DC_RANGE] = { .head = "RANGE", .prio = 8, .cap = 10 },
	[DC_USED] = { .head = "USED", .prio = 7, .cap = 6 },
	[DC_FAILED] = { .head = "FAILED", .prio = 9, .cap = 10 },
	[DC_STATE] = { .head = "STATE", .prio = 2, .left = true, .cap = 24 },
};

static int destination_lines(struct top_view *tv)
{
	const struct ports_dest *const *v;
	size_t n = tv->c.ports ? ports_hot(tv->c.ports, &v) : 0;

	return n ? 2 + (int)(n < TOP_DESTINATIONS ? n : TOP_DESTINATIONS) : 0;
}

static bool destination_cells(struct top_view *tv, const struct ports_dest *d, top_row c)
{
	uint32_t r = ports_range(tv->c.ports, d);

	if (tv->c.filter && !filter_match_destination(tv->c.filter, d->family, d->raddr, d->rport,
							   d->netns))
		return false;
	netns_label(tv, d->netns, c[DC_NETNS], TOP_CELL);
	*fmt_addr(c[DC_FROM], d->family, d->laddr) = '\0';
	endpoint(c[DC_TO], TOP_CELL, d->family, d->raddr, d->rport);
	snprintf(c[DC_INUSE], TOP_CELL, "%u", d->in_use);
	snprintf(c[DC_TW], TOP_CELL, "%u", d->time_wait);
	snprintf(c[DC_RANGE], TOP_CELL, r ? "%u" : "?", r);
	snprintf(c[DC_USED], TOP_CELL, r ? "%u%%" : "?", ports_used_permille(tv->c.ports, d) / 10);
	snprintf(c[DC_FAILED], TOP_CELL, "%u", d->d_failures);
	snprintf(c[DC_STATE], TOP_CELL, "%s%s", d->alert ? "PORTS-LOW" : "ok",
		 ports_tw_reusable(tv->c.ports, d) ? " (tw_reuse)" : "");
	return true;
}

static void destination_rows(struct top_view *tv)
{
	const struct ports_dest *const *v;
	size_t n = tv->c.ports ? ports_hot(tv->c.ports, &v) : 0, shown = 0;
	struct top_table t;
	top_row row;

	if (!n)
		return;
	top_table_init(&t, dest_cols);
	for (size_t i = 0; i < n && shown < TOP_DESTINATIONS; i++)
		if (destination_cells(tv, v[i], row)) {
			top_table_measure(&t, row);
			shown++;
		}
	top_table_fit(&t, budget(tv));
	line(tv, "%s", "");
	table_line(tv, &t, NULL);
	for (size_t i = 0, done = 0; i < n && done < shown; i++)
		if (destination_cells(tv, v[i], row)) {
			table_line(tv, &t, row);
			done++;
		}
}

/* The namespaces' counters (TcpExt, named as nstat names them, a second
 * over the interval) and, apart from them, their sysctls: no rate sits
 * beside a setting.
 */
static const int ns_counter_order[] = { LW_LISTEN_DROPS, LW_LISTEN_OVERFLOWS, LW_EMBRYONIC_RSTS,
					LW_REQQ_FULL_DROP, LW_REQQ_FULL_DO_COOKIES,
					LW_SYNCOOKIES_SENT, LW_SYNCOOKIES_RECV, LW_SYN_RETRANS };
static const unsigned char ns_counter_prio[] = { 2, 5, 3, 4, 9, 6, 8, 7 };
#define NS_COUNTERS (sizeof(ns_counter_order) / sizeof(ns_counter_order[0]))

static void namespace_counters(struct top_view *tv, const struct lw_netns *ns, size_t nns)
{
	struct top_col cols[1 + NS_COUNTERS + 1] = { { "NAMESPACE", 1, true, 16 } };
	struct top_table t;
	top_row row;

	for (size_t k = 0; k < NS_COUNTERS; k++)
		cols[1 + k] = (struct top_col){ .head = lw_counter_names[ns_counter_order[k]],
						.prio = ns_counter_prio[k], .cap = 20 };
	top_table_init(&t, cols);
	top_table_fit(&t, budget(tv));
	line(tv, "%s", "");
	line(tv, "NAMESPACE COUNTERS (TcpExt, a second, over the last %.1fs)",
	     tv->c.interval_ns / 1e9);
	table_line(tv, &t, NULL);
	for (size_t i = 0; i < nns; i++) {
		uint64_t span = ns[i].interval_ns ? ns[i].interval_ns : tv->c.interval_ns;

		netns_label(tv, ns[i].inum, row[0], TOP_CELL);
		for (size_t k = 0; k < NS_COUNTERS; k++)
			rate(row[1 + k], ns[i].sampled, ns[i].delta[ns_counter_order[k]], span);
		table_line(tv, &t, row);
	}
}

static const struct top_col sysctl_cols[1 + LW_N_SYSCTLS + 1] = {
	{ "NAMESPACE", 1, true, 16 },
	{ "somaxconn", 2, false, 12 },
	{ "tcp_max_syn_backlog", 3, false, 19 },
	{ "tcp_syncookies", 4, false, 14 },
	{ "tcp_abort_on_overflow", 6, false, 21 },
	{ "tcp_synack_retries", 5, false, 18 },
};

static void namespace_sysctls(struct top_view *tv, const struct lw_netns *ns, size_t nns)
{
	struct top_table t;
	top_row row;

	top_table_init(&t, sysctl_cols);
	top_table_fit(&t, budget(tv));
	line(tv, "%s", "");
	line(tv, "%s", "NAMESPACE SYSCTLS (net.core.somaxconn, net.ipv4.*)");
	table_line(tv, &t, NULL);
	for (size_t i = 0; i < nns; i++) {
		netns_label(tv, ns[i].inum, row[0], TOP_CELL);
		for (int k = 0; k < LW_N_SYSCTLS; k++)
			snprintf(row[1 + k], TOP_CELL, ns[i].sysctl[k] < 0 ? "?" : "%lld",
				 (long long)ns[i].sysctl[k]);
		table_line(tv, &t, row);
	}
}

static void sources_lines(struct top_view *tv, const struct lw_listener *l)
{
	char ep[80], buf[512];
	size_t off;

	endpoint(ep, sizeof(ep), l->family, l->addr, l->port);
	for (int pass = 0; pass < 2; pass++) {
		const struct lw_source *v = pass ? l->top_prefixes : l->top_addrs;
		int n = pass ? l->n_top_prefixes : l->n_top_addrs;

		off = 0;
		buf[0] = '\0';
		for (int i = 0; i < n && off < sizeof(buf); i++) {
			char a[64];

			*fmt_addr(a, v[i].family, v[i].addr) = '\0';
			if (pass)
				off += (size_t)snprintf(buf + off, sizeof(buf) - off, "  %s/%u %u", a,
							v[i].prefix_len, v[i].half_open);
			else
				off += (size_t)snprintf(buf + off, sizeof(buf) - off, "  %s %u", a,
							v[i].half_open);
		}
		line(tv, "  %s half-open %s:%s", ep, pass ? "by prefix" : "by source", buf);
	}
}

/* The listeners the filters keep, in rank order; NULL when out of memory. */
static const struct lw_listener **kept(const struct top_view *tv, const struct listen_watch *lw,
				       size_t *n)
{
	const struct lw_listener *const *all;
	size_t total = listen_watch_listeners(lw, &all);
	const struct lw_listener **v = malloc((total ? total : 1) * sizeof(*v));

	*n = 0;
	for (size_t i = 0; v && i < total; i++)
		if (listen_sink_wanted(tv->c.filter, all[i]))
			v[(*n)++] = all[i];
	return v;
}

static void frame_start(struct top_view *tv)
{
	if (tv->c.ansi) {
		char *p = outbuf_begin(tv->c.out);

		/* home, and clear everything on the first frame only: no flicker */
		p = tv->drawn ? fmt_lit(p, "\033[H") : fmt_lit(p, "\033[H\033[2J");
		outbuf_commit(tv->c.out, p);
	} else if (tv->drawn) {
		line(tv, "%s", "");
	}
	tv->drawn = true;
}

void top_view_render(struct top_view *tv, const struct listen_watch *lw, uint64_t now_ns)
{
	const struct lw_netns *ns;
	size_t nns = listen_watch_namespaces(lw, &ns), n, shown, flooded = 0;
	const struct lw_listener **v = kept(tv, lw, &n);
	char when[16];
	int room;

	if (!v)
		return;
	shown = n;
	*fmt_clock_ms(when, tv->c.clock, now_ns) = '\0';
	frame_start(tv);
	for (size_t i = 0; i < n; i++)
		flooded += v[i]->n_top_addrs && v[i]->alert[LW_SYN_FLOOD].active;
	if (flooded > 3)
		flooded = 3;
	room = tv->rows > 0 ? tv->rows - TOP_FIXED_LINES - 2 * (int)nns - tv->nrecent -
				      (tv->c.slow ? TOP_SLOW_LINES + 1 : 0) -
				      (int)flooded * 2 - destination_lines(tv)
			    : -1;
	if (room >= 0 && (size_t)room < n)
		shown = room > 1 ? (size_t)room - 1 : 0;

	line(tv, "tcptrail top  %s  every %.1fs  %zu listeners in %zu namespaces  (q quits)",
	     when, tv->c.interval_ns / 1e9, n, nns);
	line(tv, "%s", "");
	listener_rows(tv, v, shown);
	if (shown < n)
		line(tv, "... %zu more listeners (a taller terminal shows them)", n - shown);
	destination_rows(tv);
	namespace_counters(tv, ns, nns);
	namespace_sysctls(tv, ns, nns);
	if (tv->c.slow) {
		char sl[TOP_SLOW_LINES][TOP_SLOW_LINE];
		unsigned k = top_slow_lines(tv->c.slow, now_ns, sl);

		line(tv, "%s", "");
		for (unsigned i = 0; i < k; i++)
			line(tv, "%s", sl[i]);
	}
	for (size_t i = 0, done = 0; i < n && done < flooded; i++) {
		if (!v[i]->n_top_addrs || !v[i]->alert[LW_SYN_FLOOD].active)
			continue;
		sources_lines(tv, v[i]);
		done++;
	}
	if (tv->nrecent) {
		line(tv, "%s", "");
		for (int i = 0; i < tv->nrecent; i++)
			line(tv, "%s", tv->recent[i]);
	}
	if (tv->c.ansi) {
		char *p = outbuf_begin(tv->c.out);

		p = fmt_lit(p, "\033[J");
		outbuf_commit(tv->c.out, p);
	}
	free(v);
}

static void view_alert(void *ctx, const struct lw_alert *a)
{
	top_view_alert(ctx, a);
}

static void view_sample(void *ctx, const struct listen_watch *lw, uint64_t now_ns,
			const struct filter *f)
{
	struct top_view *tv = ctx;
	struct winsize ws;

	(void)f;
	if (tv->c.ansi && !ioctl(tv->c.out->fd, TIOCGWINSZ, &ws)) {
		tv->rows = ws.ws_row;
		tv->cols = ws.ws_col;
	}
	top_view_render(tv, lw, now_ns);
}

const struct listen_sink_ops top_view_listen_ops = {
	.alert = view_alert,
	.sample = view_sample,
};
