/* The recording's header as it lies on disk, shared by the writer
 * (journal_write.c) and the reader (journal.c); the unit tests write one
 * by hand to forge recordings.
 */
#ifndef TT_JOURNAL_PRIV_H
#define TT_JOURNAL_PRIV_H

#include "journal.h"

struct journal_disk_header {
	char magic[8];
	uint32_t version;
	uint32_t event_size;	/* sizeof(struct tt_event) */
	uint32_t sock_size;	/* sizeof(struct tt_sock_record) */
	uint32_t owner_size;	/* sizeof(struct owner) */
	int64_t mono_to_real_ns;
	uint32_t max_conns;
	uint32_t own_netns;
	uint64_t close_grace_ns;
	uint64_t leak_after_ns;
};

_Static_assert(sizeof(struct journal_disk_header) == 56, "the header's layout is the format's");

/* h as written, with this build's magic and record sizes. */
void journal_disk_header(struct journal_disk_header *d, const struct journal_header *h);

#endif
