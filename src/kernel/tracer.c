/* Tracer: BPF lifecycle for the tracepoint programs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf_load.h"
#include "clock.h"
#include "kernel_probe.h"
#include "log.h"
#include "tracer_priv.h"

/* Lost-record attributions moved out per call at most (the map's size). */
#define LOST_COOKIES_MAX 16384

/* A history's chrono times, sent in ticks (no division at a CLOSE), in ns
 * before anything reads them; unknown while the tick rate is.
 */
static const struct tt_event *history_in_ns(const struct tracer *t, const struct tt_history *in,
					    struct tt_history *out)
{
	struct tt_delivery *d = &out->dl;

	if (!(in->dl.flags & TT_D_TICKS))
		return &in->ev;
	*out = *in;	/* the ring's pages are read-only here */
	d->flags &= ~TT_D_TICKS;
	if (!t->hz) {
		d->flags &= ~TT_D_CHRONO;
		d->busy_ns = d->rwnd_limited_ns = d->sndbuf_limited_ns = 0;
		return &out->ev;
	}
	d->busy_ns = (uint64_t)((unsigned __int128)d->busy_ns * 1000000000u / t->hz);
	d->rwnd_limited_ns = (uint64_t)((unsigned __int128)d->rwnd_limited_ns * 1000000000u / t->hz);
	d->sndbuf_limited_ns =
		(uint64_t)((unsigned __int128)d->sndbuf_limited_ns * 1000000000u / t->hz);
	return &out->ev;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;
	const struct tt_event *e = data;

	if (size < sizeof(*e) ||
	    (e->type == TT_EV_HISTORY && size < sizeof(struct tt_history)))
		return 0;
	if (e->type == TT_EV_HISTORY)
		e = history_in_ns(t, data, &t->history);
	t->cfg.on_event(e, t->cfg.arg);
	return 0;
}

static int attach_one(struct bpf_program *p, struct bpf_link **link)
{
	if (!bpf_program__autoload(p))
		return 0;
	*link = bpf_program__attach(p);
	return *link ? 0 : -errno;
}

/* Each catcher after its first program: a tracepoint runs its programs in
 * the order they were attached, and the catcher must come second (see
 * state.bpf.c). Then everything else.
 */
static int attach(struct tcptrail_bpf *s)
{
	struct bpf_program *order[] = {
		s->progs.state_keep, s->progs.state_keep_nest,
		s->progs.state_send, s->progs.state_send_nest,
	};
	struct bpf_link **links[] = {
		&s->links.state_keep, &s->links.state_keep_nest,
		&s->links.state_send, &s->links.state_send_nest,
	};
	int err = 0;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && !err; i++)
		err = attach_one(order[i], links[i]);
	return err ? err : tcptrail_bpf__attach(s);
}

int tracer_open(struct tracer **out, const struct tracer_config *cfg)
{
	struct tracer *t;
	void *skel;
	int err;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->cfg = *cfg;
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus <= 0) {
		err = t->ncpus ? t->ncpus : -EINVAL;
		p_err("failed to count CPUs: %s", strerror(-err));
		goto fail;
	}
	t->percpu = calloc((size_t)t->ncpus, sizeof(uint64_t));
	t->nest = calloc((size_t)t->ncpus, sizeof(*t->nest));
	t->cookies = calloc(LOST_COOKIES_MAX, sizeof(*t->cookies));
	t->idle = calloc(cfg->max_destinations + 1, sizeof(*t->idle));
	t->idle_next = calloc(cfg->max_destinations + 1, sizeof(*t->idle_next));
	if (!t->percpu || !t->nest || !t->cookies || !t->idle || !t->idle_next) {
		err = -ENOMEM;
		p_err("out of memory");
		goto fail;
	}
	err = tracer_setup_probe(t);
	if (err)
		goto fail;
	err = tracer_setup_load(t, &skel);
	if (err)
		goto fail;
	t->skel = skel;
	if (!bpf_load_loaded("state_keep") && !bpf_load_loaded("state_send")) {
		err = -ENOEXEC;
		p_err("the kernel refused every program that follows state changes: "
		      "tcptrail cannot trace here (run with -v for the verifier's log)");
		goto fail;
	}
	tracer_setup_say(t);
	t->skel->bss->trace_start_ns = clock_mono_ns();
	err = attach(t->skel);
	if (err) {
		p_err("failed to attach to the TCP tracepoints: %s", strerror(-err));
		goto fail;
	}
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_sample, t, NULL);
	if (!t->rb) {
		err = -errno;
		p_err("failed to open the ring buffer: %s", strerror(-err));
		goto fail;
	}
	*out = t;
	return 0;
fail:
	tracer_close(t);
	return err;
}

void tracer_close(struct tracer *t)
{
	if (!t)
		return;
	ring_buffer__free(t->rb);
	tcptrail_bpf__destroy(t->skel);
	free(t->percpu);
	free(t->nest);
	free(t->cookies);
	free(t->idle);
	free(t->idle_next);
	kernel_probe_free_rst_reasons(&t->rst);
	free(t);
}

void tracer_set_hz(struct tracer *t, uint32_t hz)
{
	t->skel->bss->hz = hz;
	t->hz = hz;
}

const struct tracer_features *tracer_features(const struct tracer *t)
{
	return &t->feat;
}

const struct rst_reasons *tracer_rst_reasons(const struct tracer *t)
{
	return &t->rst;
}

int tracer_poll(struct tracer *t, int timeout_ms)
{
	int n = ring_buffer__poll(t->rb, timeout_ms);

	if (n < 0 && n != -EINTR)
		return n;
	/* Records submitted without a wakeup are waiting: take them too. */
	int m = ring_buffer__consume(t->rb);

	if (m < 0)
		return m;
	return (n > 0 ? n : 0) + m;
}

/* The kernel's count of a program's skipped runs; 0 if not loaded. */
static uint64_t prog_misses(const struct bpf_program *p)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	int fd = bpf_program__fd(p);

	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.recursion_misses;
}

static int read_nest(struct tracer *t)
{
	uint32_t zero = 0;

	return bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.nesting), &zero, t->nest);
}

void tracer_skips(struct tracer *t, uint64_t twice, struct tracer_skips *s)
{
	struct tcptrail_bpf *k = t->skel;
	const struct bpf_program *first = t->feat.kept_lives ? k->progs.state_keep
							     : k->progs.state_send;
	uint64_t caught = 0;

	memset(s, 0, sizeof(*s));
	if (!read_nest(t))
		for (int i = 0; i < t->ncpus; i++)
			caught += t->nest[i].caught;
	caught = caught > twice ? caught - twice : 0;
	s->caught = caught;
	s->missed = prog_misses(first);
	s->records = (s->missed > caught ? s->missed - caught : 0) +
		     prog_misses(k->progs.synack_retrans) +
		     prog_misses(k->progs.reset_sent) +
		     prog_misses(k->progs.reset_sent_why) +
		     prog_misses(k->progs.reset_recv) +
		     prog_misses(k->progs.accept4_exit) + prog_misses(k->progs.accept_exit) +
		     prog_misses(k->progs.shutdown_enter) + prog_misses(k->progs.retransmit) +
		     prog_misses(k->progs.retransmit_err);
	s->filter = prog_misses(k->progs.listen_overflow);
}

void tracer_lost(struct tracer *t, uint64_t by_cause[TT_LOST_N_CAUSES])
{
	int fd = bpf_map__fd(t->skel->maps.lost_events);

	for (uint32_t c = 0; c < TT_LOST_N_CAUSES; c++) {
		by_cause[c] = 0;
		if (bpf_map_lookup_elem(fd, &c, t->percpu))
			continue;
		for (int i = 0; i < t->ncpus; i++)
			by_cause[c] += t->percpu[i];
	}
}

uint64_t tracer_drain_lost_cookies(struct tracer *t,
				   void (*fn)(uint64_t cookie, void *arg), void *arg)
{
	int fd = bpf_map__fd(t->skel->maps.lost_cookies);
	uint64_t count, total = 0, *key = NULL;
	size_t n = 0;

	/* The keys first, then each taken: the kernel may add more meanwhile,
	 * and a walk that deleted as it went could restart without end. What
	 * is added later waits for the next call.
	 */
	while (n < LOST_COOKIES_MAX && !bpf_map_get_next_key(fd, key, &t->cookies[n])) {
		key = &t->cookies[n];
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		if (bpf_map_lookup_and_delete_elem(fd, &t->cookies[i], &count) &&
		    (bpf_map_lookup_elem(fd, &t->cookies[i], &count) ||
		     bpf_map_delete_elem(fd, &t->cookies[i])))
			continue;
		fn(t->cookies[i], arg);
		total += count;
	}
	return total;
}

void tracer_state_deltas(struct tracer *t, int64_t deltas[TT_TCP_MAX_STATES])
{
	memset(deltas, 0, sizeof(int64_t) * TT_TCP_MAX_STATES);
	if (read_nest(t))
		return;
	for (int i = 0; i < t->ncpus; i++)
		for (int s = 0; s < TT_TCP_MAX_STATES; s++)
			deltas[s] += t->nest[i].by_state[s];
}

static int cmp_dest(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct tt_dest_key));
}

int tracer_dest_use(struct tracer *t, tracer_dest_fn fn, void *arg)
{
	int fd = bpf_map__fd(t->skel->maps.dest_use);
	uint32_t max = t->cfg.max_destinations, nnext = 0;
	struct tt_dest_key k, last;
	bool walked = false;
	int64_t v;
	int n = 0;

	if (!t->feat.kept_lives)
		return -EOPNOTSUPP;
	while ((uint32_t)n <= max && !bpf_map_get_next_key(fd, walked ? &last : NULL, &k)) {
		last = k;
		walked = true;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;
		n++;
		/* a close may have beaten its connect's count to the map */
		fn(&k, v > 0 ? v : 0, arg);
		if (v <= 0 && nnext < max)
			t->idle_next[nnext++] = k;
	}
	/* at 0 now and the last time: gone (a connect that raced the delete
	 * counts from 1 again; its close then clamps at 0)
	 */
	for (uint32_t i = 0; i < nnext; i++)
		if (bsearch(&t->idle_next[i], t->idle, t->nidle, sizeof(*t->idle), cmp_dest))
			bpf_map_delete_elem(fd, &t->idle_next[i]);
	qsort(t->idle_next, nnext, sizeof(*t->idle_next), cmp_dest);
	memcpy(t->idle, t->idle_next, nnext * sizeof(*t->idle));
	t->nidle = nnext;
	return n;
}

uint64_t tracer_retransmits_unwritten(struct tracer *t)
{
	struct tt_retrans_budget *b = (struct tt_retrans_budget *)t->nest;
	uint32_t zero = 0;
	uint64_t sum = 0;

	/* the scratch for the per-CPU state is larger than this per-CPU value */
	_Static_assert(sizeof(struct tt_retrans_budget) <= sizeof(struct tt_nest), "scratch");
	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.retrans_budget), &zero, b))
		return 0;
	for (int i = 0; i < t->ncpus; i++)
		sum += b[i].suppressed;
	return sum;
}

int tracer_listen_counts(struct tracer *t, tracer_listen_fn fn, void *arg)
{
	int fd = bpf_map__fd(t->skel->maps.listen_counts);
	struct tt_listen_key k, last;
	struct tt_listen_counts c;
	bool walked = false;
	int n = 0;

	if (!t->feat.kept_lives)
		return -EOPNOTSUPP;
	while ((uint32_t)n <= t->cfg.max_listeners &&
	       !bpf_map_get_next_key(fd, walked ? &last : NULL, &k)) {
		last = k;
		walked = true;
		if (bpf_map_lookup_elem(fd, &k, &c))
			continue;
		n++;
		fn(&k, &c, arg);
	}
	return n;
}
