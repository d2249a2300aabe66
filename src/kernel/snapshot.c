/* Socket snapshot through iter/tcp, with a sock_diag fallback. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <math.h>
#include <stdio.h>
#include <time.h>
#include "bpf_load.h"
#include "cgroups.h"
#include "log.h"
#include "netns.h"
#include "sock_id.h"
#include "snapshot.h"
#include "sock_diag.h"
#include "snapshot.skel.h"

struct snapshot {
	struct snapshot_bpf *skel;	/* with the iterators' links, when attached */
	bool files_via_proc;	/* descriptors: /proc fallback in use */
};

static bool forced(const char *var, const char *value)
{
	const char *v = getenv(var);

	return v && strcmp(v, value) == 0;
}

/* Read fixed-size records from an iterator link, calling fn on each until
 * it returns false (the rest of the walk is not read, so not made).
 */
static int iter_read(struct bpf_link *link, size_t rec_size,
		     bool (*fn)(const void *rec, void *arg), void *arg)
{
	/* read() may split records, so a partial tail is carried over. */
	static char buf[64 * 1024];
	_Alignas(8) char rec[128];
	size_t have = 0;
	int fd = bpf_iter_create(bpf_link__fd(link));

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		size_t off = 0;

		/* EAGAIN: bpf_seq_read() (kernel/bpf/bpf_iter.c) gives up a
		 * read() that visited MAX_ITER_OBJECTS (a million) objects
		 * without output, keeping its place: a filtered walk of more
		 * sockets or descriptors than that goes on where it stopped.
		 */
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		while (have - off >= rec_size) {
			memcpy(rec, buf + off, rec_size);
			off += rec_size;
			if (!fn(rec, arg)) {
				close(fd);
				return 0;
			}
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	close(fd);
	return 0;
}

/* Calibration stops at the first record. */
static bool first_rec(const void *rec, void *arg)
{
	(void)rec;
	(void)arg;
	return false;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Where a tick boundary lies: after 'lo', at or before 'hi' (ns). */
struct tick_edge {
	uint64_t jiffies, lo, hi;
};

/* The iterators' links live in the skeleton, which destroys them. NULL:
 * not attached (sockets through sock_diag, descriptors through /proc).
 */
static struct bpf_link *tcp_link(const struct snapshot *s)
{
	return s->skel ? s->skel->links.dump_tcp : NULL;
}

static struct bpf_link *files_link(const struct snapshot *s)
{
	return s->skel ? s->skel->links.dump_task_files : NULL;
}

/* No source names sockets as the tracer does: sock_diag names them by
 * their cookies, which BPF programs on this kernel cannot read.
 */
static bool no_sockets(const struct snapshot *s)
{
	return !tcp_link(s) && !sock_id_mode()->cookies;
}

/* The kernel's tick rate, measured rather than read from a kernel config
 * file that minimal images lack. The iterator reads the tick count and the
 * monotonic clock at one instant; sampling it back to back brackets two tick
 * boundaries at least 100 ms apart, which bounds the tick period closely.
 * A Kconfig choice inside the bounds, or within 1.5% of their middle (ticks
 * handled late, as under emulation), is taken as is. 0 if it cannot tell.
 */
static uint32_t measure_hz(struct snapshot *s)
{
	static const uint32_t choices[] = { 100, 250, 300, 1000 };
	struct snapshot_bpf__bss *b = s->skel->bss;
	struct tick_edge first = { 0 }, last = { 0 };
	uint64_t prev_j = 0, prev_ns = 0, deadline = now_ns() + 500000000ull;
	double lo, hi;

	b->calibrate = 1;
	while (now_ns() < deadline) {
		if (iter_read(tcp_link(s), sizeof(struct tt_sock_record), first_rec, NULL))
			break;
		if (prev_ns && b->cal_jiffies != prev_j) {
			struct tick_edge e = { b->cal_jiffies, prev_ns, b->cal_ns };

			if (!first.jiffies)
				first = e;
			else if (e.jiffies - first.jiffies >= 8 && e.lo - first.hi >= 100000000ull) {
				last = e;
				break;
			}
		}
		prev_j = b->cal_jiffies;
		prev_ns = b->cal_ns;
	}
	b->calibrate = 0;
	if (!last.jiffies)
		return 0;
	/* n periods lie between the two boundaries */
	lo = 1e9 * (double)(last.jiffies - first.jiffies) / (double)(last.hi - first.lo);
	hi = 1e9 * (double)(last.jiffies - first.jiffies) / (double)(last.lo - first.hi);
	for (size_t i = 0; i < sizeof(choices) / sizeof(choices[0]); i++)
		if ((choices[i] >= lo && choices[i] <= hi) ||
		    fabs(choices[i] - (lo + hi) / 2) <= choices[i] * 0.015)
			return choices[i];
	return (uint32_t)((lo + hi) / 2 + 0.5);
}

static int snap_configure(struct bpf_load *l, void *skel, void *arg)
{
	struct snapshot_bpf *k = skel;

	(void)arg;
	k->rodata->sock_cookies = sock_id_mode()->cookies;
	k->rodata->sock_id_key = sock_id_mode()->key;
	k->rodata->cgroup_ids = cgroups_v2();
	if (forced("TCPTRAIL_SNAPSHOT", "diag"))
		bpf_load_off(l, k->progs.dump_tcp, "disabled by TCPTRAIL_SNAPSHOT=diag");
	if (forced("TCPTRAIL_OWNERS", "proc"))
		bpf_load_off(l, k->progs.dump_task_files, "disabled by TCPTRAIL_OWNERS=proc");
	return 0;
}

static int snap_load(void *skel)
{
	return snapshot_bpf__load(skel);
}

static void *snap_open(void)
{
	return snapshot_bpf__open();
}

static void snap_destroy(void *skel)
{
	snapshot_bpf__destroy(skel);
}

static struct bpf_object *snap_object(void *skel)
{
	return ((struct snapshot_bpf *)skel)->obj;
}

static const struct bpf_load_loss snap_losses[] = {
	{ "dump_tcp", "sockets are read through sock_diag, without SYN queue lengths or "
		      "SYN cookie times" },
	{ "dump_task_files", "the processes holding sockets are found through /proc" },
	{ NULL, NULL },
};

struct snapshot *snapshot_open(void)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	struct bpf_load l = {
		.what = "the socket snapshot",
		.open = snap_open,
		.destroy = snap_destroy,
		.object = snap_object,
		.load = snap_load,
		.configure = snap_configure,
		.losses = snap_losses,
	};
	void *skel = NULL;
	int err;

	if (!s)
		return NULL;
	err = bpf_load_run(&l, &skel);
	s->skel = skel;
	if (err)
		p_warn("the BPF socket iterators cannot load here (%s): sockets are read "
		       "through sock_diag, without SYN queue lengths or SYN cookie times, "
		       "and owners through /proc", strerror(-err));
	if (s->skel && bpf_program__autoload(s->skel->progs.dump_tcp)) {
		s->skel->links.dump_tcp = bpf_program__attach_iter(s->skel->progs.dump_tcp, NULL);
		if (!s->skel->links.dump_tcp)
			p_warn("failed to attach iter/tcp (%s): sockets are read through "
			       "sock_diag, without SYN queue lengths or SYN cookie times",
			       strerror(errno));
	}
	if (s->skel && bpf_program__autoload(s->skel->progs.dump_task_files)) {
		s->skel->links.dump_task_files =
			bpf_program__attach_iter(s->skel->progs.dump_task_files, NULL);
		if (!s->skel->links.dump_task_files)
			p_warn("failed to attach iter/task_file (%s): the processes holding "
			       "sockets are found through /proc", strerror(errno));
	}
	s->files_via_proc = !files_link(s);
	if (no_sockets(s)) {
		/* its ids could never match the tracer's */
		p_warn("sock_diag names sockets by their cookies, which BPF programs on this "
		       "kernel cannot read: connections that predate tcptrail are not shown");
	}
	if (!tcp_link(s) || s->files_via_proc)
		p_info("sockets via %s, descriptors via %s", !tcp_link(s) ? "sock_diag" : "iter/tcp",
		       s->files_via_proc ? "/proc" : "iter/task_file");
	if (tcp_link(s)) {
		s->skel->bss->hz = measure_hz(s);
		if (s->skel->bss->hz)
			p_info("kernel tick rate: %u Hz (measured)", s->skel->bss->hz);
		else
			p_warn("cannot measure the kernel's tick rate: CLOSE_WAIT ages of "
			       "sockets older than the trace are unknown");
	}
	return s;
}

uint32_t snapshot_hz(const struct snapshot *s)
{
	return tcp_link(s) ? s->skel->bss->hz : 0;
}

bool snapshot_via_diag(const struct snapshot *s)
{
	return !tcp_link(s);
}

bool snapshot_files_via_proc(const struct snapshot *s)
{
	return s->files_via_proc;
}

void snapshot_close(struct snapshot *s)
{
	if (s)
		snapshot_bpf__destroy(s->skel);	/* the links first */
	free(s);
}

struct sock_visit {
	snapshot_fn fn;
	void *arg;
};

static bool sock_rec(const void *rec, void *arg)
{
	const struct tt_sock_record *r = rec;
	struct sock_visit *v = arg;

	if (r->state == TT_SNAP_END)
		return false;
	if (v->fn)
		v->fn(r, v->arg);
	return true;
}

static int iter_here(struct snapshot *s, uint32_t states, bool stop_past_listeners,
		     snapshot_fn fn, void *arg)
{
	struct sock_visit v = { fn, arg };
	int err;

	s->skel->bss->want_states = states;
	s->skel->bss->stop_past_listeners = stop_past_listeners;
	err = iter_read(tcp_link(s), sizeof(struct tt_sock_record), sock_rec, &v);
	s->skel->bss->want_states = 0;
	s->skel->bss->stop_past_listeners = 0;
	return err;
}

struct file_visit {
	snapshot_file_fn fn;
	void *arg;
};

static bool file_rec(const void *rec, void *arg)
{
	struct file_visit *v = arg;

	v->fn(rec, v->arg);
	return true;
}

int snapshot_files(struct snapshot *s, uint8_t state, snapshot_file_fn fn, void *arg)
{
	struct file_visit v = { fn, arg };

	if (s->files_via_proc)
		return -EOPNOTSUPP;
	s->skel->bss->want_state = state;
	return iter_read(files_link(s), sizeof(struct tt_file_record), file_rec, &v);
}

static int here(struct snapshot *s, uint32_t states, bool stop_past_listeners,
		snapshot_fn fn, void *arg)
{
	int err;

	if (no_sockets(s))
		return -EOPNOTSUPP;
	if (tcp_link(s))
		return iter_here(s, states, stop_past_listeners, fn, arg);
	err = sock_diag_dump(AF_INET, netns_self(), states, fn, arg);
	if (!err)
		err = sock_diag_dump(AF_INET6, netns_self(), states, fn, arg);
	return err;
}

int snapshot_here(struct snapshot *s, snapshot_fn fn, void *arg)
{
	return here(s, 0, false, fn, arg);
}

/* After the listening hash the iterator walks the established one, which
 * every namespace shares: in a namespace with no socket there it cannot
 * stop before the machine's last socket. sock_diag, asked for LISTEN alone,
 * walks the listening hash only, and says first whether there is anything
 * to read. Unknown (no sock_diag, or no TCP handler in it) counts as yes.
 */
static bool listens_here(void)
{
	bool any = false;

	if (sock_diag_any(AF_INET, 1u << TT_TCP_LISTEN, &any))
		return true;
	if (!any && sock_diag_any(AF_INET6, 1u << TT_TCP_LISTEN, &any))
		return true;
	return any;
}

int snapshot_listeners_here(struct snapshot *s, bool requests, snapshot_fn fn, void *arg)
{
	/* sock_diag walks only the listening hash when asked for LISTEN
	 * alone (inet_diag_dump_icsk()); it gives no SYN queue length, so
	 * requests are always read there
	 */
	if (!tcp_link(s))
		return here(s, 1u << TT_TCP_LISTEN | 1u << TT_TCP_NEW_SYN_RECV, false, fn, arg);
	if (!no_sockets(s) && !listens_here())
		return 0;
	if (!requests)
		return here(s, 1u << TT_TCP_LISTEN, true, fn, arg);
	return here(s, 1u << TT_TCP_LISTEN | 1u << TT_TCP_NEW_SYN_RECV, false, fn, arg);
}

int snapshot_requests_here(struct snapshot *s, snapshot_fn fn, void *arg)
{
	return here(s, 1u << TT_TCP_NEW_SYN_RECV, false, fn, arg);
}

struct visit_args {
	struct snapshot *s;
	uint32_t states;
	snapshot_fn fn;
	void *arg;
};

static int visit_one(uint32_t inum, void *p)
{
	struct visit_args *v = p;

	(void)inum;
	return here(v->s, v->states, false, v->fn, v->arg);
}

int snapshot_all(struct snapshot *s, uint32_t states, snapshot_fn fn, void *arg,
		 size_t *visited)
{
	struct visit_args v = { s, states, fn, arg };
	int n = netns_for_each(visit_one, &v, NULL);

	*visited = n > 0 ? (size_t)n : 0;
	return n < 0 ? n : 0;
}

/* The records l->v has room for: it grows 1024, 2048, ... up to cap. */
static size_t room(const struct snapshot_list *l)
{
	size_t r = 1024;

	if (!l->v)
		return 0;
	while (r < l->n)
		r *= 2;
	return r < l->cap ? r : l->cap;
}

static void collect_one(const struct tt_sock_record *r, void *arg)
{
	struct snapshot_list *l = arg;

	if (l->n == l->cap) {
		l->dropped++;
		return;
	}
	if (l->n == room(l)) {
		size_t alloc = l->n ? l->n * 2 : 1024;
		struct tt_sock_record *v;

		if (alloc > l->cap)
			alloc = l->cap;
		v = realloc(l->v, alloc * sizeof(*v));
		if (!v) {
			l->dropped++;
			l->nomem = true;
			return;
		}
		l->v = v;
	}
	l->v[l->n++] = *r;
}

static void count_one(const struct tt_sock_record *r, void *arg)
{
	((uint64_t *)arg)[r->state & 15]++;
}

int snapshot_count_states(struct snapshot *s, uint64_t counts[16])
{
	size_t visited;
	int err;

	memset(counts, 0, 16 * sizeof(counts[0]));
	/* sock_diag: every socket comes to be counted here */
	if (!tcp_link(s))
		return snapshot_all(s, 0, count_one, counts, &visited);
	memset(s->skel->bss->state_counts, 0, sizeof(s->skel->bss->state_counts));
	s->skel->bss->count_states = 1;
	/* no state wanted: the walk counts and copies nothing */
	err = snapshot_all(s, 1u << 31, NULL, NULL, &visited);
	s->skel->bss->count_states = 0;
	memcpy(counts, s->skel->bss->state_counts, 16 * sizeof(counts[0]));
	return err;
}

uint64_t snapshot_tcp_allocated(void)
{
	char line[256];
	unsigned long long inuse, orphan, tw, alloc;
	uint64_t n = 0;
	FILE *f = fopen("/proc/net/sockstat", "re");

	if (!f)
		return 0;
	/* "TCP: inuse N orphan N tw N alloc N mem N": alloc is every full
	 * TCP socket of every namespace (tcp_sockets_allocated)
	 */
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TCP: inuse %llu orphan %llu tw %llu alloc %llu", &inuse, &orphan,
			   &tw, &alloc) == 4)
			n = alloc + tw;
	fclose(f);
	return n;
}

int snapshot_collect(struct snapshot *s, uint32_t states, struct snapshot_list *l, size_t cap)
{
	memset(l, 0, sizeof(*l));
	l->cap = cap;
	/* grown as sockets come: a cap sized for the worst case is not
	 * reserved up front
	 */
	return snapshot_all(s, states, collect_one, l, &l->namespaces);
}

void snapshot_list_free(struct snapshot_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}
