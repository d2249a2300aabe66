/* What the metrics endpoint answers: /metrics, the tracer's metrics and the
 * endpoint's own health, from the latest published copy; the server and
 * its limits are http_server.c's.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http_server.h"
#include "log.h"
#include "metrics_http.h"
#include "metrics_text.h"

struct metrics_http {
	struct http_server *server;
	pthread_mutex_t lock;
	struct metrics pub;	/* the latest published copy, under lock */
	struct metrics scratch;	/* the serving thread's own copy */
};

static enum MHD_Result static_reply(struct http_server *s, struct MHD_Connection *c,
				    unsigned int status, const char *text)
{
	return http_server_reply(s, c, status, (char *)text, strlen(text), MHD_RESPMEM_PERSISTENT,
				 "text/plain; charset=utf-8");
}

static enum MHD_Result serve_metrics(struct metrics_http *h, struct http_server *s,
				     struct MHD_Connection *c)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	pthread_mutex_lock(&h->lock);
	metrics_copy(&h->scratch, &h->pub);
	pthread_mutex_unlock(&h->lock);
	f = open_memstream(&body, &len);
	if (!f)
		return static_reply(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	err = metrics_text(&h->scratch, f) || metrics_text_endpoint(http_server_stats(s), f);
	if (fclose(f) || err) {
		free(body);
		return static_reply(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	return http_server_reply(s, c, MHD_HTTP_OK, body, len, MHD_RESPMEM_MUST_FREE,
				 METRICS_TEXT_CONTENT_TYPE);
}

static enum MHD_Result on_request(void *arg, struct http_server *s, struct MHD_Connection *c,
				  const char *url, bool get)
{
	if (!strcmp(url, "/metrics"))
		return get ? serve_metrics(arg, s, c)
			   : static_reply(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET\n");
	if (!strcmp(url, "/"))
		return static_reply(s, c, MHD_HTTP_OK, "tcptrail: metrics at /metrics\n");
	return static_reply(s, c, MHD_HTTP_NOT_FOUND, "not found; metrics are at /metrics\n");
}

struct metrics_http *metrics_http_bind(const char *spec, const char *web_config,
				       uint32_t max_listeners)
{
	struct metrics_http *h = calloc(1, sizeof(*h));

	if (h)
		pthread_mutex_init(&h->lock, NULL);
	if (!h || metrics_init(&h->pub, max_listeners, 0) ||
	    metrics_init(&h->scratch, max_listeners, 0)) {
		p_err("out of memory");
		goto fail;
	}
	h->server = http_server_bind(spec, web_config, "/metrics", on_request, h);
	if (!h->server)
		goto fail;
	return h;
fail:
	metrics_http_stop(h);
	return NULL;
}

int metrics_http_start(struct metrics_http *h)
{
	return http_server_start(h->server);
}

void metrics_http_publish(struct metrics_http *h, const struct metrics *m)
{
	if (pthread_mutex_trylock(&h->lock))
		return;
	metrics_copy(&h->pub, m);
	pthread_mutex_unlock(&h->lock);
}

void metrics_http_reload(struct metrics_http *h)
{
	if (h)
		http_server_reload(h->server);
}

void metrics_http_stop(struct metrics_http *h)
{
	if (!h)
		return;
	http_server_stop(h->server);	/* the thread first: it reads the copies */
	pthread_mutex_destroy(&h->lock);
	metrics_free(&h->pub);
	metrics_free(&h->scratch);
	free(h);
}
