/* Reconstruction from a recording: the same calls the live run made. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "cgroup_names.h"
#include "clock.h"
#include "conn_table.h"
#include "emit.h"
#include "outbuf.h"
#include "replay_stream.h"

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

int replay_stream(int rfd, const struct journal_header *h, int out_fd,
		  const struct replay_setup *s, struct replay_result *r, char *err, size_t errlen)
{
	struct ingest_config icfg = {
		.states = s->states,
		.histories = s->histories,
		.filter = s->filter,
		.max_conns = table_size(rfd, h->max_conns),
		.close_grace_ns = h->close_grace_ns,
		.leak_after_ns = h->leak_after_ns,
	};
	struct outbuf out = { .buf = NULL };
	struct cgroup_names *names = cgroup_names_new();
	struct ingest *in = NULL;
	struct emitter em;
	struct sink sink;
	char why[200];
	uint64_t t0;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	if (!names || outbuf_init(&out, out_fd, OUTBUF_BYTES)) {
		snprintf(err, errlen, "out of memory");
		goto cleanup;
	}
	emitter_init(&em, &out);
	/* the names the live run gave cgroup ids, from the recording */
	em.cgroup_lookup = cgroup_names_lookup;
	em.cgroup_ctx = names;
	fmt_clock_set(&em.clock, h->mono_to_real_ns);
	em.own_netns = h->own_netns;
	em.rst_reasons = s->rst_reasons;
	em.n_rst_reasons = s->n_rst_reasons;
	sink.ops = s->json ? &emit_json_ops : &emit_text_ops;
	sink.ctx = &em;
	in = ingest_new(&icfg, &sink);
	if (!in) {
		snprintf(err, errlen, "cannot reserve a table for %u connections", icfg.max_conns);
		goto cleanup;
	}
	if (!s->json)
		emit_text_header(&em);
	t0 = clock_mono_ns();
	r->frames = journal_replay(rfd, h, in, cgroup_names_set, names, why, sizeof(why));
	if (r->frames < 0) {
		snprintf(err, errlen, "%s: %s", s->name, why);
		goto cleanup;
	}
	ingest_flush(in);
	ingest_batch_end(in);
	r->ns = clock_mono_ns() - t0;
	if (outbuf_flush(&out)) {
		snprintf(err, errlen, "failed to write output: %s", strerror(out.err));
		goto cleanup;
	}
	r->stats = *ingest_stats(in);
	r->open = conn_table_count(ingest_table(in));
	ret = 0;
cleanup:
	ingest_free(in);
	outbuf_free(&out);
	cgroup_names_free(names);
	return ret;
}
