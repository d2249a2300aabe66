/* Tracer: BPF lifecycle for the tracepoint programs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "bpf_load.h"
#include "cgroups.h"
#include "clock.h"
#include "kernel_probe.h"
#include "log.h"
#include "sock_id.h"
#include "tracer.h"
#include "tcptrail.skel.h"

/* Bounds of what is kept per accepted connection until its history. */
#define ACCEPTS_MIN (64u << 10)
#define ACCEPTS_MAX (4u << 20)
/* Lost-record attributions moved out per call at most (the map's size). */
#define LOST_COOKIES_MAX 16384

struct tracer {
	struct tcptrail_bpf *skel;
	struct ring_buffer *rb;
	struct tracer_features feat;
	struct tracer_config cfg;
	int ncpus;
	uint64_t *percpu;	/* scratch for reading a per-CPU counter */
	struct tt_nest *nest;	/* scratch for reading the per-CPU state */
	uint64_t *cookies;	/* scratch for draining lost_cookies */
	/* destinations at 0 when last read, sorted: removed if still at 0 */
	struct tt_dest_key *idle, *idle_next;
	uint32_t nidle;
	struct rst_reasons rst;
	bool syscalls_off;	/* TCPTRAIL_SYSCALLS=off */
	bool userspace_lives;	/* TCPTRAIL_HISTORIES=userspace */
	bool storage_in_kernel;	/* tracing programs may keep socket storage */
};

static bool env_is(const char *var, const char *value)
{
	const char *v = getenv(var);

	return v && !strcmp(v, value);
}

/* Decide which optional programs this kernel can run. */
static int probe_features(struct tracer *t)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int arity;

	if (!btf) {
		p_err("this kernel exposes no BTF type information "
		      "(/sys/kernel/btf/vmlinux); tcptrail needs Linux 5.8 or later built "
		      "with CONFIG_DEBUG_INFO_BTF=y");
		return -ENOENT;
	}
	if (kernel_probe_tp_arity(btf, "inet_sock_set_state") < 0) {
		p_err("this kernel has no sock:inet_sock_set_state tracepoint; "
		      "tcptrail needs Linux 4.16 or later");
		btf__free(btf);
		return -ENOENT;
	}
	/* v5.11, commit 8e4597c627fb ("bpf: Allow using bpf_sk_storage in
	 * FENTRY/FEXIT/RAW_TP"), which added this function
	 */
	t->storage_in_kernel = kernel_probe_func(btf, "bpf_sk_storage_tracing_allowed");
	t->feat.synack = kernel_probe_tp_arity(btf, "tcp_retransmit_synack") >= 0;
	arity = kernel_probe_tp_arity(btf, "tcp_send_reset");
	t->feat.send_reset = arity >= 0;
	t->feat.send_reset_reason = arity >= 4;
	t->feat.receive_reset = kernel_probe_tp_arity(btf, "tcp_receive_reset") >= 0;
	arity = kernel_probe_tp_arity(btf, "tcp_retransmit_skb");
	t->feat.retransmit = arity >= 0;
	t->feat.retransmit_err = arity >= 4;
	t->feat.listen_overflow = kernel_probe_tp_arity(btf, "kfree_skb") >= 4 &&
		kernel_probe_enum_has(btf, "skb_drop_reason", "SKB_DROP_REASON_TCP_LISTEN_OVERFLOW");
	kernel_probe_rst_reasons(&t->rst, btf);
	btf__free(btf);
	/* TCPTRAIL_SYSCALLS=off: as on a kernel without syscall tracepoints;
	 * TCPTRAIL_HISTORIES=userspace: as on one without socket storage
	 * (tests, and the benchmark's measure of what each costs)
	 */
	t->syscalls_off = env_is("TCPTRAIL_SYSCALLS", "off");
	t->userspace_lives = env_is("TCPTRAIL_HISTORIES", "userspace");
	t->feat.accept = !t->syscalls_off && kernel_probe_syscall_tp("sys_exit_accept4") &&
			 kernel_probe_syscall_tp("sys_exit_accept");
	t->feat.shutdown = !t->syscalls_off && kernel_probe_syscall_tp("sys_enter_shutdown") &&
			   kernel_probe_syscall_tp("sys_exit_shutdown");
	return 0;
}

/* Leave p out unless the kernel has what it hooks. */
static void want(struct bpf_load *l, struct bpf_program *p, bool have, const char *feature)
{
	if (!have)
		bpf_load_off(l, p, "the kernel lacks %s", feature);
}

static void want_syscalls(struct tracer *t, struct bpf_load *l, struct bpf_program *p,
			  bool have)
{
	if (t->syscalls_off)
		bpf_load_off(l, p, "disabled by TCPTRAIL_SYSCALLS=off");
	else
		want(l, p, have, "syscall_tracepoints");
}

static bool refused(const char *prog)
{
	enum bpf_load_status st;

	return bpf_load_status_of(prog, &st) && st == BPF_LOAD_REFUSED;
}

/* Lives kept in the kernel, or rebuilt from every transition: the first
 * where the kernel can and its program was not refused.
 */
static bool choose_lives(struct tracer *t, struct bpf_load *l, struct tcptrail_bpf *s)
{
	bool kept = t->storage_in_kernel && !t->userspace_lives &&
		    !refused("state_keep");

	if (kept) {
		bpf_load_off(l, s->progs.state_send, "superseded by state_keep");
		bpf_load_off(l, s->progs.state_send_nest,
			     "superseded by state_keep");
		return true;
	}
	if (t->userspace_lives) {
		bpf_load_off(l, s->progs.state_keep,
			     "disabled by TCPTRAIL_HISTORIES=userspace");
		bpf_load_off(l, s->progs.state_keep_nest,
			     "disabled by TCPTRAIL_HISTORIES=userspace");
	} else if (!t->storage_in_kernel) {
		want(l, s->progs.state_keep, false, "sk_storage_tracing");
		want(l, s->progs.state_keep_nest, false, "sk_storage_tracing");
	} else {
		/* refused: its catcher has nothing to catch */
		bpf_load_off(l, s->progs.state_keep_nest,
			     "state_keep was refused");
	}
	return false;
}

static uint32_t clamp_u32(uint64_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : (uint32_t)v;
}

/* A freshly opened skeleton, set for this kernel and these options. */
static int configure(struct bpf_load *l, void *skel, void *arg)
{
	struct tracer *t = arg;
	struct tcptrail_bpf *s = skel;
	uint64_t ring = (uint64_t)t->cfg.ring_mb << 20;
	bool kept = choose_lives(t, l, s);
	int err;

	s->rodata->sock_cookies = sock_id_mode()->cookies;
	s->rodata->sock_id_key = sock_id_mode()->key;
	s->rodata->cgroup_ids = cgroups_v2();
	s->rodata->shutdown_hooked = t->feat.shutdown;
	s->rodata->keep_lives = kept;
	s->rodata->live_states = t->cfg.live_states;
	s->rodata->watch_close_wait = t->cfg.watch_close_wait;
	s->rodata->count_ports = kept && t->cfg.count_ports;
	/* All CPUs together leave at most a quarter of the ring unannounced. */
	s->rodata->wakeup_bytes = ring / 4 / (uint64_t)t->ncpus;
	if (s->rodata->wakeup_bytes < sizeof(struct tt_history))
		s->rodata->wakeup_bytes = sizeof(struct tt_history);
	err = bpf_map__set_max_entries(s->maps.events, (uint32_t)ring);
	if (!err)
		err = bpf_map__set_max_entries(s->maps.accepts,
					       clamp_u32(2 * t->cfg.sockets_at_start, ACCEPTS_MIN,
							 ACCEPTS_MAX));
	if (!err)
		err = bpf_map__set_max_entries(s->maps.dest_use,
					       t->cfg.max_destinations ? t->cfg.max_destinations : 1);
	if (!err)
		err = bpf_map__set_max_entries(s->maps.listen_counts,
					       t->cfg.max_listeners ? t->cfg.max_listeners : 1);
	if (err) {
		p_err("failed to size the BPF maps: %s", strerror(-err));
		return err;
	}
	want(l, s->progs.synack_retrans, t->feat.synack, "tcp_retransmit_synack");
	want(l, s->progs.reset_sent_why, t->feat.send_reset_reason,
	     "tcp_send_reset_reason");
	if (t->feat.send_reset_reason)
		bpf_load_off(l, s->progs.reset_sent,
			     "superseded by reset_sent_why");
	else
		want(l, s->progs.reset_sent, t->feat.send_reset, "tcp_send_reset");
	want(l, s->progs.reset_recv, t->feat.receive_reset, "tcp_receive_reset");
	if (!t->cfg.retransmits_per_s) {
		bpf_load_off(l, s->progs.retransmit_err, "--retransmits-per-s 0");
		bpf_load_off(l, s->progs.retransmit, "--retransmits-per-s 0");
	} else {
		want(l, s->progs.retransmit_err, t->feat.retransmit_err,
		     "tcp_retransmit_skb_err");
		if (t->feat.retransmit_err)
			bpf_load_off(l, s->progs.retransmit, "superseded by retransmit_err");
		else
			want(l, s->progs.retransmit, t->feat.retransmit, "tcp_retransmit_skb");
	}
	s->rodata->retrans_per_s = t->cfg.retransmits_per_s / (uint32_t)t->ncpus;
	if (!s->rodata->retrans_per_s && t->cfg.retransmits_per_s)
		s->rodata->retrans_per_s = 1;
	want(l, s->progs.listen_overflow, t->feat.listen_overflow, "listen_overflow_reason");
	want_syscalls(t, l, s->progs.accept4_exit, t->feat.accept);
	want_syscalls(t, l, s->progs.accept_exit, t->feat.accept);
	want_syscalls(t, l, s->progs.shutdown_enter, t->feat.shutdown);
	want_syscalls(t, l, s->progs.shutdown_exit, t->feat.shutdown);
	return 0;
}

static int skel_load(void *skel)
{
	return tcptrail_bpf__load(skel);
}

static void *skel_open(void)
{
	return tcptrail_bpf__open();
}

static void skel_destroy(void *skel)
{
	tcptrail_bpf__destroy(skel);
}

static struct bpf_object *skel_object(void *skel)
{
	return ((struct tcptrail_bpf *)skel)->obj;
}

static const struct bpf_load_loss tracer_losses[] = {
	{ "state_keep",
	  "every transition is sent and histories are rebuilt in userspace" },
	{ "state_keep_nest",
	  "state changes nested in another on one CPU are counted as lost, not recorded" },
	{ "state_send_nest",
	  "state changes nested in another on one CPU are counted as lost, not recorded" },
	{ "synack_retrans", "SYN-ACK retransmits are not reported" },
	{ "reset_sent", "resets sent are not told apart" },
	{ "reset_sent_why", "resets sent are not told apart" },
	{ "reset_recv", "resets received are not told apart" },
	{ "listen_overflow", "accept-queue overflows are not reported per connection" },
	{ "retransmit", "retransmits are not reported live (histories still count them)" },
	{ "retransmit_err", "retransmits are not reported live (histories still count them)" },
	{ "accept4_exit", "accept-queue wait and accepted_by are not reported" },
	{ "accept_exit", "accept-queue wait and accepted_by are not reported" },
	{ "shutdown_enter", "fin_by is not reported" },
	{ "shutdown_exit", "fin_by is not reported" },
	{ NULL, NULL },
};

/* What this kernel lacks, said once each (a refusal was said as it
 * happened); what is on, with -v.
 */
static void say_features(struct tracer *t)
{
	struct tracer_features lacks = {
		.synack = !t->feat.synack,
		.send_reset = !t->feat.send_reset || !t->feat.receive_reset,
		.listen_overflow = !t->feat.listen_overflow,
		.accept = !t->feat.accept,
		.shutdown = !t->feat.shutdown,
	};

	t->feat.kept_lives = bpf_load_loaded("state_keep");
	t->feat.synack = bpf_load_loaded("synack_retrans");
	t->feat.send_reset = bpf_load_loaded("reset_sent") ||
			     bpf_load_loaded("reset_sent_why");
	t->feat.send_reset_reason = bpf_load_loaded("reset_sent_why");
	t->feat.receive_reset = bpf_load_loaded("reset_recv");
	t->feat.listen_overflow = bpf_load_loaded("listen_overflow");
	t->feat.retransmit = bpf_load_loaded("retransmit") || bpf_load_loaded("retransmit_err");
	t->feat.accept = bpf_load_loaded("accept4_exit") && bpf_load_loaded("accept_exit");
	t->feat.shutdown = bpf_load_loaded("shutdown_enter") &&
			   bpf_load_loaded("shutdown_exit");
	if (lacks.synack)
		p_warn("no tcp:tcp_retransmit_synack tracepoint: SYN-ACK retransmits not reported");
	if (lacks.send_reset)
		p_warn("no tcp reset tracepoints: histories cannot tell resets apart");
	if (lacks.listen_overflow)
		p_warn("this kernel has no TCP_LISTEN_OVERFLOW drop reason: "
		       "accept-queue overflows are not reported per connection");
	if (lacks.accept)
		p_warn("no syscall tracepoints for accept() (tracefs, CONFIG_FTRACE_SYSCALLS): "
		       "accept-queue wait and accepted_by are not reported");
	if (lacks.shutdown)
		p_warn("no syscall tracepoints for shutdown(): fin_by is not reported");
	p_info("kernel features: ids=%s lives=%s synack_retransmit=%s resets=%s "
	       "reset_reasons=%s listen_overflow=%s accept=%s shutdown=%s",
	       sock_id_mode()->cookies ? "cookies" : "per-run",
	       t->feat.kept_lives ? "kernel" : "userspace", t->feat.synack ? "yes" : "no",
	       t->feat.send_reset && t->feat.receive_reset ? "yes" : "no",
	       t->feat.send_reset_reason ? "yes" : "no", t->feat.listen_overflow ? "yes" : "no",
	       t->feat.accept ? "yes" : "no", t->feat.shutdown ? "yes" : "no");
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;
	const struct tt_event *e = data;

	if (size < sizeof(*e) ||
	    (e->type == TT_EV_HISTORY && size < sizeof(struct tt_history)))
		return 0;
	t->cfg.on_event(e, t->cfg.arg);
	return 0;
}

static void explain_load_error(int err)
{
	if (err == -EPERM || err == -EACCES)
		p_err("permission denied loading BPF programs: tcptrail needs root "
		      "(or CAP_BPF and CAP_PERFMON, with CAP_SYS_ADMIN, CAP_SYS_PTRACE and "
		      "CAP_DAC_READ_SEARCH to see every namespace and process)");
	else if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 0)
		/* asked only once privileges are known good: the probe
		 * cannot tell "not permitted" from "not there"
		 */
		p_err("this kernel has no BPF ring buffer; tcptrail needs Linux 5.8 or later");
	else
		p_err("failed to load the BPF programs: %s (run with -vv for the "
		      "kernel verifier's log)", strerror(-err));
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
	struct bpf_load l = {
		.what = "the tracer",
		.open = skel_open,
		.destroy = skel_destroy,
		.object = skel_object,
		.load = skel_load,
		.configure = configure,
		.losses = tracer_losses,
	};
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
	err = probe_features(t);
	if (err)
		goto fail;
	l.arg = t;
	err = bpf_load_run(&l, &skel);
	if (err) {
		if (err != BPF_LOAD_SAID)
			explain_load_error(err);
		goto fail;
	}
	t->skel = skel;
	if (!bpf_load_loaded("state_keep") && !bpf_load_loaded("state_send")) {
		err = -ENOEXEC;
		p_err("the kernel refused every program that follows state changes: "
		      "tcptrail cannot trace here (run with -v for the verifier's log)");
		goto fail;
	}
	say_features(t);
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

void tracer_skips(struct tracer *t, struct tracer_skips *s)
{
	struct tcptrail_bpf *k = t->skel;
	const struct bpf_program *first = t->feat.kept_lives ? k->progs.state_keep
							     : k->progs.state_send;
	uint64_t caught = 0;

	memset(s, 0, sizeof(*s));
	if (!read_nest(t))
		for (int i = 0; i < t->ncpus; i++)
			caught += t->nest[i].caught;
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
