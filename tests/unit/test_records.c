/* The recording round trip, and every JSON record type against the schema
 * docs/schema.md and docs/listeners.md document.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "capture.h"
#include "emit.h"
#include "events.h"
#include "harness.h"
#include "ingest.h"
#include "journal_priv.h"	/* the header on disk: recordings forged by hand */
#include "listen_watch.h"

#define MS 1000000ull

/* The same inputs, in the same order: to the ingest, or (w set) to a
 * recording only.
 */
static void feed_inputs(struct ingest *in, struct journal_writer *w)
{
	struct tt_event e[] = {
		ev_state(1, 1 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1),
		ev_state(1, 2 * MS, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED, 1),
		ev_state(2, 2 * MS, TT_TCP_LISTEN, TT_TCP_SYN_RECV, 0),
		ev_state(2, 3 * MS, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED, 0),
		ev_state(1, 4 * MS, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1, 1),
		ev_state(2, 5 * MS, TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT, 0),
		ev_state(1, 6 * MS, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2, 0),
		ev_close(1, 7 * MS, TT_TCP_FIN_WAIT2, 0),
	};
	struct tt_sock_record r = { .cookie = 3, .family = AF_INET, .state = TT_TCP_ESTABLISHED,
				    .sport = 5000, .dport = 6000, .rcv_idle_ms = ~0u };
	struct owner o = { .cookie = 2, .pid = 77, .fd = 9, .comm = "server" };

	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		if (w)
			journal_event(w, &e[i]);
		else
			ingest_event(in, &e[i]);
	}
	if (w) {
		journal_reconcile(w, &r, 1, 8 * MS, true);
		journal_lost(w, 9 * MS, 3, LOST_KERNEL_SKIPPED);
		journal_mark_lost(w, 3);
		journal_expire(w, 40 * MS);
		journal_leak(w, 2, 50 * MS, &o, 1);
		journal_batch_end(w);
		return;
	}
	ingest_reconcile(in, &r, 1, 8 * MS, true);
	ingest_lost(in, 9 * MS, 3, LOST_KERNEL_SKIPPED);
	ingest_mark_lost(in, 3);
	ingest_expire(in, 40 * MS);
	ingest_report_leak(in, 2, 50 * MS, &o, 1);
	ingest_batch_end(in);
}

static void recording_round_trip(void)
{
	char path[] = "/tmp/tcptrail-unit-XXXXXX";
	struct capture direct, replayed;
	struct ingest *a = capture_ingest(&direct, 64), *b = capture_ingest(&replayed, 64);
	struct journal_writer *w = NULL;
	struct journal_header h;
	char err[200];
	int fd = mkstemp(path);

	CHECK(fd >= 0 && a && b);
	if (fd < 0 || !a || !b)
		return;
	close(fd);	/* reopened for the writer below */
	/* the capture's settings: its grace and leak threshold */
	journal_header_init(&h, 0, 64, 10 * MS, 30000 * MS, 4026531840u);
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && journal_create(&w, fd, &h) == 0);
	if (w) {
		feed_inputs(NULL, w);
		journal_end(w);
	}
	CHECK(journal_close(w) == 0);
	feed_inputs(a, NULL);
	ingest_flush(a);

	fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && journal_read_header(fd, &h, err, sizeof(err)) == 0);
	CHECK(journal_replay(fd, &h, b, NULL, NULL, err, sizeof(err)) > 0);
	ingest_flush(b);
	close(fd);
	unlink(path);

	CHECK(direct.nstates == replayed.nstates && direct.nstates == 8);
	CHECK(direct.nlost == replayed.nlost && replayed.lost_total == 3);
	CHECK(replayed.lost_cause == LOST_KERNEL_SKIPPED);
	CHECK(direct.nleaks == replayed.nleaks && replayed.nleaks == 1);
	CHECK(direct.nbatches == replayed.nbatches);
	CHECK(direct.nhist == replayed.nhist && replayed.nhist >= 1);
	for (int i = 0; i < direct.nhist && i < replayed.nhist; i++) {
		CHECK(direct.hist[i].conn.cookie == replayed.hist[i].conn.cookie);
		CHECK(direct.hist[i].conn.flags == replayed.hist[i].conn.flags);
		CHECK(!memcmp(&direct.hist[i].sum, &replayed.hist[i].sum,
			      sizeof(direct.hist[i].sum)));
	}
	ingest_free(a);
	ingest_free(b);
}

/* A recording whose one frame (after the header) says count of something;
 * the rest of the frame reads as zeros (a sparse file). Returns the
 * replay's verdict.
 */
static long replay_frame(uint32_t type, const void *head, size_t head_len, uint64_t frame_len,
			 char *err, size_t errlen)
{
	char path[] = "/tmp/tcptrail-unit-XXXXXX";
	struct journal_header h;
	struct journal_disk_header d;
	struct journal_frame f = { type, (uint32_t)frame_len };
	struct capture cap;
	struct ingest *in = capture_ingest(&cap, 64);
	int fd = mkstemp(path);
	long frames = -2;

	journal_header_init(&h, 0, 16, 10 * MS, 30000 * MS, 1);
	journal_disk_header(&d, &h);
	if (fd >= 0 && in && write(fd, &d, sizeof(d)) == (ssize_t)sizeof(d) &&
	    write(fd, &f, sizeof(f)) == (ssize_t)sizeof(f) &&
	    write(fd, head, head_len) == (ssize_t)head_len &&
	    !ftruncate(fd, (off_t)(sizeof(d) + sizeof(f) + frame_len)) &&
	    lseek(fd, 0, SEEK_SET) == 0 && !journal_read_header(fd, &h, err, errlen))
		frames = journal_replay(fd, &h, in, NULL, NULL, err, errlen);
	if (fd >= 0)
		close(fd);
	unlink(path);
	ingest_free(in);
	return frames;
}

/* Counts past what the tracer could have recorded are refused by name:
 * a reconcile of more sockets than the recorded table, a leak held by more
 * descriptors than the tracer indexes.
 */
static void replay_refuses_counts_beyond_live_limits(void)
{
	struct {
		uint64_t started;
		uint32_t initial, n;
	} rec = { 1, 1, 17 };
	struct {
		uint64_t cookie, now;
		uint32_t n, pad;
	} leak = { 1, 1, OWNER_INDEX_MAX + 1, 0 };
	char err[200] = "";

	CHECK(replay_frame(JF_RECONCILE, &rec, sizeof(rec),
			   sizeof(rec) + 17 * sizeof(struct tt_sock_record), err, sizeof(err)) == -1);
	CHECK(strstr(err, "a reconcile of 17 sockets, more than the 16 the recording's table "
			  "holds") != NULL);
	err[0] = '\0';
	CHECK(replay_frame(JF_LEAK, &leak, sizeof(leak),
			   sizeof(leak) + (uint64_t)leak.n * sizeof(struct owner), err,
			   sizeof(err)) == -1);
	CHECK(strstr(err, "a leak held by 4194305 descriptors, more than the 4194304") != NULL);
	/* at the limits themselves: read on (to the missing end) */
	rec.n = 16;
	err[0] = '\0';
	CHECK(replay_frame(JF_RECONCILE, &rec, sizeof(rec),
			   sizeof(rec) + 16 * sizeof(struct tt_sock_record), err, sizeof(err)) == -1);
	CHECK(strstr(err, "did not exit cleanly") != NULL);
	if (!strstr(err, "did not exit cleanly"))
		fprintf(stderr, "    %s\n", err);
}

/* The section of file from the heading that starts with head to the next
 * one of the same level, appended to buf (len bytes).
 */
static void append_section(char *buf, size_t len, const char *file, const char *head)
{
	static char text[1 << 17];
	FILE *f = fopen(file, "r");
	size_t n, have = strlen(buf);
	char *start, *end;

	if (!f)
		return;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	start = strstr(text, head);
	if (!start)
		return;
	end = strstr(start + 1, "\n## ");
	if (end)
		*end = '\0';
	snprintf(buf + have, len - have, "%s", start);
}

/* The JSON schema: docs/listeners.md's listener records first (the first
 * bullet of a type wins), then docs/schema.md up to its example.
 */
static char *schema_text(void)
{
	static char buf[1 << 18];

	buf[0] = '\0';
	append_section(buf, sizeof(buf), "docs/listeners.md", "\n## JSON records");
	append_section(buf, sizeof(buf), "docs/schema.md", "# JSON schema");
	return buf[0] ? buf : NULL;
}

/* The documentation of one record type: the common parts (identity table,
 * listener naming) and its own bullet.
 */
static void add_text(char *out, size_t len, const char *from, size_t n)
{
	size_t have = strlen(out);

	if (n > len / 2)
		n = len / 2;
	snprintf(out + have, len - have, "%.*s", (int)n, from);
}

static void type_doc(const char *schema, const char *type, char *out, size_t len)
{
	char tag[64];
	const char *readme = strstr(schema, "# JSON schema\n");
	const char *common_end = readme ? strstr(readme, "\nRecords:") : NULL;
	const char *listeners = strstr(schema, "\nListener records");
	const char *b, *e;

	snprintf(out, len, "`type` `ts` ");
	if (common_end)
		add_text(out, len, readme, (size_t)(common_end - readme));
	if (listeners) {
		const char *le = strstr(listeners, "\n- ");

		if (le)
			add_text(out, len, listeners, (size_t)(le - listeners));
	}
	snprintf(tag, sizeof(tag), "- `\"type\":\"%s\"`", type);
	b = strstr(schema, tag);
	if (!b)
		return;
	e = strstr(b + 1, "\n- ");
	if (!e)
		e = b + strlen(b);
	add_text(out, len, b, (size_t)(e - b));
}

/* Every key of a JSON line ("name": anywhere, nested too) is documented.
 * The line's type is appended to seen (space-separated).
 */
static void check_line(const char *schema, const char *line, char *seen, size_t seen_len)
{
	char type[64] = "", doc[16384], key[64], want[80];
	const char *p = strstr(line, "\"type\":\"");

	if (!p || sscanf(p + 8, "%63[a-z_]", type) != 1) {
		CHECK(!"a record without a type");
		return;
	}
	if (strlen(seen) + strlen(type) + 2 < seen_len) {
		strcat(seen, type);
		strcat(seen, " ");
	}
	type_doc(schema, type, doc, sizeof(doc));
	if (!strstr(doc, "- `\"type\"")) {
		fprintf(stderr, "    record type %s is not in docs/schema.md\n", type);
		CHECK(!"undocumented record type");
		return;
	}
	for (p = line; (p = strchr(p, '"'));) {
		const char *q = strchr(p + 1, '"');

		if (!q)
			break;
		if (q[1] == ':' && (size_t)(q - p - 1) < sizeof(key)) {
			memcpy(key, p + 1, (size_t)(q - p - 1));
			key[q - p - 1] = '\0';
			snprintf(want, sizeof(want), "`%s`", key);
			if (!strstr(doc, want)) {
				snprintf(want, sizeof(want), "\"%s\"", key);
				if (!strstr(doc, want)) {
					fprintf(stderr, "    %s: key %s is not documented\n",
						type, key);
					CHECK(!"undocumented key");
				}
			}
		}
		p = q + 1;
	}
}

/* A resolver that knows cgroup 42, a kubepods container, and finds 43
 * gone.
 */
static const struct cgroup_info *fake_cgroups(void *ctx, uint64_t id)
{
	static struct cgroup_info info;
	static const char path[] =
		"/kubepods.slice/kubepods-pod0b1c2d3e_1111_2222_3333_444455556666.slice/"
		"cri-containerd-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope";

	(void)ctx;
	memset(&info, 0, sizeof(info));
	info.id = id;
	if (id == 42) {
		info.path = path;
		cgroup_path_parse(path, &info.ids);
	}
	return &info;
}

static void alert_to_json(const struct lw_alert *a, void *em)
{
	emit_json_listen_ops.alert(em, a);
}

/* Emit every record type the tracer writes and check each line. */
static void json_records_follow_schema(void)
{
	const char *schema = schema_text();
	char path[] = "/tmp/tcptrail-unit-XXXXXX", line[8192];
	int fd = mkstemp(path);
	struct ingest_config cfg = { .max_conns = 64, .close_grace_ns = 10 * MS,
				     .states = true, .histories = true,
				     .leak_after_ns = 30000 * MS };
	struct lw_config lcfg = { .max_listeners = 8, .max_requests = 64 };
	struct outbuf out = { .buf = NULL };
	struct emitter em;
	struct sink sink = { &emit_json_ops, &em };
	struct ingest *in;
	struct listen_watch *lw;
	struct tt_event rst = ev_state(1, 3 * MS, 0, TT_TCP_ESTABLISHED, 1);
	struct tt_event syn = ev_state(9, 3 * MS, TT_TCP_LISTEN, TT_TCP_LISTEN, 0);
	struct tt_sock_record l = { .cookie = 9, .family = AF_INET, .state = TT_TCP_LISTEN,
				    .sport = 8080, .acceptq_max = 1, .acceptq_len = 2,
				    .drops = 5, .cookie_idle_ms = ~0u, .netns = 4026531840u };
	struct tt_sock_record req = { .cookie = 10, .listener = 9, .family = AF_INET,
				      .state = TT_TCP_NEW_SYN_RECV, .netns = 4026531840u };
	uint64_t counters[LW_N_COUNTERS] = { 0 };
	int64_t sysctls[LW_N_SYSCTLS] = { 4096, 2048, 1, 0, 5 };
	struct owner o = { .cookie = 1, .pid = 77, .fd = 9, .comm = "server" };
	static const char *const types[] = {
		"state", "history", "reset", "synack_retransmit", "listen_overflow", "lost",
		"close_wait_leak", "close_wait_resolved", "listener", "netns", "alert",
		"retransmit",
	};
	char seen[4096] = " ", want[64];
	struct filter all;
	FILE *f;
	int lines = 0, pods = 0, gone = 0, delivered = 0;

	filter_init(&all);
	CHECK(schema != NULL && fd >= 0);
	if (!schema || fd < 0 || outbuf_init(&out, fd, 1 << 20))
		return;
	emitter_init(&em, &out);
	em.cgroup_lookup = fake_cgroups;
	l.cgroup = 42;
	rst.cgroup = 43;
	in = ingest_new(&cfg, &sink);
	lw = listen_watch_new(&lcfg);
	CHECK(in && lw);
	if (!in || !lw)
		return;
	/* state, history, reset, synack_retransmit, listen_overflow, lost,
	 * close_wait_leak, close_wait_resolved
	 */
	{
		struct tt_event e = ev_state(1, 1 * MS, TT_TCP_CLOSE, TT_TCP_SYN_SENT, 1);

		e.cgroup = 42;
		ingest_event(in, &e);
	}
	rst.type = TT_EV_RESET_SENT;
	ingest_event(in, &rst);
	syn.type = TT_EV_SYNACK_RETRANS;
	ingest_event(in, &syn);
	syn.type = TT_EV_LISTEN_OVERFLOW;
	ingest_event(in, &syn);
	ingest_lost(in, 4 * MS, 2, LOST_RING_FULL);
	{
		struct tt_event e = ev_state(2, 5 * MS, TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT, 0);
		uint64_t c;

		ingest_event(in, &e);
		CHECK(ingest_leak_candidates(in, 40000 * MS, &c, 1) == 1);
		ingest_report_leak(in, 2, 40000 * MS, &o, 1);
		e = ev_state(2, 40001 * MS, TT_TCP_CLOSE_WAIT, TT_TCP_LAST_ACK, 1);
		ingest_event(in, &e);
	}
	{
		struct tt_event e = ev_close(1, 6 * MS, TT_TCP_SYN_SENT, 111);

		ingest_event(in, &e);
	}
	{
		/* a live retransmit, with the kernel's result */
		struct tt_event e = ev_state(1, 6 * MS, 0, TT_TCP_ESTABLISHED, 1);

		e.type = TT_EV_RETRANSMIT;
		e.oldstate = 4;		/* loss */
		e.flags |= TT_F_RESULT;
		e.close.total_retrans = 3;
		e.close.srtt_us = 250;
		ingest_event(in, &e);
	}
	ingest_flush(in);
	ingest_batch_end(in);
	{
		/* a life the kernel kept, with how it delivered: every key */
		struct ingest *kept = ingest_new(&cfg, &sink);
		struct tt_history h;

		CHECK(kept != NULL);
		memset(&h, 0, sizeof(h));
		h.ev = ev_close(7, 9 * MS, TT_TCP_LAST_ACK, 0);
		h.ev.type = TT_EV_HISTORY;
		h.st.states[0] = TT_TCP_SYN_RECV;
		h.st.states[1] = TT_TCP_ESTABLISHED;
		h.st.states[2] = TT_TCP_CLOSE_WAIT;
		h.st.states[3] = TT_TCP_LAST_ACK;
		for (int i = 0; i < 4; i++)
			h.st.entered[i] = (uint64_t)(i + 1) * MS;
		h.st.nstates = 4;
		h.dl = (struct tt_delivery){ .flags = TT_D_READ | TT_D_CHRONO, .srtt_us = 250,
					     .rttvar_us = 40, .rtt_min_us = 180, .cwnd = 10,
					     .retrans_segs = 3, .data_segs_out = 20, .mss = 1448,
					     .busy_ns = 4 * MS, .rwnd_limited_ns = 3 * MS,
					     .rate_delivered = 10, .rate_interval_us = 1000 };
		if (kept) {
			ingest_set_recorded(kept, true, true);
			ingest_event(kept, &h.ev);
			ingest_flush(kept);
			ingest_free(kept);
		}
	}
	/* listener, netns, alert: two samples, the second one alerting */
	for (int k = 0; k < 2; k++) {
		l.drops += 10;
		listen_watch_sample_begin(lw, LW_KNOWN_ALL);
		listen_watch_sample_sock(lw, &l);
		listen_watch_sample_sock(lw, &req);
		listen_watch_sample_netns(lw, l.netns, true, counters, sysctls);
		listen_watch_sample_end(lw, (uint64_t)(k + 1) * 1000 * MS,
					alert_to_json, &em);
		emit_json_listen_ops.sample(&em, lw, (uint64_t)(k + 1) * 1000 * MS, &all);
	}
	CHECK(outbuf_flush(&out) == 0);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		check_line(schema, line, seen, sizeof(seen));
		lines++;
		pods += strstr(line, "\"container_id\":\"0123456789abcdef0123456789abcdef"
				     "0123456789abcdef0123456789abcdef\",\"pod_uid\":"
				     "\"0b1c2d3e-1111-2222-3333-444455556666\"") != NULL;
		gone += strstr(line, "\"cgroup_id\":43,") != NULL;
		delivered += strstr(line, "\"rtt_us\":250,") && strstr(line, "\"limited_by\":\"receiver\"");
	}
	if (f)
		fclose(f);
	CHECK(lines >= 12);
	CHECK(delivered == 1);	/* the kept life, its delivery keys checked above */
	/* the connection's records and the listener's name the container */
	CHECK(pods >= 4 && gone >= 1);
	if (pods < 4 || gone < 1)
		fprintf(stderr, "    %d records name the pod, %d the gone cgroup\n", pods, gone);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(want, sizeof(want), " %s ", types[i]);
		if (!strstr(seen, want)) {
			fprintf(stderr, "    no %s record was made\n", types[i]);
			CHECK(!"a record type was not exercised");
		}
	}
	ingest_free(in);
	listen_watch_free(lw);
	outbuf_free(&out);
	close(fd);
	unlink(path);
}

TEST_LIST(record_tests) = {
	TEST_ENTRY(recording_round_trip),
	TEST_ENTRY(replay_refuses_counts_beyond_live_limits),
	TEST_ENTRY(json_records_follow_schema),
	{ NULL, NULL },
};
