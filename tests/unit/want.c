/* Expectations of one JSON record's members, for the emitters' oracle. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "emit.h"
#include "want.h"

void want_u64(struct case_check *ck, node_t *o, const char *key, uint64_t v)
{
	uint64_t got;

	if (!json_check_u64(o, key, &got) || got != v)
		case_fail(ck, "%s: want %llu", key, (unsigned long long)v);
}

void want_i64(struct case_check *ck, node_t *o, const char *key, int64_t v)
{
	int64_t got;

	if (!json_check_i64(o, key, &got) || got != v)
		case_fail(ck, "%s: want %lld", key, (long long)v);
}

/* A number, or null for DURATION_UNKNOWN. */
void want_dur(struct case_check *ck, node_t *o, const char *key, uint64_t v)
{
	if (v != DURATION_UNKNOWN)
		want_u64(ck, o, key, v);
	else if (!json_check_null(o, key))
		case_fail(ck, "%s: want null", key);
}

void want_bool(struct case_check *ck, node_t *o, const char *key, bool v)
{
	bool got;

	if (!json_check_bool(o, key, &got) || got != v)
		case_fail(ck, "%s: want %s", key, v ? "true" : "false");
}

void want_absent(struct case_check *ck, node_t *o, const char *key)
{
	if (json_check_get(o, key))
		case_fail(ck, "%s: want none", key);
}

void want_string(struct case_check *ck, node_t *o, const char *key)
{
	node_t *m = json_check_get(o, key);

	if (!m || m->type != JSON_STRING)
		case_fail(ck, "%s: want a string", key);
}

/* A string member: the first n bytes of s, up to a NUL. */
void want_bytes(struct case_check *ck, node_t *o, const char *key, const char *s,
		size_t n)
{
	if (!json_check_str_is(o, key, s, strnlen(s, n)))
		case_fail(ck, "%s: not the %zu bytes given", key, strnlen(s, n));
}

void want_addr(struct case_check *ck, node_t *o, const char *key, int family,
	       const uint8_t *addr)
{
	node_t *m = json_check_get(o, key);
	uint8_t got[16];
	char s[64];

	if (!m || m->type != JSON_STRING || m->len >= sizeof(s)) {
		case_fail(ck, "%s: want an address", key);
		return;
	}
	memcpy(s, m->str, m->len);
	s[m->len] = '\0';
	if (inet_pton(family == AF_INET6 ? AF_INET6 : AF_INET, s, got) != 1 ||
	    memcmp(got, addr, family == AF_INET6 ? 16 : 4))
		case_fail(ck, "%s: %s is not the address given", key, s);
}

void want_family(struct case_check *ck, node_t *o, int family)
{
	const char *f = family == AF_INET6 ? "ipv6" : "ipv4";

	if (!json_check_str_is(o, "family", f, 4))
		case_fail(ck, "family: want %s", f);
}

void want_tuple(struct case_check *ck, int family, const uint8_t *laddr, uint16_t lport,
		const uint8_t *raddr, uint16_t rport, uint32_t netns)
{
	want_family(ck, ck->r, family);
	want_addr(ck, ck->r, "laddr", family, laddr);
	want_u64(ck, ck->r, "lport", lport);
	want_addr(ck, ck->r, "raddr", family, raddr);
	want_u64(ck, ck->r, "rport", rport);
	want_u64(ck, ck->r, "netns", netns);
}

/* The cgroup fields of id in o: the case's path, or its number. */
void want_cgroup(struct case_check *ck, node_t *o, uint64_t id)
{
	const struct emit_case *k = ck->k;

	if (!id || !k->cgroup_known) {
		want_absent(ck, o, "cgroup");
		if (id)
			want_u64(ck, o, "cgroup_id", id);
		else
			want_absent(ck, o, "cgroup_id");
		return;
	}
	want_bytes(ck, o, "cgroup", k->cgroup_path, EMIT_MAX_CGROUP_PATH);
	if (strlen(k->cgroup_path) > EMIT_MAX_CGROUP_PATH)
		want_bool(ck, o, "cgroup_truncated", true);
	else
		want_absent(ck, o, "cgroup_truncated");
	if (k->ids.container_id[0])
		want_bytes(ck, o, "container_id", k->ids.container_id, CGROUP_CONTAINER_ID_LEN);
	else
		want_absent(ck, o, "container_id");
	if (k->ids.pod_uid[0])
		want_bytes(ck, o, "pod_uid", k->ids.pod_uid, CGROUP_POD_UID_LEN);
	else
		want_absent(ck, o, "pod_uid");
}

void want_owner(struct case_check *ck, node_t *o, bool shown, uint32_t pid,
		const char *comm)
{
	if (!shown) {
		want_absent(ck, o, "pid");
		want_absent(ck, o, "comm");
		return;
	}
	want_u64(ck, o, "pid", pid);
	want_bytes(ck, o, "comm", comm, TT_COMM_LEN);
}

/* An array of at most max of n items, the rest counted in cut_key; each
 * item checked by item(). Returns how many were listed.
 */
size_t want_list(struct case_check *ck, const char *key, const char *cut_key, size_t n,
		 size_t max, bool whole, void (*item)(struct case_check *, node_t *, size_t))
{
	node_t *m = json_check_get(ck->r, key);
	size_t listed, want = n < max ? n : max;
	uint64_t cut = 0;

	if (!m || m->type != JSON_ARRAY) {
		case_fail(ck, "%s: want a list", key);
		return 0;
	}
	listed = m->count;
	if (listed > want || (whole && listed != want))
		case_fail(ck, "%s: %zu listed of %zu", key, listed, n);
	if (json_check_get(ck->r, cut_key) && (!json_check_u64(ck->r, cut_key, &cut) || !cut))
		case_fail(ck, "%s: want a positive count", cut_key);
	if (listed + cut != n)
		case_fail(ck, "%s: %zu listed and %llu cut of %zu", key, listed,
			  (unsigned long long)cut, n);
	for (size_t i = 0; i < listed && i < want; i++)
		item(ck, json_check_at(m, i), i);
	return listed;
}


void want_names(struct case_check *ck, const char *key, size_t n)
{
	node_t *m = json_check_get(ck->r, key);

	if (!m || m->type != JSON_ARRAY || m->count != n)
		case_fail(ck, "%s: want %zu names", key, n);
	for (size_t i = 0; m && i < m->count; i++)
		if (json_check_at(m, i)->type != JSON_STRING)
			case_fail(ck, "%s: want names", key);
}

