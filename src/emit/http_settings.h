/* One --web-config in force, with what is derived from it. */
#ifndef TT_HTTP_SETTINGS_H
#define TT_HTTP_SETTINGS_H

#include <stdbool.h>
#include "http_auth.h"
#include "web_config.h"

struct http_settings {
	struct web_config cfg;
	struct http_auth *auth;	/* NULL without basic_auth_users */
	char prio[256];		/* GnuTLS priorities */
};

/* The web-config at path (NULL: plain HTTP, no authentication), checked
 * down to its certificate and key; NULL after one sentence, an error at
 * start, a warning (the settings in force stay) later. A file others can
 * read is warned about when *warned is false, which it then becomes.
 */
struct http_settings *http_settings_load(const char *path, bool *warned, bool at_start);

void http_settings_free(struct http_settings *v);

#endif
