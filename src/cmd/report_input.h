/* tcptrail report's inputs: a JSON log written by --json, or a --record
 * recording, either one plain or gzip-compressed (rotated pieces), told
 * apart by their first bytes. A recording is replayed through ingest into
 * the JSON emitter, and its lines parsed like a log's, so the model sees
 * the records --json would have printed.
 */
#ifndef TT_REPORT_INPUT_H
#define TT_REPORT_INPUT_H

#include "jsonl.h"
#include "report_model.h"
#include "tracer.h"

/* Read path into m (j is scratch). Damage inside the file (bad lines, a
 * cut recording, broken compression) is recorded in m, never fatal.
 * Returns 0, or -1 after saying why when the file cannot be read at all.
 */
int report_input_read(struct report_model *m, struct jsonl *j, const char *path,
		      const struct rst_reasons *reasons);

#endif
