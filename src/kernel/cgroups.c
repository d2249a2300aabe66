/* Cgroup id -> path through file handles. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cgroups.h"
#include "log.h"

/* include/linux/exportfs.h: kernfs handles are the node's 64-bit id. */
#define FILEID_KERNFS 0xfe

struct cgroup_entry {
	struct cgroup_info info;
	char *path;		/* owned; info.path points here */
};

struct cgroups {
	int mount_fd;
	size_t prefix_len;	/* of the mount point, stripped from paths */
	bool said;		/* a failure of the lookups was said */
	uint32_t n;
	struct cgroup_entry v[CGROUPS_CACHE_MAX];
	uint32_t slot[2 * CGROUPS_CACHE_MAX];	/* index + 1, open addressing */
};

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, len = 0, got;

	if (!f)
		return NULL;
	do {
		char *nb;

		if (cap - len < 4096) {
			cap = cap ? 2 * cap : 16384;
			if (cap > (16u << 20) || !(nb = realloc(buf, cap + 1))) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

struct cgroups *cgroups_open(void)
{
	char *info = read_text("/proc/self/mountinfo");
	char mount[4096];
	struct cgroups *cg;

	if (!info || !cgroup_path_find_mount(info, mount, sizeof(mount))) {
		free(info);
		p_warn("no cgroup2 filesystem mounted: connections are not attributed to cgroups "
		       "or containers");
		return NULL;
	}
	free(info);
	cg = calloc(1, sizeof(*cg));
	if (!cg)
		return NULL;
	cg->mount_fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->mount_fd < 0) {
		p_warn("cannot open the cgroup2 mount %s: %s; connections are not attributed "
		       "to cgroups", mount, strerror(errno));
		free(cg);
		return NULL;
	}
	cg->prefix_len = strcmp(mount, "/") ? strlen(mount) : 0;
	return cg;
}

static void flush(struct cgroups *cg)
{
	for (uint32_t i = 0; i < cg->n; i++)
		free(cg->v[i].path);
	cg->n = 0;
	memset(cg->slot, 0, sizeof(cg->slot));
}

void cgroups_close(struct cgroups *cg)
{
	if (!cg)
		return;
	flush(cg);
	close(cg->mount_fd);
	free(cg);
}

static uint32_t hash(uint64_t id)
{
	id *= 0x9e3779b97f4a7c15ull;
	return (uint32_t)(id >> 32) & (2 * CGROUPS_CACHE_MAX - 1);
}

/* The path of cgroup id under the mount, malloc'd; NULL when it is gone
 * (or the lookup failed, said once).
 */
static char *resolve(struct cgroups *cg, uint64_t id)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh = { .handle_bytes = sizeof(uint64_t), .handle_type = FILEID_KERNFS } };
	char link[64], target[4096];
	ssize_t n;
	int fd;

	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(cg->mount_fd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		/* ESTALE: no such cgroup now */
		if (errno != ESTALE && errno != ENOENT && !cg->said) {
			p_warn("cannot look up cgroups by id: %s; they are reported by id",
			       strerror(errno));
			cg->said = true;
		}
		return NULL;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	close(fd);
	if (n < 0 || (size_t)n < cg->prefix_len)
		return NULL;
	target[n] = '\0';
	return strdup(n == (ssize_t)cg->prefix_len ? "/" : target + cg->prefix_len);
}

const struct cgroup_info *cgroups_lookup(struct cgroups *cg, uint64_t id)
{
	struct cgroup_entry *e;
	uint32_t h;

	if (!cg || !id)
		return NULL;
	for (h = hash(id); cg->slot[h]; h = (h + 1) & (2 * CGROUPS_CACHE_MAX - 1))
		if (cg->v[cg->slot[h] - 1].info.id == id)
			return &cg->v[cg->slot[h] - 1].info;
	if (cg->n == CGROUPS_CACHE_MAX) {
		flush(cg);
		h = hash(id);
	}
	e = &cg->v[cg->n];
	memset(e, 0, sizeof(*e));
	e->info.id = id;
	e->path = resolve(cg, id);
	e->info.path = e->path;
	if (e->path)
		cgroup_path_parse(e->path, &e->info.ids);
	cg->slot[h] = ++cg->n;
	return &e->info;
}

const struct cgroup_info *cgroups_lookup_cb(void *ctx, uint64_t id)
{
	return cgroups_lookup(ctx, id);
}
