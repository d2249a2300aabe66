/* The text view's mechanics: time order, wrapping at 160 characters, the
 * payload taken from sequence space; and top's column fitting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "emit.h"
#include "events.h"
#include "harness.h"
#include "ingest.h"
#include "payload.h"
#include "text_line.h"
#include "text_order.h"
#include "top_table.h"

#define MS 1000000ull

/* Everything an outbuf wrote, read back. */
static size_t read_back(struct outbuf *out, FILE *f, char *buf, size_t len)
{
	size_t n;

	CHECK(outbuf_flush(out) == 0);
	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	return n;
}

static void add(struct text_order *o, uint64_t ts, const char *text, struct outbuf *out)
{
	char line[64];

	snprintf(line, sizeof(line), "%s\n", text);
	text_order_add(o, ts, line, strlen(line), out);
}

/* Lines come out in time order, equal times in arrival order; a line older
 * than one already printed is printed at once and says so; a full buffer
 * lets its oldest go early, counted.
 */
static void lines_in_time_order(void)
{
	struct text_order *o = text_order_new(100 * MS, 256, 4);
	struct outbuf out;
	FILE *f = tmpfile();
	char text[4096];

	CHECK(f && outbuf_init(&out, fileno(f), 1 << 16) == 0);
	CHECK(o != NULL);
	if (!o)
		return;
	add(o, 10 * MS, "a", &out);
	add(o, 30 * MS, "c", &out);
	add(o, 20 * MS, "b", &out);	/* a history: late, but within the hold */
	add(o, 30 * MS, "c2", &out);
	text_order_release(o, 125 * MS, &out);	/* up to 25 ms */
	read_back(&out, f, text, sizeof(text));
	CHECK_STR(text, "a\nb\n");
	add(o, 5 * MS, "old", &out);	/* older than b, already printed */
	CHECK(text_order_late(o) == 1);
	text_order_release_all(o, &out);
	read_back(&out, f, text, sizeof(text));
	CHECK_STR(text, "a\nb\nold (late: printed after later lines)\nc\nc2\n");
	/* four lines at most: a fifth pushes the oldest out */
	for (int i = 0; i < 5; i++)
		add(o, (uint64_t)(200 + i) * MS, "x", &out);
	CHECK(text_order_early(o) >= 1 && text_order_held(o) <= 4);
	text_order_free(o);
	outbuf_free(&out);
	fclose(f);
}

/* A record longer than 160 characters goes on indented lines, broken
 * between its parts where it can; -w keeps it whole; none passes 160.
 */
static void long_records_wrap(void)
{
	static struct emitter em;
	struct outbuf out;
	FILE *f = tmpfile();
	uint8_t a[16] = { 127, 0, 0, 1 };
	char text[8192], *p;

	CHECK(f && outbuf_init(&out, fileno(f), 1 << 16) == 0);
	for (int wide = 0; wide < 2; wide++) {
		emitter_init(&em, &out);
		em.header_done = true;
		em.wide = wide;
		p = text_line_start(&em, 0, "history", false, 0, "", 2, a, 1, a, 2);
		p = fmt_lit(p, "active orderly closed_by=local 10.5ms");
		*p++ = TEXT_BREAK;
		for (int i = 0; i < 12; i++)
			p = fmt_lit(p, " ESTABLISHED 1.0ms >");
		*p++ = TEXT_BREAK;
		p = fmt_lit(p, "handshake=0.064ms");
		text_line_end(&em, p);
	}
	read_back(&out, f, text, sizeof(text));
	{
		char *wrapped = strtok(text, "\n"), *lines[8];
		int n = 0;

		while (wrapped && n < 8) {
			lines[n++] = wrapped;
			wrapped = strtok(NULL, "\n");
		}
		CHECK(n >= 4);
		for (int i = 0; i + 1 < n; i++)
			CHECK(strlen(lines[i]) <= TEXT_WIDTH);
		CHECK(strstr(lines[0], "closed_by=local 10.5ms") &&
		      !strstr(lines[0], "ESTABLISHED"));	/* broken between parts */
		CHECK(!strncmp(lines[1], "             ESTABLISHED", 24));
		CHECK(strstr(lines[n - 2], "handshake=") || strstr(lines[n - 1], "handshake="));
		CHECK(strlen(lines[n - 1]) > TEXT_WIDTH);	/* -w: one line */
		CHECK(!strchr(lines[n - 1], TEXT_BREAK));
	}
	outbuf_free(&out);
	fclose(f);
}

/* An alert of a listener whose SYN queue and cookies the path cannot read
 * (sock_diag), at its first sample (no interval yet): every such figure
 * reads ? in the text view and null in JSON, never 0.
 */
static void alert_unknowns_are_not_zero(void)
{
	static struct emitter em;
	static struct lw_listener l;
	struct lw_alert_state st = { .active = true, .causes = LW_CAUSE_ACCEPTQ_AT_LIMIT,
				     .peak_acceptq = 4 };
	struct lw_alert a = { LW_ACCEPTQ_FULL, true, 5 * MS, &l, &st, NULL, false, 0 };
	struct outbuf out;
	FILE *f = tmpfile();
	char text[8192];

	l.family = 2;
	l.port = 80;
	l.acceptq_len = l.acceptq_max = 4;
	l.synq_max = 16;
	CHECK(f && outbuf_init(&out, fileno(f), 1 << 16) == 0);
	emitter_init(&em, &out);
	em.header_done = true;
	em.wide = true;		/* one line each, to read them whole */
	emit_text_listen_ops.alert(&em, &a);
	a.start = false;
	emit_text_listen_ops.alert(&em, &a);
	emit_json_listen_ops.alert(&em, &a);
	read_back(&out, f, text, sizeof(text));
	CHECK(strstr(text, "synq=?/16 syn/s=? sk_drops+? synack-rtx+? syncookies=?") != NULL);
	CHECK(strstr(text, "peak synq ?") != NULL);
	CHECK(strstr(text, "\"synq_len\":null") && strstr(text, "\"syn_rate\":null") &&
	      strstr(text, "\"sk_drops_delta\":null") && strstr(text, "\"syncookies\":null") &&
	      strstr(text, "\"peak_synq\":null") && strstr(text, "\"peak_acceptq\":4") &&
	      strstr(text, "\"syn_rate_baseline\":null"));
	outbuf_free(&out);
	fclose(f);
}

/* State lines say how long the socket was in its old state, as tcpstates'
 * MS: counted from its previous transition whether or not the filters
 * showed that one (here -p, whose owner a softirq's record does not name
 * until the process is seen); ? where the previous one was before the
 * trace; nothing where a life begins. The table forgets the socket that
 * moved longest ago when full, and a closed one at once.
 */
static void state_lines_time_the_old_state(void)
{
	static struct emitter em;
	struct state_age ages;
	struct outbuf out;
	struct filter f;
	struct ingest_config cfg = { .max_conns = 64, .states = true, .filter = &f };
	struct sink sink = { &emit_text_ops, &em };
	struct ingest *in;
	struct tt_event e;
	FILE *f_out = tmpfile();
	char text[8192];
	static const struct { uint64_t cookie, ms; uint8_t from, to; int owner; } steps[] = {
		{ 5, 0, TT_TCP_LISTEN, TT_TCP_SYN_RECV, 0 },	/* hidden: no owner yet */
		{ 5, 1, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED, 0 },
		{ 5, 301, TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT, 0 },
		{ 5, 351, TT_TCP_CLOSE_WAIT, TT_TCP_LAST_ACK, 1 },	/* the owner's */
		{ 6, 400, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1, 1 },	/* begun before */
		{ 7, 410, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1 },
	};

	CHECK(f_out && outbuf_init(&out, fileno(f_out), 1 << 16) == 0);
	filter_init(&f);
	f.pid = 1234;
	emitter_init(&em, &out);
	em.header_done = true;
	em.wide = true;
	em.own_netns = 4026531840u;	/* ev_state's: no netns= note */
	CHECK(emit_text_ages(&em, &ages, 3) == 0 && ages.mask == 3);
	in = ingest_new(&cfg, &sink);
	for (size_t i = 0; in && i < sizeof(steps) / sizeof(steps[0]); i++) {
		e = ev_state(steps[i].cookie, steps[i].ms * MS, steps[i].from, steps[i].to,
			     steps[i].owner);
		ingest_event(in, &e);
	}
	ingest_batch_end(in);
	read_back(&out, f_out, text, sizeof(text));
	CHECK(!strstr(text, "SYN_RECV -> ESTABLISHED"));
	CHECK(strstr(text, "CLOSE_WAIT -> LAST_ACK 50.0ms\n") != NULL);
	CHECK(strstr(text, "ESTABLISHED -> FIN_WAIT1 ?\n") != NULL);
	CHECK(strstr(text, "CLOSE -> SYN_SENT\n") != NULL);
	/* the table: 4 slots; a closed socket is forgotten, the oldest makes way */
	CHECK(state_age_step(&ages, 5, 360 * MS, false, true) == 9 * MS);
	CHECK(state_age_step(&ages, 5, 370 * MS, false, false) == UINT64_MAX);
	for (uint64_t c = 100; c < 120; c++)
		state_age_step(&ages, c, (500 + c) * MS, true, false);
	CHECK(ages.evicted > 0 && state_age_step(&ages, 119, 700 * MS, false, false) == 81 * MS);
	ingest_free(in);
	state_age_free(&ages);
	outbuf_free(&out);
	fclose(f_out);
}

static struct history_summary summary(const uint8_t *states, int n, uint8_t end)
{
	struct history_summary s = { .nstates = (uint8_t)n, .end = end };

	memcpy(s.states, states, (size_t)n);
	return s;
}

/* The SYN counts in an active open's bytes_acked, not in a passive one's;
 * a FIN counts once acknowledged (ours) or received (the peer's).
 */
static void payload_from_sequence_space(void)
{
	static const uint8_t client_first[] = { TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED,
						TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2, TT_TCP_TIME_WAIT };
	static const uint8_t server_last[] = { TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED,
					       TT_TCP_CLOSE_WAIT, TT_TCP_LAST_ACK, TT_TCP_CLOSE };
	static const uint8_t reset[] = { TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED, TT_TCP_CLOSE };
	struct conn c = { .role = ROLE_ACTIVE, .flags = CONN_CLOSED };
	struct history_summary s = summary(client_first, 5, END_ORDERLY);
	struct payload p;

	c.close.bytes_acked = 7;	/* SYN, 5 bytes, FIN */
	c.close.bytes_received = 4;	/* 3 bytes, FIN */
	payload_of(&c, &s, &p);
	CHECK(p.known && p.acked_known && p.acked == 5 && p.received == 3);
	c.role = ROLE_PASSIVE;	/* the server of the same exchange */
	s = summary(server_last, 5, END_ORDERLY);
	c.close.bytes_acked = 4;	/* 3 bytes, FIN */
	c.close.bytes_received = 6;	/* 5 bytes, FIN */
	payload_of(&c, &s, &p);
	CHECK(p.acked == 3 && p.received == 5);
	s.end = END_RST_RECEIVED;	/* LAST_ACK ended by a reset: our FIN not acked */
	c.close.bytes_acked = 3;
	payload_of(&c, &s, &p);
	CHECK(p.acked == 3);
	c.role = ROLE_ACTIVE;
	s = summary(reset, 3, END_RST_SENT);
	c.close.bytes_acked = 6;
	c.close.bytes_received = 3;
	payload_of(&c, &s, &p);
	CHECK(p.acked == 5 && p.received == 3);
	c.close.bytes_acked = 0;	/* refused: the SYN never acked */
	c.close.bytes_received = 0;
	payload_of(&c, &s, &p);
	CHECK(p.acked == 0 && p.received == 0);
	c.role = ROLE_UNKNOWN;	/* begun before tracing: a SYN counts or not */
	payload_of(&c, &s, &p);
	CHECK(p.known && !p.acked_known);
	c.flags = 0;		/* no CLOSE record: no counters */
	payload_of(&c, &s, &p);
	CHECK(!p.known && !p.acked_known);
}

/* Columns go least important first until a row fits; the last one stays. */
static void top_columns_fit(void)
{
	static const struct top_col cols[] = {
		{ "NAME", 1, true, 20 }, { "B", 3, false, 10 }, { "C", 2, false, 10 },
		{ "STATE", 1, true, 10 }, { .head = NULL },
	};
	struct top_table t;
	top_row row = { "a-rather-long-name", "12345", "678", "ok" };
	char buf[256];

	top_table_init(&t, cols);
	top_table_measure(&t, row);
	CHECK(top_table_fit(&t, 0) == 18 + 1 + 5 + 1 + 3 + 1 + 5);
	CHECK(top_table_fit(&t, 30) <= 30 && !t.shown[1] && t.shown[2]);
	top_table_row(&t, row, buf, sizeof(buf));
	CHECK_STR(buf, "a-rather-long-name 678 ok");
	CHECK(top_table_fit(&t, 5) > 5 && t.shown[0] && t.shown[3] && !t.shown[2]);
	top_table_row(&t, NULL, buf, sizeof(buf));
	CHECK_STR(buf, "NAME               STATE");
	top_table_row(&t, row, buf, 8);	/* a short buffer stays a string */
	CHECK(strlen(buf) == 7);
	/* a cell past its column's cap widens the column to the cap only */
	strcpy(row[1], "12345678901234");
	top_table_measure(&t, row);
	CHECK(t.width[1] == 10 && t.width[0] == 18);
}

TEST_LIST(text_view_tests) = {
	TEST_ENTRY(lines_in_time_order),
	TEST_ENTRY(long_records_wrap),
	TEST_ENTRY(alert_unknowns_are_not_zero),
	TEST_ENTRY(state_lines_time_the_old_state),
	TEST_ENTRY(payload_from_sequence_space),
	TEST_ENTRY(top_columns_fit),
	{ 0 },
};
