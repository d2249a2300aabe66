/* libFuzzer target: the recording reader (tcptrail replay) on hostile
 * bytes. Every input must end in a sentence or a replay, within bounded
 * memory, and never in a sanitizer report.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "cgroup_names.h"
#include "emit.h"
#include "ingest.h"
#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int null_fd = -1;
	/* cgroup names from hostile frames, shown by the emitter as replay does */
	static struct cgroup_names *names;
	struct journal_header h;
	struct ingest_config cfg = { .states = true, .histories = true };
	struct outbuf out = { .buf = NULL };
	struct emitter em;
	struct sink sink = { &emit_json_ops, &em };
	struct ingest *in;
	char err[256];
	int fd = memfd_create("rec", 0);

	if (null_fd < 0)
		null_fd = open("/dev/null", O_WRONLY);
	if (!names)
		names = cgroup_names_new();
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET)) {
		close(fd);
		return 0;
	}
	if (journal_read_header(fd, &h, err, sizeof(err)) == 0 &&
	    outbuf_init(&out, null_fd, 1 << 16) == 0) {
		emitter_init(&em, &out);
		em.cgroup_lookup = cgroup_names_lookup;
		em.cgroup_ctx = names;
		fmt_clock_set(&em.clock, h.mono_to_real_ns);
		/* as replay does: the table no larger than the file can fill */
		cfg.max_conns = h.max_conns < size / 104 + 16 ? h.max_conns
							     : (uint32_t)(size / 104 + 16);
		cfg.close_grace_ns = h.close_grace_ns;
		cfg.leak_after_ns = h.leak_after_ns;
		in = ingest_new(&cfg, &sink);
		if (in) {
			if (journal_replay(fd, &h, in, cgroup_names_set, names, err, sizeof(err)) >= 0)
				ingest_flush(in);
			ingest_free(in);
		}
		outbuf_flush(&out);
		outbuf_free(&out);
	}
	close(fd);
	return 0;
}
