/* Socket snapshot through iter/tcp, with a sock_diag fallback. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <stddef.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <math.h>
#include <time.h>
#include "cgroups.h"
#include "log.h"
#include "netns.h"
#include "sock_id.h"
#include "snapshot.h"
#include "snapshot.skel.h"

static bool forced(const char *var, const char *value)
{
	const char *v = getenv(var);

	return v && strcmp(v, value) == 0;
}

/* Read fixed-size records from an iterator link, calling fn on each. */
static int iter_read(struct bpf_link *link, size_t rec_size,
		     void (*fn)(const void *rec, void *arg), void *arg)
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

		if (n < 0 && errno == EINTR)
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
			fn(rec, arg);
			off += rec_size;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	close(fd);
	return 0;
}

static void ignore_rec(const void *rec, void *arg)
{
	(void)rec;
	(void)arg;
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
		if (iter_read(s->link, sizeof(struct tt_sock_record), ignore_rec, NULL))
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

void snapshot_open(struct snapshot *s)
{
	int err = 0;

	memset(s, 0, sizeof(*s));
	s->skel = snapshot_bpf__open();
	if (s->skel) {
		s->skel->rodata->sock_cookies = sock_id_mode()->cookies;
		s->skel->rodata->sock_id_key = sock_id_mode()->key;
		s->skel->rodata->cgroup_ids = cgroups_v2();
		err = snapshot_bpf__load(s->skel);
		if (err) {
			snapshot_bpf__destroy(s->skel);
			s->skel = NULL;
		}
	} else {
		err = -errno;
	}
	if (s->skel && !forced("TCPTRAIL_SNAPSHOT", "diag")) {
		s->link = bpf_program__attach_iter(s->skel->progs.dump_tcp, NULL);
		if (!s->link)
			err = -errno;
	}
	if (s->skel && !forced("TCPTRAIL_OWNERS", "proc")) {
		s->files_link = bpf_program__attach_iter(s->skel->progs.dump_task_files, NULL);
		if (!s->files_link)
			err = -errno;
	}
	s->via_diag = !s->link;
	s->files_via_proc = !s->files_link;
	if (err)
		p_warn("the BPF socket iterators cannot load here (%s): sockets are read "
		       "through sock_diag, without SYN queue lengths or SYN cookie times, "
		       "and owners through /proc", strerror(-err));
	if (s->via_diag && !sock_id_mode()->cookies) {
		/* its ids could never match the tracer's */
		s->no_sockets = true;
		p_warn("sock_diag names sockets by their cookies, which BPF programs on this "
		       "kernel cannot read: connections that predate tcptrail are not shown");
	}
	if (s->via_diag || s->files_via_proc)
		p_info("sockets via %s, descriptors via %s", s->via_diag ? "sock_diag" : "iter/tcp",
		       s->files_via_proc ? "/proc" : "iter/task_file");
	if (s->link) {
		s->skel->bss->hz = measure_hz(s);
		if (s->skel->bss->hz)
			p_info("kernel tick rate: %u Hz (measured)", s->skel->bss->hz);
		else
			p_warn("cannot measure the kernel's tick rate: CLOSE_WAIT ages of "
			       "sockets older than the trace are unknown");
	}
}

uint32_t snapshot_hz(const struct snapshot *s)
{
	return s->link ? s->skel->bss->hz : 0;
}

bool snapshot_via_diag(const struct snapshot *s)
{
	return s->via_diag;
}

void snapshot_close(struct snapshot *s)
{
	bpf_link__destroy(s->files_link);
	bpf_link__destroy(s->link);
	snapshot_bpf__destroy(s->skel);
	memset(s, 0, sizeof(*s));
}

struct sock_visit {
	snapshot_fn fn;
	void *arg;
};

static void sock_rec(const void *rec, void *arg)
{
	struct sock_visit *v = arg;

	v->fn(rec, v->arg);
}

static int iter_here(struct snapshot *s, snapshot_fn fn, void *arg)
{
	struct sock_visit v = { fn, arg };

	return iter_read(s->link, sizeof(struct tt_sock_record), sock_rec, &v);
}

struct file_visit {
	snapshot_file_fn fn;
	void *arg;
};

static void file_rec(const void *rec, void *arg)
{
	struct file_visit *v = arg;

	v->fn(rec, v->arg);
}

int snapshot_files(struct snapshot *s, uint8_t state, snapshot_file_fn fn, void *arg)
{
	struct file_visit v = { fn, arg };

	if (s->files_via_proc)
		return -EOPNOTSUPP;
	s->skel->bss->want_state = state;
	return iter_read(s->files_link, sizeof(struct tt_file_record), file_rec, &v);
}

/* sock_diag: the same facts from an INET_DIAG dump (no SYN queue length,
 * no SYN cookie stamp). A request socket comes as SYN_RECV without the
 * tcp_info a full socket has (inet_req_diag_fill()); its listener is named
 * by address and port, not by cookie.
 */
static void diag_to_record(const struct inet_diag_msg *m, uint32_t netns, uint32_t drops,
			   uint32_t idle_ms, bool full, struct tt_sock_record *r)
{
	memset(r, 0, sizeof(*r));
	r->cookie = m->id.idiag_cookie[0] | (uint64_t)m->id.idiag_cookie[1] << 32;
	r->inode = m->idiag_inode;
	r->family = m->idiag_family;
	r->state = m->idiag_state;
	r->uid = m->idiag_uid;
	r->netns = netns;
	r->sport = ntohs(m->id.idiag_sport);
	r->dport = ntohs(m->id.idiag_dport);
	memcpy(r->saddr, m->id.idiag_src, m->idiag_family == AF_INET ? 4 : 16);
	memcpy(r->daddr, m->id.idiag_dst, m->idiag_family == AF_INET ? 4 : 16);
	r->rcv_idle_ms = idle_ms;
	r->cookie_idle_ms = ~0u;	/* not in sock_diag */
	/* a timewait socket's timer, in ms (inet_diag's twsk expiry) */
	r->tw_left_ms = r->state == TT_TCP_TIME_WAIT ? m->idiag_expires : ~0u;
	if (r->state == TT_TCP_SYN_RECV && !full) {
		r->state = TT_TCP_NEW_SYN_RECV;
		r->listener = 0;
		r->req_retrans = m->idiag_retrans;
	}
	if (r->state == TT_TCP_LISTEN) {
		/* inet_diag reports the accept queue as rqueue/wqueue */
		r->acceptq_len = m->idiag_rqueue;
		r->acceptq_max = m->idiag_wqueue;
		r->drops = drops;
	}
}

static int diag_dump(int family, uint32_t netns, snapshot_fn fn, void *arg)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		},
		.req = {
			.sdiag_family = (__u8)family,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_states = ~0u,
			.idiag_ext = 1 << (INET_DIAG_SKMEMINFO - 1) | 1 << (INET_DIAG_INFO - 1),
		},
	};
	static char buf[32768];
	int fd, ret = 0;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	if (send(fd, &msg, sizeof(msg), 0) < 0) {
		ret = -errno;
		goto cleanup;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			goto cleanup;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			const struct inet_diag_msg *m = NLMSG_DATA(h);
			struct tt_sock_record r;
			struct rtattr *a;
			uint32_t drops = 0, idle_ms = ~0u;
			bool full = false;
			int alen;

			if (h->nlmsg_type == NLMSG_DONE)
				goto cleanup;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				ret = e->error;
				goto cleanup;
			}
			alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
			for (a = (struct rtattr *)(m + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
				if (a->rta_type == INET_DIAG_SKMEMINFO &&
				    RTA_PAYLOAD(a) > (int)(SK_MEMINFO_DROPS * sizeof(uint32_t)))
					drops = ((uint32_t *)RTA_DATA(a))[SK_MEMINFO_DROPS];
				else if (a->rta_type == INET_DIAG_INFO &&
					 RTA_PAYLOAD(a) >= (int)(offsetof(struct tcp_info,
									   tcpi_last_ack_recv) +
								  sizeof(uint32_t))) {
					/* the same rcv_tstamp the iterator reads */
					idle_ms = ((struct tcp_info *)RTA_DATA(a))->tcpi_last_ack_recv;
					full = true;
				}
			diag_to_record(m, netns, drops, idle_ms, full, &r);
			fn(&r, arg);
		}
	}
cleanup:
	close(fd);
	return ret;
}

int snapshot_here(struct snapshot *s, snapshot_fn fn, void *arg)
{
	int err;

	if (s->no_sockets)
		return -EOPNOTSUPP;
	if (!s->via_diag)
		return iter_here(s, fn, arg);
	err = diag_dump(AF_INET, netns_self(), fn, arg);
	if (!err)
		err = diag_dump(AF_INET6, netns_self(), fn, arg);
	return err;
}

int snapshot_listeners_here(struct snapshot *s, snapshot_fn fn, void *arg)
{
	int err;

	if (s->via_diag)
		return snapshot_here(s, fn, arg);
	s->skel->bss->listeners_only = 1;
	err = iter_here(s, fn, arg);
	s->skel->bss->listeners_only = 0;
	return err;
}

struct visit_args {
	struct snapshot *s;
	snapshot_fn fn;
	void *arg;
};

static int visit_one(uint32_t inum, void *p)
{
	struct visit_args *v = p;

	(void)inum;
	return snapshot_here(v->s, v->fn, v->arg);
}

int snapshot_all(struct snapshot *s, snapshot_fn fn, void *arg, size_t *visited)
{
	struct visit_args v = { s, fn, arg };
	int n = netns_for_each(visit_one, &v);

	*visited = n > 0 ? (size_t)n : 0;
	return n < 0 ? n : 0;
}

static void collect_one(const struct tt_sock_record *r, void *arg)
{
	struct snapshot_list *l = arg;

	if (l->n == l->cap) {
		l->dropped++;
		return;
	}
	l->v[l->n++] = *r;
}

int snapshot_collect(struct snapshot *s, struct snapshot_list *l, size_t cap)
{
	memset(l, 0, sizeof(*l));
	l->cap = cap;
	l->v = calloc(cap ? cap : 1, sizeof(*l->v));
	if (!l->v)
		return -ENOMEM;
	return snapshot_all(s, collect_one, l, &l->namespaces);
}

void snapshot_list_free(struct snapshot_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}
