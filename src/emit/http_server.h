/* A small HTTP(S) server for the metrics endpoint: libmicrohttpd driven
 * from one thread of its own, which accepts connections itself so that
 * http_guard decides who gets in, and which applies a --web-config (TLS,
 * client certificates, basic auth, headers) before any request reaches
 * the caller. Reloads the web-config on request, in its own thread.
 */
#ifndef TT_HTTP_SERVER_H
#define TT_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <microhttpd.h>
#include "http_stats.h"

/* Request lines and headers larger than this are answered 431. */
#define HTTP_MAX_HEADER 8192

struct http_server;

/* A request that passed the checks: answer it with http_server_reply().
 * get: GET or HEAD.
 */
typedef enum MHD_Result (*http_request_fn)(void *arg, struct http_server *s,
					   struct MHD_Connection *c, const char *url, bool get);

/* Bind [ADDR:]PORT now, while privileged (a port below 1024 needs it), and
 * read web_config (NULL: plain HTTP, no authentication). Requests to
 * scrape_path answered 200 are timed as scrapes. NULL after saying why in
 * one sentence.
 */
struct http_server *http_server_bind(const char *spec, const char *web_config,
				     const char *scrape_path, http_request_fn fn, void *arg);

/* Start serving, in a thread with every signal blocked. Call after
 * dropping privileges: a thread keeps the capabilities it was created with.
 */
int http_server_start(struct http_server *s);

/* Read the web-config again (SIGHUP); from another thread than the
 * server's. A file that no longer reads or parses is said in one sentence
 * and the one in force stays; else open connections are closed and the new
 * one applies to the next.
 */
void http_server_reload(struct http_server *s);

void http_server_stop(struct http_server *s);

/* Queue an answer with the web-config's headers. body is freed when mode
 * is MHD_RESPMEM_MUST_FREE, whatever happens.
 */
enum MHD_Result http_server_reply(struct http_server *s, struct MHD_Connection *c,
				  unsigned int status, char *body, size_t len,
				  enum MHD_ResponseMemoryMode mode, const char *type);

/* The endpoint's health; from the serving thread (a request callback). */
const struct http_stats *http_server_stats(const struct http_server *s);

#endif
