/* Socket identity: probe whether tracing programs may read socket cookies. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "log.h"
#include "sock_id.h"

/* Load "r1 = ctx[0]; call bpf_get_socket_cookie; return 0" as a tp_btf
 * program on inet_sock_set_state. The verifier answers EINVAL ("unknown
 * func") where tracing programs may not call the helper (before 5.12).
 */
static bool probe_cookie_helper(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_REG_1, .off = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_socket_cookie },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP);
	struct btf *btf = btf__load_vmlinux_btf();
	int id, fd;

	if (!btf)
		return true;	/* tracing fails later, with its own sentence */
	id = btf__find_by_name_kind(btf, "btf_trace_inet_sock_set_state", BTF_KIND_TYPEDEF);
	btf__free(btf);
	if (id < 0)
		return true;
	opts.attach_btf_id = (uint32_t)id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "tt_cookie_probe", "GPL", insns,
			   sizeof(insns) / sizeof(insns[0]), &opts);
	if (fd >= 0) {
		close(fd);
		return true;
	}
	/* Only the verifier's "no" decides: without privileges the real load
	 * says so itself.
	 */
	return fd != -EINVAL;
}

const struct sock_id_mode *sock_id_mode(void)
{
	static struct sock_id_mode mode;
	static bool probed;

	if (probed)
		return &mode;
	probed = true;
	mode.cookies = probe_cookie_helper();
	if (!mode.cookies) {
		if (getrandom(&mode.key, sizeof(mode.key), 0) != sizeof(mode.key))
			mode.key = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;
		p_warn("this kernel does not let BPF programs on tracepoints read socket "
		       "cookies (5.12 added that): ids are per-run socket ids, not the "
		       "cookies ss -e shows");
	}
	return &mode;
}
