/* The web-config in force, read and checked, with what the server derives
 * from it: the basic-auth checker and the GnuTLS priority string.
 */
#include <stdlib.h>
#include "http_settings.h"
#include "http_tls.h"
#include "log.h"

void http_settings_free(struct http_settings *v)
{
	if (!v)
		return;
	http_auth_free(v->auth);
	web_config_free(&v->cfg);
	free(v);
}

struct http_settings *http_settings_load(const char *path, bool *warned, bool at_start)
{
	void (*say)(const char *, ...) = at_start ? p_err : p_warn;
	struct http_settings *v = calloc(1, sizeof(*v));
	bool exposed = false;
	char err[600];

	if (!v) {
		say("out of memory");
		return NULL;
	}
	if (!path)
		return v;
	if (web_config_load(&v->cfg, path, &exposed, err, sizeof(err)) ||
	    http_tls_check(&v->cfg, err, sizeof(err))) {
		say("--web-config %s%s", err, at_start ? "" : "; the settings in force stay");
		http_settings_free(v);
		return NULL;
	}
	http_tls_priorities(&v->cfg, v->prio, sizeof(v->prio));	/* fits: checked */
	if (exposed && !*warned) {
		p_warn("--web-config: '%s' or the key file it names can be read by any user of this "
		       "machine; chmod o-r them", path);
		*warned = true;
	}
	if (v->cfg.nusers && !(v->auth = http_auth_new(&v->cfg))) {
		say("out of memory");
		http_settings_free(v);
		return NULL;
	}
	return v;
}
