/* The TLS side of the metrics endpoint, in GnuTLS terms: the priority
 * string a web-config asks for, a check of its certificate, key and CAs
 * before anything is served, and each session's client-certificate policy.
 * The handshake itself is libmicrohttpd's.
 */
#ifndef TT_HTTP_TLS_H
#define TT_HTTP_TLS_H

#include <stddef.h>
#include <gnutls/gnutls.h>
#include "web_config.h"

/* The GnuTLS priority string for c's versions, curves and preference.
 * Returns 0, or -1 when it does not fit in len.
 */
int http_tls_priorities(const struct web_config *c, char *buf, size_t len);

/* Does c's certificate go with its key, do its CAs hold a certificate, and
 * does GnuTLS take its priorities? Returns 0, or -1 with one sentence.
 */
int http_tls_check(const struct web_config *c, char *err, size_t errlen);

/* Ask a new session s for a client certificate as c says, verify it with
 * verify (which calls http_tls_verify) and report handshake messages to
 * hook.
 */
void http_tls_session(gnutls_session_t s, const struct web_config *c,
		      gnutls_certificate_verify_function *verify, gnutls_handshake_hook_func hook);

/* The client certificate of s, against c's policy, CAs and allowed names:
 * 0 to go on, -1 to end the handshake.
 */
int http_tls_verify(gnutls_session_t s, const struct web_config *c);

#endif
