/* tcptrail: trace TCP connection lifecycles live. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "emit.h"
#include "ingest.h"
#include "journal.h"
#include "log.h"
#include "netns.h"
#include "leak_report.h"
#include "listen_sampler.h"
#include "listen_watch.h"
#include "opts.h"
#include "outbuf.h"
#include "owners.h"
#include "snapshot.h"
#include "top_view.h"
#include "tracer.h"

#define TCPTRAIL_VERSION "0.1.0"
#define OUTBUF_BYTES (1u << 20)
/* Longest a record waits in the kernel when nothing forces a wakeup. */
#define POLL_MS 100

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Every input to the reconstruction passes here, so --record captures all
 * of it, in order, and replay can make the very same calls.
 */
struct feed {
	struct ingest *in;
	struct journal_writer *journal;	/* NULL unless --record */
	struct listen_watch *lw;	/* NULL with --no-listeners */
};

static void on_event(const struct tt_event *e, void *arg)
{
	struct feed *f = arg;

	if (f->journal)
		journal_event(f->journal, e);
	if (f->lw)
		lw_event(f->lw, e);	/* takes the listener records, ignores the rest */
	ingest_event(f->in, e);
}

static void feed_expire(struct feed *f, uint64_t now)
{
	if (f->journal)
		journal_expire(f->journal, now);
	ingest_expire(f->in, now);
}

static void feed_batch_end(struct feed *f)
{
	if (f->journal)
		journal_batch_end(f->journal);
	ingest_batch_end(f->in);
}

/* Reconcile with the kernel's list of sockets this long after a loss (so the
 * ring has drained), and at this period regardless, as a safety net for any
 * path that ends a socket without a CLOSE record.
 */
#define RECONCILE_AFTER_LOSS_NS 1000000000ull
#define RECONCILE_PERIOD_NS (60 * 1000000000ull)
/* How often CLOSE_WAIT ages are checked, and how many new leaks one check
 * reports at most (the rest wait for the next).
 */
#define LEAK_CHECK_NS 500000000ull
#define LEAK_BATCH_MAX 65536
#define TOP_MAX_CONNS 1024
/* Half-open requests one listener sample tallies by source at most. */
#define LISTEN_REQUESTS_MAX (1u << 18)
/* Descriptors one owner scan keeps at most. */
#define OWNER_INDEX_MAX (4u << 20)

/* Report sockets that have sat in CLOSE_WAIT too long, each with the
 * processes and descriptors holding it now.
 */
static void check_leaks(struct snapshot *snap, struct feed *f, struct owner_index *ix,
			uint64_t *cands, uint64_t now, uint32_t max)
{
	struct ingest *in = f->in;
	size_t n = ingest_leak_candidates(in, now, cands, LEAK_BATCH_MAX);
	int err;

	if (!n)
		return;
	err = owner_index_scan_all(ix, snap, TT_TCP_CLOSE_WAIT, max);
	if (err) {
		p_warn("failed to find the processes holding leaked sockets: %s", strerror(-err));
		ix->n = 0;
	}
	if (ix->dropped)
		p_warn("more than %zu descriptors of CLOSE_WAIT sockets; some owners not named",
		       ix->max);
	for (size_t i = 0; i < n; i++) {
		const struct owner *first;
		size_t k = owner_index_find(ix, cands[i], &first);

		if (f->journal)
			journal_leak(f->journal, cands[i], now, first, k);
		ingest_report_leak(in, cands[i], now, first, k);
	}
}

/* Read every socket of every namespace, ingest everything queued meanwhile,
 * then reconcile: records first, so a socket born after the snapshot began
 * is never mistaken for an old or a vanished one.
 */
static int reconcile_with_kernel(struct snapshot *snap, struct tracer *tr, struct feed *f,
				 uint32_t max, bool initial)
{
	struct sock_list l;
	uint64_t started = mono_ns();
	int err;

	err = snapshot_collect(snap, &l, max);
	if (err == -ENOMEM || err == -EOPNOTSUPP) {
		/* snapshot_open() has said why there is no list */
		sock_list_free(&l);
		return err == -ENOMEM ? err : 0;
	}
	if (err) {
		p_warn("failed to read the kernel's sockets: %s%s", strerror(-err),
		       initial ? "; connections opened before tcptrail started have no history"
			       : "");
		sock_list_free(&l);
		return 0;
	}
	while (tracer_poll(tr, 0) > 0)
		;
	/* A truncated list must not make live sockets look vanished. */
	if (!l.dropped || initial) {
		if (f->journal)
			journal_reconcile(f->journal, l.v, l.n, started, initial);
		ingest_reconcile(f->in, l.v, l.n, started, initial);
	}
	if (l.dropped)
		p_warn("the kernel has more than --max-conns (%u) TCP sockets; %zu not read",
		       max, l.dropped);
	p_info("snapshot: %zu sockets in %zu network namespaces%s", l.n, l.namespaces,
	       snap->via_diag ? " (sock_diag)" : "");
	sock_list_free(&l);
	return 0;
}

static void mark_lost_cookie(uint64_t cookie, void *arg)
{
	struct feed *f = arg;

	if (f->journal)
		journal_mark_lost(f->journal, cookie);
	ingest_mark_lost(f->in, cookie);
}

/* Losses reported so far, per source (cumulative kernel counts). */
struct loss_seen {
	uint64_t ring, skipped, filter;
	uint64_t caught;	/* nested transitions recorded by the second program */
};

static void mark_all_lost(struct feed *f)
{
	if (f->journal)
		journal_mark_all(f->journal);
	ingest_mark_all_lost(f->in);
	/* a lost record may have been any listener's retransmit or overflow */
	if (f->lw)
		lw_mark_lost(f->lw);
}

static void report_lost(struct feed *f, uint64_t now, uint64_t count, uint8_t cause)
{
	if (f->journal)
		journal_lost(f->journal, now, count, cause);
	ingest_lost(f->in, now, count, cause);
}

/* Report records lost since the last call and taint what they touched.
 * Returns true when there were new losses.
 */
static bool account_losses(struct tracer *tr, struct feed *f, struct loss_seen *seen)
{
	uint64_t total = tracer_lost_total(tr), now = mono_ns();
	struct tracer_skips sk;
	bool any = false;

	if (total > seen->ring) {
		uint64_t fresh = total - seen->ring;
		uint64_t attributed = tracer_drain_lost_cookies(tr, mark_lost_cookie, f);

		/* Some losses could not be tied to a socket (attribution map
		 * full, or records without one): any open history may be
		 * missing a step.
		 */
		if (attributed < fresh)
			mark_all_lost(f);
		else if (f->lw)
			lw_mark_lost(f->lw);
		report_lost(f, now, fresh, LOST_RING_FULL);
		seen->ring = total;
		any = true;
	}
	tracer_skips(tr, &sk);
	seen->caught = sk.caught;
	if (sk.records > seen->skipped) {
		/* A skipped run names no socket. The histories it touched show
		 * it themselves: a transition that does not follow the last one
		 * (missing_transition), a first record in mid-life, or a socket
		 * gone at the reconcile this triggers (close_not_seen; in
		 * TIME_WAIT: orderly). Tainting every open history instead
		 * would mark thousands for one lost record.
		 */
		if (f->lw)
			lw_mark_lost(f->lw);
		report_lost(f, now, sk.records - seen->skipped, LOST_KERNEL_SKIPPED);
		seen->skipped = sk.records;
		any = true;
	}
	if (sk.filter > seen->filter) {
		/* maybe a listen overflow: listener figures only */
		if (f->lw)
			lw_mark_lost(f->lw);
		report_lost(f, now, sk.filter - seen->filter, LOST_FILTER_SKIPPED);
		seen->filter = sk.filter;
	}
	return any;
}

static int open_output(const char *path)
{
	int fd;

	if (!path)
		return STDOUT_FILENO;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		p_err("cannot open output file '%s': %s", path, strerror(errno));
	return fd;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);	/* a closed reader shows as EPIPE */
}

static void print_summary(struct ingest *in);

/* Where listener samples and alerts go: JSON records, alert lines in the
 * text view, or the top view's frames.
 */
struct listen_out {
	struct emitter *em;
	struct top_view *tv;	/* NULL unless tcptrail top in text */
	const struct filter *filter;
	bool json;
};

static void on_alert(const struct lw_alert *a, void *arg)
{
	struct listen_out *lo = arg;

	if (!filter_match_listener(lo->filter, a->l->family, a->l->port))
		return;
	if (lo->json)
		emit_json_alert(lo->em, a);
	else if (lo->tv)
		top_view_alert(lo->tv, a);
	else
		emit_text_alert(lo->em, a);
}

static void emit_sample(struct listen_out *lo, const struct listen_watch *lw, uint64_t now)
{
	const struct lw_listener *const *l;
	const struct lw_netns *ns;
	size_t n;

	if (lo->tv) {
		struct winsize ws;

		if (lo->tv->ansi && !ioctl(lo->em->out->fd, TIOCGWINSZ, &ws)) {
			lo->tv->rows = ws.ws_row;
			lo->tv->cols = ws.ws_col;
		}
		top_view_render(lo->tv, lw, now);
		return;
	}
	if (!lo->json)
		return;	/* the text view shows alerts only; tcptrail top shows the rest */
	n = lw_listeners(lw, &l);
	for (size_t i = 0; i < n; i++)
		if (filter_match_listener(lo->filter, l[i]->family, l[i]->port))
			emit_json_listener(lo->em, l[i], now);
	n = lw_namespaces(lw, &ns);
	for (size_t i = 0; i < n; i++)
		emit_json_netns(lo->em, &ns[i], now);
}

static void print_listen_summary(const struct listen_watch *lw)
{
	const struct lw_stats *st = lw_stats(lw);

	fprintf(stderr, "tcptrail: %llu listener samples, %llu alerts",
		(unsigned long long)st->samples, (unsigned long long)st->alerts);
	if (st->listeners_dropped || st->requests_dropped)
		fprintf(stderr, "; beyond the limits: %llu listener and %llu half-open request "
			"readings (raise --max-listeners)", (unsigned long long)st->listeners_dropped,
			(unsigned long long)st->requests_dropped);
	fputc('\n', stderr);
}

static int trace(const struct options *o)
{
	struct ingest_config icfg = {
		/* tcptrail top prints no connection: a token table will do */
		.max_conns = o->mode == MODE_TOP ? TOP_MAX_CONNS : o->max_conns,
		.close_grace_ns = (uint64_t)o->grace_ms * 1000000ull,
		.states = o->states,
		.histories = o->histories,
		.filter = &o->filter,
		.leak_after_ns = (uint64_t)(o->leak_after_s * 1e9),
	};
	struct tracer_config tcfg = { .ring_mb = o->ring_mb, .on_event = on_event };
	struct lw_config lcfg = { .max_listeners = o->max_listeners,
				  .max_requests = LISTEN_REQUESTS_MAX };
	uint64_t interval_ns = (uint64_t)(o->interval_s * 1e9), next_sample = 0;
	bool top = o->mode == MODE_TOP;
	struct listen_sampler sampler = { .text = NULL };
	struct listen_watch *lw = NULL;
	struct listen_out lout = { 0 };
	struct top_view tv;
	struct journal_writer journal = { .out = { .buf = NULL } };
	struct feed feed = { 0 };
	struct outbuf out = { .buf = NULL };
	struct snapshot snap = { 0 };
	struct owner_index owners;
	uint64_t *leak_cands = NULL, next_leak_check = 0;
	uint64_t reconcile_at = 0, next_periodic;
	bool lost_since_reconcile = false;
	/* Without the startup snapshot, the first reconcile meets sockets that
	 * may predate us: it seeds them as such.
	 */
	bool seeded = o->snapshot;
	struct ingest *in = NULL;
	struct tracer *tr = NULL;
	struct emitter em;
	struct sink sink;
	struct loss_seen lost_seen = { 0 };
	uint64_t deadline = 0;
	int fd, err, ret = 1;

	owner_index_init(&owners, OWNER_INDEX_MAX);
	fd = open_output(o->output);
	if (fd < 0)
		return 1;
	leak_cands = calloc(LEAK_BATCH_MAX, sizeof(*leak_cands));
	if (!leak_cands) {
		p_err("out of memory");
		goto cleanup;
	}
	if (outbuf_init(&out, fd, OUTBUF_BYTES)) {
		p_err("out of memory");
		goto cleanup;
	}
	emitter_init(&em, &out);
	em.own_netns = netns_self();
	sink.ops = top ? &emit_quiet_ops : o->json ? &emit_json_ops : &emit_text_ops;
	sink.ctx = &em;
	in = ingest_new(&icfg, &sink);
	if (!in) {
		p_err("cannot reserve a table for %u connections", o->max_conns);
		goto cleanup;
	}
	feed.in = in;
	if (o->listeners || top) {
		lw = lw_new(&lcfg);
		if (!lw) {
			p_err("cannot reserve a table for %u listeners", o->max_listeners);
			goto cleanup;
		}
		feed.lw = lw;
		lout = (struct listen_out){ .em = &em, .filter = &o->filter, .json = o->json };
		if (top && !o->json) {
			top_view_init(&tv, &out, &em.clock, isatty(fd), interval_ns, em.own_netns);
			lout.tv = &tv;
		}
	}
	if (o->record) {
		struct journal_header h;

		journal_header_init(&h, em.clock.mono_to_real_ns, icfg.max_conns,
				    icfg.close_grace_ns, icfg.leak_after_ns, em.own_netns);
		err = journal_create(&journal, o->record, &h);
		if (err) {
			p_err("cannot create recording '%s': %s", o->record, strerror(-err));
			goto cleanup;
		}
		feed.journal = &journal;
	}
	tcfg.arg = &feed;
	install_signals();
	err = tracer_open(&tr, &tcfg);
	if (err)
		goto cleanup;
	em.rst_reasons = tracer_rst_reasons(tr)->names;
	em.n_rst_reasons = tracer_rst_reasons(tr)->n;
	snapshot_open(&snap);
	if (o->snapshot && reconcile_with_kernel(&snap, tr, &feed, o->max_conns, true)) {
		p_err("out of memory reading existing sockets");
		goto cleanup;
	}
	if (lw && listen_sampler_init(&sampler, &snap, lw, o->max_conns)) {
		p_err("out of memory");
		goto cleanup;
	}
	next_periodic = mono_ns() + RECONCILE_PERIOD_NS;
	if (!o->json && !top)
		emit_text_header(&em);
	outbuf_flush(&out);
	p_info("tracing; Ctrl-C to stop");
	if (o->duration_s > 0)
		deadline = mono_ns() + (uint64_t)(o->duration_s * 1e9);

	while (!exiting) {
		uint64_t now = mono_ns();
		int timeout = POLL_MS;

		if (lw && next_sample > now && next_sample - now < POLL_MS * 1000000ull)
			timeout = (int)((next_sample - now) / 1000000);
		err = tracer_poll(tr, lw && next_sample <= now ? 0 : timeout);
		if (err < 0) {
			p_err("failed to read the ring buffer: %s", strerror(-err));
			goto cleanup;
		}
		now = mono_ns();
		if (account_losses(tr, &feed, &lost_seen)) {
			lost_since_reconcile = true;
			if (!reconcile_at)
				reconcile_at = now + RECONCILE_AFTER_LOSS_NS;
		}
		if (!top && ((reconcile_at && now >= reconcile_at) || now >= next_periodic)) {
			reconcile_with_kernel(&snap, tr, &feed, o->max_conns, !seeded);
			seeded = true;
			reconcile_at = 0;
			lost_since_reconcile = false;
			next_periodic = now + RECONCILE_PERIOD_NS;
		}
		feed_expire(&feed, now);
		if (lw && now >= next_sample) {
			err = listen_sampler_run(&sampler, now, on_alert, &lout);
			if (err)
				p_warn("failed to sample listeners: %s", strerror(-err));
			else
				emit_sample(&lout, lw, now);
			/* a late sample does not make the next one early */
			next_sample = (next_sample && now - next_sample < interval_ns ? next_sample : now)
				      + interval_ns;
		}
		if (icfg.leak_after_ns && now >= next_leak_check) {
			check_leaks(&snap, &feed, &owners, leak_cands, now, o->max_conns);
			next_leak_check = now + LEAK_CHECK_NS;
		}
		feed_batch_end(&feed);
		if (feed.journal && outbuf_flush(&journal.out)) {
			p_err("failed to write the recording: %s", strerror(journal.out.err));
			goto cleanup;
		}
		if (outbuf_flush(&out)) {
			p_err("failed to write output: %s", strerror(out.err));
			goto cleanup;
		}
		if (deadline && now >= deadline)
			break;
	}
	/* Take what is still queued, then finish what has closed. */
	while (tracer_poll(tr, 0) > 0)
		;
	if ((account_losses(tr, &feed, &lost_seen) || lost_since_reconcile) && !top)
		reconcile_with_kernel(&snap, tr, &feed, o->max_conns, !seeded);
	/* replay ends with the same flush when its file ends */
	ingest_flush(in);
	ingest_batch_end(in);
	if (outbuf_flush(&out)) {
		p_err("failed to write output: %s", strerror(out.err));
		goto cleanup;
	}
	if (!top)
		print_summary(in);
	p_info("nested state changes recorded by the second program: %llu",
	       (unsigned long long)lost_seen.caught);
	if (lw)
		print_listen_summary(lw);
	ret = 0;
cleanup:
	listen_sampler_free(&sampler);
	lw_free(lw);
	journal_close(&journal);
	free(leak_cands);
	owner_index_free(&owners);
	snapshot_close(&snap);
	tracer_close(tr);
	ingest_free(in);
	outbuf_free(&out);
	if (fd > STDOUT_FILENO)
		close(fd);
	return ret;
}

/* The closing line on stderr: what was seen, and what was not. */
static void print_summary(struct ingest *in)
{
	const struct ingest_stats *st = ingest_stats(in);
	const uint64_t *by = st->lost_by_cause;

	fprintf(stderr,
		"tcptrail: %llu records, %llu histories (%llu incomplete), %llu lost, "
		"%llu evicted, %llu vanished, %u still open, %llu CLOSE_WAIT leaks "
		"(%llu resolved); lost by cause: ring_full %llu, kernel_skipped %llu, "
		"filter_skipped %llu\n",
		(unsigned long long)st->records, (unsigned long long)st->histories,
		(unsigned long long)st->incomplete, (unsigned long long)st->lost,
		(unsigned long long)st->evicted, (unsigned long long)st->vanished,
		conn_table_count(ingest_table(in)), (unsigned long long)st->leaks,
		(unsigned long long)st->leaks_resolved,
		(unsigned long long)by[LOST_RING_FULL],
		(unsigned long long)by[LOST_KERNEL_SKIPPED],
		(unsigned long long)by[LOST_FILTER_SKIPPED]);
}

/* Peak resident memory of this process image in KiB (VmHWM). Unlike
 * ru_maxrss, it does not carry over the parent's size from before exec.
 */
static long peak_rss_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Reconstruct from a --record file: the same calls, the same output. */
static int replay(const struct options *o)
{
	struct ingest_config icfg = {
		.states = o->states,
		.histories = o->histories,
		.filter = &o->filter,
	};
	struct outbuf out = { .buf = NULL };
	struct rst_reasons reasons;
	struct journal_header h;
	struct ingest *in = NULL;
	struct emitter em;
	struct sink sink;
	char err[200];
	uint64_t t0, t1;
	long frames;
	int fd = STDOUT_FILENO, ret = 1, rfd;

	rst_reasons_load(&reasons);
	rfd = open(o->replay, O_RDONLY | O_CLOEXEC);
	if (rfd < 0) {
		p_err("cannot open recording '%s': %s", o->replay, strerror(errno));
		goto cleanup;
	}
	if (journal_read_header(rfd, &h, err, sizeof(err))) {
		p_err("%s: %s", o->replay, err);
		goto cleanup;
	}
	icfg.max_conns = h.max_conns;
	icfg.close_grace_ns = h.close_grace_ns;
	icfg.leak_after_ns = h.leak_after_ns;
	fd = open_output(o->output);
	if (fd < 0)
		goto cleanup;
	if (outbuf_init(&out, fd, OUTBUF_BYTES)) {
		p_err("out of memory");
		goto cleanup;
	}
	emitter_init(&em, &out);
	clock_map_set(&em.clock, h.mono_to_real_ns);
	em.own_netns = h.own_netns;
	em.rst_reasons = reasons.names;
	em.n_rst_reasons = reasons.n;
	sink.ops = o->json ? &emit_json_ops : &emit_text_ops;
	sink.ctx = &em;
	in = ingest_new(&icfg, &sink);
	if (!in) {
		p_err("cannot reserve a table for %u connections", icfg.max_conns);
		goto cleanup;
	}
	if (!o->json)
		emit_text_header(&em);
	t0 = mono_ns();
	frames = journal_replay(rfd, in, err, sizeof(err));
	if (frames < 0) {
		p_err("%s: %s", o->replay, err);
		goto cleanup;
	}
	ingest_flush(in);
	ingest_batch_end(in);
	t1 = mono_ns();
	if (outbuf_flush(&out)) {
		p_err("failed to write output: %s", strerror(out.err));
		goto cleanup;
	}
	print_summary(in);
	fprintf(stderr, "tcptrail: replayed %ld frames in %.3f s (%.0f records/s); "
		"peak memory %ld MiB; table %zu bytes per connection\n", frames,
		(t1 - t0) / 1e9, ingest_stats(in)->records / ((t1 - t0 + 1) / 1e9),
		peak_rss_kib() / 1024, conn_table_bytes_per_conn());
	ret = 0;
cleanup:
	ingest_free(in);
	outbuf_free(&out);
	if (fd > STDOUT_FILENO)
		close(fd);
	if (rfd >= 0)
		close(rfd);
	rst_reasons_free(&reasons);
	return ret;
}

int main(int argc, char **argv)
{
	struct options o;
	char err[256];

	if (opts_parse(&o, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "tcptrail: %s\nTry 'tcptrail --help'.\n", err);
		return 2;
	}
	if (o.mode == MODE_HELP) {
		fputs(opts_usage(), stdout);
		return 0;
	}
	if (o.mode == MODE_VERSION) {
		puts("tcptrail " TCPTRAIL_VERSION);
		return 0;
	}
	log_set_verbosity(o.verbosity);
	log_route_libbpf();
	if (o.mode == MODE_LEAKS)
		return leak_report(&o);
	if (o.mode == MODE_REPLAY)
		return replay(&o);
	if (o.mode == MODE_TOP) {
		/* the listener view alone: no per-connection output */
		o.states = o.histories = o.snapshot = false;
		o.leak_after_s = 0;
	}
	return trace(&o);
}
