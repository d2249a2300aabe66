/* The reconstruction behind tcptrail replay, without the command's files,
 * privileges and closing lines: what `tcptrail replay` runs and what
 * tests/fuzz/fuzz_replay.c drives with hostile recordings.
 */
#ifndef TT_REPLAY_STREAM_H
#define TT_REPLAY_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "filter.h"
#include "ingest.h"
#include "journal.h"

/* What the output shows, as the command line chose it. */
struct replay_setup {
	const char *name;	/* the recording, as messages name it */
	bool json, states, histories;
	bool states_explicit;	/* states was chosen, not the recording's default */
	bool wide;		/* text view: one line per record, never wrapped */
	const struct filter *filter;
	/* reset reasons' names by value (the running kernel's); NULL: numbers */
	const char *const *rst_reasons;
	uint32_t n_rst_reasons;
};

struct replay_result {
	long frames;
	uint64_t ns;			/* spent replaying */
	struct ingest_stats stats;
	uint32_t open;			/* connections still open at the end */
};

/* Reconstruct the recording at rfd, whose header h was read (the file is
 * just past it), writing the records to out_fd with the settings the live
 * run recorded. Returns 0, or -1 with one sentence in err: a truncated,
 * cut or corrupt recording, no memory, or an output that failed.
 */
int replay_stream(int rfd, const struct journal_header *h, int out_fd,
		  const struct replay_setup *s, struct replay_result *r, char *err, size_t errlen);

#endif
