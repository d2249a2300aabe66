/* The closing lines on stderr: what was seen, and what was not. */
#ifndef TT_SUMMARY_H
#define TT_SUMMARY_H

#include "ingest.h"
#include "listen_watch.h"

void summary_print(struct ingest *in, uint32_t still_open);
/* The same from figures kept after the ingest is gone (replay). */
void summary_print_stats(const struct ingest_stats *st, uint32_t still_open);
void summary_print_listeners(const struct listen_watch *lw);

/* Peak resident memory of this process image in KiB (VmHWM), -1 if unknown. */
long summary_peak_rss_kib(void);

#endif
