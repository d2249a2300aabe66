/* The tracing run: set up, the loop, tear down. Kernel records in,
 * reconstruction, output; the periodic jobs are in trace_jobs.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bpf_load.h"
#include "cgroups.h"
#include "clock.h"
#include "filter_check.h"
#include "ingest.h"
#include "listen_watch.h"
#include "log.h"
#include "netns.h"
#include "outfile.h"
#include "privs.h"
#include "signals.h"
#include "summary.h"
#include "trace_priv.h"

#define OUTBUF_BYTES (1u << 20)
/* Longest a record waits in the kernel when nothing forces a wakeup. */
#define POLL_MS 100
/* Half-open requests one listener sample tallies by source at most. */
#define LISTEN_REQUESTS_MAX (1u << 18)
/* How often the kernel's loss counters are read (and at the end). */
#define LOSS_CHECK_NS 100000000ull
/* How often the metrics scrapes see are brought up to date. */
#define METRICS_PUBLISH_NS 100000000ull

static int flush_outputs(struct tracing *t)
{
	int err = t->feed.journal ? journal_flush(t->feed.journal) : 0;

	if (err) {
		p_err("failed to write the recording: %s", strerror(-err));
		return -1;
	}
	if (outbuf_flush(&t->out)) {
		p_err("failed to write output: %s", strerror(t->out.err));
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
	metrics_connections(&t->metrics, trace_tracked_states(t), ingest_leak_stats(t->feed.in));
	metrics_http_publish(t->http, &t->metrics);
	t->published_ns = now;
}

static int loop(struct tracing *t)
{
	while (!signals_exiting() && !t->stop) {
		uint64_t now = clock_mono_ns();
		int err = tracer_poll(t->tr, timers_timeout_ms(t->timers, now, POLL_MS));

		if (err < 0) {
			p_err("failed to read the ring buffer: %s", strerror(-err));
			return -1;
		}
		now = clock_mono_ns();
		/* a dozen syscalls: not for every wakeup of a busy ring */
		if (now - t->losses_ns >= LOSS_CHECK_NS) {
			trace_account_losses(t);
			t->losses_ns = now;
		}
		timers_run(t->timers, now);
		feed_expire(&t->feed, now);
		feed_batch_end(&t->feed);
		if (flush_outputs(t))
			return -1;
		/* SIGHUP: logrotate renamed -o (everything before went to it),
		 * or certificates were renewed
		 */
		if (signals_take_reopen()) {
			outbuf_reopen(&t->out, t->o->output);
			metrics_http_reload(t->http);
		}
		if (now - t->published_ns >= METRICS_PUBLISH_NS)
			publish_metrics(t, now);
	}
	/* Take what is still queued, then finish what has closed. */
	while (tracer_poll(t->tr, 0) > 0)
		;
	if ((trace_account_losses(t) || t->lost_since_reconcile) && t->p->connections)
		trace_reconcile(t, !t->seeded);
	if (t->p->connections)
		trace_check_unseen(t, true);
	/* replay ends with the same flush when its file ends */
	ingest_flush(t->feed.in);
	ingest_batch_end(t->feed.in);
	emit_text_flush(&t->em);
	publish_metrics(t, clock_mono_ns());
	return flush_outputs(t);
}

/* Metrics and the port watch: ingest's tap feeds both. The metrics port is
 * bound now: it may need privileges about to be dropped.
 */
static int setup_taps(struct tracing *t)
{
	static const struct sink_ops none;
	const struct options *o = t->o;
	/* closed listeners' series linger beside the live ones */
	uint32_t max_series = 2 * o->max_listeners;

	t->tap.a.ops = t->tap.b.ops = &none;
	if (o->metrics) {
		t->http = metrics_http_bind(o->metrics, o->web_config, max_series);
		if (!t->http)
			return -1;
		if (metrics_init(&t->metrics, max_series, (uint64_t)(o->metrics_linger_s * 1e9))) {
			p_err("out of memory");
			return -1;
		}
		t->tap.a = (struct sink){ &metrics_sink_ops, &t->metrics };
	}
	if (t->p->connections && o->listeners) {
		struct ports_config pcfg = { .max_dests = o->max_destinations };

		t->ports = ports_new(&pcfg);
		if (!t->ports) {
			p_err("cannot reserve a table for %u destinations", o->max_destinations);
			return -1;
		}
		t->tap.b = (struct sink){ &ports_sink_ops, t->ports };
	}
	return 0;
}

/* The files: the recording first, for it must be new, so a second name for
 * it in -o is found by what it is, not by what it is called.
 */
static int setup_files(struct tracing *t)
{
	const struct options *o = t->o;

	if (o->record && (t->rfd = outfile_create(o->record, "recording")) < 0)
		return -1;
	t->fd = outfile_open(o->output);
	if (t->fd < 0)
		return -1;
	if (outfile_same(t->fd, t->rfd)) {
		p_err("--output and --record name the same file ('%s')", o->record);
		return -1;
	}
	if (outbuf_init(&t->out, t->fd, OUTBUF_BYTES)) {
		p_err("out of memory");
		return -1;
	}
	t->fd = -1;	/* the buffer owns it */
	return 0;
}

/* The one place the view is decided. Returns 0, or -1 (out of memory). */
static int setup_view(struct tracing *t)
{
	static const struct sink_ops none;
	const struct options *o = t->o;
	struct emitter *em = &t->em;

	emitter_init(em, &t->out);
	em->own_netns = netns_self();
	t->cgroups = cgroups_open();
	if (!cgroups_v2())
		t->feed.by_owner = t->cgroups;
	em->cgroup_lookup = t->cgroups ? cgroups_lookup_cb : NULL;
	em->cgroup_ctx = t->cgroups;
	t->filter.lookup = em->cgroup_lookup;
	t->filter.lookup_ctx = t->cgroups;
	filter_check_exists(&t->filter);
	t->metrics.cgroup_lookup = em->cgroup_lookup;
	t->metrics.cgroup_ctx = t->cgroups;
	t->sink = (struct sink){ o->json ? &emit_json_ops : &emit_text_ops, em };
	t->lsink = (struct listen_sink){ o->json ? &emit_json_listen_ops : &emit_text_listen_ops,
					 em };
	em->wide = o->wide;
	if (t->p->view != TRACE_TOP) {
		if (o->json)
			return 0;
		/* in time order: a history prints a grace period after its CLOSE */
		t->order = emit_text_hold(em, (uint64_t)o->grace_ms * 1000000ull, clock_mono_ns);
		if (!t->order ||
		    emit_text_ages(em, &t->ages, t->p->max_conns)) {
			p_err("out of memory");
			return -1;
		}
		return 0;
	}
	t->sink.ops = &none;	/* connections feed the counts, unprinted */
	if (o->json)
		return 0;
	t->slow = top_slow_new();
	t->sink = (struct sink){ &top_slow_ops, t->slow };
	t->tv = top_view_new(&(struct top_view_config){
		.out = &t->out,
		.clock = &em->clock,
		.ansi = isatty(t->out.fd),
		.interval_ns = (uint64_t)(o->interval_s * 1e9),
		.own_netns = em->own_netns,
		.filter = &t->filter,
		.cgroup_lookup = em->cgroup_lookup,
		.cgroup_ctx = em->cgroup_ctx,
		.ports = t->ports,
		.slow = t->slow,
		.wide = o->wide,
		.netns_name = netns_name,
	});
	if (!t->slow || !t->tv || keys_open(&t->keys, &t->stop)) {
		p_err("out of memory");
		return -1;
	}
	t->lsink = (struct listen_sink){ &top_view_listen_ops, t->tv };
	return 0;
}

/* The tables, and the recording's header. */
static int setup_tables(struct tracing *t)
{
	const struct options *o = t->o;
	struct lw_config lcfg = { .max_listeners = o->max_listeners,
				  .max_requests = LISTEN_REQUESTS_MAX };
	t->icfg = (struct ingest_config){
		.max_conns = t->p->max_conns,
		.close_grace_ns = (uint64_t)o->grace_ms * 1000000ull,
		.states = o->states,
		.states_explicit = true,
		.histories = o->histories,
		.filter = &t->filter,
		.leak_after_ns = (uint64_t)(o->leak_after_s * 1e9),
	};
	t->tap_sink = (struct sink){ &sink_tee_ops, &t->tap };
	if (t->http || t->ports)
		t->icfg.tap = &t->tap_sink;
	t->leak_cands = calloc(TRACE_LEAK_BATCH_MAX, sizeof(*t->leak_cands));
	t->feed.in = ingest_new(&t->icfg, &t->sink);
	if (!t->leak_cands || !t->feed.in) {
		p_err("cannot reserve a table for %u connections", t->p->max_conns);
		return -1;
	}
	if (o->listeners && !(t->feed.lw = listen_watch_new(&lcfg))) {
		p_err("cannot reserve a table for %u listeners", o->max_listeners);
		return -1;
	}
	if (o->record) {
		struct journal_header h;
		int err;

		journal_header_init(&h, t->em.clock.mono_to_real_ns, t->icfg.max_conns,
				    t->icfg.close_grace_ns, t->icfg.leak_after_ns, t->em.own_netns);
		err = journal_create(&t->journal, t->rfd, &h);
		if (err) {
			p_err("cannot start recording '%s': %s", o->record, strerror(-err));
			return -1;
		}
		t->rfd = -1;	/* the writer owns it */
		t->feed.journal = t->journal;
		t->feed.names = t->cgroups;
		cgroups_observe(t->cgroups, record_cgroup, t->journal);
	}
	return 0;
}

/* Load and attach, then take the kernel's sockets as they are. Privileges
 * are dropped as soon as everything that needs them is done.
 */
static int start_kernel(struct tracing *t)
{
	const struct options *o = t->o;
	struct tracer_config tcfg = {
		.ring_mb = o->ring_mb,
		/* the live stream only where something prints it */
		.live_states = o->states && t->p->view == TRACE_RECORDS,
		.watch_close_wait = o->leak_after_s > 0,
		.count_ports = t->ports != NULL,
		.max_destinations = o->max_destinations,
		.max_listeners = o->max_listeners,
		.retransmits_per_s = o->retransmits_per_s,
		.sockets_at_start = snapshot_tcp_allocated(),
		.on_event = feed_event,
		.arg = &t->feed,
	};

	if (tracer_open(&t->tr, &tcfg))
		return -1;
	t->kept = tracer_features(t->tr)->kept_lives;
	t->feed.kernel_counts = t->kept;
	ingest_set_recorded(t->feed.in, t->kept, o->states);
	if (t->feed.journal)
		journal_settings(t->feed.journal, t->kept, o->states);
	t->em.rst_reasons = tracer_rst_reasons(t->tr)->names;
	t->em.n_rst_reasons = tracer_rst_reasons(t->tr)->n;
	if (!(t->snap = snapshot_open())) {
		p_err("out of memory");
		return -1;
	}
	tracer_set_hz(t->tr, snapshot_hz(t->snap));
	/* everything is loaded and attached: keep only what tracing uses */
	if (privs_drop()) {
		p_err("refusing to trace with more privileges than tracing needs");
		return -1;
	}
	if (t->http && metrics_http_start(t->http))
		return -1;
	if (o->snapshot && t->p->connections && trace_reconcile(t, true)) {
		p_err("out of memory reading existing sockets");
		return -1;
	}
	if (t->feed.lw) {
		struct listen_sampler_config scfg = {
			.snap = t->snap,
			.lw = t->feed.lw,
			.max_socks = t->p->max_conns,
			.ports = t->ports,
			.counts = t->kept ? trace_listen_counts : NULL,
			.counts_arg = t,
		};

		if (!(t->sampler = listen_sampler_new(&scfg))) {
			p_err("out of memory");
			return -1;
		}
	}
	if (trace_add_jobs(t, clock_mono_ns())) {
		p_err("out of memory");
		return -1;
	}
	return 0;
}

static void print_summary(struct tracing *t)
{
	uint32_t open = 0;

	if (t->p->connections) {
		if (t->kept) {
			const uint32_t *by = trace_tracked_states(t);

			for (int s = 0; s < TT_TCP_MAX_STATES; s++)
				open += s == TT_TCP_LISTEN ? 0 : by[s];
		} else {
			open = conn_table_count(ingest_table(t->feed.in));
		}
		summary_print(t->feed.in, open);
	}
	if (t->retrans_unwritten)
		p_info("%llu live retransmit records over --retransmits-per-s not written",
		       (unsigned long long)t->retrans_unwritten);
	p_info("state changes the first program skipped: %llu, of which the catcher recorded %llu",
	       (unsigned long long)t->lost.missed, (unsigned long long)t->lost.caught);
	if (t->feed.lw)
		summary_print_listeners(t->feed.lw);
	if (t->ports) {
		const struct ports_stats *ps = ports_stats(t->ports);

		p_info("%llu connects found no local port, %llu ephemeral_ports alerts; "
		       "%llu destinations dropped from a full table (--max-destinations)",
		       (unsigned long long)ps->failures, (unsigned long long)ps->alerts,
		       (unsigned long long)ps->evicted);
	}
}

/* Release everything, in the reverse of setup; NULL-safe throughout, so
 * any setup step may fail. Returns ret, or 1 when the recording could not
 * be finished.
 */
static int teardown(struct tracing *t, int ret)
{
	int err = journal_close(t->journal);

	keys_close(t->keys);

	if (err) {
		p_err("failed to write the recording: %s", strerror(-err));
		ret = 1;
	}
	metrics_http_stop(t->http);
	cgroups_close(t->cgroups);
	metrics_free(&t->metrics);
	listen_sampler_free(t->sampler);
	listen_watch_free(t->feed.lw);
	ports_free(t->ports);
	free(t->leak_cands);
	owner_index_free(t->owners);
	snapshot_close(t->snap);
	tracer_close(t->tr);
	ingest_free(t->feed.in);
	/* -o may have been reopened: the buffer holds the current one */
	if (t->out.buf)
		outfile_close(t->out.fd);
	outbuf_free(&t->out);
	outfile_close(t->fd);
	outfile_close(t->rfd);
	text_order_free(t->order);
	state_age_free(&t->ages);
	timers_free(t->timers);
	top_view_free(t->tv);
	top_slow_free(t->slow);
	return ret;
}

int trace_run(const struct options *o, const struct trace_profile *p)
{
	struct tracing *t = calloc(1, sizeof(*t));
	int ret = 1;

	if (!t) {
		p_err("out of memory");
		return 1;
	}
	t->o = o;
	t->p = p;
	t->reconcile_timer = -1;
	t->seeded = o->snapshot;
	t->fd = t->rfd = -1;
	t->filter = o->filter;
	signals_install();
	t->owners = owner_index_new(TRACE_LEAK_OWNERS_MAX);
	if (!(t->timers = timers_new()) || !t->owners) {
		p_err("out of memory");
		goto done;
	}
	if (setup_taps(t) || setup_files(t))
		goto done;
	if (setup_view(t) || setup_tables(t) || start_kernel(t))
		goto done;
	if (t->sink.ops == &emit_text_ops)
		emit_text_header(&t->em);
	outbuf_flush(&t->out);
	bpf_load_report();
	p_info("started in %llu ms", (unsigned long long)clock_since_exec_ms());
	p_info("tracing; Ctrl-C to stop");
	if (loop(t))
		goto done;
	print_summary(t);
	if (t->feed.journal)
		journal_end(t->feed.journal);	/* a whole recording, not a cut one */
	if (filter_active(&t->filter) && !t->em.shown && p->view != TRACE_TOP)
		p_warn("the filters matched nothing: no record was shown");
	ret = 0;
done:
	ret = teardown(t, ret);
	free(t);
	return ret;
}

int trace_main(struct options *o)
{
	struct trace_profile p = { .view = TRACE_RECORDS, .connections = true,
				   .max_conns = o->max_conns };

	return trace_run(o, &p);
}
