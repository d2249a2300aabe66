/* Record filters. Applied to output only: every socket is still tracked so
 * histories stay whole whatever is shown.
 */
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
	snprintf(err, errlen, "'%s' is not a port list (e.g. 80,443,8000-8100)", s);
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
			snprintf(err, errlen, "unexpected '%c' in port list '%s'", *p, spec);
			return -1;
		}
	}
	set->active = true;
	return 0;
}

static bool in_set(const struct port_set *set, uint16_t port)
{
	return !set->active || (set->bits[port / 64] >> (port % 64) & 1);
}

bool filter_match(const struct filter *f, int family, uint16_t lport, uint16_t rport)
{
	if (family == AF_INET && !f->ipv4)
		return false;
	if (family == AF_INET6 && !f->ipv6)
		return false;
	return in_set(&f->lports, lport) && in_set(&f->rports, rport);
}

bool filter_match_listener(const struct filter *f, int family, uint16_t lport, uint32_t netns,
			   uint64_t cgroup)
{
	if (family == AF_INET && !f->ipv4)
		return false;
	if (family == AF_INET6 && !f->ipv6)
		return false;
	return in_set(&f->lports, lport) && filter_match_where(f, netns, cgroup);
}

bool filter_match_destination(const struct filter *f, int family, uint16_t rport,
			      uint32_t netns)
{
	if (family == AF_INET && !f->ipv4)
		return false;
	if (family == AF_INET6 && !f->ipv6)
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

	if (n < 4 || n > CGROUP_CONTAINER_ID_LEN || strspn(spec, "0123456789abcdef") != n) {
		snprintf(err, errlen, "'%.80s' is not a container id: 4 to 64 lowercase hex "
			 "digits (a prefix of the id)", spec);
		return -1;
	}
	memcpy(f->container, spec, n + 1);
	return 0;
}
