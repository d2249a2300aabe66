/* One listener sample: enter each namespace, read its listeners, requests,
 * counters and sysctls there (procfs answers for the reader's namespace).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "listen_sampler.h"
#include "clock.h"
#include "netstat.h"
#include "log.h"
#include "netns.h"

#define NETSTAT_BYTES (64 * 1024)
/* Listeners whose owner was not found are looked for again this often. */
#define LISTENER_OWNERS_MAX (1u << 20)	/* descriptors of listeners indexed per search */
#define UNOWNED_MAX 4096
#define OWNER_SEARCH_SHARE 200

static const char *const sysctl_paths[LW_N_SYSCTLS] = {
	[LW_SOMAXCONN] = "/proc/sys/net/core/somaxconn",
	[LW_MAX_SYN_BACKLOG] = "/proc/sys/net/ipv4/tcp_max_syn_backlog",
	[LW_SYNCOOKIES] = "/proc/sys/net/ipv4/tcp_syncookies",
	[LW_ABORT_ON_OVERFLOW] = "/proc/sys/net/ipv4/tcp_abort_on_overflow",
	[LW_SYNACK_RETRIES] = "/proc/sys/net/ipv4/tcp_synack_retries",
};

struct listen_sampler {
	struct listen_sampler_config cfg;
	struct owner_index *owners;
	int owner_err;			/* the last owner search's failure, said once */
	uint64_t *unowned;		/* listeners without a known owner */
	uint64_t search_next_ns;	/* no search for missed ones before */
	char *text;			/* /proc/net/netstat */
	size_t text_cap;
	bool warned_counters;
	/* the last sample's walk met every reachable namespace */
	bool walk_complete;
};

struct listen_sampler *listen_sampler_new(const struct listen_sampler_config *cfg)
{
	struct listen_sampler *ls = calloc(1, sizeof(*ls));

	if (!ls)
		return NULL;
	ls->cfg = *cfg;
	ls->owners = owner_index_new(LISTENER_OWNERS_MAX);
	ls->text_cap = NETSTAT_BYTES;
	ls->text = malloc(ls->text_cap);
	ls->unowned = calloc(UNOWNED_MAX, sizeof(*ls->unowned));
	if (!ls->owners || !ls->text || !ls->unowned) {
		listen_sampler_free(ls);
		return NULL;
	}
	return ls;
}

void listen_sampler_free(struct listen_sampler *ls)
{
	if (!ls)
		return;
	owner_index_free(ls->owners);
	free(ls->text);
	free(ls->unowned);
	free(ls);
}

bool listen_sampler_walk_complete(const struct listen_sampler *ls)
{
	return ls->walk_complete;
}

/* The whole file into ls->text, NUL-terminated. Returns bytes or -errno. */
static ssize_t read_text(struct listen_sampler *ls, const char *path)
{
	size_t have = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (have < ls->text_cap - 1) {
		ssize_t n = read(fd, ls->text + have, ls->text_cap - 1 - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	ls->text[have] = '\0';
	return (ssize_t)have;
}

struct ns_visit {
	struct listen_sampler *ls;
	uint32_t listeners;
	uint32_t half_open;	/* requests the listeners say they hold */
};

static void on_sock(const struct tt_sock_record *r, void *arg)
{
	struct ns_visit *v = arg;

	if (r->state == TT_TCP_LISTEN) {
		v->listeners++;
		v->half_open += r->synq_len;
	}
	listen_watch_sample_sock(v->ls->cfg.lw, r);
}

/* One number from a sysctl file, -1 if unreadable. */
static int64_t read_sysctl(struct listen_sampler *ls, const char *path)
{
	char *end;
	long long val;

	if (read_text(ls, path) <= 0)
		return -1;
	val = strtoll(ls->text, &end, 10);
	return end != ls->text ? val : -1;
}

/* Ports of ip_local_reserved_ports ("8080,9000-9010") inside [lo, hi]. */
static int32_t reserved_in(const char *list, int32_t lo, int32_t hi)
{
	int32_t n = 0;

	while (*list >= '0' && *list <= '9') {
		char *end;
		long a = strtol(list, &end, 10), b = a;

		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		if (a < lo)
			a = lo;
		if (b > hi)
			b = hi;
		if (b >= a)
			n += (int32_t)(b - a + 1);
		list = *end == ',' ? end + 1 : end;
	}
	return n;
}

/* Which namespace this thread is in, beyond its inode number (which the
 * next namespace made may get once this one is gone): the kernel's cookie
 * of it, asked of a socket made here (5.14 on; 0 before).
 */
static uint64_t netns_cookie(void)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) || len != sizeof(cookie))
		cookie = 0;
	close(fd);
	return cookie;
}

/* The namespace's ephemeral-port limits, for the port watch. */
static void read_port_limits(struct listen_sampler *ls, uint32_t inum)
{
	struct ports_limits lim = { -1, -1, -1, -1 };

	if (read_text(ls, "/proc/sys/net/ipv4/ip_local_port_range") > 0 &&
	    sscanf(ls->text, "%d %d", &lim.lo, &lim.hi) != 2)
		lim.lo = lim.hi = -1;
	if (lim.lo >= 0 && read_text(ls, "/proc/sys/net/ipv4/ip_local_reserved_ports") >= 0)
		lim.reserved = reserved_in(ls->text, lim.lo, lim.hi);
	lim.tw_reuse = (int32_t)read_sysctl(ls, "/proc/sys/net/ipv4/tcp_tw_reuse");
	lim.cookie = netns_cookie();
	ports_set_limits(ls->cfg.ports, inum, &lim);
}

/* Runs inside the namespace: /proc/thread-self/net and /proc/sys/net show
 * this thread's namespace.
 */
static int sample_here(uint32_t inum, void *arg)
{
	struct ns_visit *v = arg;
	struct listen_sampler *ls = v->ls;
	uint64_t counters[LW_N_COUNTERS];
	int64_t sysctls[LW_N_SYSCTLS];
	bool have_counters;
	int err;

	if (ls->cfg.ports && ports_wants_netns(ls->cfg.ports, inum))
		read_port_limits(ls, inum);
	v->listeners = v->half_open = 0;
	/* The listening hash alone; the established hash, where requests
	 * live, only when a listener holds some: the walk that costs a
	 * second of CPU on a million connections is made under SYN pressure
	 * only.
	 */
	err = snapshot_listeners_here(ls->cfg.snap, false, on_sock, v);
	if (!err && v->half_open && !snapshot_via_diag(ls->cfg.snap))
		err = snapshot_requests_here(ls->cfg.snap, on_sock, v);
	if (err == -EOPNOTSUPP)
		return 0;	/* no socket source: said once already */
	if (err || !v->listeners)
		return err;
	have_counters = read_text(ls, "/proc/thread-self/net/netstat") > 0 &&
			!netstat_parse(ls->text, counters);
	if (!have_counters && !ls->warned_counters) {
		p_warn("cannot read the namespace counters (/proc/net/netstat); "
		       "listener figures are shown without them");
		ls->warned_counters = true;
	}
	for (int k = 0; k < LW_N_SYSCTLS; k++) {
		char *end;

		sysctls[k] = -1;
		if (read_text(ls, sysctl_paths[k]) > 0) {
			long long val = strtoll(ls->text, &end, 10);

			if (end != ls->text)
				sysctls[k] = val;
		}
	}
	listen_watch_sample_netns(ls->cfg.lw, inum, have_counters, counters, sysctls);
	return 0;
}

/* Name each listener's owner: the first process holding it (lowest pid,
 * usually the parent of pre-forked workers). A new listener is looked for
 * at once; one not found waits its own backoff, and never delays another.
 */
static void find_owners(struct listen_sampler *ls, uint64_t now)
{
	uint64_t *unowned = ls->unowned;
	bool fresh;
	size_t n = listen_watch_unowned(ls->cfg.lw, now, unowned, UNOWNED_MAX, &fresh);
	uint64_t t0;
	int err;

	if (!n)
		return;
	/* A search walks every descriptor of the machine (over a second at a
	 * million connections): one only for owners it could not see before
	 * waits until it has cost at most 1/OWNER_SEARCH_SHARE of the time
	 * since the last. A new listener is looked for at once.
	 */
	if (now < ls->search_next_ns && !fresh)
		return;
	t0 = clock_mono_ns();
	err = owner_index_scan_all(ls->owners, ls->cfg.snap, TT_TCP_LISTEN, ls->cfg.max_socks);
	ls->search_next_ns = now + (clock_mono_ns() - t0) * OWNER_SEARCH_SHARE;
	if (err && err != ls->owner_err)
		p_warn("failed to find the processes holding listeners: %s", strerror(-err));
	ls->owner_err = err;
	for (size_t i = 0; i < n; i++) {
		const struct owner *first;
		bool found = !err && owner_index_find(ls->owners, unowned[i], &first);

		if (found)
			listen_watch_set_owner(ls->cfg.lw, unowned[i], first->pid, first->comm);
		else
			listen_watch_owner_missed(ls->cfg.lw, unowned[i], now);
	}
}

int listen_sampler_run(struct listen_sampler *ls, uint64_t now, lw_alert_fn fn, void *arg)
{
	struct ns_visit v = { .ls = ls };
	int n;

	/* sock_diag knows neither SYN queue lengths nor SYN cookie stamps */
	listen_watch_sample_begin(ls->cfg.lw, snapshot_via_diag(ls->cfg.snap) ? 0 : LW_KNOWN_ALL);
	n = netns_for_each(sample_here, &v, &ls->walk_complete);
	if (ls->cfg.counts)
		ls->cfg.counts(ls->cfg.lw, ls->cfg.counts_arg);
	/* what was read is kept, even when a namespace failed */
	listen_watch_sample_end(ls->cfg.lw, now, fn, arg);
	if (n < 0)
		return n;
	find_owners(ls, now);
	return 0;
}
