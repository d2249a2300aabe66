/* A set of connection tuples, each kept as a 64-bit fingerprint: which
 * timewait sockets a recount of the kernel's has already counted. Sized
 * once per fill, at most half full; a false positive needs two tuples of
 * one namespace to share 64 bits of hash.
 */
#ifndef TT_TUPLE_SET_H
#define TT_TUPLE_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tuple_set;

/* An empty set holding nothing; NULL when memory is short. */
struct tuple_set *tuple_set_new(void);

/* The tuple (namespace, family, local and remote end) as one number, never
 * 0. Addresses are 4 bytes for AF_INET, 16 otherwise.
 */
uint64_t tuple_fingerprint(uint32_t netns, uint16_t family, const uint8_t *laddr,
			   uint16_t lport, const uint8_t *raddr, uint16_t rport);

/* Empty the set, with room for n. Returns false (the set then empty and
 * holding nothing) when memory is short.
 */
bool tuple_set_reset(struct tuple_set *s, size_t n);
/* Add f: only after a reset that made room for it. */
void tuple_set_add(struct tuple_set *s, uint64_t f);
bool tuple_set_has(const struct tuple_set *s, uint64_t f);
/* Free s and what it holds (NULL is fine). */
void tuple_set_free(struct tuple_set *s);

#endif
