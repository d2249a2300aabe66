/* How sockets are named on this kernel. The BPF programs name each socket
 * by its cookie (what `ss -e` shows as sk:<hex>) where the kernel lets
 * tracing programs read it (5.12 and later); on older kernels by a keyed
 * permutation of its kernel address, random per run. Probed once.
 */
#ifndef TT_SOCK_ID_H
#define TT_SOCK_ID_H

#include <stdbool.h>
#include <stdint.h>

struct sock_id_mode {
	bool cookies;	/* ids are socket cookies */
	uint64_t key;	/* otherwise: the per-run key of address ids */
};

/* The mode for this kernel (probed on first call). */
const struct sock_id_mode *sock_id_mode(void);

#endif
