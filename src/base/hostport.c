/* Parsing and printing listen addresses, and listening on them. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "hostport.h"
#include "log.h"

static int parse_port(const char *s, in_port_t *port, char *err, size_t errlen)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9') {
		snprintf(err, errlen, "'%s' is not a port number", s);
		return -1;
	}
	v = strtoul(s, &end, 10);
	if (*end || v < 1 || v > 65535) {
		snprintf(err, errlen, "'%s' is not a port number (1-65535)", s);
		return -1;
	}
	*port = htons((in_port_t)v);
	return 0;
}

int hostport_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len, char *err,
		   size_t errlen)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	const char *colon = strrchr(spec, ':');
	char host[INET6_ADDRSTRLEN + 2];
	size_t hlen;

	memset(ss, 0, sizeof(*ss));
	if (!colon) {
		/* every address: IPv6 socket that also takes IPv4 */
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_any;
		*len = sizeof(*s6);
		return parse_port(spec, &s6->sin6_port, err, errlen);
	}
	hlen = (size_t)(colon - spec);
	if (hlen >= sizeof(host)) {
		snprintf(err, errlen, "'%.*s' is not an IP address", (int)(hlen > 64 ? 64 : hlen),
			 spec);
		return -1;
	}
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		s6->sin6_family = AF_INET6;
		*len = sizeof(*s6);
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1) {
			snprintf(err, errlen, "'%s' is not an IPv6 address", host + 1);
			return -1;
		}
		return parse_port(colon + 1, &s6->sin6_port, err, errlen);
	}
	s4->sin_family = AF_INET;
	*len = sizeof(*s4);
	if (!strcmp(host, "localhost"))
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) {
		snprintf(err, errlen, "'%s' is not an IPv4 address (IPv6 goes in brackets: [::1]:PORT)",
			 host);
		return -1;
	}
	return parse_port(colon + 1, &s4->sin_port, err, errlen);
}

void hostport_format(const struct sockaddr_storage *ss, char *buf, size_t buflen)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, buflen, "%s:%u", a, ntohs(s4->sin_port));
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr))
			snprintf(buf, buflen, "*:%u", ntohs(s6->sin6_port));
		else {
			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
			snprintf(buf, buflen, "[%s]:%u", a, ntohs(s6->sin6_port));
		}
	}
}

int hostport_listen(const char *spec, int backlog, char *where, size_t wlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[160];
	int fd, one = 1, zero = 0;

	if (hostport_parse(spec, &ss, &len, err, sizeof(err))) {
		p_err("--metrics: %s", err);
		return -1;
	}
	hostport_format(&ss, where, wlen);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 && ss.ss_family == AF_INET6 && !strchr(spec, ':')) {
		/* no IPv6 here: every IPv4 address, then */
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		in_port_t port = ((struct sockaddr_in6 *)&ss)->sin6_port;

		memset(&ss, 0, sizeof(ss));
		s4->sin_family = AF_INET;
		s4->sin_port = port;
		len = sizeof(*s4);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	}
	if (fd < 0) {
		p_err("cannot serve metrics on %s: %s", where, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, backlog)) {
		p_err("cannot serve metrics on %s: %s", where, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
