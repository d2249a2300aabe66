/* Buffered writer over a file descriptor. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "log.h"
#include "outbuf.h"
#include "outfile.h"

int outbuf_init(struct outbuf *ob, int fd, size_t cap)
{
	if (cap <= OUTBUF_MAX_RECORD)
		cap = 2 * OUTBUF_MAX_RECORD;
	ob->buf = malloc(cap);
	if (!ob->buf)
		return -ENOMEM;
	ob->fd = fd;
	ob->len = 0;
	ob->cap = cap;
	ob->err = 0;
	return 0;
}

void outbuf_free(struct outbuf *ob)
{
	free(ob->buf);
	ob->buf = NULL;
}

char *outbuf_begin(struct outbuf *ob)
{
	if (ob->cap - ob->len < OUTBUF_MAX_RECORD)
		outbuf_flush(ob);
	return ob->buf + ob->len;
}

/* A write stopped after off bytes: cut the file back to the last newline
 * among them, from start (its size before this flush).
 */
static void cut_to_whole_lines(struct outbuf *ob, off_t start, size_t off)
{
	const char *nl = off ? memrchr(ob->buf, '\n', off) : NULL;
	off_t keep = start + (nl ? (off_t)(nl - ob->buf) + 1 : 0);

	if (ftruncate(ob->fd, keep))
		return;	/* nothing better to do: the error is already sticky */
}

int outbuf_flush(struct outbuf *ob)
{
	size_t off = 0;
	off_t start = -1;
	struct stat st;

	if (!ob->len)
		return ob->err ? -ob->err : 0;
	/* A regular file is cut back to whole lines if a write fails: its
	 * size before the flush. Asked each time (one fstat beside the
	 * writes) rather than remembered per descriptor.
	 */
	if (!fstat(ob->fd, &st) && S_ISREG(st.st_mode))
		start = lseek(ob->fd, 0, SEEK_END);
	while (off < ob->len) {
		ssize_t n = write(ob->fd, ob->buf + off, ob->len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* Drop what cannot be written rather than grow: the
			 * error is sticky and reported by the caller.
			 */
			if (!ob->err)
				ob->err = errno;
			if (start >= 0)
				cut_to_whole_lines(ob, start, off);
			break;
		}
		off += (size_t)n;
	}
	ob->len = 0;
	return ob->err ? -ob->err : 0;
}

void outbuf_reopen(struct outbuf *ob, const char *path)
{
	int fd;

	if (!path || !strcmp(path, "-"))
		return;
	fd = outfile_open(path);
	if (fd < 0) {
		p_warn("still writing to the old '%s'", path);
		return;
	}
	outfile_close(ob->fd);
	ob->fd = fd;
	p_info("reopened '%s'", path);
}
