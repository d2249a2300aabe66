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

void cgroup_path_parse(const char *path, struct cgroup_ids *ids)
{
	static const char *const scopes[] = { "docker-", "cri-containerd-", "crio-", "libpod-" };
	bool kube = strstr(path, "kubepods") != NULL;
	const char *prev = NULL, *c = path;
	size_t prev_n = 0;

	memset(ids, 0, sizeof(*ids));
	while (*c) {
		size_t n;

		while (*c == '/')
			c++;
		n = strcspn(c, "/");
		if (!n)
			break;
		for (size_t k = 0; k < sizeof(scopes) / sizeof(scopes[0]); k++)
			wrapped_id(c, n, scopes[k], ".scope", ids->container_id);
		/* a bare id: /docker/<id> (cgroupfs driver), /kubepods/…/pod<uid>/<id> */
		if (prev && ((prev_n == 6 && !strncmp(prev, "docker", 6)) ||
			     (kube && !strncmp(prev, "pod", 3))))
			wrapped_id(c, n, "", "", ids->container_id);
		if (kube)
			pod_uid(c, n, ids->pod_uid);
		prev = c;
		prev_n = n;
		c += n;
	}
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
