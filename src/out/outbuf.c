/* Buffered writer over a file descriptor. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "outbuf.h"

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

int outbuf_flush(struct outbuf *ob)
{
	size_t off = 0;

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
			break;
		}
		off += (size_t)n;
	}
	ob->len = 0;
	return ob->err ? -ob->err : 0;
}
