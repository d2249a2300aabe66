/* The report model's parts: listeners, destinations, alerts and leaks
 * (report_parts.c), and the text helpers both halves share. Internal to
 * the model.
 */
#ifndef TT_REPORT_PARTS_H
#define TT_REPORT_PARTS_H

#include <stddef.h>
#include "report_model.h"

int rm_parts_init(struct report_model *m);
void rm_parts_free(struct report_model *m);

void rm_on_listener(struct report_model *m, struct jsonl *j, int type, int bin);
void rm_on_ports(struct report_model *m, struct jsonl *j, int bin);
void rm_on_alert(struct report_model *m, struct jsonl *j, int64_t ts, int bin);
void rm_on_leak(struct report_model *m, struct jsonl *j, int64_t ts, bool resolved);

/* s (valid UTF-8, from the parser) into dst of cap bytes: cut at a
 * character boundary, with "..." where cut; control characters become '?'.
 */
void rm_copy_text(char *dst, size_t cap, const char *s);
/* n bytes of anything into dst: bytes that are not printable UTF-8 become
 * \xNN, so what is kept is always valid text.
 */
void rm_copy_bytes(char *dst, size_t cap, const char *s, size_t n);
/* "addr:port" ("[addr]:port" for IPv6) from two members of the record. */
void rm_endpoint(struct jsonl *j, const char *addr_key, const char *port_key, char *buf,
		 size_t cap);

#endif
