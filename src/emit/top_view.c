/* The live listener view. Not a hot path: one frame a sample, so plain
 * snprintf keeps it readable.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include "listen_alerts.h"
#include "ports.h"
#include "top_view.h"

/* Lines above and below the listener rows, kept when the terminal is short. */
#define TOP_FIXED_LINES 8

void top_view_init(struct top_view *tv, struct outbuf *out, struct fmt_clock *clock,
		   bool ansi, uint64_t interval_ns, uint32_t own_netns)
{
	memset(tv, 0, sizeof(*tv));
	tv->out = out;
	tv->clock = clock;
	tv->ansi = ansi;
	tv->interval_ns = interval_ns;
	tv->own_netns = own_netns;
}

/* One screen line, cut to the terminal width; in place, it also erases what
 * the previous frame left to its right.
 */
__attribute__((format(printf, 2, 3)))
static void line(struct top_view *tv, const char *f, ...)
{
	char *p = outbuf_begin(tv->out);
	size_t room = OUTBUF_MAX_RECORD - 8;
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(p, room, f, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= room)
		n = (int)room - 1;
	if (tv->cols > 0 && n > tv->cols)
		n = tv->cols;
	p += n;
	if (tv->ansi)
		p = fmt_lit(p, "\033[K");
	*p++ = '\n';
	outbuf_commit(tv->out, p);
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

static double per_s(uint64_t delta, uint64_t interval_ns)
{
	return interval_ns ? delta * 1e9 / interval_ns : 0;
}

void top_view_alert(struct top_view *tv, const struct lw_alert *a)
{
	const struct lw_listener *l = a->l;
	char when[16], ep[80], comm[TT_COMM_LEN * 4 + 1];

	*fmt_clock_ms(when, tv->clock, a->ts_ns) = '\0';
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

static void listener_row(struct top_view *tv, const struct lw_listener *l)
{
	char ep[80], owner[96], comm[TT_COMM_LEN * 4 + 1], acc[24], syn[24], ns[16], wait[16];
	const struct cgroup_info *cg = tv->cgroup_lookup && l->cgroup
					       ? tv->cgroup_lookup(tv->cgroup_ctx, l->cgroup) : NULL;
	char ctr[CGROUP_SHORT_ID_LEN + 1] = "-";

	if (cg && cg->ids.container_id[0])
		snprintf(ctr, sizeof(ctr), "%.12s", cg->ids.container_id);
	endpoint(ep, sizeof(ep), l->family, l->addr, l->port);
	text_safe(comm, l->comm, TT_COMM_LEN);
	if (l->pid)
		snprintf(owner, sizeof(owner), "%u/%s", l->pid, comm);
	else
		snprintf(owner, sizeof(owner), "-");
	snprintf(acc, sizeof(acc), "%u/%u", l->acceptq_len, l->acceptq_max);
	snprintf(syn, sizeof(syn), "%u/%u", l->synq_len, l->synq_max);
	if (l->netns == tv->own_netns)
		snprintf(ns, sizeof(ns), "host");
	else
		snprintf(ns, sizeof(ns), "%u", l->netns);
	if (l->aw_n)
		*fmt_duration(wait, l->aw_p99_ns) = '\0';
	else
		snprintf(wait, sizeof(wait), "-");
	line(tv, "%-10s %-12s %-24s %-20s %11s %11s %11s %8.0f %10.0f %7.0f %-7s %s%s", ns, ctr,
	     ep, owner, acc, syn, wait, per_s(l->d_drops, l->interval_ns),
	     per_s(l->d_synack_retrans, l->interval_ns),
	     per_s(l->d_overflows, l->interval_ns), l->cookies_active ? "yes" : "no",
	     alert_label(l), l->events_incomplete ? " (events lost)" : "");
}

/* The destinations using most of their ephemeral ports, under the listeners. */
#define TOP_DESTINATIONS 5

static int destination_lines(struct top_view *tv)
{
	const struct ports_dest *const *v;
	size_t n = tv->ports ? ports_hot(tv->ports, &v) : 0;

	return n ? 2 + (int)(n < TOP_DESTINATIONS ? n : TOP_DESTINATIONS) : 0;
}

static void destination_rows(struct top_view *tv)
{
	const struct ports_dest *const *v;
	size_t n = tv->ports ? ports_hot(tv->ports, &v) : 0, shown = 0;

	if (!n)
		return;
	line(tv, "%s", "");
	line(tv, "%-10s %-20s %-26s %7s %9s %7s %6s %10s %s", "NETNS", "FROM", "TO", "IN-USE",
	     "TIME-WAIT", "RANGE", "USED", "FAILED", "STATE");
	for (size_t i = 0; i < n && shown < TOP_DESTINATIONS; i++) {
		const struct ports_dest *d = v[i];
		char from[64], to[80], ns[16], range[16], used[16];
		uint32_t r = ports_range(tv->ports, d);

		if (tv->filter && !filter_match_destination(tv->filter, d->family, d->rport,
							   d->netns))
			continue;
		*fmt_addr(from, d->family, d->laddr) = '\0';
		endpoint(to, sizeof(to), d->family, d->raddr, d->rport);
		if (d->netns == tv->own_netns)
			snprintf(ns, sizeof(ns), "host");
		else
			snprintf(ns, sizeof(ns), "%u", d->netns);
		snprintf(range, sizeof(range), r ? "%u" : "?", r);
		snprintf(used, sizeof(used), r ? "%u%%" : "?",
			 ports_used_permille(tv->ports, d) / 10);
		line(tv, "%-10s %-20s %-26s %7u %9u %7s %6s %10u %s%s", ns, from, to, d->in_use,
		     d->time_wait, range, used, d->d_failures, d->alert ? "PORTS-LOW" : "ok",
		     ports_tw_reusable(tv->ports, d) ? " (tw_reuse)" : "");
		shown++;
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

void top_view_render(struct top_view *tv, const struct listen_watch *lw, uint64_t now_ns)
{
	const struct lw_listener *const *all;
	const struct lw_listener **v;
	const struct lw_netns *ns;
	size_t total = listen_watch_listeners(lw, &all), nns = listen_watch_namespaces(lw, &ns);
	size_t n = 0, shown, flooded = 0;
	char when[16];
	int budget;

	/* the listeners the filters keep, in rank order */
	v = malloc((total ? total : 1) * sizeof(*v));
	if (!v)
		return;
	for (size_t i = 0; i < total; i++)
		if (!tv->filter || filter_match_listener(tv->filter, all[i]->family, all[i]->port,
							 all[i]->netns, all[i]->cgroup))
			v[n++] = all[i];
	shown = n;

	*fmt_clock_ms(when, tv->clock, now_ns) = '\0';
	if (tv->ansi) {
		char *p = outbuf_begin(tv->out);

		/* home, and clear everything on the first frame only: no flicker */
		p = tv->drawn ? fmt_lit(p, "\033[H") : fmt_lit(p, "\033[H\033[2J");
		outbuf_commit(tv->out, p);
	} else if (tv->drawn) {
		line(tv, "%s", "");
	}
	tv->drawn = true;
	for (size_t i = 0; i < n; i++)
		flooded += v[i]->n_top_addrs && v[i]->alert[LW_SYN_FLOOD].active;
	if (flooded > 3)
		flooded = 3;
	budget = tv->rows > 0 ? tv->rows - TOP_FIXED_LINES - (int)nns - tv->nrecent -
					(tv->slow ? TOP_SLOW_LINES + 1 : 0) -
					(int)flooded * 3 - destination_lines(tv)
			      : -1;
	if (budget >= 0 && (size_t)budget < n)
		shown = budget > 1 ? (size_t)budget - 1 : 0;

	line(tv, "tcptrail top  %s  every %.1fs  %zu listeners in %zu namespaces  (Ctrl-C quits)",
	     when, tv->interval_ns / 1e9, n, nns);
	line(tv, "%s", "");
	line(tv, "%-10s %-12s %-24s %-20s %11s %11s %11s %8s %10s %7s %-7s %s", "NETNS",
	     "CONTAINER", "LISTEN", "PROCESS", "ACCEPTQ", "SYNQ", "ACCEPT-P99", "DROPS/s",
	     "SYNACK-RT/s", "OVFL/s", "COOKIES", "STATE");
	for (size_t i = 0; i < shown; i++)
		listener_row(tv, v[i]);
	if (shown < n)
		line(tv, "... %zu more listeners (a taller terminal shows them)", n - shown);
	destination_rows(tv);
	line(tv, "%s", "");
	line(tv, "%-10s %9s %9s %9s %9s %9s %9s | %9s %9s %9s %9s %9s", "NAMESPACE", "ListenOvf",
	     "ListenDrp", "ReqQDrop", "ReqQCook", "CookSent", "SynRetr", "somaxconn", "syn_blog",
	     "cookies", "abort_ovf", "synack_rt");
	for (size_t i = 0; i < nns; i++) {
		char nsname[16], c[LW_N_COUNTERS][16], s[LW_N_SYSCTLS][16];
		static const int show[] = { LW_LISTEN_OVERFLOWS, LW_LISTEN_DROPS,
					    LW_REQQ_FULL_DROP, LW_REQQ_FULL_DO_COOKIES,
					    LW_SYNCOOKIES_SENT, LW_SYN_RETRANS };

		if (ns[i].inum == tv->own_netns)
			snprintf(nsname, sizeof(nsname), "host");
		else
			snprintf(nsname, sizeof(nsname), "%u", ns[i].inum);
		for (int k = 0; k < LW_N_COUNTERS; k++)
			snprintf(c[k], sizeof(c[k]), ns[i].sampled ? "%llu" : "-",
				 (unsigned long long)ns[i].delta[k]);
		for (int k = 0; k < LW_N_SYSCTLS; k++)
			snprintf(s[k], sizeof(s[k]), ns[i].sysctl[k] < 0 ? "?" : "%lld",
				 (long long)ns[i].sysctl[k]);
		line(tv, "%-10s %9s %9s %9s %9s %9s %9s | %9s %9s %9s %9s %9s", nsname, c[show[0]],
		     c[show[1]], c[show[2]], c[show[3]], c[show[4]], c[show[5]], s[LW_SOMAXCONN],
		     s[LW_MAX_SYN_BACKLOG], s[LW_SYNCOOKIES], s[LW_ABORT_ON_OVERFLOW],
		     s[LW_SYNACK_RETRIES]);
	}
	line(tv, "%s", "(counters: change over the last interval)");
	if (tv->slow) {
		char sl[TOP_SLOW_LINES][TOP_SLOW_LINE];
		unsigned k = top_slow_lines(tv->slow, now_ns, sl);

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
	if (tv->ansi) {
		char *p = outbuf_begin(tv->out);

		p = fmt_lit(p, "\033[J");
		outbuf_commit(tv->out, p);
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
	if (tv->ansi && !ioctl(tv->out->fd, TIOCGWINSZ, &ws)) {
		tv->rows = ws.ws_row;
		tv->cols = ws.ws_col;
	}
	top_view_render(tv, lw, now_ns);
}

const struct listen_sink_ops top_view_listen_ops = {
	.alert = view_alert,
	.sample = view_sample,
};
