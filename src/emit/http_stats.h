/* The metrics endpoint's own health, kept by its serving thread and
 * served beside the tracer's metrics.
 */
#ifndef TT_HTTP_STATS_H
#define TT_HTTP_STATS_H

#include <stdbool.h>
#include <stdint.h>

/* Why a connection or request was turned away (the reason label). */
enum http_refusal {
	HTTP_REFUSED_PER_ADDRESS,	/* the client address had its share */
	HTTP_REFUSED_EVICTED,		/* closed to make room at the cap */
	HTTP_REFUSED_TIMEOUT,		/* no whole request, or answer not taken, in time */
	HTTP_REFUSED_TOO_LARGE,		/* request line or headers over the cap */
	HTTP_REFUSED_BAD_REQUEST,	/* not HTTP the server could parse */
	HTTP_REFUSED_UNAUTHORIZED,	/* basic auth missing or wrong */
	HTTP_REFUSALS,
};

enum http_tls_failure {
	HTTP_TLS_CLIENT_CERT,	/* the client certificate was missing or refused */
	HTTP_TLS_OTHER,		/* anything else, plain HTTP to the TLS port among it */
	HTTP_TLS_FAILURES,
};

#define HTTP_SCRAPE_BUCKETS 8

/* Upper bounds (seconds) of the scrape duration buckets, then +Inf. */
extern const double http_scrape_bounds[HTTP_SCRAPE_BUCKETS];

struct http_stats {
	uint64_t refused[HTTP_REFUSALS];
	uint64_t tls_failures[HTTP_TLS_FAILURES];
	bool tls;	/* served over TLS: the failures are shown */
	/* scrapes answered: per bucket, not cumulative */
	uint64_t scrape_bucket[HTTP_SCRAPE_BUCKETS + 1];
	double scrape_sum_s;
	uint32_t open;	/* connections open now */
};

/* Count one scrape of d seconds. */
void http_stats_scrape(struct http_stats *s, double d);

#endif
