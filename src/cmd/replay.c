/* tcptrail replay: reconstruct from a --record file, offline. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "conn_table.h"
#include "journal.h"
#include "log.h"
#include "outfile.h"
#include "privs.h"
#include "replay.h"
#include "replay_stream.h"
#include "summary.h"
#include "tracer.h"

/* Reconstruct from a --record file: the same calls, the same output. */
int replay_main(struct options *o)
{
	struct replay_setup setup = {
		.name = o->replay,
		.json = o->json,
		.states = o->states,
		.states_explicit = o->states_explicit,
		.histories = o->histories,
		.filter = &o->filter,
		.wide = o->wide,
	};
	struct replay_result r;
	struct rst_reasons reasons;
	struct journal_header h;
	char err[300];
	int fd = STDOUT_FILENO, ret = 1, rfd;

	kernel_probe_rst_reasons(&reasons, NULL);
	setup.rst_reasons = reasons.names;
	setup.n_rst_reasons = reasons.n;
	rfd = open(o->replay, O_RDONLY | O_CLOEXEC);
	if (rfd < 0) {
		p_err("cannot open recording '%s': %s", o->replay, strerror(errno));
		goto cleanup;
	}
	fd = outfile_open(o->output);
	if (fd < 0)
		goto cleanup;
	if (outfile_same(rfd, fd)) {
		p_err("the recording '%s' is also the output: it would read what it writes",
		      o->replay);
		goto cleanup;
	}
	/* The recording may come from a stranger: its files open, replay
	 * reads it with no capability at all, whoever runs it.
	 */
	if (privs_drop_all()) {
		p_err("refusing to read a recording with privileges replay does not need");
		goto cleanup;
	}
	if (journal_read_header(rfd, &h, err, sizeof(err))) {
		p_err("%s: %s", o->replay, err);
		goto cleanup;
	}
	if (replay_stream(rfd, &h, fd, &setup, &r, err, sizeof(err))) {
		p_err("%s", err);
		goto cleanup;
	}
	summary_print_stats(&r.stats, r.open);
	fprintf(stderr, "tcptrail: replayed %ld frames in %.3f s (%.0f records/s); "
		"peak memory %ld MiB; table %zu bytes per connection\n", r.frames,
		r.ns / 1e9, r.stats.records / ((r.ns + 1) / 1e9),
		summary_peak_rss_kib() / 1024, conn_table_bytes_per_conn());
	ret = 0;
cleanup:
	outfile_close(fd);
	if (rfd >= 0)
		close(rfd);
	kernel_probe_free_rst_reasons(&reasons);
	return ret;
}
