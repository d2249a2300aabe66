/* Container ids and pod UIDs from cgroup paths. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "cgroup_path.h"

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

/* A component "<prefix><64 hex><suffix>" exactly. */
static bool wrapped_id(const char *c, size_t n, const char *prefix, const char *suffix,
		       char out[CGROUP_CONTAINER_ID_LEN + 1])
{
	size_t p = strlen(prefix), s = strlen(suffix);

	if (n != p + CGROUP_CONTAINER_ID_LEN + s || strncmp(c, prefix, p) ||
	    strncmp(c + n - s, suffix, s) || !all_hex(c + p, CGROUP_CONTAINER_ID_LEN))
		return false;
	memcpy(out, c + p, CGROUP_CONTAINER_ID_LEN);
	out[CGROUP_CONTAINER_ID_LEN] = '\0';
	return true;
}

/* pod<uid> in a component: 8-4-4-4-12 hex, with '-' or (systemd) '_'. */
static bool pod_uid(const char *c, size_t n, char out[CGROUP_POD_UID_LEN + 1])
{
	const char *p = NULL;

	for (size_t i = 0; i + 3 + CGROUP_POD_UID_LEN <= n; i++)
		if (!strncmp(c + i, "pod", 3) && (i == 0 || c[i - 1] == '-')) {
			p = c + i + 3;
			break;
		}
	if (!p)
		return false;
	for (int i = 0; i < CGROUP_POD_UID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		char ch = p[i];

		if (dash ? (ch != '-' && ch != '_') : !all_hex(&p[i], 1))
			return false;
		out[i] = dash ? '-' : ch;
	}
	/* the UID ends the component, or ".slice" follows it */
	{
		const char *rest = p + CGROUP_POD_UID_LEN;
		size_t left = n - (size_t)(rest - c);

		if (left && (left != 6 || strncmp(rest, ".slice", 6)))
			return false;
	}
	out[CGROUP_POD_UID_LEN] = '\0';
	return true;
}

/* The leading components of a path that the placement rule looks at. */
#define PLACES 5

struct comp {
	const char *s;
	size_t n;
};

static size_t split(const char *path, struct comp *c, size_t max)
{
	size_t k = 0;

	while (*path && k < max) {
		while (*path == '/')
			path++;
		if (!*path)
			break;
		c[k].s = path;
		c[k].n = strcspn(path, "/");
		path += c[k].n;
		k++;
	}
	return k;
}

static bool named(const struct comp *c, const char *name)
{
	return c->n == strlen(name) && !strncmp(c->s, name, c->n);
}

/* A runtime's own scope: <runtime>-<64 hex>.scope. */
static bool runtime_scope(const struct comp *c, char out[CGROUP_CONTAINER_ID_LEN + 1])
{
	static const char *const runtimes[] = { "docker-", "cri-containerd-", "crio-",
						 "libpod-" };

	for (size_t k = 0; k < sizeof(runtimes) / sizeof(runtimes[0]); k++)
		if (wrapped_id(c->s, c->n, runtimes[k], ".scope", out))
			return true;
	return false;
}

/* Under the kubelet's root: a pod, directly (Guaranteed) or under its QoS
 * class, and the pod's container right below it, as the systemd driver
 * (a runtime scope) or the cgroupfs driver (the bare id) names it.
 */
static void kubepods(const struct comp *c, size_t n, struct cgroup_ids *ids)
{
	for (size_t i = 1; i <= 2 && i < n; i++) {
		if (!pod_uid(c[i].s, c[i].n, ids->pod_uid))
			continue;
		if (i + 1 < n && !runtime_scope(&c[i + 1], ids->container_id))
			wrapped_id(c[i + 1].s, c[i + 1].n, "", "", ids->container_id);
		return;
	}
	ids->pod_uid[0] = '\0';
}

/* Runtimes make their cgroups in places only root controls: a name alone
 * proves nothing, since whoever has a delegated subtree (a user's
 * user@UID.service, a container's own) may name a cgroup anything. So a
 * path is read only where the runtimes put theirs, anchored at the root.
 */
void cgroup_path_parse(const char *path, struct cgroup_ids *ids)
{
	struct comp c[PLACES];
	size_t n = split(path, c, PLACES);

	memset(ids, 0, sizeof(*ids));
	if (n >= 2 && (named(&c[0], "system.slice") || named(&c[0], "machine.slice")))
		runtime_scope(&c[1], ids->container_id);
	else if (n >= 2 && named(&c[0], "docker"))
		wrapped_id(c[1].s, c[1].n, "", "", ids->container_id);
	else if (n >= 2 && (named(&c[0], "kubepods") || named(&c[0], "kubepods.slice")))
		kubepods(c, n, ids);
	/* a uid matched in bad shape may have left a partial copy */
	if (strlen(ids->pod_uid) != CGROUP_POD_UID_LEN)
		ids->pod_uid[0] = '\0';
}

bool cgroup_path_find_mount(const char *mountinfo, char *out, size_t outlen)
{
	const char *line = mountinfo;

	/* id parent major:minor root mount-point options [optional...] - fstype source super */
	while (line && *line) {
		const char *end = strchr(line, '\n'), *sep = strstr(line, " - ");
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char point[4096];

		if (sep && sep < line + len && !strncmp(sep + 3, "cgroup2 ", 8) &&
		    sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1) {
			/* mountinfo escapes spaces and such as \040: keep it simple,
			 * such a mount point is not used
			 */
			if (strchr(point, '\\') || strlen(point) >= outlen)
				return false;
			strcpy(out, point);
			return true;
		}
		line = end ? end + 1 : NULL;
	}
	return false;
}

bool cgroup_path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}
