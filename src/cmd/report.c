/* tcptrail report: recordings and JSON logs in, one HTML page out. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "clock.h"
#include "log.h"
#include "report.h"
#include "report_html.h"
#include "report_input.h"
#include "summary.h"

/* The command line the page says made it, from the options (bounded). */
static void command_line(const struct options *o, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "tcptrail report");
	char t[40];

	if (o->since_ns != INT64_MIN && n < len) {
		jsonl_format_time(o->since_ns, t, sizeof(t));
		n += (size_t)snprintf(buf + n, len - n, " --since %s", t);
	}
	if (o->until_ns != INT64_MAX && n < len) {
		jsonl_format_time(o->until_ns, t, sizeof(t));
		n += (size_t)snprintf(buf + n, len - n, " --until %s", t);
	}
	if (o->report_listener && n < len)
		n += (size_t)snprintf(buf + n, len - n, " --listener %s", o->report_listener);
	for (int i = 0; i < o->n_report_files && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, " %s", o->report_files[i]);
	if (n < len)
		snprintf(buf + n, len - n, " -o %s", o->output ? o->output : "-");
}

/* The page goes to a new file beside the output, renamed over it when
 * whole: a reader never sees half a page, and no link is written through
 * (O_EXCL creates; rename replaces the name itself).
 */
static FILE *open_output(const char *path, char *tmp, size_t tmplen)
{
	struct stat st;
	FILE *f;
	int fd;

	if (!lstat(path, &st) && !S_ISREG(st.st_mode)) {
		p_err("output '%s' is %s; tcptrail report writes a regular file", path,
		      S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
		return NULL;
	}
	if ((size_t)snprintf(tmp, tmplen, "%s.XXXXXX", path) >= tmplen) {
		p_err("output name '%.80s...' is too long", path);
		return NULL;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		p_err("cannot create the output beside '%s': %s", path, strerror(errno));
		return NULL;
	}
	fchmod(fd, 0644);
	f = fdopen(fd, "w");
	if (!f) {
		p_err("out of memory");
		close(fd);
		unlink(tmp);
	}
	return f;
}

static int write_page(const struct options *o, const struct report_model *m, long *size)
{
	static char tmp[4200];
	bool to_stdout = !o->output || !strcmp(o->output, "-");
	struct report_page page = { .generated_ns = (int64_t)time(NULL) * 1000000000 };
	char command[1024];
	FILE *f = to_stdout ? stdout : open_output(o->output, tmp, sizeof(tmp));
	int ret = -1;

	if (!f)
		return -1;
	command_line(o, command, sizeof(command));
	page.command = command;
	setvbuf(f, NULL, _IOFBF, 1u << 20);
	if (report_html_write(f, m, &page) || fflush(f)) {
		p_err("failed to write the report: %s", strerror(errno));
		goto cleanup;
	}
	*size = ftell(f);
	if (!to_stdout && (fsync(fileno(f)) || rename(tmp, o->output))) {
		p_err("failed to write the report '%s': %s", o->output, strerror(errno));
		goto cleanup;
	}
	ret = 0;
cleanup:
	if (!to_stdout) {
		fclose(f);
		if (ret)
			unlink(tmp);
	}
	return ret;
}

int report_main(struct options *o)
{
	struct rm_config cfg = { .since = o->since_ns, .until = o->until_ns };
	struct rst_reasons reasons;
	struct report_model *m = NULL;
	struct jsonl *j = jsonl_new();
	uint64_t t0 = clock_mono_ns(), t1;
	long size = 0;
	char err[160];
	int ret = 1;

	kernel_probe_rst_reasons(&reasons, NULL);
	if (o->report_listener && rm_parse_listener(o->report_listener, &cfg, err, sizeof(err))) {
		p_err("--listener: %s", err);	/* opts_parse checked it already */
		goto cleanup;
	}
	m = rm_new(&cfg);
	if (!m || !j) {
		p_err("out of memory");
		goto cleanup;
	}
	for (int i = 0; i < o->n_report_files; i++)
		if (report_input_read(m, j, o->report_files[i], &reasons))
			goto cleanup;
	rm_finish(m);
	t1 = clock_mono_ns();
	if (write_page(o, m, &size))
		goto cleanup;
	fprintf(stderr, "tcptrail: report of %llu records (%llu bad lines) from %d inputs in "
		"%.2f s, page %.1f KiB in %.2f s; peak memory %ld MiB\n",
		(unsigned long long)m->records, (unsigned long long)m->bad, o->n_report_files,
		(t1 - t0) / 1e9, size / 1024.0, (clock_mono_ns() - t1) / 1e9,
		summary_peak_rss_kib() / 1024);
	ret = 0;
cleanup:
	rm_free(m);
	jsonl_free(j);
	kernel_probe_free_rst_reasons(&reasons);
	return ret;
}
