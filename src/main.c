/* tcptrail: trace TCP connection lifecycles live. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "emit.h"
#include "ingest.h"
#include "log.h"
#include "netns.h"
#include "leak_report.h"
#include "opts.h"
#include "outbuf.h"
#include "owners.h"
#include "snapshot.h"
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

static void on_event(const struct tt_event *e, void *arg)
{
	ingest_event(arg, e);
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
/* Descriptors one owner scan keeps at most. */
#define OWNER_INDEX_MAX (4u << 20)

/* Report sockets that have sat in CLOSE_WAIT too long, each with the
 * processes and descriptors holding it now.
 */
static void check_leaks(struct snapshot *snap, struct ingest *in, struct owner_index *ix,
			uint64_t *cands, uint64_t now, uint32_t max)
{
	struct sock_list l = { 0 };
	size_t n = ingest_leak_candidates(in, now, cands, LEAK_BATCH_MAX);
	int err;

	if (!n)
		return;
	/* The /proc fallback matches descriptors by socket inode. */
	if (snap->files_via_proc)
		snapshot_collect(snap, &l, max);
	err = owner_index_scan(ix, snap, TT_TCP_CLOSE_WAIT, l.v, l.n);
	sock_list_free(&l);
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

		ingest_report_leak(in, cands[i], now, first, k);
	}
}

/* Read every socket of every namespace, ingest everything queued meanwhile,
 * then reconcile: records first, so a socket born after the snapshot began
 * is never mistaken for an old or a vanished one.
 */
static int reconcile_with_kernel(struct snapshot *snap, struct tracer *tr, struct ingest *in,
				 uint32_t max, bool initial)
{
	struct sock_list l;
	uint64_t started = mono_ns();
	int err;

	err = snapshot_collect(snap, &l, max);
	if (err == -ENOMEM) {
		sock_list_free(&l);
		return err;
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
	if (!l.dropped || initial)
		ingest_reconcile(in, l.v, l.n, started, initial);
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
	ingest_mark_lost(arg, cookie);
}

/* Report records lost since the last call and taint what they touched.
 * Returns true when there were new losses.
 */
static bool account_losses(struct tracer *tr, struct ingest *in, uint64_t *seen)
{
	uint64_t total = tracer_lost_total(tr), fresh, attributed;

	if (total <= *seen)
		return false;
	fresh = total - *seen;
	attributed = tracer_drain_lost_cookies(tr, mark_lost_cookie, in);
	/* Some losses could not be tied to a socket (attribution map full,
	 * or records without one): any open history may be missing a step.
	 */
	if (attributed < fresh)
		ingest_mark_all_lost(in);
	ingest_lost(in, mono_ns(), fresh);
	*seen = total;
	return true;
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

static int trace(const struct options *o)
{
	struct ingest_config icfg = {
		.max_conns = o->max_conns,
		.close_grace_ns = (uint64_t)o->grace_ms * 1000000ull,
		.states = o->states,
		.histories = o->histories,
		.filter = &o->filter,
		.leak_after_ns = (uint64_t)(o->leak_after_s * 1e9),
	};
	struct tracer_config tcfg = { .ring_mb = o->ring_mb, .on_event = on_event };
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
	uint64_t lost_seen = 0, deadline = 0;
	const struct ingest_stats *st;
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
	sink.ops = o->json ? &emit_json_ops : &emit_text_ops;
	sink.ctx = &em;
	in = ingest_new(&icfg, &sink);
	if (!in) {
		p_err("cannot reserve a table for %u connections", o->max_conns);
		goto cleanup;
	}
	tcfg.arg = in;
	install_signals();
	err = tracer_open(&tr, &tcfg);
	if (err)
		goto cleanup;
	em.rst_reasons = tracer_rst_reasons(tr, &em.n_rst_reasons);
	snapshot_open(&snap);
	if (o->snapshot && reconcile_with_kernel(&snap, tr, in, o->max_conns, true)) {
		p_err("out of memory reading existing sockets");
		goto cleanup;
	}
	next_periodic = mono_ns() + RECONCILE_PERIOD_NS;
	if (!o->json)
		emit_text_header(&em);
	outbuf_flush(&out);
	p_info("tracing; Ctrl-C to stop");
	if (o->duration_s > 0)
		deadline = mono_ns() + (uint64_t)(o->duration_s * 1e9);

	while (!exiting) {
		uint64_t now;

		err = tracer_poll(tr, POLL_MS);
		if (err < 0) {
			p_err("failed to read the ring buffer: %s", strerror(-err));
			goto cleanup;
		}
		now = mono_ns();
		if (account_losses(tr, in, &lost_seen)) {
			lost_since_reconcile = true;
			if (!reconcile_at)
				reconcile_at = now + RECONCILE_AFTER_LOSS_NS;
		}
		if ((reconcile_at && now >= reconcile_at) || now >= next_periodic) {
			reconcile_with_kernel(&snap, tr, in, o->max_conns, !seeded);
			seeded = true;
			reconcile_at = 0;
			lost_since_reconcile = false;
			next_periodic = now + RECONCILE_PERIOD_NS;
		}
		ingest_expire(in, now);
		if (icfg.leak_after_ns && now >= next_leak_check) {
			check_leaks(&snap, in, &owners, leak_cands, now, o->max_conns);
			next_leak_check = now + LEAK_CHECK_NS;
		}
		ingest_batch_end(in);
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
	if (account_losses(tr, in, &lost_seen) || lost_since_reconcile)
		reconcile_with_kernel(&snap, tr, in, o->max_conns, !seeded);
	ingest_flush(in);
	ingest_batch_end(in);
	if (outbuf_flush(&out)) {
		p_err("failed to write output: %s", strerror(out.err));
		goto cleanup;
	}
	st = ingest_stats(in);
	fprintf(stderr,
		"tcptrail: %llu records, %llu histories (%llu incomplete), %llu lost, "
		"%llu evicted, %llu vanished, %u still open, %llu CLOSE_WAIT leaks "
		"(%llu resolved)\n",
		(unsigned long long)st->records, (unsigned long long)st->histories,
		(unsigned long long)st->incomplete, (unsigned long long)st->lost,
		(unsigned long long)st->evicted, (unsigned long long)st->vanished,
		conn_table_count(ingest_table(in)), (unsigned long long)st->leaks,
		(unsigned long long)st->leaks_resolved);
	ret = 0;
cleanup:
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
	return trace(&o);
}
