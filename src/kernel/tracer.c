/* Tracer: BPF lifecycle for the tracepoint programs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "bpf_load.h"
#include "cgroups.h"
#include "log.h"
#include "sock_id.h"
#include "tracer.h"
#include "tcptrail.skel.h"

struct tracer {
	struct tcptrail_bpf *skel;
	struct ring_buffer *rb;
	struct tracer_features feat;
	tracer_event_fn on_event;
	void *arg;
	int ncpus;
	uint64_t *percpu;	/* scratch for reading the per-CPU counter */
	struct tt_nest *nest; /* scratch for reading the nesting counters */
	struct rst_reasons rst;
	uint32_t ring_mb;
	bool syscalls_off;	/* TCPTRAIL_SYSCALLS=off */
};

/* Number of parameters of a tracepoint's BTF prototype, counting the
 * leading void *; -1 if the kernel has no such tracepoint.
 */
static int tp_arity(const struct btf *btf, const char *tp)
{
	char name[128];
	const struct btf_type *t;
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -1;
	t = btf__type_by_id(btf, id);			/* typedef */
	t = btf__type_by_id(btf, t->type);		/* pointer */
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(btf, t->type);		/* func proto */
	if (!t || !btf_is_func_proto(t))
		return -1;
	return btf_vlen(t);
}

static bool enum_has(const struct btf *btf, const char *type, const char *value)
{
	int id = btf__find_by_name_kind(btf, type, BTF_KIND_ENUM);
	const struct btf_type *t;
	const struct btf_enum *e;

	if (id < 0)
		return false;
	t = btf__type_by_id(btf, id);
	e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++)
		if (strcmp(btf__name_by_offset(btf, e[i].name_off), value) == 0)
			return true;
	return false;
}

/* Reset reasons name themselves in BTF; keep them for the output. */
static void load_rst_reasons(struct rst_reasons *t, const struct btf *btf)
{
	static const char prefix[] = "SK_RST_REASON_";
	int id = btf__find_by_name_kind(btf, "sk_rst_reason", BTF_KIND_ENUM);
	const struct btf_type *ty;
	const struct btf_enum *e;
	size_t size = 0;
	char *p;

	if (id < 0)
		return;
	ty = btf__type_by_id(btf, id);
	e = btf_enum(ty);
	for (int i = 0; i < btf_vlen(ty); i++)
		size += strlen(btf__name_by_offset(btf, e[i].name_off)) + 1;
	t->storage = p = malloc(size ? size : 1);
	if (!p)
		return;
	for (int i = 0; i < btf_vlen(ty); i++) {
		const char *name = btf__name_by_offset(btf, e[i].name_off);

		if (e[i].val < 0 || e[i].val >= MAX_RST_REASONS)
			continue;
		if (strncmp(name, prefix, sizeof(prefix) - 1) == 0)
			name += sizeof(prefix) - 1;
		strcpy(p, name);
		t->names[e[i].val] = p;
		p += strlen(name) + 1;
		if ((uint32_t)e[i].val >= t->n)
			t->n = (uint32_t)e[i].val + 1;
	}
}

void tracer_load_rst_reasons(struct rst_reasons *r)
{
	struct btf *btf;

	memset(r, 0, sizeof(*r));
	btf = btf__load_vmlinux_btf();
	if (!btf)
		return;
	load_rst_reasons(r, btf);
	btf__free(btf);
}

void tracer_free_rst_reasons(struct rst_reasons *r)
{
	free(r->storage);
	memset(r, 0, sizeof(*r));
}

/* Where tracefs shows the syscall tracepoints; libbpf looks in the same
 * two places. Mounted at the first if neither is (a bare initramfs, a
 * minimal container): tracefs is a view of the kernel, mounting it changes
 * nothing else.
 */
static const char *const tracefs_roots[] = { "/sys/kernel/tracing",
					      "/sys/kernel/debug/tracing" };

static bool tracefs_lists(const char *name)
{
	char path[160];
	struct stat st;

	for (size_t i = 0; i < sizeof(tracefs_roots) / sizeof(tracefs_roots[0]); i++) {
		snprintf(path, sizeof(path), "%s/events/syscalls/%s/id", tracefs_roots[i], name);
		/* not ours to read: the load will say what is missing */
		if (stat(path, &st) == 0 || errno == EACCES)
			return true;
	}
	return false;
}

static bool syscall_tp_exists(const char *name)
{
	static bool mount_tried;
	char events[64];
	struct stat st;

	if (tracefs_lists(name))
		return true;
	if (mount_tried)
		return false;
	mount_tried = true;
	snprintf(events, sizeof(events), "%s/events", tracefs_roots[0]);
	if (stat(events, &st) == 0 ||	/* mounted: the kernel has no such tracepoint */
	    mount("tracefs", tracefs_roots[0], "tracefs", 0, NULL))
		return false;
	p_info("mounted tracefs at %s for the syscall tracepoints", tracefs_roots[0]);
	return tracefs_lists(name);
}

/* Decide which optional programs this kernel can run. */
static int probe_features(struct tracer *t)
{
	struct btf *btf = btf__load_vmlinux_btf();
	const char *sys = getenv("TCPTRAIL_SYSCALLS");
	int arity;

	if (!btf) {
		p_err("this kernel exposes no BTF type information "
		      "(/sys/kernel/btf/vmlinux); tcptrail needs Linux 5.8 or later built "
		      "with CONFIG_DEBUG_INFO_BTF=y");
		return -ENOENT;
	}
	if (tp_arity(btf, "inet_sock_set_state") < 0) {
		p_err("this kernel has no sock:inet_sock_set_state tracepoint; "
		      "tcptrail needs Linux 4.16 or later");
		btf__free(btf);
		return -ENOENT;
	}
	t->feat.synack = tp_arity(btf, "tcp_retransmit_synack") >= 0;
	arity = tp_arity(btf, "tcp_send_reset");
	t->feat.send_reset = arity >= 0;
	t->feat.send_reset_reason = arity >= 4;
	t->feat.receive_reset = tp_arity(btf, "tcp_receive_reset") >= 0;
	t->feat.listen_overflow = tp_arity(btf, "kfree_skb") >= 4 &&
		enum_has(btf, "skb_drop_reason", "SKB_DROP_REASON_TCP_LISTEN_OVERFLOW");
	load_rst_reasons(&t->rst, btf);
	btf__free(btf);
	/* TCPTRAIL_SYSCALLS=off: as on a kernel without syscall tracepoints
	 * (tests, and the benchmark's measure of what the hooks cost)
	 */
	t->syscalls_off = sys && !strcmp(sys, "off");
	t->feat.accept = !t->syscalls_off && syscall_tp_exists("sys_exit_accept4") &&
			 syscall_tp_exists("sys_exit_accept");
	t->feat.shutdown = !t->syscalls_off && syscall_tp_exists("sys_enter_shutdown") &&
			   syscall_tp_exists("sys_exit_shutdown");
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

/* A freshly opened skeleton, set for this kernel and these options. */
static int configure(struct bpf_load *l, void *skel, void *arg)
{
	struct tracer *t = arg;
	struct tcptrail_bpf *s = skel;
	int err;

	s->rodata->sock_cookies = sock_id_mode()->cookies;
	s->rodata->sock_id_key = sock_id_mode()->key;
	s->rodata->cgroup_ids = cgroups_v2();
	s->rodata->shutdown_hooked = t->feat.shutdown;
	/* Wake the reader once an eighth of the ring is waiting. */
	s->rodata->wakeup_bytes = ((uint64_t)t->ring_mb << 20) / 8;
	err = bpf_map__set_max_entries(s->maps.events, t->ring_mb << 20);
	if (err) {
		p_err("failed to size the ring buffer: %s", strerror(-err));
		return err;
	}
	want(l, s->progs.handle_synack_retransmit, t->feat.synack, "tcp_retransmit_synack");
	want(l, s->progs.handle_send_reset_reason, t->feat.send_reset_reason,
	     "tcp_send_reset_reason");
	if (t->feat.send_reset_reason)
		bpf_load_off(l, s->progs.handle_send_reset,
			     "superseded by handle_send_reset_reason");
	else
		want(l, s->progs.handle_send_reset, t->feat.send_reset, "tcp_send_reset");
	want(l, s->progs.handle_receive_reset, t->feat.receive_reset, "tcp_receive_reset");
	want(l, s->progs.handle_kfree_skb, t->feat.listen_overflow, "listen_overflow_reason");
	want_syscalls(t, l, s->progs.handle_accept4, t->feat.accept);
	want_syscalls(t, l, s->progs.handle_accept, t->feat.accept);
	want_syscalls(t, l, s->progs.handle_shutdown_enter, t->feat.shutdown);
	want_syscalls(t, l, s->progs.handle_shutdown_exit, t->feat.shutdown);
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

static const char *const required_progs[] = { "handle_set_state", NULL };

static const struct bpf_load_loss tracer_losses[] = {
	{ "handle_set_state_nested",
	  "state changes nested in another on one CPU are counted as lost, not recorded" },
	{ "handle_synack_retransmit", "SYN-ACK retransmits are not reported" },
	{ "handle_send_reset", "resets sent are not told apart" },
	{ "handle_send_reset_reason", "resets sent are not told apart" },
	{ "handle_receive_reset", "resets received are not told apart" },
	{ "handle_kfree_skb", "accept-queue overflows are not reported per connection" },
	{ "handle_accept4", "accept-queue wait and accepted_by are not reported" },
	{ "handle_accept", "accept-queue wait and accepted_by are not reported" },
	{ "handle_shutdown_enter", "fin_by is not reported" },
	{ "handle_shutdown_exit", "fin_by is not reported" },
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
		.accept = !t->feat.accept && !t->syscalls_off,
		.shutdown = !t->feat.shutdown && !t->syscalls_off,
	};

	t->feat.synack = bpf_load_loaded("handle_synack_retransmit");
	t->feat.send_reset = bpf_load_loaded("handle_send_reset") ||
			     bpf_load_loaded("handle_send_reset_reason");
	t->feat.send_reset_reason = bpf_load_loaded("handle_send_reset_reason");
	t->feat.receive_reset = bpf_load_loaded("handle_receive_reset");
	t->feat.listen_overflow = bpf_load_loaded("handle_kfree_skb");
	t->feat.accept = bpf_load_loaded("handle_accept4") && bpf_load_loaded("handle_accept");
	t->feat.shutdown = bpf_load_loaded("handle_shutdown_enter") &&
			   bpf_load_loaded("handle_shutdown_exit");
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
	p_info("kernel features: ids=%s synack_retransmit=%s resets=%s reset_reasons=%s "
	       "listen_overflow=%s accept=%s shutdown=%s",
	       sock_id_mode()->cookies ? "cookies" : "per-run",
	       t->feat.synack ? "yes" : "no",
	       t->feat.send_reset && t->feat.receive_reset ? "yes" : "no",
	       t->feat.send_reset_reason ? "yes" : "no", t->feat.listen_overflow ? "yes" : "no",
	       t->feat.accept ? "yes" : "no", t->feat.shutdown ? "yes" : "no");
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;

	if (size < sizeof(struct tt_event))
		return 0;
	t->on_event(data, t->arg);
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

int tracer_open(struct tracer **out, const struct tracer_config *cfg)
{
	struct bpf_load l = {
		.what = "the tracer",
		.open = skel_open,
		.destroy = skel_destroy,
		.object = skel_object,
		.load = skel_load,
		.configure = configure,
		.required = required_progs,
		.losses = tracer_losses,
	};
	struct tracer *t;
	void *skel;
	int err;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->on_event = cfg->on_event;
	t->arg = cfg->arg;
	t->ring_mb = cfg->ring_mb;
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus <= 0) {
		err = t->ncpus ? t->ncpus : -EINVAL;
		p_err("failed to count CPUs: %s", strerror(-err));
		goto fail;
	}
	t->percpu = calloc((size_t)t->ncpus, sizeof(uint64_t));
	t->nest = calloc((size_t)t->ncpus, sizeof(*t->nest));
	if (!t->percpu || !t->nest) {
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
	say_features(t);
	err = tcptrail_bpf__attach(t->skel);
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
	tracer_free_rst_reasons(&t->rst);
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

void tracer_skips(struct tracer *t, struct tracer_skips *s)
{
	struct tcptrail_bpf *k = t->skel;
	uint64_t state = prog_misses(k->progs.handle_set_state), deferred = 0, caught = 0;
	uint32_t zero = 0;

	memset(s, 0, sizeof(*s));
	if (!bpf_map_lookup_elem(bpf_map__fd(k->maps.nesting), &zero, t->nest)) {
		for (int i = 0; i < t->ncpus; i++) {
			deferred += t->nest[i].deferred;
			caught += t->nest[i].caught;
		}
	}
	s->caught = caught;
	s->records = (state + deferred > caught ? state + deferred - caught : 0) +
		     prog_misses(k->progs.handle_synack_retransmit) +
		     prog_misses(k->progs.handle_send_reset) +
		     prog_misses(k->progs.handle_send_reset_reason) +
		     prog_misses(k->progs.handle_receive_reset) +
		     prog_misses(k->progs.handle_accept4) + prog_misses(k->progs.handle_accept);
	s->filter = prog_misses(k->progs.handle_kfree_skb);
}

uint64_t tracer_lost_total(struct tracer *t)
{
	uint32_t zero = 0;
	uint64_t sum = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.lost_events), &zero, t->percpu))
		return 0;
	for (int i = 0; i < t->ncpus; i++)
		sum += t->percpu[i];
	return sum;
}

uint64_t tracer_drain_lost_cookies(struct tracer *t,
				   void (*fn)(uint64_t cookie, void *arg), void *arg)
{
	int fd = bpf_map__fd(t->skel->maps.lost_cookies);
	uint64_t next, count, total = 0;

	/* Take the first key and delete it, until none is left: restarting
	 * from the beginning each time is safe while deleting, and bounded by
	 * the map's size.
	 */
	while (bpf_map_get_next_key(fd, NULL, &next) == 0) {
		if (bpf_map_lookup_elem(fd, &next, &count) == 0) {
			fn(next, arg);
			total += count;
		}
		bpf_map_delete_elem(fd, &next);
	}
	return total;
}
