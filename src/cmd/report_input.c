/* Reading the report's inputs (report_input.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <sys/stat.h>
#include "cgroup_names.h"
#include "emit.h"
#include "ingest.h"
#include "journal.h"
#include "log.h"
#include "outbuf.h"
#include "report_input.h"

#define READ_BUF (1u << 20)
#define TAP_BUF (64u << 10)

/* One line of JSON into the model, or counted as bad. */
static void feed_line(struct report_model *m, struct jsonl *j, const char *line, size_t len,
		      uint64_t n)
{
	char why[128];

	if (len && line[len - 1] == '\r')
		len--;
	if (!len)
		return;		/* an empty line carries nothing: not an error */
	if (jsonl_parse(j, line, len)) {
		rm_bad_line(m, n, jsonl_err(j), line, len);
		return;
	}
	if (rm_record(m, j, why, sizeof(why)))
		rm_bad_line(m, n, why, line, len);
}

/* JSON lines from gz (plain or compressed: zlib reads both), the first
 * nhead bytes already read into buf.
 */
static void read_lines(struct report_model *m, struct jsonl *j, gzFile gz, char *buf,
		       size_t nhead)
{
	size_t have = nhead, skip_rest = 0;
	uint64_t n = 0;
	int got, errnum;

	for (;;) {
		char *p = buf, *end, *nl;

		got = gzread(gz, buf + have, (unsigned)(READ_BUF - have));
		if (got < 0)
			break;
		end = buf + have + got;
		while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
			n++;
			if (skip_rest)	/* the tail of a line too long to keep */
				skip_rest = 0;
			else
				feed_line(m, j, p, (size_t)(nl - p), n);
			p = nl + 1;
		}
		have = (size_t)(end - p);
		if (!got) {
			if (have && !skip_rest)	/* a last line with no newline */
				feed_line(m, j, p, have, ++n);
			have = 0;
			break;
		}
		if (have > JSONL_MAX_LINE) {
			if (!skip_rest)
				rm_bad_line(m, n + 1, "line longer than 16384 bytes", p, 120);
			skip_rest = 1;
			have = 0;
		}
		memmove(buf, p, have);
	}
	if (got < 0 || gzerror(gz, &errnum)[0]) {
		const char *msg = gzerror(gz, &errnum);
		char why[200];

		snprintf(why, sizeof(why), "compressed data damaged after %llu lines (%s)",
			 (unsigned long long)n, errnum == Z_ERRNO ? strerror(errno) : msg);
		rm_input_error(m, why);
	}
}

/* The JSON emitter, drained into the model after each record. */
struct tap {
	struct emitter em;	/* first: the emitter's ops get the tap as ctx */
	struct outbuf out;
	struct report_model *m;
	struct jsonl *j;
	uint64_t lines;
};

static void drain(struct tap *t)
{
	char *p = t->out.buf, *end = p + t->out.len, *nl;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		feed_line(t->m, t->j, p, (size_t)(nl - p), ++t->lines);
		p = nl + 1;
	}
	t->out.len = 0;
}

static void tap_state(void *ctx, const struct tt_event *e)
{
	emit_json_ops.state(ctx, e);
	drain(ctx);
}

static void tap_history(void *ctx, const struct conn *c, const struct history_summary *s)
{
	emit_json_ops.history(ctx, c, s);
	drain(ctx);
}

static void tap_event(void *ctx, const struct tt_event *e)
{
	emit_json_ops.event(ctx, e);
	drain(ctx);
}

static void tap_lost(void *ctx, uint64_t ts_ns, uint64_t count, uint64_t total, uint8_t cause)
{
	emit_json_ops.lost(ctx, ts_ns, count, total, cause);
	drain(ctx);
}

static void tap_leak(void *ctx, const struct conn *c, uint64_t ts_ns, uint64_t age_ns,
		     bool lower_bound, const struct owner *owners, size_t n, uint32_t process_leaks)
{
	emit_json_ops.leak(ctx, c, ts_ns, age_ns, lower_bound, owners, n, process_leaks);
	drain(ctx);
}

static void tap_leak_resolved(void *ctx, const struct conn *c, uint64_t ts_ns, uint64_t age_ns)
{
	emit_json_ops.leak_resolved(ctx, c, ts_ns, age_ns);
	drain(ctx);
}

static const struct sink_ops tap_ops = {
	.state = tap_state,
	.history = tap_history,
	.event = tap_event,
	.lost = tap_lost,
	.leak = tap_leak,
	.leak_resolved = tap_leak_resolved,
};

/* Replay the recording at fd (positioned at its start) into the model. */
static void replay(struct report_model *m, struct jsonl *j, int fd,
		   const struct rst_reasons *reasons)
{
	struct ingest_config icfg = { .states = true, .histories = true };
	struct tap t = { .m = m, .j = j };
	struct cgroup_names *names = cgroup_names_new();
	struct sink sink = { &tap_ops, &t };
	struct journal_header h;
	struct ingest *in = NULL;
	char err[200], note[200];
	long frames;

	if (!names || outbuf_init(&t.out, -1, TAP_BUF)) {
		rm_input_error(m, "out of memory");
		goto cleanup;
	}
	if (journal_read_header(fd, &h, err, sizeof(err))) {
		rm_input_error(m, err);
		goto cleanup;
	}
	emitter_init(&t.em, &t.out);
	t.em.cgroup_lookup = cgroup_names_lookup;
	t.em.cgroup_ctx = names;
	fmt_clock_set(&t.em.clock, h.mono_to_real_ns);
	t.em.own_netns = h.own_netns;
	t.em.rst_reasons = reasons->names;
	t.em.n_rst_reasons = reasons->n;
	icfg.max_conns = journal_table_size(fd, h.max_conns);
	icfg.close_grace_ns = h.close_grace_ns;
	icfg.leak_after_ns = h.leak_after_ns;
	in = ingest_new(&icfg, &sink);
	if (!in) {
		rm_input_error(m, "cannot reserve the recording's connection table");
		goto cleanup;
	}
	frames = journal_replay(fd, &h, in, cgroup_names_set, names, err, sizeof(err));
	if (frames < 0)
		rm_input_error(m, err);
	/* what the frames before any damage finished still counts */
	ingest_flush(in);
	snprintf(note, sizeof(note), "format %u; recorded with a table of %u connections, "
		 "close grace %llu ms, leak after %.3g s; %ld frames replayed", h.version,
		 h.max_conns, (unsigned long long)(h.close_grace_ns / 1000000),
		 h.leak_after_ns / 1e9, frames < 0 ? 0 : frames);
	rm_input_note(m, note);
cleanup:
	ingest_free(in);
	cgroup_names_free(names);
	outbuf_free(&t.out);
}

/* A compressed recording, unpacked into an unnamed file (journal_replay
 * reads a file it can measure): its descriptor, or -1 (said in the model).
 */
static int unpack(struct report_model *m, gzFile gz, const char *head, size_t nhead,
		  char *buf)
{
	const char *dir = getenv("TMPDIR");
	int fd = open(dir && *dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600), got;
	int errnum;

	if (fd < 0) {
		rm_input_error(m, "cannot make a temporary file to unpack the recording into");
		return -1;
	}
	if (write(fd, head, nhead) != (ssize_t)nhead)
		goto fail;
	while ((got = gzread(gz, buf, READ_BUF)) > 0)
		if (write(fd, buf, (size_t)got) != got)
			goto fail;
	if (got < 0) {
		char why[200];

		snprintf(why, sizeof(why), "compressed data damaged (%s); the part before it is "
			 "replayed", gzerror(gz, &errnum));
		rm_input_error(m, why);
	}
	if (lseek(fd, 0, SEEK_SET) == 0)
		return fd;
fail:
	rm_input_error(m, "cannot unpack the recording: the temporary file could not be written");
	close(fd);
	return -1;
}

int report_input_read(struct report_model *m, struct jsonl *j, const char *path,
		      const struct rst_reasons *reasons)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), ret = -1, gfd = -1, rfd = -1;
	char *buf = malloc(READ_BUF);
	gzFile gz = NULL;
	struct stat st;
	bool packed;
	int got;

	if (fd < 0 || !buf) {
		p_err("cannot open input '%s': %s", path, buf ? strerror(errno) : "out of memory");
		goto cleanup;
	}
	/* a FIFO or device could block or never end: files only */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		p_err("input '%s' is not a regular file", path);
		goto cleanup;
	}
	gfd = dup(fd);
	gz = gfd >= 0 ? gzdopen(gfd, "rb") : NULL;
	if (!gz) {
		p_err("cannot read input '%s': out of memory", path);
		goto cleanup;
	}
	gfd = -1;	/* gz owns it */
	gzbuffer(gz, 256u << 10);
	got = gzread(gz, buf, 8);
	packed = !gzdirect(gz);
	if (got == 8 && !memcmp(buf, JOURNAL_MAGIC, 8)) {
		rm_input(m, path, RI_RECORDING, packed);
		rfd = packed ? unpack(m, gz, buf, 8, buf) : lseek(fd, 0, SEEK_SET) ? -1 : fd;
		if (rfd >= 0)
			replay(m, j, rfd, reasons);
	} else {
		rm_input(m, path, RI_JSON, packed);
		read_lines(m, j, gz, buf, got > 0 ? (size_t)got : 0);
	}
	ret = 0;
cleanup:
	if (rfd >= 0 && rfd != fd)
		close(rfd);
	if (gz)
		gzclose(gz);
	if (gfd >= 0)
		close(gfd);
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}
