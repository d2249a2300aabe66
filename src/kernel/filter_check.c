/* Do the things the filters name exist? Read once at start from /proc,
 * /run/netns and the cgroup2 hierarchy; a warning each, never an error:
 * what does not exist yet may appear while tracing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cgroups.h"
#include "filter_check.h"
#include "log.h"
#include "netns.h"

/* Directories of the cgroup tree looked at for a container, at most. */
#define CGROUP_DIRS_MAX 100000

static bool netns_exists(uint32_t inum)
{
	return netns_has(inum) != 0;	/* cannot tell: do not claim it is missing */
}

static bool cgroup_exists(const char *mount, const char *path)
{
	char full[8192];
	struct stat st;

	snprintf(full, sizeof(full), "%s%s", strcmp(mount, "/") ? mount : "", path);
	return !stat(full, &st) && S_ISDIR(st.st_mode);
}

/* A cgroup below dir (path relative to the mount) names the container;
 * *budget bounds the directories read.
 */
static bool container_below(int dirfd, char *path, size_t len, const char *id, long *budget)
{
	struct cgroup_ids ids;
	struct dirent *d;
	bool found = false;
	DIR *dir = fdopendir(dirfd);

	if (!dir) {
		close(dirfd);
		return false;
	}
	while (!found && (d = readdir(dir)) && --*budget > 0) {
		size_t n = strlen(path);
		int sub;

		if (d->d_type != DT_DIR || d->d_name[0] == '.' || n + strlen(d->d_name) + 2 > len)
			continue;
		snprintf(path + n, len - n, "/%s", d->d_name);
		cgroup_path_parse(path, &ids);
		found = !strncmp(ids.container_id, id, strlen(id));
		/* fdopendir() takes sub over, and closedir() closes it */
		sub = found ? -1 : openat(dirfd, d->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub >= 0)
			found = container_below(sub, path, len, id, budget);
		path[n] = '\0';
	}
	closedir(dir);
	return found || *budget <= 0;	/* out of budget: cannot tell */
}

static bool container_exists(const char *mount, const char *id)
{
	char path[8192] = "";
	long budget = CGROUP_DIRS_MAX;
	int fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 || container_below(fd, path, sizeof(path), id, &budget);
}

static bool pid_exists(uint32_t pid)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%u", pid);
	return !access(path, F_OK);
}

static bool comm_exists(const char *comm)
{
	struct dirent *d;
	bool found = false;
	DIR *dir = opendir("/proc");

	if (!dir)
		return true;
	while (!found && (d = readdir(dir))) {
		char path[64], name[TT_COMM_LEN + 2] = "";
		FILE *f;

		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/comm", d->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f))
			name[strcspn(name, "\n")] = '\0';
		fclose(f);
		found = !strcmp(name, comm);
	}
	closedir(dir);
	return found;
}

int filter_check_exists(const struct filter *f)
{
	const char *mount = cgroups_mount();
	int n = 0;

	if (f->netns && !netns_exists(f->netns) && ++n)
		p_warn("--netns %u: no network namespace has that inode now (ls -l "
		       "/proc/PID/ns/net or /run/netns/NAME shows it); nothing matches until one "
		       "does", f->netns);
	if (f->cgroup && mount && !cgroup_exists(mount, f->cgroup) && ++n)
		p_warn("--cgroup %.200s: no such cgroup under %s; nothing matches until it exists",
		       f->cgroup, mount);
	if (f->cgroup && !mount && ++n)
		p_warn("--cgroup %.200s: this machine has no cgroup2 hierarchy; sockets are "
		       "attributed by their owner's cgroup", f->cgroup);
	if (f->container[0] && mount && !container_exists(mount, f->container) && ++n)
		p_warn("--container %s: no cgroup names that container now; nothing matches "
		       "until it starts", f->container);
	if (f->pid && !pid_exists(f->pid) && ++n)
		p_warn("--pid %u: no such process now; nothing matches", f->pid);
	if (f->comm[0] && !comm_exists(f->comm) && ++n)
		p_warn("--comm %.16s: no process has that name now; nothing matches until one "
		       "does", f->comm);
	return n;
}
