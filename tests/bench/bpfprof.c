/* Price the parts of a state-change record (tests/bench/prof.bpf.c) with the
 * kernel's own accounting during a connection storm.
 * Usage: bpfprof STORM PORT SECONDS THREADS [PROGRAM...]
 * Loads every part, or only the PROGRAMs named (and p_closes, which counts
 * the CLOSE transitions). Prints one markdown row per part,
 * | part | runs | ns per run |, then, when p_close_delivery ran, the
 * price per CLOSE of each of its parts (the delivery facts read at the
 * CLOSE; the data phase kept at the FIN): its time per CLOSE in a tenth of
 * a second with the part on less in the next one, with nothing on; the
 * median of those pairs.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "prof.skel.h"

#define BPFPROF_WINDOW_NS 100000000ull
#define BPFPROF_PAIRS_MAX 2048

/* The parts p_close_delivery reads in turn (its delivery_on bits): the
 * delivery facts at the CLOSE, then the data phase kept at the FIN.
 */
static const char *const bpfprof_part_names[2] = {
	"delivery facts read at the CLOSE (fill_delivery)",
	"data phase kept leaving ESTABLISHED or CLOSE_WAIT (save_data_phase)",
};

/* p_close_delivery's time per CLOSE with a part on less with nothing on,
 * one per pair of windows (a part on, then nothing): their median is the
 * price, so a window that something else on the machine slowed moves it
 * little.
 */
struct bpfprof_split {
	double pair[2][BPFPROF_PAIRS_MAX];
	int npairs[2];
	__u64 closes_on[2];	/* over the windows with the part on */
	double on_ns_per_close; /* the last window with a part on, awaiting its pair */
	unsigned window;	/* windows closed: part 0 on, off, part 1 on, off, ... */
	__u64 last_ns, last_closes;
};

/* Is PROG among the names asked for (all when none are)? */
static bool bpfprof_wanted(const char *prog, int argc, char **argv)
{
	if (argc <= 5 || !strcmp(prog, "p_closes"))
		return true;
	for (int i = 5; i < argc; i++)
		if (!strcmp(prog, argv[i]))
			return true;
	return false;
}

static __u64 bpfprof_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static __u64 bpfprof_closes(const struct prof_bpf *skel)
{
	int ncpu = libbpf_num_possible_cpus(), zero = 0;
	__u64 vals[ncpu > 0 ? ncpu : 1], sum = 0;

	if (ncpu <= 0 || bpf_map__lookup_elem(skel->maps.closes, &zero, sizeof(zero), vals,
					      sizeof(vals), 0))
		return 0;
	for (int i = 0; i < ncpu; i++)
		sum += vals[i];
	return sum;
}

static __u64 bpfprof_run_ns(const struct bpf_program *prog)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
		return 0;
	return info.run_time_ns;
}

/* Close the window that ends now (a window without a CLOSE is dropped,
 * with its pair) and open the next: the parts on in turn, each followed by
 * a window with nothing on.
 */
static void bpfprof_flip(struct prof_bpf *skel, struct bpfprof_split *s)
{
	__u64 ns = bpfprof_run_ns(skel->progs.p_close_delivery), closes = bpfprof_closes(skel);
	__u64 n = closes - s->last_closes;
	double per = n ? (double)(ns - s->last_ns) / n : -1;
	int part = (s->window / 2) % 2;

	if (s->window % 2 == 0) {
		s->on_ns_per_close = per;
		s->closes_on[part] += n;
	} else if (per >= 0 && s->on_ns_per_close >= 0 && s->npairs[part] < BPFPROF_PAIRS_MAX) {
		s->pair[part][s->npairs[part]++] = s->on_ns_per_close - per;
	}
	s->last_ns = ns;
	s->last_closes = closes;
	s->window++;
	skel->bss->delivery_on = s->window % 2 ? 0 : 1u << ((s->window / 2) % 2);
}

static int bpfprof_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* A row per program loaded, then a row per part of p_close_delivery (SPLIT:
 * its pairs, NULL when it did not run).
 */
static void bpfprof_print(const struct prof_bpf *skel, struct bpfprof_split *split)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (!bpf_program__autoload(prog) ||
		    bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			continue;
		printf("| %s | %llu | %.1f |\n", bpf_program__name(prog),
		       (unsigned long long)info.run_cnt,
		       info.run_cnt ? (double)info.run_time_ns / info.run_cnt : 0.0);
	}
	for (int part = 0; split && part < 2; part++) {
		double *p = split->pair[part];
		int n = split->npairs[part];

		if (!n)
			continue;
		qsort(p, n, sizeof(*p), bpfprof_cmp);
		printf("| %s, per CLOSE: p_close_delivery reading less not, median of %d pairs "
		       "of 0.1 s (quartiles %.1f, %.1f) | %llu | %.1f |\n", bpfprof_part_names[part],
		       n, p[n / 4], p[3 * n / 4], (unsigned long long)split->closes_on[part], p[n / 2]);
	}
}

static int consume(void *ctx, void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

int main(int argc, char **argv)
{
	static struct bpfprof_split split;
	struct prof_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	struct bpf_program *prog;
	int stats_fd = -1, status, rc = 1;
	bool split_on;
	__u64 flip_at;
	pid_t storm;

	if (argc < 5) {
		fprintf(stderr, "usage: bpfprof STORM PORT SECONDS THREADS [PROGRAM...]\n");
		return 2;
	}
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0) {
		fprintf(stderr, "bpfprof: cannot enable bpf_stats: %s\n", strerror(errno));
		return 1;
	}
	skel = prof_bpf__open();
	if (!skel)
		goto cleanup;
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, bpfprof_wanted(bpf_program__name(prog), argc, argv));
	if (prof_bpf__load(skel) || prof_bpf__attach(skel)) {
		fprintf(stderr, "bpfprof: cannot load or attach: %s\n", strerror(errno));
		goto cleanup;
	}
	split_on = bpf_program__autoload(skel->progs.p_close_delivery);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.ring), consume, NULL, NULL);
	if (!rb)
		goto cleanup;
	skel->bss->delivery_on = 1;
	flip_at = bpfprof_now() + BPFPROF_WINDOW_NS;
	storm = fork();
	if (storm < 0)
		goto cleanup;
	if (storm == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, 1);
		execv(argv[1], (char *[]){ argv[1], argv[2], argv[3], argv[4], NULL });
		_exit(127);
	}
	while (waitpid(storm, &status, WNOHANG) == 0) {
		ring_buffer__poll(rb, 10);
		if (split_on && bpfprof_now() >= flip_at) {
			bpfprof_flip(skel, &split);
			flip_at += BPFPROF_WINDOW_NS;
		}
	}
	ring_buffer__consume(rb);
	bpfprof_print(skel, split_on ? &split : NULL);
	rc = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
cleanup:
	ring_buffer__free(rb);
	prof_bpf__destroy(skel);
	close(stats_fd);
	return rc;
}
