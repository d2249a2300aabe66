/* Which connections the user wants to see: family and port filters. */
#ifndef TT_FILTER_H
#define TT_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct port_set {
	bool active;
	uint64_t bits[65536 / 64];
};

struct filter {
	bool ipv4, ipv6;	/* families shown; both true by default */
	struct port_set lports, rports;
};

void filter_init(struct filter *f);

/* Add ports from "80,443,8000-8100" to set. On error returns -1 and puts a
 * sentence in err.
 */
int filter_parse_ports(struct port_set *set, const char *spec, char *err, size_t errlen);

bool filter_match(const struct filter *f, int family, uint16_t lport, uint16_t rport);
/* Listeners have no remote end: family and local port only. */
bool filter_match_listener(const struct filter *f, int family, uint16_t lport);

#endif
