/* tcptrail leaks: the CLOSE_WAIT sockets on the machine right now, grouped by
 * the process holding them, for the operator who arrives mid-incident.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "cgroups.h"
#include "emit.h"
#include "filter_check.h"
#include "history.h"
#include "leaks.h"
#include "clock.h"
#include "bpf_load.h"
#include "log.h"
#include "outfile.h"
#include "privs.h"
#include "netns.h"
#include "owners.h"
#include "snapshot.h"

#define REPORT_MAX_SOCKETS (4u << 20)
/* Holders besides the first that a socket's text line names. */
#define OTHER_OWNERS_SHOWN 7

struct item {
	const struct tt_sock_record *r;
	const struct owner *owners;
	size_t nowners;
	uint32_t pid;		/* first owner; 0 for none */
	char container[CGROUP_CONTAINER_ID_LEN + 1];	/* "" for none */
};

struct group {
	size_t first, count;	/* range of items */
	uint32_t oldest_ms;
};

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = strcmp(x->container, y->container);

	if (c)
		return c;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	/* oldest first; unknown ages (~0) sort as oldest, they may be */
	if (x->r->rcv_idle_ms != y->r->rcv_idle_ms)
		return x->r->rcv_idle_ms > y->r->rcv_idle_ms ? -1 : 1;
	if (x->nowners && y->nowners)
		return (x->owners[0].fd > y->owners[0].fd) - (x->owners[0].fd < y->owners[0].fd);
	return 0;
}

static int cmp_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return (x->oldest_ms < y->oldest_ms) - (x->oldest_ms > y->oldest_ms);
}

/* Time since ms (~0: unknown). */
static char *age(char *p, uint32_t ms)
{
	return ms == ~0u ? fmt_lit(p, "?") : fmt_duration(p, (uint64_t)ms * 1000000ull);
}

static char *endpoint(char *p, const struct tt_sock_record *r, bool local)
{
	return local ? fmt_endpoint(p, r->family, r->saddr, r->sport)
		     : fmt_endpoint(p, r->family, r->daddr, r->dport);
}

/* Descriptor numbers of a group as ranges: "5-104,200". Bounded output. */
static char *fd_ranges(char *p, const struct item *it, size_t n)
{
	uint32_t *fds = malloc(n * sizeof(*fds));
	char *start = p;
	size_t k = 0;

	if (!fds)
		return p;
	for (size_t i = 0; i < n; i++)
		if (it[i].nowners)
			fds[k++] = it[i].owners[0].fd;
	for (size_t i = 1; i < k; i++) {	/* insertion sort of a mostly-sorted list */
		uint32_t v = fds[i];
		size_t j = i;

		while (j && fds[j - 1] > v) {
			fds[j] = fds[j - 1];
			j--;
		}
		fds[j] = v;
	}
	for (size_t i = 0; i < k;) {
		size_t j = i;

		while (j + 1 < k && fds[j + 1] == fds[j] + 1)
			j++;
		if (p - start > 200) {
			p = fmt_lit(p, ",...");
			break;
		}
		if (p != start)
			*p++ = ',';
		p = fmt_u64(p, fds[i]);
		if (j > i) {
			*p++ = '-';
			p = fmt_u64(p, fds[j]);
		}
		i = j + 1;
	}
	free(fds);
	return p;
}

/* Spaces after a column's text, to width from its start (one at least). */
static char *pad(char *p, const char *col, long width)
{
	do
		*p++ = ' ';
	while (p - col < width);
	return p;
}

/* A holder's line: container, pid, name, sockets, oldest, descriptors. */
static void group_line(struct outbuf *out, const struct item *it, const struct group *g)
{
	char *p = outbuf_begin(out), *col = p;

	p = it->container[0] ? fmt_mem(p, it->container, CGROUP_SHORT_ID_LEN) : fmt_lit(p, "-");
	p = pad(p, col, 14);
	col = p;
	p = it->pid ? fmt_u64(p, it->pid) : fmt_lit(p, "-");
	p = pad(p, col, 9);
	col = p;
	p = it->nowners ? fmt_text_safe(p, it->owners[0].comm, TT_COMM_LEN)
			: fmt_lit(p, "(no process)");
	p = pad(p, col, 17);
	col = p;
	p = fmt_u64(p, g->count);
	p = pad(p, col, 9);
	col = p;
	p = age(p, g->oldest_ms);
	p = pad(p, col, 10);
	p = fd_ranges(p, it, g->count);
	*p++ = '\n';
	outbuf_commit(out, p);
}

/* A socket's line: its descriptor, ends, age, and its other holders. */
static void socket_line(struct outbuf *out, const struct item *s, uint32_t own_netns)
{
	char *p = outbuf_begin(out);

	p = fmt_lit(p, "    ");
	if (s->nowners) {
		p = fmt_lit(p, "fd ");
		p = fmt_u64(p, s->owners[0].fd);
		p = fmt_lit(p, "  ");
	}
	p = endpoint(p, s->r, true);
	p = fmt_lit(p, " <- ");
	p = endpoint(p, s->r, false);
	p = fmt_lit(p, "  >=");
	p = age(p, s->r->rcv_idle_ms);
	if (s->r->netns != own_netns) {
		p = fmt_lit(p, "  netns=");
		p = fmt_u64(p, s->r->netns);
	}
	for (size_t x = 1; x < s->nowners && x < OTHER_OWNERS_SHOWN + 1; x++) {
		p = fmt_str(p, x == 1 ? "  also pid " : ",");
		p = fmt_u64(p, s->owners[x].pid);
		p = fmt_lit(p, " fd ");
		p = fmt_u64(p, s->owners[x].fd);
	}
	if (s->nowners > OTHER_OWNERS_SHOWN + 1) {
		p = fmt_lit(p, " and ");
		p = fmt_u64(p, s->nowners - OTHER_OWNERS_SHOWN - 1);
		p = fmt_lit(p, " more");
	}
	*p++ = '\n';
	outbuf_commit(out, p);
}

static void text_report(struct outbuf *out, const struct item *items, size_t nitems,
			const struct group *g, size_t ngroups, const struct options *o,
			uint32_t own_netns)
{
	char *p = outbuf_begin(out);

	p = fmt_lit(p, "CLOSE_WAIT sockets now: ");
	p = fmt_u64(p, nitems);
	p = fmt_lit(p, ", held by ");
	p = fmt_u64(p, ngroups);
	p = fmt_str(p, ngroups == 1 ? " process" : " processes");
	p = fmt_lit(p, ". Ages are lower bounds: time since the peer's last ACK.\n");
	if (nitems)
		p = fmt_lit(p, "\nCONTAINER     PID      COMM             SOCKETS  OLDEST>=  FDS\n");
	outbuf_commit(out, p);
	for (size_t i = 0; i < ngroups; i++) {
		const struct item *it = &items[g[i].first];
		size_t shown = o->all ? g[i].count : o->limit;

		group_line(out, it, &g[i]);
		for (size_t k = 0; k < g[i].count && k < shown; k++)
			socket_line(out, &it[k], own_netns);
		if (g[i].count > shown) {
			p = outbuf_begin(out);
			p = fmt_lit(p, "    ... ");
			p = fmt_u64(p, g[i].count - shown);
			p = fmt_lit(p, " more (--all lists every one)\n");
			outbuf_commit(out, p);
		}
	}
}

static void json_report(struct outbuf *out, const struct item *items, const struct group *g,
			size_t ngroups, struct cgroups *cgroups)
{
	struct emitter em;
	uint64_t now = clock_mono_ns();

	emitter_init(&em, out);
	em.cgroup_lookup = cgroups ? cgroups_lookup_cb : NULL;
	em.cgroup_ctx = cgroups;
	for (size_t i = 0; i < ngroups; i++) {
		const struct item *it = &items[g[i].first];

		for (size_t k = 0; k < g[i].count; k++) {
			const struct tt_sock_record *r = it[k].r;
			struct conn c;

			/* the same record the live tracer emits, age as a bound */
			memset(&c, 0, sizeof(c));
			c.cookie = r->cookie;
			history_seed(&c, r, now);
			emit_json_ops.leak(&em, &c, now,
					   r->rcv_idle_ms == ~0u ? 0 : now - c.entered[0], true,
					   it[k].owners, it[k].nowners, (uint32_t)g[i].count);
		}
		emit_json_leak_process(&em, now, it->pid, it->nowners ? it->owners[0].comm : NULL,
				       it->container, g[i].count,
				       g[i].oldest_ms == ~0u ? DURATION_UNKNOWN
							     : (uint64_t)g[i].oldest_ms * 1000000ull);
	}
}

/* The owner filters keep a socket any of whose holders they name. */
static bool owners_wanted(const struct filter *f, const struct item *it)
{
	if (!f->pid && !f->comm[0])
		return true;
	for (size_t i = 0; i < it->nowners; i++)
		if ((!f->pid || it->owners[i].pid == f->pid) &&
		    (!f->comm[0] || !strncmp(it->owners[i].comm, f->comm, TT_COMM_LEN)))
			return true;
	return false;
}

/* The CLOSE_WAIT sockets the filters keep, with their holders (none when
 * the holders could not be searched) and containers.
 */
static size_t select_items(struct snapshot_list *l, const struct owner_index *ix, bool searched,
			   const struct filter *filter, struct cgroups *cgroups, struct item *items)
{
	size_t nitems = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct item *it = &items[nitems];
		const struct cgroup_info *cg;

		if (l->v[i].state != TT_TCP_CLOSE_WAIT)
			continue;
		memset(it, 0, sizeof(*it));
		it->r = &l->v[i];
		it->nowners = searched ? owner_index_find(ix, l->v[i].cookie, &it->owners) : 0;
		it->pid = it->nowners ? it->owners[0].pid : 0;
		/* v1-only hosts: the socket names no cgroup, its owner does */
		if (!cgroups_v2() && it->nowners)
			l->v[i].cgroup = cgroups_of_pid(cgroups, it->pid, clock_mono_ns());
		if (!filter_match_where(filter, l->v[i].netns, l->v[i].cgroup) ||
		    !owners_wanted(filter, it))
			continue;
		nitems++;
		cg = cgroups_lookup(cgroups, l->v[i].cgroup);
		if (cg)
			memcpy(it->container, cg->ids.container_id, sizeof(it->container));
	}
	qsort(items, nitems, sizeof(*items), cmp_item);
	return nitems;
}

/* The items (sorted) by holder and container, oldest groups first. */
static size_t group_items(const struct item *items, size_t nitems, struct group *groups)
{
	size_t ngroups = 0;

	for (size_t i = 0; i < nitems; i++) {
		if (!i || items[i].pid != items[i - 1].pid ||
		    strcmp(items[i].container, items[i - 1].container)) {
			groups[ngroups].first = i;
			groups[ngroups].oldest_ms = items[i].r->rcv_idle_ms;
			ngroups++;
		}
		groups[ngroups - 1].count++;
	}
	qsort(groups, ngroups, sizeof(*groups), cmp_group);
	return ngroups;
}

int leaks_main(struct options *o)
{
	struct snapshot *snap;
	struct snapshot_list l = { 0 };
	struct owner_index *ix = owner_index_new(REPORT_MAX_SOCKETS);
	struct item *items = NULL;
	struct group *groups = NULL;
	size_t nitems = 0, ngroups = 0;
	struct outbuf out = { .buf = NULL };
	struct cgroups *cgroups = NULL;
	static struct filter filter;	/* 16 KiB of port bits */
	int fd = STDOUT_FILENO, err, ret = 1;

	filter = o->filter;
	snap = snapshot_open();
	if (!ix || !snap) {
		p_err("out of memory");
		goto cleanup;
	}
	filter_check_exists(&filter);
	bpf_load_report();
	privs_drop();
	err = snapshot_collect(snap, 1u << TT_TCP_CLOSE_WAIT, &l, REPORT_MAX_SOCKETS);
	if (err) {
		if (err == -EPERM || err == -EACCES)
			p_err("reading other network namespaces needs root");
		else
			p_err("failed to read the kernel's sockets: %s", strerror(-err));
		goto cleanup;
	}
	if (l.dropped)
		p_warn("more than %u TCP sockets; %zu not read", REPORT_MAX_SOCKETS, l.dropped);
	err = owner_index_scan(ix, snap, TT_TCP_CLOSE_WAIT, l.v, l.n);
	if (err)
		p_warn("failed to find the processes holding sockets: %s", strerror(-err));
	else if (geteuid() != 0)
		p_warn("not running as root: only this user's processes were searched for "
		       "the sockets' holders; other users' sockets show '- (no process)'");
	cgroups = cgroups_open();
	filter.lookup = cgroups ? cgroups_lookup_cb : NULL;
	filter.lookup_ctx = cgroups;
	items = calloc(l.n ? l.n : 1, sizeof(*items));
	groups = calloc(l.n ? l.n : 1, sizeof(*groups));
	if (!items || !groups) {
		p_err("out of memory");
		goto cleanup;
	}
	nitems = select_items(&l, ix, err == 0, &filter, cgroups, items);
	ngroups = group_items(items, nitems, groups);

	fd = outfile_open(o->output);
	if (fd < 0)
		goto cleanup;
	if (outbuf_init(&out, fd, 1u << 20)) {
		p_err("out of memory");
		goto cleanup;
	}
	if (o->json)
		json_report(&out, items, groups, ngroups, cgroups);
	else
		text_report(&out, items, nitems, groups, ngroups, o, netns_self());
	if (outbuf_flush(&out)) {
		p_err("failed to write output: %s", strerror(out.err));
		goto cleanup;
	}
	ret = 0;
cleanup:
	outbuf_free(&out);
	outfile_close(fd);
	free(groups);
	free(items);
	cgroups_close(cgroups);
	owner_index_free(ix);
	snapshot_list_free(&l);
	snapshot_close(snap);
	return ret;
}
