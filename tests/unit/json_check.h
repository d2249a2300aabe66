/* A strict JSON parser for the tests: RFC 8259 exactly (no NaN, no trailing
 * commas, no control characters or invalid UTF-8 in strings, no lone
 * surrogates, no duplicate keys, no bytes after the value), integers read
 * exactly to 64 bits, and strings decoded the way tcptrail writes them:
 * \u0000 to \u00ff give the byte itself (the escape of a byte that is not
 * valid UTF-8), anything else its UTF-8 encoding.
 */
#ifndef TT_JSON_CHECK_H
#define TT_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_node {
	enum json_type type;
	const char *key;	/* in an object: its member name (decoded) */
	size_t key_len;
	/* where the value lies in the parsed text: [start, end) */
	size_t start, end;
	/* number: an integer without fraction or exponent that fits 64 bits */
	bool integer, negative;
	uint64_t magnitude;
	/* string: decoded bytes; bool: 0 or 1 in len */
	const char *str;
	size_t len;
	/* array, object: children in order */
	struct json_node *child, *next;
	size_t count;
};

struct json_doc;

/* Parse text of len bytes. NULL on failure, with the reason and its offset
 * in err.
 */
struct json_doc *json_check_parse(const char *text, size_t len, char *err, size_t errlen);
void json_check_free(struct json_doc *d);
const struct json_node *json_check_root(const struct json_doc *d);

/* An object's member, NULL if absent (or obj is not an object). */
const struct json_node *json_check_get(const struct json_node *obj, const char *key);
/* The i-th element of an array, NULL past its end. */
const struct json_node *json_check_at(const struct json_node *arr, size_t i);

/* Typed reads of a member: false when absent or of another type. */
bool json_check_u64(const struct json_node *obj, const char *key, uint64_t *v);
bool json_check_i64(const struct json_node *obj, const char *key, int64_t *v);
bool json_check_bool(const struct json_node *obj, const char *key, bool *v);
bool json_check_null(const struct json_node *obj, const char *key);
/* A string member equal to the n bytes s. */
bool json_check_str_is(const struct json_node *obj, const char *key, const char *s, size_t n);

#endif
