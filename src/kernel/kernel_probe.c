/* Kernel probes: BTF and tracefs, read before loading. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include "kernel_probe.h"
#include "log.h"

int kernel_probe_tp_arity(const struct btf *btf, const char *tp)
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

bool kernel_probe_enum_has(const struct btf *btf, const char *type, const char *value)
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

bool kernel_probe_func(const struct btf *btf, const char *name)
{
	return btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) >= 0;
}

/* Reset reasons name themselves in BTF; keep them for the output. */
static void load_rst_reasons(struct rst_reasons *t, const struct btf *btf)
{
	static const char prefix[] = "SK_RST_REASON_";
	int id = btf__find_by_name_kind(btf, "sk_rst_reason", BTF_KIND_ENUM);
	const struct btf_type *ty;
	const struct btf_enum *e;

	if (id < 0)
		return;
	ty = btf__type_by_id(btf, id);
	e = btf_enum(ty);
	for (int i = 0; i < btf_vlen(ty); i++) {
		const char *name = btf__name_by_offset(btf, e[i].name_off);
		char *copy;

		if (e[i].val < 0 || e[i].val >= MAX_RST_REASONS)
			continue;
		if (strncmp(name, prefix, sizeof(prefix) - 1) == 0)
			name += sizeof(prefix) - 1;
		copy = strdup(name);
		if (!copy)
			return;	/* the names so far are kept */
		/* a second name for a value: the last one counts */
		free((char *)t->names[e[i].val]);
		t->names[e[i].val] = copy;
		if ((uint32_t)e[i].val >= t->n)
			t->n = (uint32_t)e[i].val + 1;
	}
}

void kernel_probe_rst_reasons(struct rst_reasons *r, const struct btf *btf)
{
	struct btf *own = NULL;

	memset(r, 0, sizeof(*r));
	if (!btf)
		btf = own = btf__load_vmlinux_btf();
	if (!btf)
		return;
	load_rst_reasons(r, btf);
	btf__free(own);
}

void kernel_probe_free_rst_reasons(struct rst_reasons *r)
{
	for (uint32_t i = 0; i < r->n; i++)
		free((char *)r->names[i]);
	memset(r, 0, sizeof(*r));
}

/* Where tracefs shows the syscall tracepoints; libbpf looks in the same
 * two places. Mounted at the first if neither is: tracefs is a view of the
 * kernel, mounting it changes nothing else.
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

bool kernel_probe_syscall_tp(const char *name)
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
