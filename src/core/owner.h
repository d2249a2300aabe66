/* One process's descriptor of a socket. */
#ifndef TT_OWNER_H
#define TT_OWNER_H

#include <stdint.h>
#include "tcptrail.h"

struct owner {
	uint64_t cookie;
	uint32_t pid;
	uint32_t fd;
	char comm[TT_COMM_LEN];
};

#endif
