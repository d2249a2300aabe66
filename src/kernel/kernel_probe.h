/* What the running kernel offers, asked before anything is loaded: its BTF
 * (tracepoint prototypes, enums, functions) and tracefs.
 */
#ifndef TT_KERNEL_PROBE_H
#define TT_KERNEL_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <bpf/btf.h>

/* Number of parameters of a tracepoint's BTF prototype, counting the
 * leading void *; -1 if the kernel has no such tracepoint.
 */
int kernel_probe_tp_arity(const struct btf *btf, const char *tp);

/* Does enum type have a member named value? */
bool kernel_probe_enum_has(const struct btf *btf, const char *type, const char *value);

/* Is there a kernel function of this name (in BTF)? */
bool kernel_probe_func(const struct btf *btf, const char *name);

/* Does tracefs list this syscall tracepoint? Mounts tracefs (once) where it
 * is not: a bare initramfs, a minimal container.
 */
bool kernel_probe_syscall_tp(const char *name);

#define MAX_RST_REASONS 64

/* Names of enum sk_rst_reason values from the kernel's BTF ("NOT_SPECIFIED",
 * ...), indexed by value; n is 0 where the kernel has none.
 */
struct rst_reasons {
	const char *names[MAX_RST_REASONS];
	uint32_t n;
};

/* From btf, or (btf NULL) from the running kernel's. */
void kernel_probe_rst_reasons(struct rst_reasons *r, const struct btf *btf);
void kernel_probe_free_rst_reasons(struct rst_reasons *r);

#endif
