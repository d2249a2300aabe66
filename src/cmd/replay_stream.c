/* Reconstruction from a recording: the same calls the live run made. */
#include <stdio.h>
#include <string.h>
#include "cgroup_names.h"
#include "clock.h"
#include "conn_table.h"
#include "emit.h"
#include "outbuf.h"
#include "replay_stream.h"
#include "text_order.h"

#define OUTBUF_BYTES (1u << 20)

int replay_stream(int rfd, const struct journal_header *h, int out_fd,
		  const struct replay_setup *s, struct replay_result *r, char *err, size_t errlen)
{
	struct ingest_config icfg = {
		.states = s->states,
		.states_explicit = s->states_explicit,
		.histories = s->histories,
		.filter = s->filter,
		.max_conns = journal_table_size(rfd, h->max_conns),
		.close_grace_ns = h->close_grace_ns,
		.leak_after_ns = h->leak_after_ns,
	};
	struct outbuf out = { .buf = NULL };
	struct cgroup_names *names = cgroup_names_new();
	struct ingest *in = NULL;
	struct text_order *order = NULL;
	struct state_age ages = { .v = NULL };
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
	em.wide = s->wide;
	/* in time order as live, against the recording's own clock */
	if (!s->json && (!(order = emit_text_hold(&em, icfg.close_grace_ns, NULL)) ||
			 emit_text_ages(&em, &ages, icfg.max_conns))) {
		snprintf(err, errlen, "out of memory");
		goto cleanup;
	}
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
	emit_text_flush(&em);
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
	text_order_free(order);
	state_age_free(&ages);
	cgroup_names_free(names);
	return ret;
}
