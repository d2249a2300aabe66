/* libFuzzer target: the recording reader (tcptrail replay) on hostile
 * bytes, through replay_stream(), the very code the command runs. Every
 * input must end in a sentence or a replay, within bounded memory, and
 * never in a sanitizer report.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "journal.h"
#include "replay_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int null_fd = -1;
	static struct filter all;
	struct replay_setup setup = { .name = "fuzz", .json = size & 1, .states = true,
				      .histories = true, .filter = &all };
	struct replay_result r;
	struct journal_header h;
	char err[320];
	int fd = memfd_create("rec", 0);

	if (null_fd < 0) {
		null_fd = open("/dev/null", O_WRONLY);
		filter_init(&all);
	}
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size && !lseek(fd, 0, SEEK_SET) &&
	    !journal_read_header(fd, &h, err, sizeof(err)) &&
	    replay_stream(fd, &h, null_fd, &setup, &r, err, sizeof(err)) &&
	    (!err[0] || !memchr(err, '\0', sizeof(err))))
		abort();	/* a failure must say why, in one terminated sentence */
	close(fd);
	return 0;
}
