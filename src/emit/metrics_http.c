/* HTTP for the metrics: libmicrohttpd with one internal polling thread, so
 * requests are handled one at a time, and a small connection limit and
 * timeout, so idle or slow clients cannot pile up.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <microhttpd.h>
#include "hostport.h"
#include "log.h"
#include "metrics_http.h"
#include "metrics_text.h"

#define HTTP_MAX_CONNECTIONS 16
#define HTTP_TIMEOUT_S 10

struct metrics_http {
	int fd;
	struct MHD_Daemon *d;
	pthread_mutex_t lock;
	struct metrics pub;	/* the latest published copy, under lock */
	struct metrics scratch;	/* the serving thread's own copy */
	char where[64];
};

struct metrics_http *metrics_http_bind(const char *spec, uint32_t max_listeners)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[160];
	struct metrics_http *h;
	int one = 1, zero = 0;

	if (hostport_parse(spec, &ss, &len, err, sizeof(err))) {
		p_err("--metrics: %s", err);
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h) {
		h->fd = -1;
		pthread_mutex_init(&h->lock, NULL);
	}
	if (!h || metrics_init(&h->pub, max_listeners, 0) ||
	    metrics_init(&h->scratch, max_listeners, 0)) {
		p_err("out of memory");
		goto fail;
	}
	hostport_format(&ss, h->where, sizeof(h->where));
	h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->fd < 0 && ss.ss_family == AF_INET6 && !strchr(spec, ':')) {
		/* no IPv6 here: every IPv4 address, then */
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		in_port_t port = ((struct sockaddr_in6 *)&ss)->sin6_port;

		memset(&ss, 0, sizeof(ss));
		s4->sin_family = AF_INET;
		s4->sin_port = port;
		len = sizeof(*s4);
		h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	}
	if (h->fd < 0) {
		p_err("cannot serve metrics on %s: %s", h->where, strerror(errno));
		goto fail;
	}
	setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(h->fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(h->fd, (struct sockaddr *)&ss, len) || listen(h->fd, HTTP_MAX_CONNECTIONS)) {
		p_err("cannot serve metrics on %s: %s", h->where, strerror(errno));
		goto fail;
	}
	return h;
fail:
	metrics_http_stop(h);
	return NULL;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, char *body,
			     size_t len, enum MHD_ResponseMemoryMode mode, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result static_reply(struct MHD_Connection *c, unsigned int status,
				    const char *text)
{
	return reply(c, status, (char *)text, strlen(text), MHD_RESPMEM_PERSISTENT,
		     "text/plain; charset=utf-8");
}

static enum MHD_Result serve_metrics(struct metrics_http *h, struct MHD_Connection *c)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f;

	pthread_mutex_lock(&h->lock);
	metrics_copy(&h->scratch, &h->pub);
	pthread_mutex_unlock(&h->lock);
	f = open_memstream(&body, &len);
	if (!f)
		return static_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	if (metrics_text(&h->scratch, f)) {
		fclose(f);
		free(body);
		return static_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	fclose(f);
	return reply(c, MHD_HTTP_OK, body, len, MHD_RESPMEM_MUST_FREE,
		     METRICS_TEXT_CONTENT_TYPE);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **state)
{
	struct metrics_http *h = cls;
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)state;
	/* Answered as soon as the headers are in: a request body is never
	 * read (the server discards it and closes the connection).
	 */
	if (!strcmp(url, "/metrics"))
		return get ? serve_metrics(h, c)
			   : static_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET\n");
	if (!strcmp(url, "/"))
		return static_reply(c, MHD_HTTP_OK, "tcptrail: metrics at /metrics\n");
	return static_reply(c, MHD_HTTP_NOT_FOUND, "not found; metrics are at /metrics\n");
}

int metrics_http_start(struct metrics_http *h)
{
	sigset_t all, old;

	/* Signals are the main thread's: it is the one that stops. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, h,
				MHD_OPTION_LISTEN_SOCKET, h->fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT_S,
				MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!h->d) {
		p_err("cannot serve metrics on %s: the HTTP server did not start", h->where);
		return -1;
	}
	h->fd = -1;	/* the daemon owns it */
	p_info("metrics at http://%s/metrics", h->where);
	return 0;
}

void metrics_http_publish(struct metrics_http *h, const struct metrics *m)
{
	if (pthread_mutex_trylock(&h->lock))
		return;
	metrics_copy(&h->pub, m);
	pthread_mutex_unlock(&h->lock);
}

void metrics_http_stop(struct metrics_http *h)
{
	if (!h)
		return;
	if (h->d)
		MHD_stop_daemon(h->d);
	else if (h->fd >= 0)
		close(h->fd);
	pthread_mutex_destroy(&h->lock);
	metrics_free(&h->pub);
	metrics_free(&h->scratch);
	free(h);
}
