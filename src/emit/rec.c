/* The parts of JSON records shared by every record type (rec.h). */
#include <string.h>
#include "rec.h"

char *rec_bit_names(char *p, const char *key, uint32_t mask, const struct rec_bit_name *names,
		    size_t n)
{
	bool first = true;

	p = rec_key(p, key);
	*p++ = '[';
	for (size_t i = 0; i < n; i++) {
		if (!(mask & names[i].bit))
			continue;
		if (!first)
			*p++ = ',';
		first = false;
		*p++ = '"';
		p = fmt_str(p, names[i].name);
		*p++ = '"';
	}
	*p++ = ']';
	return p;
}

static const struct cgroup_info *lookup(const struct emitter *em, uint64_t id)
{
	const struct cgroup_info *cg;

	if (!id || !em->cgroup_lookup)
		return NULL;
	cg = em->cgroup_lookup(em->cgroup_ctx, id);
	return cg && cg->path ? cg : NULL;
}

static bool path_cut(const char *path)
{
	return strnlen(path, EMIT_MAX_CGROUP_PATH + 1) > EMIT_MAX_CGROUP_PATH;
}

char *rec_cgroup(const struct emitter *em, char *p, uint64_t id)
{
	const struct cgroup_info *cg = lookup(em, id);

	if (!id)
		return p;
	if (!cg)
		return rec_u64(p, "cgroup_id", id);
	p = rec_key(p, "cgroup");
	p = fmt_json_str(p, cg->path, EMIT_MAX_CGROUP_PATH);
	if (path_cut(cg->path))
		p = rec_bool(p, "cgroup_truncated", true);
	/* the parser keeps only hex digits and dashes; escaped all the same,
	 * so the bound holds whatever fills them
	 */
	if (cg->ids.container_id[0]) {
		p = rec_key(p, "container_id");
		p = fmt_json_str(p, cg->ids.container_id, CGROUP_CONTAINER_ID_LEN);
	}
	if (cg->ids.pod_uid[0]) {
		p = rec_key(p, "pod_uid");
		p = fmt_json_str(p, cg->ids.pod_uid, CGROUP_POD_UID_LEN);
	}
	return p;
}

size_t rec_cgroup_len(const struct emitter *em, uint64_t id)
{
	char tmp[REC_CGROUP_MAX];

	return (size_t)(rec_cgroup(em, tmp, id) - tmp);
}

char *rec_owner(char *p, uint32_t pid, const char *comm)
{
	p = rec_u64(p, "pid", pid);
	p = rec_key(p, "comm");
	return fmt_json_str(p, comm, TT_COMM_LEN);
}
