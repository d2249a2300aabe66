/* Price the parts of a state-change record (tests/bench/prof.bpf.c) with the
 * kernel's own accounting during a connection storm.
 * Usage: bpfprof STORM PORT SECONDS THREADS
 * Prints one markdown row per part: | part | runs | ns per run |
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "prof.skel.h"

static int consume(void *ctx, void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

int main(int argc, char **argv)
{
	struct prof_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	struct bpf_program *prog;
	int stats_fd = -1, status, rc = 1;
	pid_t storm;

	if (argc != 5) {
		fprintf(stderr, "usage: bpfprof STORM PORT SECONDS THREADS\n");
		return 2;
	}
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0) {
		fprintf(stderr, "bpfprof: cannot enable bpf_stats: %s\n", strerror(errno));
		return 1;
	}
	skel = prof_bpf__open_and_load();
	if (!skel || prof_bpf__attach(skel)) {
		fprintf(stderr, "bpfprof: cannot load or attach: %s\n", strerror(errno));
		goto cleanup;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.ring), consume, NULL, NULL);
	if (!rb)
		goto cleanup;
	storm = fork();
	if (storm == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, 1);
		execv(argv[1], (char *[]){ argv[1], argv[2], argv[3], argv[4], NULL });
		_exit(127);
	}
	while (waitpid(storm, &status, WNOHANG) == 0)
		ring_buffer__poll(rb, 50);
	ring_buffer__consume(rb);
	bpf_object__for_each_program(prog, skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			continue;
		printf("| %s | %llu | %.0f |\n", bpf_program__name(prog),
		       (unsigned long long)info.run_cnt,
		       info.run_cnt ? (double)info.run_time_ns / info.run_cnt : 0.0);
	}
	rc = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
cleanup:
	ring_buffer__free(rb);
	prof_bpf__destroy(skel);
	close(stats_fd);
	return rc;
}
