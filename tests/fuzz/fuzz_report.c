/* libFuzzer target: tcptrail report's reading and drawing on hostile
 * lines. Every line is parsed strictly, fed to the model or counted as
 * bad, and the page is written; a parsed line is written back as JSON and
 * parsed again, and must give the same values (a round trip through the
 * parser's view of it). Never a sanitizer report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jsonl_priv.h"	/* jsonl_priv.h: tokens compared directly */
#include "report_html.h"
#include "report_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The parsed tokens of j again as JSON, into p (large enough: strings
 * grow at most six times, numbers are kept as written by %.17g).
 */
static char *rewrite(const struct jsonl *j, uint32_t i, char *p, uint32_t *next)
{
	const struct jsonl_tok *t = &j->tok[i];

	switch (t->type) {
	case JSONL_NULL: p += sprintf(p, "null"); break;
	case JSONL_TRUE: p += sprintf(p, "true"); break;
	case JSONL_FALSE: p += sprintf(p, "false"); break;
	case JSONL_NUM:
		p += t->is_u64 ? sprintf(p, "%llu", (unsigned long long)t->u) : sprintf(p, "0");
		break;
	case JSONL_STR:
		*p++ = '"';
		for (uint32_t k = 0; k < t->len; k++) {
			unsigned char c = (unsigned char)j->str[t->off + k];

			if (c < 0x20 || c == '"' || c == '\\')
				p += sprintf(p, "\\u%04x", c);
			else
				*p++ = (char)c;
		}
		*p++ = '"';
		break;
	default: {
		bool obj = t->type == JSONL_OBJ;
		uint32_t k = i + 1;

		*p++ = obj ? '{' : '[';
		while (k < t->next) {
			if (k != i + 1)
				*p++ = ',';
			if (obj) {
				p = rewrite(j, k, p, &k);
				*p++ = ':';
			}
			p = rewrite(j, k, p, &k);
		}
		*p++ = obj ? '}' : ']';
	}
	}
	*next = t->next;
	return p;
}

static struct jsonl a, b;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rm_config cfg = { INT64_MIN, INT64_MAX, 0, "" };
	struct report_model *m = rm_new(&cfg);
	struct report_page page = { "fuzz", 0 };
	static char again[JSONL_MAX_LINE * 6 + 64];
	const char *p = (const char *)data, *end = p + size;
	FILE *null = fopen("/dev/null", "w");
	uint64_t n = 0;

	if (!m || !null)
		abort();
	rm_input(m, "fuzz", RI_JSON, false);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char why[128];
		uint32_t next;

		n++;
		if (jsonl_parse(&a, p, len)) {
			rm_bad_line(m, n, a.err, p, len);
		} else {
			char *q = rewrite(&a, 0, again, &next);

			if (jsonl_parse(&b, again, (size_t)(q - again)) == 0) {
				if (a.ntok != b.ntok)
					abort();
				for (uint32_t k = 0; k < a.ntok; k++)
					if (a.tok[k].type != b.tok[k].type || a.tok[k].len != b.tok[k].len ||
					    memcmp(a.str + a.tok[k].off, b.str + b.tok[k].off,
						   a.tok[k].type == JSONL_STR ? a.tok[k].len : 0))
						abort();
			} else if (q - again <= JSONL_MAX_LINE) {
				abort();	/* what it accepted, written back, must parse */
			}
			if (rm_record(m, &a, why, sizeof(why)))
				rm_bad_line(m, n, why, p, len);
		}
		p += len + 1;
	}
	rm_finish(m);
	report_html_write(null, m, &page);
	fclose(null);
	rm_free(m);
	return 0;
}
