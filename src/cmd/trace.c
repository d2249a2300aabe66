/* The tracing loop: kernel records in, reconstruction, output. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cgroups.h"
#include "clock.h"
#include "emit.h"
#include "feed.h"
#include "filter_check.h"
#include "ingest.h"
#include "journal.h"
#include "keys.h"
#include "listen_sampler.h"
#include "listen_watch.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "netns.h"
#include "outbuf.h"
#include "outfile.h"
#include "privs.h"
#include "owners.h"
#include "ports.h"
#include "signals.h"
#include "sink_tee.h"
#include "snapshot.h"
#include "summary.h"
#include "timers.h"
#include "top_view.h"
#include "trace.h"
#include "tracer.h"

#define OUTBUF_BYTES (1u << 20)
/* Longest a record waits in the kernel when nothing forces a wakeup. */
#define POLL_MS 100
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
/* Half-open requests one listener sample tallies by source at most. */
#define LISTEN_REQUESTS_MAX (1u << 18)
/* Descriptors of CLOSE_WAIT sockets one leak check indexes at most. */
#define LEAK_OWNERS_MAX (4u << 20)
/* How often the metrics scrapes see are brought up to date. */
#define METRICS_PUBLISH_NS 100000000ull

/* Losses reported so far, per source (cumulative kernel counts). */
struct loss_seen {
	uint64_t ring, skipped, filter;
	uint64_t caught;	/* nested transitions recorded by the second program */
};

/* Everything the periodic jobs work on. */
struct tracing {
	const struct options *o;
	const struct trace_profile *p;
	struct tracer *tr;
	struct snapshot snap;
	struct feed feed;
	struct owner_index owners;
	uint64_t *leak_cands;
	struct listen_sampler sampler;
	struct listen_sink lsink;
	struct cgroups *cgroups;	/* NULL without cgroup2 */
	struct filter *filter;		/* the options' filter, with the cgroup lookup */
	struct metrics metrics;
	struct metrics_http *http;	/* NULL without --metrics */
	struct ports *ports;		/* NULL without connections and listeners */
	struct sink_tee tap;		/* ingest's tap: metrics and ports */
	uint64_t published_ns;
	struct timers timers;
	int reconcile_timer;
	struct loss_seen lost;
	bool lost_since_reconcile;
	/* Without the startup snapshot, the first reconcile meets sockets
	 * that may predate us: it seeds them as such.
	 */
	bool seeded;
	bool stop;
	int sample_err;		/* the last sample's failure, said once */
	struct keys keys;	/* top's: q quits */
	struct emitter *em;	/* the text view's, to flush its held lines; or NULL */
};

/* Read every socket of every namespace, ingest everything queued meanwhile,
 * then reconcile: records first, so a socket born after the snapshot began
 * is never mistaken for an old or a vanished one.
 */
static int reconcile_with_kernel(struct tracing *t, bool initial)
{
	struct snapshot_list l;
	uint64_t started = clock_mono_ns();
	uint32_t max = t->p->max_conns;
	int err;

	err = snapshot_collect(&t->snap, &l, max);
	if (err == -ENOMEM || err == -EOPNOTSUPP) {
		/* snapshot_open() has said why there is no list */
		snapshot_list_free(&l);
		return err == -ENOMEM ? err : 0;
	}
	if (err) {
		p_warn("failed to read the kernel's sockets: %s%s", strerror(-err),
		       initial ? "; connections opened before tcptrail started have no history"
			       : "");
		snapshot_list_free(&l);
		return 0;
	}
	while (tracer_poll(t->tr, 0) > 0)
		;
	/* A truncated list must not make live sockets look vanished. */
	if (!l.dropped || initial)
		feed_reconcile(&t->feed, l.v, l.n, started, initial);
	if (t->ports && !l.dropped)
		ports_reconcile(t->ports, l.v, l.n, started);
	if (l.dropped)
		p_warn("the kernel has more than --max-conns (%u) TCP sockets; %zu not read",
		       max, l.dropped);
	p_info("snapshot: %zu sockets in %zu network namespaces%s", l.n, l.namespaces,
	       snapshot_via_diag(&t->snap) ? " (sock_diag)" : "");
	snapshot_list_free(&l);
	return 0;
}

static void job_reconcile(void *arg, uint64_t now)
{
	struct tracing *t = arg;

	(void)now;
	if (reconcile_with_kernel(t, !t->seeded))
		p_warn("out of memory reading the kernel's sockets");
	t->seeded = true;
	t->lost_since_reconcile = false;
}

static void mark_lost_cookie(uint64_t cookie, void *arg)
{
	feed_mark_lost(arg, cookie);
}

/* Report records lost since the last call and taint what they touched.
 * Returns true when records of connections may have been lost.
 */
static bool account_losses(struct tracing *t)
{
	uint64_t total = tracer_lost_total(t->tr), now = clock_mono_ns();
	struct loss_seen *seen = &t->lost;
	struct feed *f = &t->feed;
	struct tracer_skips sk;
	bool any = false;

	if (total > seen->ring) {
		uint64_t fresh = total - seen->ring;
		uint64_t attributed = tracer_drain_lost_cookies(t->tr, mark_lost_cookie, f);

		/* Some losses could not be tied to a socket (attribution map
		 * full, or records without one): any open history may be
		 * missing a step.
		 */
		if (attributed < fresh)
			feed_mark_all_lost(f);
		else
			feed_mark_listeners_lost(f);
		feed_lost(f, now, fresh, LOST_RING_FULL);
		seen->ring = total;
		any = true;
	}
	tracer_skips(t->tr, &sk);
	seen->caught = sk.caught;
	if (sk.records > seen->skipped) {
		/* A skipped run names no socket. The histories it touched show
		 * it themselves: a transition that does not follow the last one
		 * (missing_transition), a first record in mid-life, or a socket
		 * gone at the reconcile this triggers (close_not_seen; in
		 * TIME_WAIT: orderly). Tainting every open history instead
		 * would mark thousands for one lost record.
		 */
		feed_mark_listeners_lost(f);
		feed_lost(f, now, sk.records - seen->skipped, LOST_KERNEL_SKIPPED);
		seen->skipped = sk.records;
		any = true;
	}
	if (sk.filter > seen->filter) {
		/* maybe a listen overflow: listener figures only */
		feed_mark_listeners_lost(f);
		feed_lost(f, now, sk.filter - seen->filter, LOST_FILTER_SKIPPED);
		seen->filter = sk.filter;
	}
	return any;
}

/* Report sockets that have sat in CLOSE_WAIT too long, each with the
 * processes and descriptors holding it now.
 */
static void job_leaks(void *arg, uint64_t now)
{
	struct tracing *t = arg;
	struct owner_index *ix = &t->owners;
	size_t n = ingest_leak_candidates(t->feed.in, now, t->leak_cands, LEAK_BATCH_MAX);
	int err;

	if (!n)
		return;
	err = owner_index_scan_all(ix, &t->snap, TT_TCP_CLOSE_WAIT, t->p->max_conns);
	if (err)
		p_warn("failed to find the processes holding leaked sockets: %s", strerror(-err));
	if (owner_index_dropped(ix))
		p_warn("more than %u descriptors of CLOSE_WAIT sockets; some owners not named",
		       LEAK_OWNERS_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct owner *first;
		size_t k = owner_index_find(ix, t->leak_cands[i], &first);

		feed_leak(&t->feed, t->leak_cands[i], now, first, k);
	}
}

static void on_alert(const struct lw_alert *a, void *arg)
{
	struct tracing *t = arg;

	if (t->lsink.ops->alert &&
	    listen_sink_wanted(t->filter, a->l))
		t->lsink.ops->alert(t->lsink.ctx, a);
}

static void on_ports_alert(const struct ports_alert *a, void *arg)
{
	struct tracing *t = arg;

	if (t->lsink.ops->ports_alert &&
	    filter_match_destination(t->filter, a->d->family, a->d->raddr, a->d->rport,
				     a->d->netns))
		t->lsink.ops->ports_alert(t->lsink.ctx, a, t->ports);
}

static void job_sample(void *arg, uint64_t now)
{
	struct tracing *t = arg;
	int err = listen_sampler_run(&t->sampler, now, on_alert, t);

	/* the same failure every interval is said once */
	if (err && err != t->sample_err)
		p_warn("failed to sample listeners: %s", strerror(-err));
	t->sample_err = err;
	/* the destinations first: the view draws them under the listeners */
	if (t->ports)
		ports_interval(t->ports, ingest_table(t->feed.in), now, on_ports_alert, t);
	if (!err && t->lsink.ops->sample)
		t->lsink.ops->sample(t->lsink.ctx, t->feed.lw, now, t->filter);
	if (t->ports && t->lsink.ops->ports)
		t->lsink.ops->ports(t->lsink.ctx, t->ports, now, t->filter);
	if (!err && t->http)
		metrics_listeners(&t->metrics, t->feed.lw, now);
	if (t->ports) {
		if (t->http)
			metrics_ports(&t->metrics, t->ports);
		ports_interval_done(t->ports);
	}
}

static void job_stop(void *arg, uint64_t now)
{
	(void)now;
	((struct tracing *)arg)->stop = true;
}


/* Register the periodic jobs this profile needs. */
static int add_jobs(struct tracing *t, uint64_t now)
{
	const struct options *o = t->o;
	int err = 0;

	if (t->p->connections) {
		t->reconcile_timer = timers_add(&t->timers, now + RECONCILE_PERIOD_NS,
						RECONCILE_PERIOD_NS, job_reconcile, t);
		err |= t->reconcile_timer;
	}
	if (t->feed.lw)
		err |= timers_add(&t->timers, now, (uint64_t)(o->interval_s * 1e9), job_sample, t);
	if (o->leak_after_s > 0)
		err |= timers_add(&t->timers, now, LEAK_CHECK_NS, job_leaks, t);
	if (o->duration_s > 0)
		err |= timers_add(&t->timers, now + (uint64_t)(o->duration_s * 1e9), 0, job_stop, t);
	if (t->keys.fd >= 0)
		err |= timers_add(&t->timers, now, KEYS_PERIOD_NS, keys_job, &t->keys);
	return err < 0 ? -ENOSPC : 0;
}

static int flush_outputs(struct tracing *t, struct outbuf *out)
{
	if (t->feed.journal && outbuf_flush(&t->feed.journal->out)) {
		p_err("failed to write the recording: %s", strerror(t->feed.journal->out.err));
		return -1;
	}
	if (outbuf_flush(out)) {
		p_err("failed to write output: %s", strerror(out->err));
		return -1;
	}
	return 0;
}

static void record_cgroup(void *journal, uint64_t id, const char *path)
{
	journal_cgroup(journal, id, path);
}

static void publish_metrics(struct tracing *t, uint64_t now)
{
	if (!t->http)
		return;
	metrics_connections(&t->metrics, ingest_tracked(t->feed.in),
			    ingest_leak_stats(t->feed.in));
	metrics_http_publish(t->http, &t->metrics);
	t->published_ns = now;
}

static int loop(struct tracing *t, struct outbuf *out)
{
	while (!signals_exiting() && !t->stop) {
		uint64_t now = clock_mono_ns();
		int err = tracer_poll(t->tr, timers_timeout_ms(&t->timers, now, POLL_MS));

		if (err < 0) {
			p_err("failed to read the ring buffer: %s", strerror(-err));
			return -1;
		}
		now = clock_mono_ns();
		if (account_losses(t) && t->p->connections) {
			t->lost_since_reconcile = true;
			timers_pull(&t->timers, t->reconcile_timer, now + RECONCILE_AFTER_LOSS_NS);
		}
		timers_run(&t->timers, now);
		feed_expire(&t->feed, now);
		feed_batch_end(&t->feed);
		if (flush_outputs(t, out))
			return -1;
		/* SIGHUP: logrotate renamed -o; everything before went to it */
		if (signals_take_reopen())
			outbuf_reopen(out, t->o->output);
		if (now - t->published_ns >= METRICS_PUBLISH_NS)
			publish_metrics(t, now);
	}
	/* Take what is still queued, then finish what has closed. */
	while (tracer_poll(t->tr, 0) > 0)
		;
	if ((account_losses(t) || t->lost_since_reconcile) && t->p->connections)
		reconcile_with_kernel(t, !t->seeded);
	/* replay ends with the same flush when its file ends */
	ingest_flush(t->feed.in);
	ingest_batch_end(t->feed.in);
	if (t->em)
		emit_text_flush(t->em);
	publish_metrics(t, clock_mono_ns());
	return flush_outputs(t, out);
}

int trace_run(const struct options *o, const struct trace_profile *p)
{
	/* a struct filter is 16 KiB of port bits: static, one tracing loop */
	static struct filter filter;
	struct ingest_config icfg = {
		.max_conns = p->max_conns,
		.close_grace_ns = (uint64_t)o->grace_ms * 1000000ull,
		.states = o->states,
		.histories = o->histories,
		.filter = &filter,
		.leak_after_ns = (uint64_t)(o->leak_after_s * 1e9),
	};
	static const struct sink_ops none;
	struct tracing t = { .o = o, .p = p, .reconcile_timer = -1, .seeded = o->snapshot,
			     .sampler = { .text = NULL }, .keys = { .fd = -1 } };
	struct sink tap = { &sink_tee_ops, &t.tap };
	struct tracer_config tcfg = { .ring_mb = o->ring_mb, .on_event = feed_event };
	struct lw_config lcfg = { .max_listeners = o->max_listeners,
				  .max_requests = LISTEN_REQUESTS_MAX };
	struct journal_writer journal = { .out = { .buf = NULL } };
	struct outbuf out = { .buf = NULL };
	struct top_view tv;
	static struct text_order order;
	static struct emitter em;	/* 16 KiB of line buffers */
	struct sink sink;
	/* closed listeners' series linger beside the live ones */
	uint32_t max_series = 2 * o->max_listeners;
	int fd = -1, rfd = -1, err, ret = 1;

	filter = o->filter;
	owner_index_init(&t.owners, LEAK_OWNERS_MAX);
	if (o->metrics) {
		/* bound now: the port may need privileges about to be dropped */
		t.http = metrics_http_bind(o->metrics, max_series);
		if (!t.http)
			return 1;
		if (metrics_init(&t.metrics, max_series, (uint64_t)(o->metrics_linger_s * 1e9))) {
			p_err("out of memory");
			goto cleanup;
		}
		t.tap.a = (struct sink){ &metrics_sink_ops, &t.metrics };
	}
	if (p->connections && o->listeners) {
		struct ports_config pcfg = { .max_dests = o->max_destinations };

		t.ports = ports_new(&pcfg);
		if (!t.ports) {
			p_err("cannot reserve a table for %u destinations", o->max_destinations);
			goto cleanup;
		}
		t.tap.b = (struct sink){ &ports_sink_ops, t.ports };
	}
	if (!t.tap.a.ops)
		t.tap.a.ops = &none;
	if (!t.tap.b.ops)
		t.tap.b.ops = &none;
	if (t.http || t.ports)
		icfg.tap = &tap;
	/* The recording first: it must be new, so a second name for it in -o
	 * is found by what it is, not by what it is called.
	 */
	if (o->record && (rfd = outfile_create(o->record, "recording")) < 0)
		return 1;
	fd = outfile_open(o->output);
	if (fd < 0)
		goto cleanup;
	if (outfile_same(fd, rfd)) {
		p_err("--output and --record name the same file ('%s')", o->record);
		goto cleanup;
	}
	t.leak_cands = calloc(LEAK_BATCH_MAX, sizeof(*t.leak_cands));
	if (!t.leak_cands || outbuf_init(&out, fd, OUTBUF_BYTES)) {
		p_err("out of memory");
		goto cleanup;
	}
	emitter_init(&em, &out);
	em.own_netns = netns_self();
	t.cgroups = cgroups_open();
	if (!cgroups_v2())
		t.feed.by_owner = t.cgroups;
	em.cgroup_lookup = t.cgroups ? cgroups_lookup_cb : NULL;
	em.cgroup_ctx = t.cgroups;
	filter.lookup = em.cgroup_lookup;
	filter.lookup_ctx = t.cgroups;
	filter_check_exists(&filter);
	t.metrics.cgroup_lookup = em.cgroup_lookup;
	t.metrics.cgroup_ctx = t.cgroups;
	t.filter = &filter;
	/* The one place the view is decided. */
	sink = (struct sink){ o->json ? &emit_json_ops : &emit_text_ops, &em };
	t.lsink = (struct listen_sink){ o->json ? &emit_json_listen_ops : &emit_text_listen_ops,
					&em };
	if (p->view == TRACE_TOP) {
		sink.ops = &none;	/* connections feed the counts, unprinted */
		if (!o->json) {
			top_view_init(&tv, &out, &em.clock, isatty(fd),
				      (uint64_t)(o->interval_s * 1e9), em.own_netns);
			tv.filter = &filter;
			tv.cgroup_lookup = em.cgroup_lookup;
			tv.cgroup_ctx = em.cgroup_ctx;
			tv.ports = t.ports;
			tv.wide = o->wide;
			tv.netns_name = netns_name;
			keys_open(&t.keys, &t.stop);
			t.lsink = (struct listen_sink){ &top_view_listen_ops, &tv };
		}
	}
	em.wide = o->wide;
	if (sink.ops == &emit_text_ops) {
		if (emit_text_hold(&em, &order, icfg.close_grace_ns, clock_mono_ns)) {
			p_err("out of memory");
			goto cleanup;
		}
		t.em = &em;
	}
	t.feed.in = ingest_new(&icfg, &sink);
	if (!t.feed.in) {
		p_err("cannot reserve a table for %u connections", p->max_conns);
		goto cleanup;
	}
	if (o->listeners) {
		t.feed.lw = listen_watch_new(&lcfg);
		if (!t.feed.lw) {
			p_err("cannot reserve a table for %u listeners", o->max_listeners);
			goto cleanup;
		}
	}
	if (o->record) {
		struct journal_header h;

		journal_header_init(&h, em.clock.mono_to_real_ns, icfg.max_conns,
				    icfg.close_grace_ns, icfg.leak_after_ns, em.own_netns);
		err = journal_create(&journal, rfd, &h);
		if (err) {
			p_err("cannot start recording '%s': %s", o->record, strerror(-err));
			goto cleanup;
		}
		rfd = -1;	/* the writer owns it */
		t.feed.journal = &journal;
		t.feed.names = t.cgroups;
		cgroups_observe(t.cgroups, record_cgroup, &journal);
	}
	tcfg.arg = &t.feed;
	signals_install();
	if (tracer_open(&t.tr, &tcfg))
		goto cleanup;
	em.rst_reasons = tracer_rst_reasons(t.tr)->names;
	em.n_rst_reasons = tracer_rst_reasons(t.tr)->n;
	snapshot_open(&t.snap);
	tracer_set_hz(t.tr, snapshot_hz(&t.snap));
	/* everything is loaded and attached: keep only what tracing uses */
	privs_drop();
	if (t.http && metrics_http_start(t.http))
		goto cleanup;
	if (o->snapshot && p->connections && reconcile_with_kernel(&t, true)) {
		p_err("out of memory reading existing sockets");
		goto cleanup;
	}
	if ((t.feed.lw && listen_sampler_init(&t.sampler, &t.snap, t.feed.lw, p->max_conns)) ||
	    add_jobs(&t, clock_mono_ns())) {
		p_err("out of memory");
		goto cleanup;
	}
	t.sampler.ports = t.ports;
	if (sink.ops == &emit_text_ops)
		emit_text_header(&em);
	outbuf_flush(&out);
	p_info("tracing; Ctrl-C to stop");
	if (loop(&t, &out))
		goto cleanup;
	if (p->connections)
		summary_print(t.feed.in);
	p_info("nested state changes recorded by the second program: %llu",
	       (unsigned long long)t.lost.caught);
	if (t.feed.lw)
		summary_print_listeners(t.feed.lw);
	if (t.ports) {
		const struct ports_stats *ps = ports_stats(t.ports);

		p_info("%llu connects found no local port, %llu ephemeral_ports alerts; "
		       "%llu destinations dropped from a full table (--max-destinations)",
		       (unsigned long long)ps->failures, (unsigned long long)ps->alerts,
		       (unsigned long long)ps->evicted);
	}
	if (t.feed.journal)
		journal_end(t.feed.journal);	/* a whole recording, not a cut one */
	if (filter_active(&filter) && !em.shown && p->view != TRACE_TOP)
		p_warn("the filters matched nothing: no record was shown");
	ret = 0;
cleanup:
	keys_close(&t.keys);
	err = journal_close(&journal);
	if (err) {
		p_err("failed to write the recording: %s", strerror(-err));
		ret = 1;
	}
	metrics_http_stop(t.http);
	cgroups_close(t.cgroups);
	metrics_free(&t.metrics);
	listen_sampler_free(&t.sampler);
	listen_watch_free(t.feed.lw);
	ports_free(t.ports);
	free(t.leak_cands);
	owner_index_free(&t.owners);
	snapshot_close(&t.snap);
	tracer_close(t.tr);
	ingest_free(t.feed.in);
	/* -o may have been reopened: the buffer holds the current one */
	outfile_close(out.buf ? out.fd : fd);
	outbuf_free(&out);
	outfile_close(rfd);
	text_order_free(&order);
	return ret;
}

int trace_main(struct options *o)
{
	struct trace_profile p = { TRACE_RECORDS, true, o->max_conns };

	return trace_run(o, &p);
}
