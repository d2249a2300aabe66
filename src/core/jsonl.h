/* A strict parser for one line of the JSON tcptrail writes (--json): one
 * object per line, nested arrays and objects, strings, integers, decimals,
 * true, false, null. Anything else is refused with a reason: the report
 * reads files that may be damaged or forged, and counts what it refuses.
 *
 * No allocation per line: a parsed line lives in struct jsonl (token array
 * and unescaped strings), bounded by JSONL_MAX_LINE and JSONL_MAX_TOKENS.
 */
#ifndef TT_JSONL_H
#define TT_JSONL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* tcptrail's longest record is OUTBUF_MAX_RECORD (8 KiB); a line twice as
 * long is not one of its records.
 */
#define JSONL_MAX_LINE 16384
#define JSONL_MAX_TOKENS 2048
#define JSONL_MAX_DEPTH 16

enum jsonl_type {
	JSONL_NULL = 0,
	JSONL_FALSE,
	JSONL_TRUE,
	JSONL_NUM,
	JSONL_STR,
	JSONL_ARR,
	JSONL_OBJ,
};

struct jsonl;

/* A parser's room (tokens and strings of one line), or NULL without
 * memory; free with jsonl_free (NULL-safe).
 */
struct jsonl *jsonl_new(void);
void jsonl_free(struct jsonl *j);
/* Why the last jsonl_parse refused its line. */
const char *jsonl_err(const struct jsonl *j);

/* Parse line (len bytes, no newline) into j. Returns 0, or -1 with a short
 * reason in jsonl_err(j). Token 0 is the top-level object; members are a key
 * (a string token) followed by its value.
 */
int jsonl_parse(struct jsonl *j, const char *line, size_t len);

/* The top-level member named key: its value's token index, or -1. Keys
 * looked up in the order they were written cost one comparison each.
 * A repeated key: the first one counts.
 */
int jsonl_get(struct jsonl *j, const char *key);
/* The member named key of the object at index obj, or -1. */
int jsonl_member(const struct jsonl *j, int obj, const char *key);

/* Typed reads of a token (idx may be -1: absent). */
const char *jsonl_str(const struct jsonl *j, int idx);	/* NULL unless a string */
bool jsonl_u64(const struct jsonl *j, int idx, uint64_t *v);	/* false unless whole */
bool jsonl_is_true(const struct jsonl *j, int idx);
/* Arrays: the first element (or -1) and the one after i (or -1). */
int jsonl_first(const struct jsonl *j, int arr);
int jsonl_next(const struct jsonl *j, int arr, int i);

/* RFC 3339 as tcptrail writes it ("2026-11-21T10:42:10.123456789Z"; the
 * fraction optional, 1 to 9 digits; 'Z' or a +HH:MM/-HH:MM offset) to
 * nanoseconds since 1970 (UTC). Years 1970 to 2262. Returns 0 or -1.
 */
int jsonl_rfc3339(const char *s, int64_t *ns);
/* The reverse, always with nine fraction digits and 'Z'; buf holds 31. */
void jsonl_format_time(int64_t ns, char *buf, size_t len);

#endif
