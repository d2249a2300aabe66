/* The Prometheus text exposition format (version 0.0.4) of struct metrics. */
#ifndef TT_METRICS_TEXT_H
#define TT_METRICS_TEXT_H

#include <stdio.h>
#include "http_stats.h"
#include "metrics.h"

#define METRICS_TEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Write every metric with its HELP and TYPE lines. Returns 0, or -1 when f
 * failed.
 */
int metrics_text(const struct metrics *m, FILE *f);

/* The endpoint's own health: scrape durations, refusals, TLS failures. */
int metrics_text_endpoint(const struct http_stats *s, FILE *f);

#endif
