/* [ADDR:]PORT, as --metrics takes it: a numeric IPv4 address, a bracketed
 * IPv6 address or "localhost", then a port. No address: every address,
 * IPv6 and IPv4 both where the machine has IPv6.
 */
#ifndef TT_HOSTPORT_H
#define TT_HOSTPORT_H

#include <stddef.h>
#include <sys/socket.h>

/* Fill ss and len from spec. Returns 0, or -1 with a one-line reason in err. */
int hostport_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len, char *err,
		   size_t errlen);

/* The address as spec wrote it: "127.0.0.1:9100", "[::1]:9100", "*:9100". */
void hostport_format(const struct sockaddr_storage *ss, char *buf, size_t buflen);

/* A non-blocking listening socket bound to spec (no address: every
 * address, IPv4 alone where the machine has no IPv6), its address written
 * to where. -1 after saying why in one sentence.
 */
int hostport_listen(const char *spec, int backlog, char *where, size_t wlen);

#endif
