/* Expectations of one JSON record's members: each records the first that
 * fails in its case_check (emit_cases_int.h).
 */
#ifndef TT_WANT_H
#define TT_WANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "emit_cases_int.h"

typedef const struct json_node node_t;

void want_u64(struct case_check *ck, node_t *o, const char *key, uint64_t v);
void want_i64(struct case_check *ck, node_t *o, const char *key, int64_t v);
/* A number, or null for DURATION_UNKNOWN. */
void want_dur(struct case_check *ck, node_t *o, const char *key, uint64_t v);
void want_bool(struct case_check *ck, node_t *o, const char *key, bool v);
void want_absent(struct case_check *ck, node_t *o, const char *key);
void want_string(struct case_check *ck, node_t *o, const char *key);
/* A string member: the first n bytes of s, up to a NUL. */
void want_bytes(struct case_check *ck, node_t *o, const char *key, const char *s, size_t n);
void want_addr(struct case_check *ck, node_t *o, const char *key, int family,
	       const uint8_t *addr);
void want_family(struct case_check *ck, node_t *o, int family);
/* The connection identity in the record's top level. */
void want_tuple(struct case_check *ck, int family, const uint8_t *laddr, uint16_t lport,
		const uint8_t *raddr, uint16_t rport, uint32_t netns);
/* The cgroup fields of id in o: the case's path, or its number. */
void want_cgroup(struct case_check *ck, node_t *o, uint64_t id);
/* pid and comm when shown, else neither. */
void want_owner(struct case_check *ck, node_t *o, bool shown, uint32_t pid, const char *comm);
/* An array of at most max of n items, the rest counted in cut_key (all of
 * them listed up to max when whole); each item checked by item(). Returns
 * how many were listed.
 */
size_t want_list(struct case_check *ck, const char *key, const char *cut_key, size_t n,
		 size_t max, bool whole, void (*item)(struct case_check *, node_t *, size_t));
/* An array of n names. */
void want_names(struct case_check *ck, const char *key, size_t n);

#endif
