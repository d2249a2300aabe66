/* What the kernel has, what the tracer loads there, and saying so. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "bpf_load.h"
#include "cgroups.h"
#include "kernel_probe.h"
#include "log.h"
#include "sock_id.h"
#include "tracer_priv.h"

/* Bounds of what is kept per accepted connection until its history. */
#define ACCEPTS_MIN (64u << 10)
#define ACCEPTS_MAX (4u << 20)

static bool env_is(const char *var, const char *value)
{
	const char *v = getenv(var);

	return v && !strcmp(v, value);
}

/* Decide which optional programs this kernel can run. */
int tracer_setup_probe(struct tracer *t)
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

/* The ring without --ring-mb: room for a history of every socket open at
 * start, so that all of them closing at once (a fleet restarted) fit while
 * the reader is kept from the CPUs, from 8 MiB up to 128 MiB; past that a
 * mass close is said as ring_full losses.
 */
#define RING_AUTO_MIN (8ull << 20)
#define RING_AUTO_MAX (128ull << 20)

static uint64_t ring_bytes(const struct tracer_config *c)
{
	uint64_t want = (uint64_t)c->sockets_at_start * (sizeof(struct tt_history) + 8);
	uint64_t ring = RING_AUTO_MIN;

	if (c->ring_mb)
		return (uint64_t)c->ring_mb << 20;
	while (ring < want && ring < RING_AUTO_MAX)
		ring <<= 1;
	return ring;
}

/* A freshly opened skeleton, set for this kernel and these options. */
static int configure(struct bpf_load *l, void *skel, void *arg)
{
	struct tracer *t = arg;
	struct tcptrail_bpf *s = skel;
	uint64_t ring = ring_bytes(&t->cfg);
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
	{ .prog = "state_keep",
	  .loses = "every transition is sent and histories are rebuilt in userspace" },
	{ .prog = "state_keep_nest",
	  .loses = "state changes nested in another on one CPU are counted as lost, not recorded" },
	{ .prog = "state_send_nest",
	  .loses = "state changes nested in another on one CPU are counted as lost, not recorded" },
	{ .prog = "synack_retrans", .loses = "SYN-ACK retransmits are not reported" },
	{ .prog = "reset_sent", .loses = "resets sent are not told apart" },
	{ .prog = "reset_sent_why", .loses = "resets sent are not told apart" },
	{ .prog = "reset_recv", .loses = "resets received are not told apart" },
	{ .prog = "listen_overflow", .loses = "accept-queue overflows are not reported per connection" },
	{ .prog = "retransmit",
	  .loses = "retransmits are not reported live (histories still count them)" },
	{ .prog = "retransmit_err",
	  .loses = "retransmits are not reported live (histories still count them)" },
	{ .prog = "accept4_exit", .loses = "accept-queue wait and accepted_by are not reported" },
	{ .prog = "accept_exit", .loses = "accept-queue wait and accepted_by are not reported" },
	{ .prog = "shutdown_enter", .loses = "fin_by is not reported" },
	{ .prog = "shutdown_exit", .loses = "fin_by is not reported" },
	{ .prog = NULL },
};

/* What this kernel lacks, said once each (a refusal was said as it
 * happened); what is on, with -v.
 */
void tracer_setup_say(struct tracer *t)
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

int tracer_setup_load(struct tracer *t, void **skel)
{
	struct bpf_load l = {
		.what = "the tracer",
		.open = skel_open,
		.destroy = skel_destroy,
		.object = skel_object,
		.load = skel_load,
		.configure = configure,
		.losses = tracer_losses,
		.arg = t,
	};
	int err = bpf_load_run(&l, skel);

	if (err)
		explain_load_error(err);
	return err;
}
