/* One JSON record being written, and the byte budget that keeps any record
 * within OUTBUF_MAX_RECORD whatever it holds. Shared by emit_json.c and
 * emit_json_listen.c.
 *
 * A record is made of three kinds of parts:
 *  - scalars: keys, numbers, addresses, times, names from fixed tables,
 *    and lists whose length their type bounds (a history's states, an
 *    alert's causes): at most REC_FIXED_MAX bytes in any record
 *    (tests/unit/test_extremes.c writes every record type with every
 *    optional key and the largest values, and measures it);
 *  - escaped strings outside lists: a cgroup path (its first
 *    EMIT_MAX_CGROUP_PATH bytes) with its container and pod ids, two comms,
 *    a reset reason (its first EMIT_MAX_REASON bytes): at most
 *    REC_STRINGS_MAX bytes, each bounded by its input's length;
 *  - lists whose length the input decides (owners, processes, sources):
 *    an item is appended only when its size (an upper bound, with its
 *    strings' exact escaped lengths) still fits in what is left of
 *    REC_LISTS_MAX, which rec_fits() charges. A list cut short says how
 *    many items it lost: "<list>_truncated": N, written by rec_truncated().
 * The three bounds add up to OUTBUF_MAX_RECORD, in whatever order a record
 * writes its parts.
 */
#ifndef TT_REC_H
#define TT_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "emit.h"
#include "history.h"

#define REC_FIXED_MAX 2048
#define REC_CGROUP_STR_MAX (FMT_JSON_STR_MAX(EMIT_MAX_CGROUP_PATH) + \
			    FMT_JSON_STR_MAX(CGROUP_CONTAINER_ID_LEN) + \
			    FMT_JSON_STR_MAX(CGROUP_POD_UID_LEN))
#define REC_STRINGS_MAX (REC_CGROUP_STR_MAX + 2 * FMT_JSON_STR_MAX(TT_COMM_LEN) + \
			 FMT_JSON_STR_MAX(EMIT_MAX_REASON))
/* Bytes the variable lists of one record may use at most. */
#define REC_LISTS_MAX (OUTBUF_MAX_RECORD - REC_FIXED_MAX - REC_STRINGS_MAX)

/* A listed owner, less its comm: {"pid":N,"comm":…,"fd":N} and a comma. */
#define REC_OWNER_FIXED (sizeof("{\"pid\":,\"comm\":,\"fd\":},") - 1 + 2 * 10)

/* Every owner a leak record lists fits even when each comm is 15 escaped
 * control characters: only --leak-after's 64th owner and beyond are cut.
 */
_Static_assert(REC_LISTS_MAX >= EMIT_MAX_OWNERS * (REC_OWNER_FIXED + FMT_JSON_STR_MAX(TT_COMM_LEN)),
	       "a leak record's owners do not fit its budget");

/* The helpers are inlined: each key's length is then known when compiling,
 * and its copy is of a fixed size.
 */
#define REC_INLINE static inline __attribute__((always_inline))

/* {"type":"…","ts":"…": the start of a record, which sets its budget. */
REC_INLINE char *rec_begin(struct emitter *em, const char *type, uint64_t ts_ns)
{
	char *p = outbuf_begin(em->out);

	em->rec_lists_left = REC_LISTS_MAX;
	em->shown++;
	p = fmt_lit(p, "{\"type\":\"");
	p = fmt_str(p, type);
	p = fmt_lit(p, "\",\"ts\":\"");
	p = fmt_rfc3339(p, &em->clock, ts_ns);
	return fmt_lit(p, "\"");
}

REC_INLINE void rec_end(struct emitter *em, char *p)
{
	*p++ = '}';
	*p++ = '\n';
	outbuf_commit(em->out, p);
}

/* Whether a list item of at most need bytes may be appended: if so, they
 * are charged to the record's lists.
 */
REC_INLINE bool rec_fits(struct emitter *em, size_t need)
{
	if (need > em->rec_lists_left)
		return false;
	em->rec_lists_left -= need;
	return true;
}

REC_INLINE char *rec_key(char *p, const char *key)
{
	*p++ = ',';
	*p++ = '"';
	p = fmt_str(p, key);
	*p++ = '"';
	*p++ = ':';
	return p;
}

REC_INLINE char *rec_u64(char *p, const char *key, uint64_t v)
{
	return fmt_u64(rec_key(p, key), v);
}

/* A value from a fixed table of names: nothing to escape. */
REC_INLINE char *rec_name(char *p, const char *key, const char *v)
{
	p = rec_key(p, key);
	*p++ = '"';
	p = fmt_str(p, v);
	*p++ = '"';
	return p;
}

REC_INLINE char *rec_bool(char *p, const char *key, bool v)
{
	return fmt_str(rec_key(p, key), v ? "true" : "false");
}

/* ,"key":null: a value this record's source cannot know. */
REC_INLINE char *rec_null(char *p, const char *key)
{
	return fmt_lit(rec_key(p, key), "null");
}

/* A duration or count, null when DURATION_UNKNOWN. */
REC_INLINE char *rec_dur(char *p, const char *key, uint64_t ns)
{
	p = rec_key(p, key);
	return ns != DURATION_UNKNOWN ? fmt_u64(p, ns) : fmt_lit(p, "null");
}

/* ,"<list>_truncated":n when a list lost n items to the budget. */
REC_INLINE char *rec_truncated(char *p, const char *key, size_t n)
{
	return n ? rec_u64(p, key, n) : p;
}

/* A bit of a mask and its name in the output. */
struct rec_bit_name {
	uint32_t bit;
	const char *name;
};

/* ,"key":["name",...]: the names of the bits set in mask, in table order. */
char *rec_bit_names(char *p, const char *key, uint32_t mask, const struct rec_bit_name *names,
		    size_t n);

/* The socket's cgroup: its path (cut to EMIT_MAX_CGROUP_PATH bytes, which
 * "cgroup_truncated" says) with the container and pod it names, or only
 * its id when the path is not known (replay) or the cgroup is gone.
 */
char *rec_cgroup(const struct emitter *em, char *p, uint64_t id);
/* The most bytes rec_cgroup() writes, and what it writes for id. */
#define REC_CGROUP_MAX (REC_CGROUP_STR_MAX + sizeof(",\"cgroup\":,\"cgroup_truncated\":true" \
						    ",\"container_id\":,\"pod_uid\":"))
size_t rec_cgroup_len(const struct emitter *em, uint64_t id);

/* ,"pid":N,"comm":"…" */
char *rec_owner(char *p, uint32_t pid, const char *comm);

#endif
