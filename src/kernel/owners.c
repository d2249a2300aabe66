/* Owner index: descriptors of TCP sockets by socket cookie. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "owners.h"

struct owner_index {
	struct owner *v;	/* sorted by cookie, then pid, then fd */
	size_t n, cap, max;
	size_t dropped;		/* descriptors beyond max */
};

struct owner_index *owner_index_new(size_t max)
{
	struct owner_index *ix = calloc(1, sizeof(*ix));

	if (ix)
		ix->max = max;
	return ix;
}

void owner_index_free(struct owner_index *ix)
{
	if (ix)
		free(ix->v);
	free(ix);
}

static void add(struct owner_index *ix, uint64_t cookie, uint32_t pid, uint32_t fd,
		const char *comm)
{
	struct owner *o;

	if (ix->n == ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 1024;
		struct owner *v;

		if (cap > ix->max)
			cap = ix->max;
		if (ix->n == cap || !(v = realloc(ix->v, cap * sizeof(*v)))) {
			ix->dropped++;
			return;
		}
		ix->v = v;
		ix->cap = cap;
	}
	o = &ix->v[ix->n++];
	o->cookie = cookie;
	o->pid = pid;
	o->fd = fd;
	memcpy(o->comm, comm, sizeof(o->comm));
}

static void add_file(const struct tt_file_record *r, void *arg)
{
	add(arg, r->cookie, r->pid, r->fd, r->comm);
}

static int cmp_owner(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	if (x->cookie != y->cookie)
		return x->cookie < y->cookie ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

struct inode_ref {
	uint64_t inode;
	uint64_t cookie;
};

static int cmp_inode(const void *a, const void *b)
{
	const struct inode_ref *x = a, *y = b;

	return (x->inode > y->inode) - (x->inode < y->inode);
}

static void read_comm(const char *pid, char comm[TT_COMM_LEN])
{
	char path[64];
	FILE *f;

	memset(comm, 0, TT_COMM_LEN);
	snprintf(path, sizeof(path), "/proc/%.20s/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, TT_COMM_LEN, f))
		comm[strcspn(comm, "\n")] = 0;
	fclose(f);
}

/* The fallback: socket:[INODE] links under /proc/PID/fd. */
static int scan_proc(struct owner_index *ix, uint8_t state, const struct tt_sock_record *socks,
		     size_t nsocks)
{
	struct inode_ref *refs = calloc(nsocks ? nsocks : 1, sizeof(*refs));
	size_t nrefs = 0;
	struct dirent *p;
	DIR *proc;

	if (!refs)
		return -ENOMEM;
	for (size_t i = 0; i < nsocks; i++)
		if (socks[i].inode && (!state || socks[i].state == state))
			refs[nrefs++] = (struct inode_ref){ socks[i].inode, socks[i].cookie };
	qsort(refs, nrefs, sizeof(*refs), cmp_inode);
	proc = opendir("/proc");
	if (!proc) {
		free(refs);
		return -errno;
	}
	while (nrefs && (p = readdir(proc))) {
		char path[300], link[64], comm[TT_COMM_LEN];
		bool have_comm = false;
		struct dirent *f;
		DIR *fds;

		if (p->d_name[0] < '1' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/fd", p->d_name);
		fds = opendir(path);
		if (!fds)
			continue;	/* exited, or a kernel thread */
		while ((f = readdir(fds))) {
			struct inode_ref key, *hit;
			unsigned long long ino;
			ssize_t n;

			if (f->d_name[0] < '0' || f->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%.20s/fd/%.20s", p->d_name, f->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = 0;
			if (sscanf(link, "socket:[%llu]", &ino) != 1)
				continue;
			key.inode = ino;
			hit = bsearch(&key, refs, nrefs, sizeof(*refs), cmp_inode);
			if (!hit)
				continue;
			if (!have_comm) {
				read_comm(p->d_name, comm);
				have_comm = true;
			}
			add(ix, hit->cookie, (uint32_t)strtoul(p->d_name, NULL, 10),
			    (uint32_t)strtoul(f->d_name, NULL, 10), comm);
		}
		closedir(fds);
	}
	closedir(proc);
	free(refs);
	return 0;
}

int owner_index_scan(struct owner_index *ix, struct snapshot *snap, uint8_t state,
		     const struct tt_sock_record *socks, size_t nsocks)
{
	int err;

	ix->n = 0;
	ix->dropped = 0;
	err = snapshot_files(snap, state, add_file, ix);
	if (err == -EOPNOTSUPP)
		err = scan_proc(ix, state, socks, nsocks);
	if (err) {
		ix->n = 0;	/* a partial walk names owners it may not have */
		return err;
	}
	if (ix->n)
		qsort(ix->v, ix->n, sizeof(*ix->v), cmp_owner);
	return 0;
}

int owner_index_scan_all(struct owner_index *ix, struct snapshot *snap, uint8_t state,
			 size_t max_socks)
{
	struct snapshot_list l = { 0 };
	int err;

	/* the fallback matches descriptors by socket inode */
	if (snapshot_files_via_proc(snap)) {
		err = snapshot_collect(snap, state ? 1u << state : 0, &l, max_socks);
		if (err) {
			snapshot_list_free(&l);
			ix->n = 0;
			return err;
		}
	}
	err = owner_index_scan(ix, snap, state, l.v, l.n);
	snapshot_list_free(&l);
	return err;
}

size_t owner_index_dropped(const struct owner_index *ix)
{
	return ix->dropped;
}

size_t owner_index_find(const struct owner_index *ix, uint64_t cookie,
			const struct owner **first)
{
	size_t lo = 0, hi = ix->n, n = 0;

	/* lower bound of cookie */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ix->v[mid].cookie < cookie)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = ix->v ? &ix->v[lo] : NULL;
	while (lo + n < ix->n && ix->v[lo + n].cookie == cookie)
		n++;
	return n;
}
