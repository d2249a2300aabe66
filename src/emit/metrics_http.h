/* The --metrics endpoint: GET /metrics over HTTP or HTTPS (http_server.c),
 * served from its own thread. The reader thread publishes a copy of its
 * metrics now and then; a scrape renders the latest whole copy, so it never
 * sees a half-updated set and never holds up the ring-buffer reader.
 */
#ifndef TT_METRICS_HTTP_H
#define TT_METRICS_HTTP_H

#include <stdint.h>
#include "metrics.h"

struct metrics_http;

/* Bind the listening socket for spec ([ADDR:]PORT) and read web_config
 * (--web-config; NULL: plain HTTP) now, while privileged; serve nothing
 * yet. max_listeners sizes the published copy like the reader's
 * (metrics_init()). NULL after saying why.
 */
struct metrics_http *metrics_http_bind(const char *spec, const char *web_config,
				       uint32_t max_listeners);

/* Start the serving thread. Call after dropping privileges: a thread keeps
 * the capabilities it was created with.
 */
int metrics_http_start(struct metrics_http *h);

/* Make m what scrapes see. Skipped (and done next time) while a scrape is
 * copying the previous one: the reader never waits.
 */
void metrics_http_publish(struct metrics_http *h, const struct metrics *m);

/* SIGHUP: read the web-config again (http_server_reload()). */
void metrics_http_reload(struct metrics_http *h);

void metrics_http_stop(struct metrics_http *h);

#endif
