/* Network namespace enumeration through /proc/PID/ns/net and /run/netns. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "clock.h"
#include "log.h"
#include "netns.h"

struct netns_entry {
	uint32_t inum;		/* what the kernel reports as the netns id */
	char path[64];		/* /proc/PID/ns/net or /run/netns/NAME */
};

uint32_t netns_self(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (uint32_t)st.st_ino;
}

static bool seen(const struct netns_entry *v, size_t n, uint32_t inum)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].inum == inum)
			return true;
	return false;
}

static void consider(struct netns_entry *out, size_t max, size_t *n, size_t *skipped,
		     const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return;	/* the process exited meanwhile */
	if (seen(out, *n, (uint32_t)st.st_ino))
		return;
	if (*n == max) {
		(*skipped)++;
		return;
	}
	out[*n].inum = (uint32_t)st.st_ino;
	snprintf(out[*n].path, sizeof(out[*n].path), "%s", path);
	(*n)++;
}

/* Fill at most max entries, one per distinct namespace, ours first.
 * Returns the count, or negative errno. *skipped gets the namespaces found
 * beyond max.
 */
static int netns_collect(struct netns_entry *out, size_t max, size_t *skipped)
{
	char path[64];
	struct dirent *d;
	size_t n = 0;
	DIR *dir;

	*skipped = 0;
	consider(out, max, &n, skipped, "/proc/self/ns/net");
	/* Named namespaces first: they may have no process in them. */
	dir = opendir("/run/netns");
	if (dir) {
		while ((d = readdir(dir))) {
			if (d->d_name[0] == '.' || strlen(d->d_name) > 40)
				continue;
			snprintf(path, sizeof(path), "/run/netns/%s", d->d_name);
			consider(out, max, &n, skipped, path);
		}
		closedir(dir);
	}
	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/ns/net", d->d_name);
		consider(out, max, &n, skipped, path);
	}
	closedir(dir);
	return (int)n;
}

int netns_run_in(const char *path, int (*fn)(void *arg), void *arg)
{
	int self = -1, target = -1, ret;

	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || target < 0) {
		ret = -errno;
		goto cleanup;
	}
	if (setns(target, CLONE_NEWNET)) {
		ret = -errno;
		goto cleanup;
	}
	ret = fn(arg);
	if (setns(self, CLONE_NEWNET)) {
		/* Cannot happen for a root process; if it did, every later
		 * namespace-relative operation would be wrong.
		 */
		p_err("failed to return to the original network namespace: %s",
		      strerror(errno));
		_exit(1);
	}
cleanup:
	if (target >= 0)
		close(target);
	if (self >= 0)
		close(self);
	return ret;
}

struct ns_call {
	int (*fn)(uint32_t inum, void *arg);
	void *arg;
	uint32_t inum;
};

static int call_in(void *p)
{
	struct ns_call *c = p;

	return c->fn(c->inum, c->arg);
}

int netns_has(uint32_t inum)
{
	static struct netns_entry ns[NETNS_MAX];
	size_t skipped;
	int n = netns_collect(ns, NETNS_MAX, &skipped);

	for (int i = 0; i < n; i++)
		if (ns[i].inum == inum)
			return 1;
	return n < 0 || skipped ? -1 : 0;
}

int netns_for_each(int (*fn)(uint32_t inum, void *arg), void *arg, bool *complete)
{
	static struct netns_entry ns[NETNS_MAX];
	static bool warned;
	size_t skipped;
	int n = netns_collect(ns, NETNS_MAX, &skipped), visited = 0;

	if (complete)
		*complete = false;
	if (n < 0)
		return n;
	/* once: the listener sampler walks every second */
	if (skipped && !warned) {
		p_warn("%zu network namespaces beyond the first %d are not read",
		       skipped, NETNS_MAX);
		warned = true;
	}
	for (int i = 0; i < n; i++) {
		struct ns_call c = { fn, arg, ns[i].inum };
		int err = i == 0 ? call_in(&c) : netns_run_in(ns[i].path, call_in, &c);

		if (err == -ENOENT || err == -ESRCH)
			continue;	/* gone meanwhile */
		if (err)
			return err;
		visited++;
	}
	if (complete)
		*complete = !skipped;
	return visited;
}

/* Names of /run/netns, re-read at most once a second: top names every
 * namespace of every frame by them.
 */
#define NAMES_MAX 1024
#define NAMES_TTL_NS 1000000000ull

static struct {
	uint32_t inum;
	char name[41];
} names[NAMES_MAX];
static size_t nnames;
static uint64_t names_read_ns;

static void read_names(void)
{
	struct dirent *d;
	DIR *dir = opendir("/run/netns");

	nnames = 0;
	if (!dir)
		return;
	while ((d = readdir(dir)) && nnames < NAMES_MAX) {
		char path[64];
		struct stat st;

		if (d->d_name[0] == '.' || strlen(d->d_name) > 40)
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", d->d_name);
		if (stat(path, &st))
			continue;	/* not mounted (yet), or gone */
		names[nnames].inum = (uint32_t)st.st_ino;
		snprintf(names[nnames].name, sizeof(names[nnames].name), "%s", d->d_name);
		nnames++;
	}
	closedir(dir);
}

const char *netns_name(uint32_t inum)
{
	uint64_t now = clock_mono_ns();

	if (!names_read_ns || now - names_read_ns >= NAMES_TTL_NS) {
		read_names();
		names_read_ns = now;
	}
	for (size_t i = 0; i < nnames; i++)
		if (names[i].inum == inum)
			return names[i].name;
	return NULL;
}
