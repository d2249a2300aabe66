/* tcptrail replay: reconstruct from a --record file, offline. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cgroup_names.h"
#include "clock.h"
#include "conn_table.h"
#include "emit.h"
#include "ingest.h"
#include "journal.h"
#include "log.h"
#include "outbuf.h"
#include "outfile.h"
#include "replay.h"
#include "summary.h"
#include "tracer.h"

#define OUTBUF_BYTES (1u << 20)

/* The recorded table size, but no larger than the file could ever fill:
 * every socket it names costs at least one socket record, so a table of
 * that many never evicts, and the output is the same as with the recorded
 * size. A hostile header cannot make replay reserve more than the file is
 * worth.
 */
static uint32_t table_size(int fd, uint32_t recorded)
{
	struct stat st;
	uint64_t most;

	if (fstat(fd, &st) || st.st_size < 0)
		return recorded;
	most = (uint64_t)st.st_size / sizeof(struct tt_sock_record) + 16;
	return most < recorded ? (uint32_t)most : recorded;
}

/* Reconstruct from a --record file: the same calls, the same output. */
int replay_main(struct options *o)
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
	struct cgroup_names *names = cgroup_names_new();
	static struct text_order order;
	static struct emitter em;	/* 16 KiB of line buffers */
	struct sink sink;
	char err[200];
	uint64_t t0, t1;
	long frames;
	int fd = STDOUT_FILENO, ret = 1, rfd;

	tracer_load_rst_reasons(&reasons);
	rfd = open(o->replay, O_RDONLY | O_CLOEXEC);
	if (rfd < 0) {
		p_err("cannot open recording '%s': %s", o->replay, strerror(errno));
		goto cleanup;
	}
	if (journal_read_header(rfd, &h, err, sizeof(err))) {
		p_err("%s: %s", o->replay, err);
		goto cleanup;
	}
	icfg.max_conns = table_size(rfd, h.max_conns);
	icfg.close_grace_ns = h.close_grace_ns;
	icfg.leak_after_ns = h.leak_after_ns;
	fd = outfile_open(o->output);
	if (fd < 0)
		goto cleanup;
	if (outfile_same(rfd, fd)) {
		p_err("the recording '%s' is also the output: it would read what it writes",
		      o->replay);
		goto cleanup;
	}
	if (outbuf_init(&out, fd, OUTBUF_BYTES)) {
		p_err("out of memory");
		goto cleanup;
	}
	if (!names) {
		p_err("out of memory");
		goto cleanup;
	}
	emitter_init(&em, &out);
	/* the names the live run gave cgroup ids, from the recording */
	em.cgroup_lookup = cgroup_names_lookup;
	em.cgroup_ctx = names;
	fmt_clock_set(&em.clock, h.mono_to_real_ns);
	em.own_netns = h.own_netns;
	em.rst_reasons = reasons.names;
	em.n_rst_reasons = reasons.n;
	sink.ops = o->json ? &emit_json_ops : &emit_text_ops;
	sink.ctx = &em;
	em.wide = o->wide;
	/* in time order as live, against the recording's own clock */
	if (!o->json && emit_text_hold(&em, &order, icfg.close_grace_ns, NULL)) {
		p_err("out of memory");
		goto cleanup;
	}
	in = ingest_new(&icfg, &sink);
	if (!in) {
		p_err("cannot reserve a table for %u connections", icfg.max_conns);
		goto cleanup;
	}
	if (!o->json)
		emit_text_header(&em);
	t0 = clock_mono_ns();
	frames = journal_replay(rfd, &h, in, cgroup_names_set, names, err, sizeof(err));
	if (frames < 0) {
		p_err("%s: %s", o->replay, err);
		goto cleanup;
	}
	ingest_flush(in);
	ingest_batch_end(in);
	emit_text_flush(&em);
	t1 = clock_mono_ns();
	if (outbuf_flush(&out)) {
		p_err("failed to write output: %s", strerror(out.err));
		goto cleanup;
	}
	summary_print(in);
	fprintf(stderr, "tcptrail: replayed %ld frames in %.3f s (%.0f records/s); "
		"peak memory %ld MiB; table %zu bytes per connection\n", frames,
		(t1 - t0) / 1e9, ingest_stats(in)->records / ((t1 - t0 + 1) / 1e9),
		summary_peak_rss_kib() / 1024, conn_table_bytes_per_conn());
	ret = 0;
cleanup:
	ingest_free(in);
	cgroup_names_free(names);
	outbuf_free(&out);
	outfile_close(fd);
	if (rfd >= 0)
		close(rfd);
	tracer_free_rst_reasons(&reasons);
	text_order_free(&order);
	return ret;
}
