/* The parser's tokens and room, private to jsonl.c (the unit and fuzz
 * tests include it to compare tokens).
 */
#ifndef TT_JSONL_PRIV_H
#define TT_JSONL_PRIV_H

#include "jsonl.h"

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

#endif
