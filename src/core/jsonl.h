/* A strict parser for one line of the JSON tcptrail writes (--json): one
 * object per line, nested arrays and objects, strings, integers, decimals,
 * true, false, null. Anything else is refused with a reason: the report
 * reads files that may be damaged or forged, and counts what it refuses.
 *
 * No allocation: a parsed line lives in struct jsonl (token array and
 * unescaped strings), bounded by JSONL_MAX_LINE and JSONL_MAX_TOKENS.
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

struct jsonl_tok {
	uint8_t type;		/* enum jsonl_type */
	bool is_u64;		/* a number that is a whole number in 0..2^64-1 */
	uint32_t next;		/* index of the token after this value's subtree */
	uint32_t off, len;	/* string: at str + off (NUL-terminated), len bytes */
	uint64_t u;		/* number: its value when is_u64 */
	double d;		/* number: its value (rounded past 2^53) */
};

struct jsonl {
	uint32_t ntok;
	uint32_t cursor;	/* where the last top-level lookup matched */
	struct jsonl_tok tok[JSONL_MAX_TOKENS];
	char str[JSONL_MAX_LINE + 1];
	char err[96];
};

/* Parse line (len bytes, no newline) into j. Returns 0, or -1 with a short
 * reason in j->err. Token 0 is the top-level object; members are a key
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
