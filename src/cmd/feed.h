/* The tee: every input to the reconstruction passes here once, and goes to
 * the connection ingest, the listener watch (the records it takes) and, with
 * --record, the recording, in that order. No caller writes those pairs by
 * hand, so a recording holds everything and replay can make the very same
 * calls.
 */
#ifndef TT_FEED_H
#define TT_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cgroups.h"
#include "ingest.h"
#include "journal.h"
#include "listen_watch.h"
#include "owner.h"
#include "tcptrail.h"

struct feed {
	struct ingest *in;
	struct journal_writer *journal;	/* NULL unless --record */
	struct listen_watch *lw;	/* NULL without listener sampling */
	/* v1-only hosts: records made in their owner's context get the
	 * owner's cgroup (the socket carries none); NULL elsewhere
	 */
	struct cgroups *by_owner;
	/* with a recording: cgroup ids are resolved before the records that
	 * name them are written, so their names come first in the file
	 */
	struct cgroups *names;
	/* the kernel counts handshakes and accepts per listener */
	bool kernel_counts;
};

/* A kernel record (the tracer's callback: arg is the feed). */
void feed_event(const struct tt_event *e, void *arg);
void feed_reconcile(struct feed *f, const struct tt_sock_record *v, size_t n,
		    uint64_t started_ns, bool initial);
/* count records lost for cause (enum lost_cause). */
void feed_lost(struct feed *f, uint64_t ts_ns, uint64_t count, uint8_t cause);
/* A lost record was this socket's. */
void feed_mark_lost(struct feed *f, uint64_t cookie);
/* A lost record may have been any open history's (and any listener's). */
void feed_mark_all_lost(struct feed *f);
/* A lost record may have been a listener's. */
void feed_mark_listeners_lost(struct feed *f);
void feed_leak(struct feed *f, uint64_t cookie, uint64_t now_ns, const struct owner *owners,
	       size_t n);
void feed_expire(struct feed *f, uint64_t now_ns);
void feed_batch_end(struct feed *f);

#endif
