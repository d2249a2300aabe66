/* Journal of ingest inputs: the replayer (journal_write.c writes). */
#include <errno.h>
#include <zlib.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "crc32c.h"
#include "journal_priv.h"

/* Largest frame a reader accepts: a reconcile of 16M sockets. */
#define JOURNAL_MAX_FRAME (16ull << 20) * sizeof(struct tt_sock_record)

uint32_t journal_table_size(int fd, uint32_t recorded)
{
	struct stat st;
	uint64_t most;

	if (fstat(fd, &st) || st.st_size < 0)
		return recorded;
	most = (uint64_t)st.st_size / sizeof(struct tt_sock_record) + 16;
	return most < recorded ? (uint32_t)most : recorded;
}

/* Whole reads: short only at end of file. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int journal_read_header(int fd, struct journal_header *h, char *err, size_t errlen)
{
	struct journal_disk_header d;

	if (read_full(fd, &d, sizeof(d)) != (ssize_t)sizeof(d) ||
	    memcmp(d.magic, JOURNAL_MAGIC, 8)) {
		snprintf(err, errlen, "not a tcptrail recording (no header)");
		return -1;
	}
	*h = (struct journal_header){
		.version = d.version,
		.mono_to_real_ns = d.mono_to_real_ns,
		.max_conns = d.max_conns,
		.own_netns = d.own_netns,
		.close_grace_ns = d.close_grace_ns,
		.leak_after_ns = d.leak_after_ns,
	};
	if (h->version < JOURNAL_OLDEST_VERSION || h->version > JOURNAL_VERSION ||
	    h->version == JOURNAL_DEV_VERSION) {
		snprintf(err, errlen, "recording format version %u; this tcptrail reads %u to %u%s",
			 h->version, JOURNAL_OLDEST_VERSION, JOURNAL_VERSION,
			 h->version == JOURNAL_DEV_VERSION ? " but 7 (a development format)" : "");
		return -1;
	}
	if (d.event_size != sizeof(struct tt_event) ||
	    d.sock_size != sizeof(struct tt_sock_record) ||
	    d.owner_size != sizeof(struct owner)) {
		snprintf(err, errlen, "recording made with other record layouts");
		return -1;
	}
	if (!h->max_conns || h->max_conns > JOURNAL_MAX_CONNS ||
	    h->close_grace_ns > JOURNAL_MAX_GRACE_NS || h->leak_after_ns > JOURNAL_MAX_NS) {
		snprintf(err, errlen, "recording header is corrupt (settings tcptrail never "
			 "records: %u connections, %llu ns grace)", h->max_conns,
			 (unsigned long long)h->close_grace_ns);
		return -1;
	}
	if (h->mono_to_real_ns < 0 || (uint64_t)h->mono_to_real_ns >= JOURNAL_MAX_NS) {
		snprintf(err, errlen, "recording header is corrupt (a clock offset of %lld ns)",
			 (long long)h->mono_to_real_ns);
		return -1;
	}
	return 0;
}

/* A kept life from a file: its times within what the output can show and
 * in order, its counts within their arrays.
 */
static bool history_record_sane(const struct tt_history *h)
{
	const struct tt_conn_store *st = &h->st;

	/* the tracer records chrono times in ns, never the kernel's ticks */
	if (h->ev.ts_ns >= JOURNAL_MAX_NS || st->nstates > TT_HIST_STATES ||
	    h->acc.ts_ns >= JOURNAL_MAX_NS || (h->dl.flags & TT_D_TICKS))
		return false;
	for (uint8_t i = 0; i < st->nstates; i++)
		if (st->entered[i] > h->ev.ts_ns || (i && st->entered[i] < st->entered[i - 1]) ||
		    st->states[i] >= TT_TCP_MAX_STATES)
			return false;
	return true;
}

/* A window onto the file: frames are parsed where they lie in the buffer. */
struct reader {
	int fd;
	char *buf;
	size_t cap, pos, end;
	bool eof;
	uint64_t left;		/* bytes of the file not consumed yet */
};

/* At least n contiguous bytes at the read position, or NULL when the file
 * ends first (*short_read then tells whether any were there) or on error.
 */
static const char *need(struct reader *r, size_t n, bool *short_read, int *error)
{
	while (r->end - r->pos < n) {
		ssize_t got;

		if (r->eof) {
			*short_read = r->end > r->pos;
			return NULL;
		}
		if (r->pos) {
			memmove(r->buf, r->buf + r->pos, r->end - r->pos);
			r->end -= r->pos;
			r->pos = 0;
		}
		if (n > r->cap) {
			char *nb = realloc(r->buf, n);

			if (!nb) {
				*error = ENOMEM;
				return NULL;
			}
			r->buf = nb;
			r->cap = n;
		}
		got = read_full(r->fd, r->buf + r->end, r->cap - r->end);
		if (got < 0) {
			*error = errno;
			return NULL;
		}
		if ((size_t)got < r->cap - r->end)
			r->eof = true;
		r->end += (size_t)got;
	}
	return r->buf + r->pos;
}

/* need(), with the reason for a NULL put in err; *clean is set when the file
 * simply ended between frames.
 */
static const char *need_frame(struct reader *r, size_t n, long frames, bool *clean,
			      char *err, size_t errlen)
{
	bool short_read = false;
	int error = 0;
	const char *p = need(r, n, &short_read, &error);

	*clean = !p && !short_read && !error;
	if (!p && error)
		snprintf(err, errlen, "read error: %s", strerror(error));
	else if (!p && !*clean)
		snprintf(err, errlen, "recording ends inside a frame after %ld frames", frames);
	return p;
}

/* What replaying one frame needs besides the frame. */
struct replay {
	const struct journal_header *h;
	struct ingest *in;
	journal_cgroup_fn on_cgroup;
	void *cgroup_ctx;
	long frames;		/* before this one */
	char *err;
	size_t errlen;
};

enum frame_verdict { FRAME_OK, FRAME_BAD, FRAME_FAILED, FRAME_END };

static enum frame_verdict replay_reconcile(struct replay *rp, const struct journal_frame *fr,
					   const char *p)
{
	struct tt_sock_record *v2;
	uint64_t started;
	uint32_t initial, n;

	if (fr->len < 16)
		return FRAME_BAD;
	memcpy(&started, p, 8);
	memcpy(&initial, p + 8, 4);
	memcpy(&n, p + 12, 4);
	if (fr->len != 16 + (uint64_t)n * sizeof(struct tt_sock_record) ||
	    started >= JOURNAL_MAX_NS)
		return FRAME_BAD;
	/* the tracer reads at most its table's size of sockets */
	if (n > rp->h->max_conns) {
		snprintf(rp->err, rp->errlen, "corrupt frame after %ld frames: a reconcile of %u "
			 "sockets, more than the %u the recording's table holds",
			 rp->frames, n, rp->h->max_conns);
		return FRAME_FAILED;
	}
	v2 = malloc(n ? n * sizeof(*v2) : 1);
	if (!v2) {
		snprintf(rp->err, rp->errlen, "out of memory");
		return FRAME_FAILED;
	}
	memcpy(v2, p + 16, n * sizeof(*v2));
	ingest_reconcile(rp->in, v2, n, started, initial);
	free(v2);
	return FRAME_OK;
}

static enum frame_verdict replay_leak(struct replay *rp, const struct journal_frame *fr,
				      const char *p)
{
	struct owner *o;
	uint64_t v[2];
	uint32_t n;

	if (fr->len < 24)
		return FRAME_BAD;
	memcpy(v, p, 16);
	memcpy(&n, p + 16, 4);
	if (fr->len != 24 + (uint64_t)n * sizeof(struct owner) || v[1] >= JOURNAL_MAX_NS)
		return FRAME_BAD;
	if (n > OWNER_INDEX_MAX) {
		snprintf(rp->err, rp->errlen, "corrupt frame after %ld frames: a leak held by %u "
			 "descriptors, more than the %u tcptrail records", rp->frames, n,
			 OWNER_INDEX_MAX);
		return FRAME_FAILED;
	}
	o = malloc(n ? n * sizeof(*o) : 1);
	if (!o) {
		snprintf(rp->err, rp->errlen, "out of memory");
		return FRAME_FAILED;
	}
	memcpy(o, p + 24, n * sizeof(*o));
	ingest_report_leak(rp->in, v[0], v[1], o, n);
	free(o);
	return FRAME_OK;
}

static enum frame_verdict replay_cgroup(struct replay *rp, const struct journal_frame *fr,
					const char *p)
{
	char path[JOURNAL_MAX_CGROUP_PATH + 1];
	size_t n = fr->len - 8;
	uint64_t id;

	if (fr->len < 8 || n > JOURNAL_MAX_CGROUP_PATH)
		return FRAME_BAD;
	memcpy(&id, p, 8);
	memcpy(path, p + 8, n);
	path[n] = '\0';
	/* a path is text without NUL; gone is empty */
	if (strlen(path) != n || (n && path[0] != '/'))
		return FRAME_BAD;
	if (rp->on_cgroup)
		rp->on_cgroup(rp->cgroup_ctx, id, n ? path : NULL);
	return FRAME_OK;
}

/* One frame into ingest (crc: the frames' before it). A case per type: a table. */
static enum frame_verdict replay_frame(struct replay *rp, const struct journal_frame *fr,
				       const char *p, uint32_t crc)
{
	const struct journal_header *h = rp->h;
	uint64_t v[3];

	switch (fr->type) {
	case JF_EVENT: {
		struct tt_event e;

		if (fr->len != sizeof(e))
			return FRAME_BAD;
		memcpy(&e, p, sizeof(e));	/* the buffer guarantees no alignment */
		if (e.ts_ns >= JOURNAL_MAX_NS || e.type == TT_EV_HISTORY ||
		    (e.type == TT_EV_CLOSE_WAIT && h->version < 7))
			return FRAME_BAD;
		ingest_event(rp->in, &e);
		return FRAME_OK;
	}
	case JF_HISTORY: {
		struct tt_history hist;

		if (fr->len != sizeof(hist) || h->version < 7)
			return FRAME_BAD;
		memcpy(&hist, p, sizeof(hist));
		if (hist.ev.type != TT_EV_HISTORY || !history_record_sane(&hist))
			return FRAME_BAD;
		ingest_event(rp->in, &hist.ev);
		return FRAME_OK;
	}
	case JF_SETTINGS: {
		uint32_t set[2];

		if (fr->len != sizeof(set) || rp->frames > 0 || h->version < 7)
			return FRAME_BAD;
		memcpy(set, p, sizeof(set));
		if (set[0] > 1 || set[1] > 1)
			return FRAME_BAD;
		ingest_set_recorded(rp->in, set[0], set[1]);
		return FRAME_OK;
	}
	case JF_RECONCILE:
		return replay_reconcile(rp, fr, p);
	case JF_LOST:
		/* version 2 frames have no cause: the ring was full */
		if (fr->len != 16 && fr->len != 24)
			return FRAME_BAD;
		v[2] = LOST_RING_FULL;
		memcpy(v, p, fr->len);
		if (v[2] >= LOST_N_CAUSES || v[0] >= JOURNAL_MAX_NS)
			return FRAME_BAD;
		ingest_lost(rp->in, v[0], v[1], (uint8_t)v[2]);
		return FRAME_OK;
	case JF_MARK_LOST:
		if (fr->len != 8)
			return FRAME_BAD;
		memcpy(v, p, 8);
		ingest_mark_lost(rp->in, v[0]);
		return FRAME_OK;
	case JF_MARK_ALL:
		ingest_mark_all_lost(rp->in);
		return FRAME_OK;
	case JF_CGROUP:
		return replay_cgroup(rp, fr, p);
	case JF_EXPIRE:
		if (fr->len != 8)
			return FRAME_BAD;
		memcpy(v, p, 8);
		if (v[0] >= JOURNAL_MAX_NS)
			return FRAME_BAD;
		ingest_expire(rp->in, v[0]);
		return FRAME_OK;
	case JF_LEAK:
		return replay_leak(rp, fr, p);
	case JF_BATCH_END:
		ingest_batch_end(rp->in);
		return FRAME_OK;
	case JF_END:
		if (fr->len != 16)
			return FRAME_BAD;
		memcpy(v, p, 16);
		if (v[0] != (uint64_t)rp->frames || v[1] != crc) {
			snprintf(rp->err, rp->errlen, "recording is corrupt: its end does not "
				 "match the %ld frames before it (altered or damaged)", rp->frames);
			return FRAME_FAILED;
		}
		return FRAME_END;
	default:
		return FRAME_OK;	/* a newer frame type: skip it */
	}
}

long journal_replay(int fd, const struct journal_header *h, struct ingest *in,
		    journal_cgroup_fn on_cgroup, void *cgroup_ctx, char *err, size_t errlen)
{
	struct replay rp = { h, in, on_cgroup, cgroup_ctx, 0, err, errlen };
	struct reader r = { .fd = fd, .cap = 4u << 20 };
	enum frame_verdict verdict = FRAME_OK;
	struct journal_frame fr;
	struct stat st;
	uint32_t crc = 0;

	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(struct journal_disk_header)) {
		snprintf(err, errlen, "cannot tell the recording's size");
		return -1;
	}
	r.left = (uint64_t)st.st_size - sizeof(struct journal_disk_header);
	r.buf = malloc(r.cap);
	if (!r.buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (;; rp.frames++) {
		bool clean;
		const char *p = need_frame(&r, sizeof(fr), rp.frames, &clean, err, errlen);

		if (!p && clean)
			break;
		if (!p)
			goto fail;
		memcpy(&fr, p, sizeof(fr));
		/* a length the rest of the file cannot hold is a lie: never
		 * allocate for it
		 */
		if (fr.len > JOURNAL_MAX_FRAME) {
			snprintf(err, errlen, "corrupt frame of %u bytes after %ld frames",
				 fr.len, rp.frames);
			goto fail;
		}
		if (r.left < sizeof(fr) || fr.len > r.left - sizeof(fr)) {
			snprintf(err, errlen, "recording ends inside a frame after %ld frames",
				 rp.frames);
			goto fail;
		}
		p = need_frame(&r, sizeof(fr) + fr.len, rp.frames, &clean, err, errlen);
		if (!p) {
			if (clean)	/* a header with no payload after it */
				snprintf(err, errlen,
					 "recording ends inside a frame after %ld frames", rp.frames);
			goto fail;
		}
		if (fr.type != JF_END)
			crc = h->version >= 6 ? crc32c(crc, p, sizeof(fr) + fr.len)
					      : (uint32_t)crc32(crc, (const Bytef *)p,
								(uInt)(sizeof(fr) + fr.len));
		r.pos += sizeof(fr) + fr.len;
		r.left -= sizeof(fr) + fr.len;
		verdict = replay_frame(&rp, &fr, p + sizeof(fr), crc);
		if (verdict == FRAME_BAD) {
			snprintf(err, errlen, "corrupt frame (type %u, %u bytes) after %ld frames",
				 fr.type, fr.len, rp.frames);
			goto fail;
		}
		if (verdict == FRAME_FAILED)
			goto fail;
		if (verdict == FRAME_END)
			break;	/* whatever follows the end is not the tracer's */
	}
	free(r.buf);
	if (verdict != FRAME_END && h->version >= 4) {
		snprintf(err, errlen, "recording ends early (%ld frames): the tracer did not exit "
			 "cleanly", rp.frames);
		return -1;
	}
	return rp.frames;
fail:
	free(r.buf);
	return -1;
}
