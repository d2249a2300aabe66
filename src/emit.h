/* The two output formats: newline-delimited JSON and an aligned text view. */
#ifndef TT_EMIT_H
#define TT_EMIT_H

#include <stdbool.h>
#include <stdint.h>
#include "fmt.h"
#include "outbuf.h"
#include "sink.h"

struct emitter {
	struct outbuf *out;
	struct clock_map clock;
	uint32_t own_netns;	/* text view names other namespaces only */
	bool header_done;
	/* Names of enum sk_rst_reason values, from the running kernel's BTF;
	 * NULL entries (or none at all) print as numbers.
	 */
	const char *const *rst_reasons;
	uint32_t n_rst_reasons;
};

void emitter_init(struct emitter *em, struct outbuf *out);

extern const struct sink_ops emit_json_ops;
extern const struct sink_ops emit_text_ops;

/* Name of a reset reason, or NULL when the kernel's BTF did not say. */
const char *emit_rst_reason(const struct emitter *em, uint16_t reason);

/* Print the text view's column header now (the text sink also does this
 * before its first record).
 */
void emit_text_header(struct emitter *em);

#endif
