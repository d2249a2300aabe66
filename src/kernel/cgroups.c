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

/* v1-only hosts: a process's cgroup, for a second. */
#define PID_CACHE 1024
#define PID_CACHE_NS 1000000000ull
/* Synthetic ids (v1 paths) have the top bit set: kernfs ids never do. */
#define SYNTHETIC_ID (1ull << 63)

struct pid_entry {
	uint32_t pid;
	uint64_t when_ns;
	uint64_t id;
};

struct cgroups {
	int mount_fd;		/* -1: no cgroup2 (attribution by process) */
	struct pid_entry pids[PID_CACHE];
	size_t prefix_len;	/* of the mount point, stripped from paths */
	bool said;		/* a failure of the lookups was said */
	void (*observer)(void *ctx, uint64_t id, const char *path);
	void *observer_ctx;
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

/* The cgroup2 mount point, looked up once; NULL when there is none. */
const char *cgroups_mount(void)
{
	static char mount[4096];
	static int found = -1;
	const char *force = getenv("TCPTRAIL_CGROUP");
	char *info;

	if (found < 0) {
		info = force && !strcmp(force, "v1") ? NULL : read_text("/proc/self/mountinfo");
		found = info && cgroup_path_find_mount(info, mount, sizeof(mount));
		free(info);
	}
	return found ? mount : NULL;
}

bool cgroups_v2(void)
{
	return cgroups_mount() != NULL;
}

struct cgroups *cgroups_open(void)
{
	const char *mount = cgroups_mount();
	struct cgroups *cg = calloc(1, sizeof(*cg));

	if (!cg)
		return NULL;
	if (!mount) {
		p_warn("no cgroup2 hierarchy: sockets are attributed to cgroups and containers "
		       "through the process that owns them, which is partial (records made in "
		       "softirq, listeners and sockets open at start name none)");
		cg->mount_fd = -1;
		return cg;
	}
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
	if (cg->mount_fd >= 0)
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

	if (cg->mount_fd < 0 || (id & SYNTHETIC_ID))
		return NULL;
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

static struct cgroup_entry *find(struct cgroups *cg, uint64_t id, uint32_t *slot)
{
	uint32_t h;

	for (h = hash(id); cg->slot[h]; h = (h + 1) & (2 * CGROUPS_CACHE_MAX - 1))
		if (cg->v[cg->slot[h] - 1].info.id == id)
			return &cg->v[cg->slot[h] - 1];
	*slot = h;
	return NULL;
}

/* Cache id with path (owned, may be NULL: gone). */
static struct cgroup_entry *insert(struct cgroups *cg, uint64_t id, uint32_t slot, char *path)
{
	struct cgroup_entry *e;

	if (cg->n == CGROUPS_CACHE_MAX) {
		flush(cg);
		find(cg, id, &slot);
	}
	e = &cg->v[cg->n];
	memset(e, 0, sizeof(*e));
	e->info.id = id;
	e->path = path;
	e->info.path = path;
	if (path)
		cgroup_path_parse(path, &e->info.ids);
	cg->slot[slot] = ++cg->n;
	if (cg->observer)
		cg->observer(cg->observer_ctx, id, path);
	return e;
}

const struct cgroup_info *cgroups_lookup(struct cgroups *cg, uint64_t id)
{
	struct cgroup_entry *e;
	uint32_t slot;

	if (!cg || !id)
		return NULL;
	e = find(cg, id, &slot);
	if (!e)
		e = insert(cg, id, slot, resolve(cg, id));
	return &e->info;
}

/* Whether pid has exited (a zombie, or gone): an exiting task is moved to
 * the root cgroups, so what /proc said of it may be wrong.
 */
static bool exited(uint32_t pid)
{
	char file[32], *text, *p;
	bool gone;

	snprintf(file, sizeof(file), "/proc/%u/stat", pid);
	text = read_text(file);
	if (!text)
		return true;
	/* pid (comm) S ...: comm may hold anything, the state follows its last ')' */
	p = strrchr(text, ')');
	gone = !p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X';
	free(text);
	return gone;
}

/* The path /proc/PID/cgroup gives pid on a v1 host: the first hierarchy
 * whose path names a container, else name=systemd's, else the first.
 */
static char *v1_path(uint32_t pid)
{
	char file[32], *text, *line, *best = NULL, *first = NULL, *systemd = NULL, *save;

	snprintf(file, sizeof(file), "/proc/%u/cgroup", pid);
	text = read_text(file);
	if (!text)
		return NULL;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *ctl = strchr(line, ':'), *path = ctl ? strchr(ctl + 1, ':') : NULL;
		struct cgroup_ids ids;

		if (!path || path[1] != '/')
			continue;
		path++;
		cgroup_path_parse(path, &ids);
		if (ids.container_id[0] && !best)
			best = path;
		if (!strncmp(ctl + 1, "name=systemd:", 13))
			systemd = path;
		if (!first)
			first = path;
	}
	best = best ? best : systemd ? systemd : first;
	best = best ? strdup(best) : NULL;
	free(text);
	/* read after the cgroups: alive then means they were still its own */
	if (best && exited(pid)) {
		free(best);
		return NULL;
	}
	return best;
}

uint64_t cgroups_of_pid(struct cgroups *cg, uint32_t pid, uint64_t now_ns)
{
	struct pid_entry *p;
	struct cgroup_entry *e;
	uint64_t id = 0;
	uint32_t slot;
	char *path;

	if (!cg || !pid)
		return 0;
	p = &cg->pids[(pid * 2654435761u) % PID_CACHE];
	if (p->pid == pid && p->id && now_ns - p->when_ns < PID_CACHE_NS)
		return p->id;
	path = v1_path(pid);
	if (path) {
		/* FNV-1a of the path: one id per cgroup */
		id = 1469598103934665603ull;
		for (const char *c = path; *c; c++)
			id = (id ^ (unsigned char)*c) * 1099511628211ull;
		id |= SYNTHETIC_ID;
		e = find(cg, id, &slot);
		if (e)
			free(path);
		else
			insert(cg, id, slot, path);
	}
	*p = (struct pid_entry){ pid, now_ns, id };
	return id;
}

void cgroups_observe(struct cgroups *cg, void (*fn)(void *ctx, uint64_t id, const char *path),
		     void *ctx)
{
	if (cg) {
		cg->observer = fn;
		cg->observer_ctx = ctx;
	}
}

const struct cgroup_info *cgroups_lookup_cb(void *ctx, uint64_t id)
{
	return cgroups_lookup(ctx, id);
}
