/* The report's pure parts: the JSON line parser, the time bins, HTML
 * escaping and the model, with extreme values and hostile strings.
 */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "jsonl_priv.h"	/* jsonl_priv.h: the tests read tokens directly */
#include "report_html.h"
#include "report_model.h"
#include "report_parts.h"
#include "timeline.h"

static struct jsonl J;

static int parse(const char *s)
{
	return jsonl_parse(&J, s, strlen(s));
}

static void json_accepts_what_tcptrail_writes(void)
{
	uint64_t v;

	CHECK(parse("{\"type\":\"history\",\"ts\":\"2026-11-21T10:42:10.123456789Z\",\"n\":null,"
		    "\"a\":[1,[2,{\"x\":true}],false],\"o\":{\"pid\":7,\"comm\":\"x\"},\"r\":0.125}") == 0);
	CHECK_STR(jsonl_str(&J, jsonl_get(&J, "type")), "history");
	CHECK(jsonl_u64(&J, jsonl_member(&J, jsonl_get(&J, "o"), "pid"), &v) && v == 7);
	CHECK(jsonl_get(&J, "missing") == -1);
	CHECK(!jsonl_u64(&J, jsonl_get(&J, "r"), &v));	/* a decimal is not whole */
	CHECK(J.tok[jsonl_get(&J, "r")].d == 0.125);
	/* arrays: three elements, the nested ones skipped whole */
	int a = jsonl_get(&J, "a"), n = 0;

	for (int i = jsonl_first(&J, a); i >= 0; i = jsonl_next(&J, a, i))
		n++;
	CHECK(n == 3);
	CHECK(parse("{}") == 0 && jsonl_get(&J, "x") == -1);
	CHECK(parse(" {\"e\":[]} \r") == 0 && jsonl_first(&J, jsonl_get(&J, "e")) == -1);
}

static void json_numbers_at_the_edges(void)
{
	static const struct { const char *text; bool whole; uint64_t v; } cases[] = {
		{ "0", true, 0 }, { "1", true, 1 }, { "4294967295", true, 4294967295ull },
		{ "4294967296", true, 4294967296ull }, { "9999999999", true, 9999999999ull },
		{ "10000000001", true, 10000000001ull },
		{ "18446744073709551615", true, UINT64_MAX },
		{ "18446744073709551616", false, 0 }, { "99999999999999999999", false, 0 },
		{ "-1", false, 0 }, { "-0", true, 0 }, { "1e3", false, 0 }, { "1.0", false, 0 },
	};
	char line[96];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;

		snprintf(line, sizeof(line), "{\"n\":%s}", cases[i].text);
		CHECK(parse(line) == 0);
		CHECK(jsonl_u64(&J, jsonl_get(&J, "n"), &v) == cases[i].whole);
		if (cases[i].whole)
			CHECK(v == cases[i].v);
	}
	/* not JSON numbers */
	static const char *const bad[] = { "01", "+1", ".5", "1.", "1e", "-", "0x10", "1e+",
					   "NaN", "Infinity", "--1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "{\"n\":%s}", bad[i]);
		CHECK(parse(line) == -1);
	}
}

static void json_strings_and_escapes(void)
{
	/* the escapes fmt_json_str writes, a surrogate pair, UTF-8 as is */
	CHECK(parse("{\"s\":\"a\\\"b\\\\c\\/\\u0009\\u00ff\\ud83d\\ude00caf\xc3\xa9\"}") == 0);
	CHECK_STR(jsonl_str(&J, jsonl_get(&J, "s")),
		  "a\"b\\c/\t\xc3\xbf\xf0\x9f\x98\x80" "caf\xc3\xa9");
	/* refused: each says why in one line */
	static const char *const bad[] = {
		"{\"s\":\"\\u0000\"}",		/* NUL would cut the string */
		"{\"s\":\"\\ud83d\"}",		/* lone high surrogate */
		"{\"s\":\"\\ude00\"}",		/* lone low surrogate */
		"{\"s\":\"\\x41\"}",		/* not a JSON escape */
		"{\"s\":\"\\u12\"}",		/* short \u */
		"{\"s\":\"a\tb\"}",		/* raw control character */
		"{\"s\":\"\xff\"}",		/* not UTF-8 */
		"{\"s\":\"\xc0\xaf\"}",		/* overlong '/' */
		"{\"s\":\"\xed\xa0\x80\"}",	/* an encoded surrogate */
		"{\"s\":\"\xf4\x90\x80\x80\"}",	/* past U+10FFFF */
		"{\"s\":\"abc}",		/* unterminated */
		"{\"s\":\"abc\\",		/* ends in an escape */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(parse(bad[i]) == -1);
		CHECK(J.err[0] && !strchr(J.err, '\n'));
	}
}

static void json_structure_is_strict(void)
{
	static const char *const bad[] = {
		"", " ", "[]", "\"x\"", "1", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}",
		"{\"a\":1 \"b\":2}", "{a:1}", "{\"a\":[1,]}", "{\"a\":[1 2]}", "{\"a\":1}x",
		"{\"a\":1}{\"b\":2}", "{\"a\":tru}", "{\"a\":nul}", "{\"a\":True}", "{'a':1}",
	};
	char deep[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(parse(bad[i]) == -1);
	/* nesting: JSONL_MAX_DEPTH levels with the top object is fine, one
	 * more is not
	 */
	for (int depth = JSONL_MAX_DEPTH; depth <= JSONL_MAX_DEPTH + 1; depth++) {
		char *p = deep + sprintf(deep, "{\"a\":");

		for (int k = 1; k < depth; k++)
			*p++ = '[';
		*p++ = '1';
		for (int k = 1; k < depth; k++)
			*p++ = ']';
		strcpy(p, "}");
		CHECK(parse(deep) == (depth == JSONL_MAX_DEPTH ? 0 : -1));
	}
}

static void json_bounds(void)
{
	char *line = malloc(JSONL_MAX_LINE + 64);
	size_t n;

	/* the longest line accepted, its string as long as it can be */
	strcpy(line, "{\"s\":\"");
	n = strlen(line);
	memset(line + n, 'x', JSONL_MAX_LINE - n - 2);
	memcpy(line + JSONL_MAX_LINE - 2, "\"}", 3);
	CHECK(jsonl_parse(&J, line, JSONL_MAX_LINE) == 0);
	CHECK(strlen(jsonl_str(&J, jsonl_get(&J, "s"))) == JSONL_MAX_LINE - n - 2);
	/* one byte more is refused before anything is read */
	memcpy(line + JSONL_MAX_LINE - 2, "x\"}", 4);
	CHECK(jsonl_parse(&J, line, JSONL_MAX_LINE + 1) == -1);
	/* the fullest array: more values than tokens */
	char *p = line + sprintf(line, "{\"a\":[");

	for (n = 0; n < JSONL_MAX_TOKENS; n++)
		p += sprintf(p, n ? ",0" : "0");
	strcpy(p, "]}");
	CHECK(parse(line) == -1);
	free(line);
}

static void time_round_trip(void)
{
	static const char *const good[] = {
		"1970-01-01T00:00:00Z", "2026-11-21T10:42:10.123456789Z", "2000-02-29T23:59:59.5Z",
		"2262-04-11T23:47:16.854775807Z", "2026-11-21T12:42:10+02:00",
	};
	static const int64_t want[] = { 0, 1795257730123456789ll, 951868799500000000ll,
					 INT64_MAX, 1795257730000000000ll };
	static const char *const bad[] = {
		"1969-12-31T23:59:59Z", "2262-04-11T23:47:17Z", "2026-02-29T00:00:00Z",
		"1900-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-21T24:00:00Z",
		"2026-11-21T10:42:10", "2026-11-21T10:42:10.Z", "2026-11-21T10:42:10.1234567890Z",
		"2026-11-21 10:42:10Z", "2026-11-21T10:42:10Zjunk", "x",
	};
	char buf[40];
	int64_t ns;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK(jsonl_rfc3339(good[i], &ns) == 0 && ns == want[i]);
		jsonl_format_time(ns, buf, sizeof(buf));
		CHECK(jsonl_rfc3339(buf, &ns) == 0 && ns == want[i]);
	}
	jsonl_format_time(1795257730123456789ll, buf, sizeof(buf));
	CHECK_STR(buf, "2026-11-21T10:42:10.123456789Z");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(jsonl_rfc3339(bad[i], &ns) == -1);
}

static void timeline_widens_and_merges(void)
{
	static const uint8_t kinds[2] = { TL_SUM, TL_MAX };
	struct timeline t;
	struct tl_series *s;
	const int64_t base = 1795257730000000000ll;	/* a multiple of every width */
	uint64_t sum = 0, max = 0;
	int first, last;

	timeline_init(&t);
	s = timeline_series(&t, 2, kinds);
	CHECK(s != NULL);
	/* 1 ms bins at first; a sample every 1 ms for 10 s forces 100 ms bins */
	for (int64_t i = 0; i < 10000; i++) {
		int b = timeline_bin(&t, base + i * 1000000);

		tl_put(s, b, 0, 1);
		tl_put(s, b, 1, (uint64_t)i);
	}
	CHECK(t.width == 100000000);
	timeline_used(&t, &first, &last);
	CHECK(first == 0 && last == 99 && t.origin == base);
	for (int b = first; b <= last; b++) {
		sum += tl_get(s, b, 0);
		if (tl_get(s, b, 1) != TL_NONE && tl_get(s, b, 1) > max)
			max = tl_get(s, b, 1);
		CHECK(tl_get(s, b, 0) == 100);		/* nothing lost in merging */
	}
	CHECK(sum == 10000 && max == 9999);
	CHECK(tl_get(s, 100, 1) == TL_NONE);	/* an empty maximum stays empty */
	/* a time before the first extends the row backwards; no sample lost */
	timeline_bin(&t, base - 5000000000ll);
	timeline_used(&t, &first, &last);
	sum = 0;
	for (int b = first; b <= last; b++)
		sum += tl_get(s, b, 0);
	CHECK(sum == 10000 && last - first < TL_BINS);
	/* the same records in reverse order give the same bins */
	struct timeline r;
	struct tl_series *rs;

	timeline_init(&r);
	rs = timeline_series(&r, 2, kinds);
	timeline_bin(&r, base - 5000000000ll);
	for (int64_t i = 9999; i >= 0; i--) {
		int b = timeline_bin(&r, base + i * 1000000);

		tl_put(rs, b, 0, 1);
		tl_put(rs, b, 1, (uint64_t)i);
	}
	CHECK(r.width == t.width && r.origin == t.origin);
	for (int b = 0; b < TL_BINS; b++)
		for (uint32_t f = 0; f < 2; f++)
			if (tl_get(rs, b, f) != tl_get(s, b, f)) {
				CHECK(tl_get(rs, b, f) == tl_get(s, b, f));
				b = TL_BINS;	/* one failure said */
				break;
			}
	/* the whole span of int64 nanoseconds still fits TL_BINS */
	timeline_bin(&r, 0);
	timeline_bin(&r, INT64_MAX);
	timeline_used(&r, &first, &last);
	CHECK(first >= 0 && last < TL_BINS);
	/* sums saturate, maxima never become "empty" */
	tl_put(rs, first, 0, UINT64_MAX);
	tl_put(rs, first, 0, UINT64_MAX);
	CHECK(tl_get(rs, first, 0) == TL_NONE - 1);
	tl_put(rs, first, 1, UINT64_MAX);
	CHECK(tl_get(rs, first, 1) == TL_NONE - 1);
	timeline_free(&t);
	timeline_free(&r);
}

static const char *esc(const char *s, size_t cap)
{
	static char buf[512];

	report_html_escape(buf, cap, s);
	return buf;
}

static void html_escaping(void)
{
	CHECK_STR(esc("<script>alert(1)</script>", 512),
		  "&lt;script&gt;alert(1)&lt;/script&gt;");
	CHECK_STR(esc("a&b\"c'd", 512), "a&amp;b&quot;c&#39;d");
	/* controls and broken UTF-8 become U+FFFD; good UTF-8 passes */
	CHECK_STR(esc("x\x01y\x7f", 512), "x\xef\xbf\xbdy\xef\xbf\xbd");
	CHECK_STR(esc("\xff\xc0\xaf\xed\xa0\x80", 512),
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	CHECK_STR(esc("caf\xc3\xa9 \xf0\x9f\x98\x80", 512), "caf\xc3\xa9 \xf0\x9f\x98\x80");
	/* a cut never splits an entity or a character */
	CHECK_STR(esc("ab<c", 6), "ab");
	CHECK_STR(esc("ab\xc3\xa9", 4), "ab");
	CHECK_STR(esc("", 1), "");
	/* the worst growth: every byte an entity */
	char in[161], out[161 * 6 + 1];

	memset(in, '"', 160);
	in[160] = '\0';
	CHECK(report_html_escape(out, sizeof(out), in) == 160 * 6);
	/* the model's copies: cut on a character, never in one */
	char kept[8];

	rm_copy_text(kept, sizeof(kept), "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	CHECK_STR(kept, "\xc3\xa9\xc3\xa9...");
	rm_copy_text(kept, 3, "abcdef");	/* too small for the dots */
	CHECK_STR(kept, "ab");
	rm_copy_bytes(kept, sizeof(kept), "a\x00\xff", 3);
	CHECK_STR(kept, "a\\x00");
}

/* A new model of the n JSON lines, each read as a record; NULL if none. */
static struct report_model *model_of(struct rm_config *cfg, const char *const *lines, size_t n)
{
	struct report_model *m = rm_new(cfg);
	char why[128];

	CHECK(m != NULL);
	if (!m)
		return NULL;
	rm_input(m, "x.json", RI_JSON, false);
	for (size_t i = 0; i < n; i++) {
		CHECK(parse(lines[i]) == 0);
		CHECK(rm_record(m, &J, why, sizeof(why)) == 0);
	}
	return m;
}

static void model_counts_and_filters(void)
{
	struct rm_config cfg = { INT64_MIN, INT64_MAX, 0, "" };
	struct report_model *m;
	char why[128];
	static const char *const lines[] = {
		"{\"type\":\"history\",\"ts\":\"2026-11-21T10:00:00Z\",\"id\":1,\"laddr\":\"10.0.0.1\","
		"\"lport\":80,\"raddr\":\"10.0.0.2\",\"rport\":5555,\"role\":\"passive\","
		"\"states\":[\"SYN_RECV\",\"ESTABLISHED\",\"CLOSE\"],\"durations_ns\":[10,20,null],"
		"\"start\":\"2026-11-21T09:59:59Z\",\"duration_ns\":1000000000,\"end\":\"refused\","
		"\"handshake_ns\":5000,\"accept_wait_ns\":null,\"comm\":\"<script>x</script>\","
		"\"pid\":4}",
		"{\"type\":\"lost\",\"ts\":\"2026-11-21T10:00:01Z\",\"count\":18446744073709551615,"
		"\"total\":1,\"cause\":\"ring_full\"}",
		"{\"type\":\"lost\",\"ts\":\"2026-11-21T10:00:02Z\",\"count\":5,\"total\":1,"
		"\"cause\":\"ring_full\"}",
		"{\"type\":\"lost\",\"ts\":\"2026-11-21T10:00:02Z\",\"count\":7,\"total\":1,"
		"\"cause\":\"unseen_change\"}",
		"{\"type\":\"lost\",\"ts\":\"2026-11-21T10:00:02Z\",\"count\":2,\"total\":1,"
		"\"cause\":\"a_cause_from_a_newer_version\"}",
		"{\"type\":\"brand_new\",\"ts\":\"2026-11-21T10:00:03Z\"}",
		"{\"type\":\"alert\",\"ts\":\"2026-11-21T10:00:04Z\",\"alert\":\"syn_flood\","
		"\"state\":\"clear\",\"listener_id\":9,\"laddr\":\"10.0.0.1\",\"lport\":80,"
		"\"netns\":1,\"duration_ms\":3000}",
	};
	m = model_of(&cfg, lines, sizeof(lines) / sizeof(lines[0]));
	if (!m)
		return;
	CHECK(parse("{\"ts\":\"2026-11-21T10:00:00Z\"}") == 0);
	CHECK(rm_record(m, &J, why, sizeof(why)) == -1);
	CHECK(parse("{\"type\":\"state\",\"ts\":\"yesterday\"}") == 0);
	CHECK(rm_record(m, &J, why, sizeof(why)) == -1);
	rm_finish(m);
	CHECK(m->records == 7 && m->by_type[RT_HISTORY] == 1 && m->other_types == 1);
	CHECK(m->lost[0] == UINT64_MAX);	/* saturates, never wraps */
	/* every cause by its own name; one this version does not know: other */
	CHECK(m->lost[LOST_UNSEEN_CHANGE] == 7 && m->lost[LOST_N_CAUSES] == 2);
	CHECK(m->ends[3] == 1 && m->n_failed == 1 && m->n_slowest == 1);
	CHECK_STR(m->failed[0].comm, "<script>x</script>");	/* kept as text... */
	CHECK(m->failed[0].durations_ns[2] == TL_NONE && m->failed[0].nstates == 3);
	CHECK(m->dist[RM_HANDSHAKE][RM_PASSIVE].n == 1 &&
	      m->dist[RM_ACCEPT_WAIT][RM_PASSIVE].n == 0);
	/* a clear whose start was not in the input began duration_ms before */
	CHECK(m->n_spans == 1 && !m->spans[0].start_seen &&
	      m->spans[0].end - m->spans[0].start == 3000000000ll);
	rm_free(m);
	/* the window and the listener */
	cfg.since = 1795255200000000000ll + 1;	/* just after 10:00:00 */
	CHECK(rm_parse_listener("10.0.0.1:81", &cfg, why, sizeof(why)) == 0);
	m = rm_new(&cfg);
	for (size_t i = 0; m && i < sizeof(lines) / sizeof(lines[0]); i++) {
		parse(lines[i]);
		rm_record(m, &J, why, sizeof(why));
	}
	CHECK(m && m->outside == 1 && m->filtered == 1 && m->by_type[RT_LOST] == 4);
	rm_free(m);
}

/* A listener's drops as logs name them now (sk_drops_delta) and did
 * before (drops_delta); a SYN queue the sample could not know (null) is no
 * figure, not a zero.
 */
static void listener_drops_by_either_name(void)
{
	struct rm_config cfg = { INT64_MIN, INT64_MAX, 0, "" };
	struct report_model *m;
	static const char *const lines[] = {
		"{\"type\":\"listener\",\"ts\":\"2026-11-21T10:00:00Z\",\"listener_id\":9,"
		"\"laddr\":\"10.0.0.1\",\"lport\":80,\"netns\":1,\"synq_len\":7,"
		"\"drops_delta\":5}",
		"{\"type\":\"listener\",\"ts\":\"2026-11-21T10:00:01Z\",\"listener_id\":9,"
		"\"laddr\":\"10.0.0.1\",\"lport\":80,\"netns\":1,\"synq_len\":null,"
		"\"sk_drops_delta\":1000000,\"syn_rate\":null}",
	};

	m = model_of(&cfg, lines, sizeof(lines) / sizeof(lines[0]));
	if (!m)
		return;
	rm_finish(m);
	CHECK(m->n_listeners == 1 && m->listeners[0].drops == 1000005);
	CHECK(m->listeners[0].peak_synq == 7 && m->listeners[0].samples == 2);
	rm_free(m);
}

static void listener_spec(void)
{
	struct rm_config c;
	char err[160];

	CHECK(rm_parse_listener("*:443", &c, err, sizeof(err)) == 0 && c.lport == 443 &&
	      !c.laddr[0]);
	CHECK(rm_parse_listener("65535", &c, err, sizeof(err)) == 0 && c.lport == 65535);
	CHECK(rm_parse_listener("[0:0::1]:80", &c, err, sizeof(err)) == 0 &&
	      !strcmp(c.laddr, "::1"));
	CHECK(rm_parse_listener("192.0.2.1:1", &c, err, sizeof(err)) == 0 &&
	      !strcmp(c.laddr, "192.0.2.1"));
	static const char *const bad[] = { "", ":", "0", "65536", "1.2.3.4:", "1.2.3:80",
					   "::1:80", "[::1]", "host:80", "*:-1", "[zz]:1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(rm_parse_listener(bad[i], &c, err, sizeof(err)) == -1);
}

static void distribution_buckets(void)
{
	struct rm_dist d = { 0 };

	CHECK(rm_dist_bucket(0) == 0 && rm_dist_bucket(999) == 0 && rm_dist_bucket(1000) == 1);
	CHECK(rm_dist_bucket(UINT64_MAX) == RM_DIST_BUCKETS - 1);
	CHECK(rm_dist_edge(RM_DIST_BUCKETS - 2) == 1000000000000ull);
	for (int b = 1; b < RM_DIST_BUCKETS - 1; b++)
		CHECK(rm_dist_bucket(rm_dist_edge(b) - 1) == b &&
		      rm_dist_bucket(rm_dist_edge(b)) == b + 1);
	d.n = 100;
	d.max = 4000;
	d.bucket[rm_dist_bucket(1500)] = 99;
	d.bucket[rm_dist_bucket(4000)] = 1;
	CHECK(rm_dist_quantile(&d, 0.5) == 2000 && rm_dist_quantile(&d, 0.99) == 4000);
}

TEST_LIST(report_tests) = {
	TEST_ENTRY(json_accepts_what_tcptrail_writes),
	TEST_ENTRY(json_numbers_at_the_edges),
	TEST_ENTRY(json_strings_and_escapes),
	TEST_ENTRY(json_structure_is_strict),
	TEST_ENTRY(json_bounds),
	TEST_ENTRY(time_round_trip),
	TEST_ENTRY(timeline_widens_and_merges),
	TEST_ENTRY(html_escaping),
	TEST_ENTRY(model_counts_and_filters),
	TEST_ENTRY(listener_spec),
	TEST_ENTRY(listener_drops_by_either_name),
	TEST_ENTRY(distribution_buckets),
	{ 0 },
};
