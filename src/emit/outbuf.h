/* Buffered output: records are formatted straight into a large buffer and
 * written in big chunks, always whole lines, never one write per record.
 */
#ifndef TT_OUTBUF_H
#define TT_OUTBUF_H

#include <stddef.h>
#include <stdint.h>

/* Largest single record any formatter may produce: a leak record with 64
 * owners named by 15 escaped control characters each and a long cgroup
 * path fits whole (src/emit/rec.h).
 */
#define OUTBUF_MAX_RECORD 16384

struct outbuf {
	int fd;
	char *buf;
	size_t len;
	size_t cap;
	int err;		/* first write error (positive errno), sticky */
};

/* cap must exceed OUTBUF_MAX_RECORD. Returns 0 or -ENOMEM. */
int outbuf_init(struct outbuf *ob, int fd, size_t cap);
void outbuf_free(struct outbuf *ob);

/* Room for one more record: flushes first when less than
 * OUTBUF_MAX_RECORD bytes are free. Returns the tail to write at.
 */
char *outbuf_begin(struct outbuf *ob);

/* The record ends at p (just past its '\n'). */
static inline void outbuf_commit(struct outbuf *ob, char *p)
{
	ob->len = (size_t)(p - ob->buf);
}

/* Write everything buffered. Returns 0 or negative errno. When a regular
 * file refuses part of it (a full disk), the file is cut back to its last
 * whole line: readers never see half a record.
 */
int outbuf_flush(struct outbuf *ob);

/* Write on in a new file under path (log rotation renamed the old one),
 * flushed already so that every record before is whole in the old one.
 * Standard output (path NULL or "-") is left alone; a file that cannot be
 * opened leaves the old one in use, said once each time.
 */
void outbuf_reopen(struct outbuf *ob, const char *path);

#endif
