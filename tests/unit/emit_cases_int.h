/* Between the two halves of the emitters' oracle (emit_cases.c,
 * emit_cases_json.c).
 */
#ifndef TT_EMIT_CASES_INT_H
#define TT_EMIT_CASES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include "emit_cases.h"
#include "json_check.h"

struct case_check {
	const struct emit_case *k;
	const struct json_node *r;	/* the JSON record's object */
	const char *line;		/* its text, for numbers read as written */
	char *why;
	size_t len;
	int bad;
};

__attribute__((format(printf, 2, 3)))
void case_fail(struct case_check *ck, const char *fmt, ...);

/* key is the wall time of the monotonic time mono. */
void case_check_time(struct case_check *ck, const char *key, uint64_t mono);
/* The record's values against the case's, by record type. */
void case_check_values(struct case_check *ck, struct case_sizes *z);
/* The text view's lines of the case. */
void case_check_text(struct case_check *ck, const char *s, size_t n);

bool case_text_lines(struct case_check *ck, const char *s, size_t n);
bool case_text_comm_is(const char *tok, size_t n, const char *comm);

#endif
