/* Basic authentication against the web-config's bcrypt hashes, checked by
 * the system's crypt (libxcrypt) and remembered so a scraper's every
 * request does not pay for bcrypt again.
 */
#ifndef TT_HTTP_AUTH_H
#define TT_HTTP_AUTH_H

#include <stdbool.h>
#include "web_config.h"

/* Verdicts remembered: (user, password) pairs, as keyed digests. */
#define HTTP_AUTH_CACHE 32

struct http_auth;

/* Check against c's basic_auth_users (c must outlive the checker). NULL
 * when out of memory.
 */
struct http_auth *http_auth_new(const struct web_config *c);
void http_auth_free(struct http_auth *a);

/* Whether user (NULL: none given) may in with password. An unknown user
 * costs a bcrypt too, so timing does not tell which names exist.
 */
bool http_auth_check(struct http_auth *a, const char *user, const char *password);

#endif
