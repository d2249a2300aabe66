/* The --record file: every input the reconstruction received, in order, so
 * `tcptrail replay` makes the same calls and produces the same output.
 *
 * Format (little-endian, as the host writes it; version 6):
 *   header  struct journal_disk_header (journal_priv.h)
 *   frames  struct journal_frame, then 'len' payload bytes:
 *     EVENT      one struct tt_event
 *     RECONCILE  u64 started_ns, u32 initial, u32 n, n struct tt_sock_record
 *     LOST       u64 ts_ns, u64 count, u64 cause (version 3 on)
 *     MARK_LOST  u64 cookie
 *     MARK_ALL   (empty)
 *     EXPIRE     u64 now_ns
 *     LEAK       u64 cookie, u64 now_ns, u32 n, u32 pad, n struct owner
 *     BATCH_END  (empty)
 *     HISTORY    one struct tt_history (version 7 on)
 *     SETTINGS   u32 kernel_lives, u32 states: the live run's, as the first
 *                frame (version 7 on): whole histories from the kernel,
 *                and whether transitions were shown
 *     END        u64 frames before it, u64 CRC-32C of their bytes (CRC-32
 *                up to version 5): written at a clean exit only (version 4
 *                on), so a cut or altered recording is told from a whole one
 * A reader skips frame types it does not know, so types may be added
 * without a version change; a layout change bumps the version.
 *
 * The reader treats the file as hostile: the header's settings must be
 * ones tcptrail could have recorded, frames must fit the file, timestamps
 * and clocks must stay within what the output can represent, and memory
 * stays bounded by the file's real size.
 */
#ifndef TT_JOURNAL_H
#define TT_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "ingest.h"
#include "outbuf.h"

#define JOURNAL_MAGIC "TCPTRAIL"
/* 3: lost frames carry their cause; 4: the END frame; 5: records carry the
 * socket's cgroup id (larger records: older files are refused by version);
 * 6: the END frame's checksum is CRC-32C (version 5's is zlib's CRC-32);
 * 7: histories kept by the kernel (HISTORY, KERNEL_LIVES), more loss causes;
 * 8: HISTORY frames carry how the connection delivered (424 bytes). Version
 * 7 was a development format whose HISTORY layout changed within it: it is
 * refused by name, not misread.
 */
#define JOURNAL_VERSION 8
#define JOURNAL_DEV_VERSION 7
#define JOURNAL_OLDEST_VERSION 5
/* What the recorder could have written: its --max-conns and
 * --close-grace-ms maxima, and monotonic times and clock offsets below
 * 2^62 ns (146 years), so that wall time (their sum) stays below 2^63.
 */
#define JOURNAL_MAX_CONNS (1u << 24)
#define JOURNAL_MAX_GRACE_NS (10000ull * 1000000ull)
#define JOURNAL_MAX_NS (1ull << 62)

enum journal_frame_type {
	JF_EVENT = 1,
	JF_RECONCILE = 2,
	JF_LOST = 3,
	JF_MARK_LOST = 4,
	JF_MARK_ALL = 5,
	JF_EXPIRE = 6,
	JF_LEAK = 7,
	JF_BATCH_END = 8,
	JF_END = 9,
	JF_CGROUP = 10,		/* a cgroup id's path, before the first record naming it */
	JF_HISTORY = 11,
	JF_SETTINGS = 12,
};

/* The longest cgroup path a recording holds. */
#define JOURNAL_MAX_CGROUP_PATH 4096

/* What a recording's header says of it (on disk it also holds the magic
 * and the record sizes, checked when read).
 */
struct journal_header {
	uint32_t version;
	int64_t mono_to_real_ns; /* wall clock = monotonic + this */
	/* the reconstruction settings that change its results */
	uint32_t max_conns;
	uint32_t own_netns;	/* the recorder's namespace (text view) */
	uint64_t close_grace_ns;
	uint64_t leak_after_ns;
};

/* A header for this build's layouts and the given settings. */
void journal_header_init(struct journal_header *h, int64_t mono_to_real_ns,
			 uint32_t max_conns, uint64_t close_grace_ns, uint64_t leak_after_ns,
			 uint32_t own_netns);

struct journal_frame {
	uint32_t type;
	uint32_t len;
};

/* Writing (journal_write.c): frames go through a buffer, flushed with the
 * output.
 */
struct journal_writer;

/* Start a recording on fd (a new file; the writer owns it from here, and
 * closes it on failure) with the header: *w gets the writer. Returns 0 or
 * negative errno.
 */
int journal_create(struct journal_writer **w, int fd, const struct journal_header *h);
/* Write what is buffered: 0, or negative errno (the first error, sticky). */
int journal_flush(struct journal_writer *w);
/* Mark the recording whole (the tracer exits cleanly). */
void journal_end(struct journal_writer *w);
/* Flush, close and free (NULL-safe): 0, or negative errno when the
 * recording is incomplete.
 */
int journal_close(struct journal_writer *w);

/* A record; a TT_EV_HISTORY one is a whole struct tt_history. */
void journal_event(struct journal_writer *w, const struct tt_event *e);
/* The live run's settings replay follows: written first. */
void journal_settings(struct journal_writer *w, bool kernel_lives, bool states);
void journal_reconcile(struct journal_writer *w, const struct tt_sock_record *v, size_t n,
		       uint64_t started_ns, bool initial);
void journal_lost(struct journal_writer *w, uint64_t ts_ns, uint64_t count, uint8_t cause);
void journal_mark_lost(struct journal_writer *w, uint64_t cookie);
void journal_mark_all(struct journal_writer *w);
void journal_expire(struct journal_writer *w, uint64_t now_ns);
void journal_leak(struct journal_writer *w, uint64_t cookie, uint64_t now_ns,
		  const struct owner *owners, size_t n);
void journal_batch_end(struct journal_writer *w);
/* What cgroup id is called (path NULL: gone), so that replay shows what the
 * live run showed.
 */
void journal_cgroup(struct journal_writer *w, uint64_t id, const char *path);

/* Reading: fill h from the file open at fd, checking magic, version and
 * record sizes. On failure returns -1 with a sentence in err.
 */
int journal_read_header(int fd, struct journal_header *h, char *err, size_t errlen);

/* The connection table to replay the recording at fd with: the recorded
 * size, but no larger than the file could ever fill (every socket it names
 * costs at least one socket record), so a table of that many never evicts
 * and the output is the same as with the recorded size. A hostile header
 * cannot make a reader reserve more than the file is worth.
 */
uint32_t journal_table_size(int fd, uint32_t recorded);

/* Feed every frame after the header h (read from fd) to in, and cgroup
 * names to on_cgroup (may be NULL), reading fd in large blocks. Returns frames replayed, or -1 with a sentence in err: a
 * truncated, cut (no END frame) or corrupt file.
 */
typedef void (*journal_cgroup_fn)(void *ctx, uint64_t id, const char *path);

long journal_replay(int fd, const struct journal_header *h, struct ingest *in,
		    journal_cgroup_fn on_cgroup, void *cgroup_ctx, char *err, size_t errlen);

#endif
