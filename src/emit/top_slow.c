/* The connection lines of `tcptrail top`. One frame a sample: snprintf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fmt.h"
#include "tcp_names.h"
#include "top_slow.h"

struct top_slow {
	struct slow_conns *sc;
	uint64_t unwritten;	/* live retransmits over --retransmits-per-s */
	/* the previous frame's counts, for the rates */
	uint64_t last_ns, last_retransmits, last_unwritten;
};

struct top_slow *top_slow_new(void)
{
	struct top_slow *ts = calloc(1, sizeof(*ts));

	if (ts && !(ts->sc = slow_conns_new())) {
		free(ts);
		return NULL;
	}
	return ts;
}

void top_slow_free(struct top_slow *ts)
{
	if (ts)
		slow_conns_free(ts->sc);
	free(ts);
}

void top_slow_set_unwritten(struct top_slow *ts, uint64_t unwritten)
{
	ts->unwritten = unwritten;
}

static void slow_history(void *ctx, const struct conn *c, const struct history_summary *s)
{
	slow_conns_add(((struct top_slow *)ctx)->sc, c, s);
}

static void slow_event(void *ctx, const struct tt_event *e)
{
	if (e->type == TT_EV_RETRANSMIT)
		slow_conns_retransmit(((struct top_slow *)ctx)->sc);
}

const struct sink_ops top_slow_ops = {
	.history = slow_history,
	.event = slow_event,
};

static void duration(char *buf, size_t len, uint64_t ns)
{
	char d[32];

	*fmt_duration(d, ns) = '\0';
	snprintf(buf, len, "%s", d);
}

/* "12%": part of whole, or "-" when whole is 0. */
static void share(char *buf, size_t len, uint64_t part, uint64_t whole)
{
	if (!whole)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%llu%%",
			 (unsigned long long)((unsigned __int128)part * 100 / whole));
}

static void row(char *buf, const struct slow_conn *r)
{
	char conn[128], *p = conn, who[40], dur[32], rtt[32], held[32], pct[32];
	char comm[4 * sizeof(r->comm) + 1];

	p = fmt_endpoint(p, r->family, r->laddr, r->lport);
	p = fmt_str(p, r->role == ROLE_PASSIVE ? " < " : " > ");
	*fmt_endpoint(p, r->family, r->raddr, r->rport) = '\0';
	*fmt_text_safe(comm, r->comm, sizeof(r->comm)) = '\0';
	/* the pid whole, the name cut to the column's room */
	if (r->pid) {
		int digits = snprintf(NULL, 0, "%u", r->pid);

		snprintf(who, sizeof(who), "%.*s/%u", digits < 14 ? 14 - digits : 0, comm, r->pid);
	} else {
		snprintf(who, sizeof(who), "%s", "?");
	}
	duration(dur, sizeof(dur), r->duration_ns);
	if (r->rtt_us == UINT32_MAX)
		snprintf(rtt, sizeof(rtt), "?");
	else
		duration(rtt, sizeof(rtt), (uint64_t)r->rtt_us * 1000);
	/* a limit's time and its share of the busy time; loss has no time of
	 * its own: the share of data segments sent again
	 */
	if (r->limited_by == LIMIT_LOSS) {
		held[0] = '\0';
		share(pct, sizeof(pct), r->retrans_segs, r->data_segs_out);
		if (strcmp(pct, "-"))
			strcat(pct, " sent again");
	} else {
		duration(held, sizeof(held), r->held_ns);
		share(pct, sizeof(pct), r->held_ns, r->busy_ns);
	}
	snprintf(buf, TOP_SLOW_LINE, "%-39s %-15s %7s %7s %4u %-13s %s%s%s", conn, who, dur,
		 rtt, r->retrans_segs, conn_limit_name(r->limited_by), held,
		 held[0] ? " " : "", pct);
}

unsigned top_slow_lines(struct top_slow *ts, uint64_t now_ns,
			char lines[TOP_SLOW_LINES][TOP_SLOW_LINE])
{
	struct slow_conn top[SLOW_CONNS_SHOWN];
	const struct slow_conns_counts *cnt = slow_conns_counts(ts->sc);
	unsigned n = slow_conns_top(ts->sc, now_ns, top), k = 0;
	uint64_t live = cnt->retransmits - ts->last_retransmits;
	uint64_t over = ts->unwritten - ts->last_unwritten;
	double secs = ts->last_ns && now_ns > ts->last_ns ? (now_ns - ts->last_ns) / 1e9 : 0;
	char rate[48];

	if (secs > 0)
		snprintf(rate, sizeof(rate), "%.0f/s%s", (live + over) / secs,
			 over ? " (past --retransmits-per-s: counted)" : "");
	else
		snprintf(rate, sizeof(rate), "?");
	ts->last_ns = now_ns;
	ts->last_retransmits = cnt->retransmits;
	ts->last_unwritten = ts->unwritten;
	snprintf(lines[k++], TOP_SLOW_LINE,
		 "Retransmits %s; %llu segments by the %llu connections closed.  Most limited "
		 "in the last minute:%s",
		 rate, (unsigned long long)cnt->retrans_segs, (unsigned long long)cnt->closed,
		 n ? "" : " none");
	if (!n)
		return k;
	snprintf(lines[k++], TOP_SLOW_LINE, "%-39s %-15s %7s %7s %4s %-13s %s",
		 "CONNECTION (> connects, < accepts)", "PROCESS", "LIFE", "RTT", "RETR",
		 "LIMITED-BY", "HELD");
	for (unsigned i = 0; i < n; i++)
		row(lines[k++], &top[i]);
	return k;
}
