/* Journal of ingest inputs: the writer (journal.c replays). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "crc32c.h"
#include "journal_priv.h"

#define JOURNAL_BUF (1u << 20)

struct journal_writer {
	struct outbuf out;
	uint64_t frames;	/* written so far, for the END frame */
	uint32_t crc;		/* CRC-32C of every frame's bytes so far */
};

void journal_header_init(struct journal_header *h, int64_t mono_to_real_ns,
			 uint32_t max_conns, uint64_t close_grace_ns, uint64_t leak_after_ns,
			 uint32_t own_netns)
{
	memset(h, 0, sizeof(*h));
	h->version = JOURNAL_VERSION;
	h->mono_to_real_ns = mono_to_real_ns;
	h->max_conns = max_conns;
	h->close_grace_ns = close_grace_ns;
	h->leak_after_ns = leak_after_ns;
	h->own_netns = own_netns;
}

void journal_disk_header(struct journal_disk_header *d, const struct journal_header *h)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->magic, JOURNAL_MAGIC, sizeof(d->magic));
	d->version = h->version;
	d->event_size = sizeof(struct tt_event);
	d->sock_size = sizeof(struct tt_sock_record);
	d->owner_size = sizeof(struct owner);
	d->mono_to_real_ns = h->mono_to_real_ns;
	d->max_conns = h->max_conns;
	d->own_netns = h->own_netns;
	d->close_grace_ns = h->close_grace_ns;
	d->leak_after_ns = h->leak_after_ns;
}

int journal_create(struct journal_writer **wp, int fd, const struct journal_header *h)
{
	struct journal_writer *w = calloc(1, sizeof(*w));
	struct journal_disk_header d;
	char *p;

	*wp = NULL;
	if (!w || outbuf_init(&w->out, fd, JOURNAL_BUF)) {
		free(w);
		close(fd);
		return -ENOMEM;
	}
	journal_disk_header(&d, h);
	p = outbuf_begin(&w->out);
	memcpy(p, &d, sizeof(d));
	outbuf_commit(&w->out, p + sizeof(d));
	*wp = w;
	return 0;
}

int journal_flush(struct journal_writer *w)
{
	return outbuf_flush(&w->out);
}

int journal_close(struct journal_writer *w)
{
	int err = 0;

	if (!w)
		return 0;
	if (outbuf_flush(&w->out))
		err = -w->out.err;
	if (close(w->out.fd) && !err)
		err = -errno;
	outbuf_free(&w->out);
	free(w);
	return err;
}

/* One frame whose payload fits a buffer reservation. */
static void frame(struct journal_writer *w, uint32_t type, const void *a, size_t alen,
		  const void *b, size_t blen)
{
	struct journal_frame f = { type, (uint32_t)(alen + blen) };
	char *p = outbuf_begin(&w->out);

	char *start = p;

	w->frames++;
	memcpy(p, &f, sizeof(f));
	p += sizeof(f);
	if (alen)
		memcpy(p, a, alen);
	p += alen;
	if (blen)
		memcpy(p, b, blen);
	w->crc = crc32c(w->crc, start, (size_t)(p + blen - start));
	outbuf_commit(&w->out, p + blen);
}

/* Append bytes of any length, in reservation-sized pieces. */
static void raw(struct journal_writer *w, const void *data, size_t len)
{
	const char *s = data;

	w->crc = crc32c(w->crc, data, len);
	while (len) {
		size_t n = len < OUTBUF_MAX_RECORD ? len : OUTBUF_MAX_RECORD;
		char *p = outbuf_begin(&w->out);

		memcpy(p, s, n);
		outbuf_commit(&w->out, p + n);
		s += n;
		len -= n;
	}
}

void journal_event(struct journal_writer *w, const struct tt_event *e)
{
	if (e->type == TT_EV_HISTORY)
		frame(w, JF_HISTORY, e, sizeof(struct tt_history), NULL, 0);
	else
		frame(w, JF_EVENT, e, sizeof(*e), NULL, 0);
}

void journal_settings(struct journal_writer *w, bool kernel_lives, bool states)
{
	uint32_t v[2] = { kernel_lives, states };

	frame(w, JF_SETTINGS, v, sizeof(v), NULL, 0);
}

void journal_reconcile(struct journal_writer *w, const struct tt_sock_record *v, size_t n,
		       uint64_t started_ns, bool initial)
{
	struct {
		uint64_t started_ns;
		uint32_t initial, n;
	} head = { started_ns, initial, (uint32_t)n };
	struct journal_frame f = { JF_RECONCILE, (uint32_t)(sizeof(head) + n * sizeof(*v)) };

	w->frames++;
	raw(w, &f, sizeof(f));
	raw(w, &head, sizeof(head));
	raw(w, v, n * sizeof(*v));
}

void journal_lost(struct journal_writer *w, uint64_t ts_ns, uint64_t count, uint8_t cause)
{
	uint64_t v[3] = { ts_ns, count, cause };

	frame(w, JF_LOST, v, sizeof(v), NULL, 0);
}

void journal_mark_lost(struct journal_writer *w, uint64_t cookie)
{
	frame(w, JF_MARK_LOST, &cookie, sizeof(cookie), NULL, 0);
}

void journal_mark_all(struct journal_writer *w)
{
	frame(w, JF_MARK_ALL, NULL, 0, NULL, 0);
}

void journal_expire(struct journal_writer *w, uint64_t now_ns)
{
	frame(w, JF_EXPIRE, &now_ns, sizeof(now_ns), NULL, 0);
}

void journal_leak(struct journal_writer *w, uint64_t cookie, uint64_t now_ns,
		  const struct owner *owners, size_t n)
{
	struct {
		uint64_t cookie, now_ns;
		uint32_t n, pad;
	} head = { cookie, now_ns, (uint32_t)n, 0 };
	struct journal_frame f = { JF_LEAK, (uint32_t)(sizeof(head) + n * sizeof(*owners)) };

	w->frames++;
	raw(w, &f, sizeof(f));
	raw(w, &head, sizeof(head));
	raw(w, owners, n * sizeof(*owners));
}

void journal_cgroup(struct journal_writer *w, uint64_t id, const char *path)
{
	size_t n = path ? strnlen(path, JOURNAL_MAX_CGROUP_PATH) : 0;

	frame(w, JF_CGROUP, &id, sizeof(id), path, n);
}

void journal_batch_end(struct journal_writer *w)
{
	frame(w, JF_BATCH_END, NULL, 0, NULL, 0);
}

void journal_end(struct journal_writer *w)
{
	uint64_t v[2] = { w->frames, w->crc };

	if (w->out.buf)
		frame(w, JF_END, v, sizeof(v), NULL, 0);
}
