/* One process's descriptor of a socket. */
#ifndef TT_OWNER_H
#define TT_OWNER_H

#include <stdint.h>
#include "tcptrail.h"

/* Descriptors of sockets in one state the tracer's owner index holds: no
 * leak names more owners, live or in a recording (replay refuses more).
 */
#define OWNER_INDEX_MAX (4u << 20)

struct owner {
	uint64_t cookie;
	uint32_t pid;
	uint32_t fd;
	char comm[TT_COMM_LEN];
};

#endif
