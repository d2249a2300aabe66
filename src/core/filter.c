/* Record filters. Applied to output only: every socket is still tracked so
 * histories stay whole whatever is shown.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "filter.h"

void filter_init(struct filter *f)
{
	memset(f, 0, sizeof(*f));
	f->ipv4 = f->ipv6 = true;
}

bool filter_active(const struct filter *f)
{
	return !f->ipv4 || !f->ipv6 || f->lports.active || f->rports.active || f->ports.active ||
	       f->laddrs.n || f->raddrs.n || f->addrs.n || f->pid || f->comm[0] || f->netns ||
	       f->cgroup || f->container[0];
}

static int parse_port(const char *s, const char **end, char *err, size_t errlen)
{
	char *e;
	unsigned long v;

	errno = 0;
	if (*s < '0' || *s > '9')
		goto bad;
	v = strtoul(s, &e, 10);
	if (errno || v > 65535)
		goto bad;
	*end = e;
	return (int)v;
bad:
	snprintf(err, errlen, "'%.80s' is not a port list (e.g. 80,443,8000-8100)", s);
	return -1;
}

int filter_parse_ports(struct port_set *set, const char *spec, char *err, size_t errlen)
{
	const char *p = spec;

	if (!*p) {
		snprintf(err, errlen, "empty port list");
		return -1;
	}
	while (*p) {
		int lo, hi;

		lo = parse_port(p, &p, err, errlen);
		if (lo < 0)
			return -1;
		hi = lo;
		if (*p == '-') {
			hi = parse_port(p + 1, &p, err, errlen);
			if (hi < 0)
				return -1;
			if (hi < lo) {
				snprintf(err, errlen, "port range %d-%d is backwards", lo, hi);
				return -1;
			}
		}
		for (int port = lo; port <= hi; port++)
			set->bits[port / 64] |= 1ull << (port % 64);
		if (*p == ',')
			p++;
		else if (*p) {
			snprintf(err, errlen, "unexpected '%c' in port list '%.80s'", *p, spec);
			return -1;
		}
	}
	set->active = true;
	return 0;
}

/* One ADDR[/LEN] of len bytes at s. */
static int parse_addr(struct addr_set *set, const char *s, size_t len, char *err, size_t errlen)
{
	char buf[64], *slash, *end;
	int family, max;
	long plen;

	if (len == 0 || len >= sizeof(buf))
		goto bad;
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (set->n == FILTER_MAX_ADDRS) {
		snprintf(err, errlen, "more than %d addresses", FILTER_MAX_ADDRS);
		return -1;
	}
	family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	max = family == AF_INET6 ? 128 : 32;
	memset(set->v[set->n].addr, 0, TT_ADDR_LEN);
	if (inet_pton(family, buf, set->v[set->n].addr) != 1)
		goto bad;
	plen = max;
	if (slash) {
		errno = 0;
		plen = strtol(slash + 1, &end, 10);
		if (errno || *end || end == slash + 1 || plen < 0 || plen > max)
			goto bad;
	}
	set->v[set->n].family = (uint16_t)family;
	set->v[set->n].len = (uint8_t)plen;
	set->n++;
	return 0;
bad:
	snprintf(err, errlen, "'%.*s' is not an address or prefix (e.g. 192.0.2.1, "
		 "198.51.100.0/24, 2001:db8::/32)", (int)(len < 80 ? len : 80), s);
	return -1;
}

int filter_parse_addrs(struct addr_set *set, const char *spec, char *err, size_t errlen)
{
	const char *p = spec;

	if (!*p) {
		snprintf(err, errlen, "empty address list");
		return -1;
	}
	while (*p) {
		size_t n = strcspn(p, ",");

		if (parse_addr(set, p, n, err, errlen))
			return -1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int filter_parse_comm(struct filter *f, const char *spec, char *err, size_t errlen)
{
	size_t n = strlen(spec);

	if (!n || n >= TT_COMM_LEN) {
		snprintf(err, errlen, "'%.80s' is not a process name the kernel keeps: 1 to %d "
			 "bytes (it cuts longer names; give the first %d)", spec, TT_COMM_LEN - 1,
			 TT_COMM_LEN - 1);
		return -1;
	}
	memcpy(f->comm, spec, n + 1);
	return 0;
}

static bool in_set(const struct port_set *set, uint16_t port)
{
	return !set->active || (set->bits[port / 64] >> (port % 64) & 1);
}

static bool set_has(const struct port_set *set, uint16_t port)
{
	return set->bits[port / 64] >> (port % 64) & 1;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned len)
{
	unsigned whole = len / 8, rest = len % 8;

	if (memcmp(a, b, whole))
		return false;
	return !rest || !((a[whole] ^ b[whole]) & (uint8_t)(0xff << (8 - rest)));
}

/* Whether addr (of family) is in set; an IPv4 peer of a dual-stack socket
 * (::ffff:a.b.c.d) matches IPv4 prefixes too.
 */
static bool addr_in(const struct addr_set *set, int family, const uint8_t *addr)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (!addr)
		return false;
	for (uint8_t i = 0; i < set->n; i++) {
		if (set->v[i].family == family &&
		    prefix_match(addr, set->v[i].addr, set->v[i].len))
			return true;
		if (family == AF_INET6 && set->v[i].family == AF_INET &&
		    !memcmp(addr, mapped, 12) && prefix_match(addr + 12, set->v[i].addr, set->v[i].len))
			return true;
	}
	return false;
}

bool filter_match_subject(const struct filter *f, const struct filter_subject *s)
{
	if (s->family == AF_INET && !f->ipv4)
		return false;
	if (s->family == AF_INET6 && !f->ipv6)
		return false;
	if (!in_set(&f->lports, s->lport))
		return false;
	if (s->has_rport && !in_set(&f->rports, s->rport))
		return false;
	if (f->ports.active && !set_has(&f->ports, s->lport) &&
	    !(s->has_rport && set_has(&f->ports, s->rport)))
		return false;
	if (f->laddrs.n && !addr_in(&f->laddrs, s->family, s->laddr))
		return false;
	if (s->has_rport && f->raddrs.n && !addr_in(&f->raddrs, s->family, s->raddr))
		return false;
	if (f->addrs.n && !addr_in(&f->addrs, s->family, s->laddr) &&
	    !(s->has_rport && addr_in(&f->addrs, s->family, s->raddr)))
		return false;
	if (f->pid && s->pid != f->pid)
		return false;
	if (f->comm[0] && (!s->comm || strncmp(s->comm, f->comm, TT_COMM_LEN)))
		return false;
	return filter_match_where(f, s->netns, s->cgroup);
}

bool filter_match(const struct filter *f, int family, uint16_t lport, uint16_t rport)
{
	if (family == AF_INET && !f->ipv4)
		return false;
	if (family == AF_INET6 && !f->ipv6)
		return false;
	if (f->ports.active && !set_has(&f->ports, lport) && !set_has(&f->ports, rport))
		return false;
	return in_set(&f->lports, lport) && in_set(&f->rports, rport);
}

bool filter_match_listener(const struct filter *f, int family, const uint8_t *laddr,
			   uint16_t lport, uint32_t netns, uint64_t cgroup, uint32_t pid,
			   const char *comm)
{
	struct filter_subject s = { .family = family, .laddr = laddr, .lport = lport,
				    .netns = netns, .cgroup = cgroup, .pid = pid,
				    .comm = pid ? comm : NULL };

	return filter_match_subject(f, &s);
}

bool filter_match_destination(const struct filter *f, int family, const uint8_t *raddr,
			      uint16_t rport, uint32_t netns)
{
	if (family == AF_INET && !f->ipv4)
		return false;
	if (family == AF_INET6 && !f->ipv6)
		return false;
	if (f->ports.active && !set_has(&f->ports, rport))
		return false;
	if (f->raddrs.n && !addr_in(&f->raddrs, family, raddr))
		return false;
	if (f->addrs.n && !addr_in(&f->addrs, family, raddr))
		return false;
	return in_set(&f->rports, rport) && (!f->netns || f->netns == netns);
}

bool filter_match_where(const struct filter *f, uint32_t netns, uint64_t cgroup)
{
	const struct cgroup_info *cg;

	if (f->netns && netns != f->netns)
		return false;
	if (!f->cgroup && !f->container[0])
		return true;
	cg = f->lookup && cgroup ? f->lookup(f->lookup_ctx, cgroup) : NULL;
	if (!cg || !cg->path)
		return false;
	if (f->cgroup && !cgroup_path_within(cg->path, f->cgroup))
		return false;
	return !f->container[0] ||
	       !strncmp(cg->ids.container_id, f->container, strlen(f->container));
}

int filter_parse_container(struct filter *f, const char *spec, char *err, size_t errlen)
{
	size_t n = strlen(spec);

	if (n < 4 || n > CGROUP_CONTAINER_ID_LEN ||
	    strspn(spec, "0123456789abcdefABCDEF") != n) {
		snprintf(err, errlen, "'%.80s' is not a container id: 4 to 64 hex digits "
			 "(a prefix of the id, as docker ps or crictl ps show it)", spec);
		return -1;
	}
	for (size_t i = 0; i <= n; i++)
		f->container[i] = (char)tolower((unsigned char)spec[i]);
	return 0;
}
