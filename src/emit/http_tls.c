/* GnuTLS for the metrics endpoint. Client certificates are checked by
 * GnuTLS's own chain verification (gnutls_certificate_verify_peers with the
 * TLS client purpose, as Go asks for ExtKeyUsageClientAuth); this file only
 * decides, per client_auth_type, whether a missing certificate is fine.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <gnutls/x509.h>
#include "http_tls.h"

int http_tls_priorities(const struct web_config *c, char *buf, size_t len)
{
	static const char *const groups[] = { "SECP256R1", "SECP384R1", "SECP521R1", "X25519" };
	size_t off;
	int n;

	n = snprintf(buf, len, "NORMAL:-VERS-ALL");
	for (uint16_t v = c->max_version; n >= 0 && (size_t)n < len && v >= c->min_version; v--) {
		off = n;
		n = snprintf(buf + off, len - off, ":+VERS-TLS1.%u", v - 0x0301);
		n = n < 0 ? n : n + (int)off;
	}
	if (c->ncurves && n >= 0 && (size_t)n < len) {
		off = n;
		n = snprintf(buf + off, len - off, ":-GROUP-ALL");
		n = n < 0 ? n : n + (int)off;
		for (uint32_t i = 0; i < c->ncurves && n >= 0 && (size_t)n < len; i++) {
			off = n;
			n = snprintf(buf + off, len - off, ":+GROUP-%s", groups[c->curves[i]]);
			n = n < 0 ? n : n + (int)off;
		}
	}
	if (c->prefer_server_cipher_suites && n >= 0 && (size_t)n < len) {
		off = n;
		n = snprintf(buf + off, len - off, ":%%SERVER_PRECEDENCE");
		n = n < 0 ? n : n + (int)off;
	}
	return n >= 0 && (size_t)n < len ? 0 : -1;
}

int http_tls_check(const struct web_config *c, char *err, size_t errlen)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_priority_t prio = NULL;
	gnutls_datum_t cert, key;
	const char *where = NULL;
	char p[256];
	int ret = -1, r;

	if (!c->tls)
		return 0;
	if (http_tls_priorities(c, p, sizeof(p))) {
		snprintf(err, errlen, "too many TLS settings");
		return -1;
	}
	r = gnutls_priority_init(&prio, p, &where);
	if (r < 0) {
		snprintf(err, errlen, "GnuTLS refuses the TLS settings (%s at '%s'): %s", p,
			 where ? where : "?", gnutls_strerror(r));
		goto out;
	}
	if (gnutls_certificate_allocate_credentials(&cred) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	cert = (gnutls_datum_t){ (unsigned char *)c->cert, strlen(c->cert) };
	key = (gnutls_datum_t){ (unsigned char *)c->key, strlen(c->key) };
	r = gnutls_certificate_set_x509_key_mem2(cred, &cert, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (r < 0) {
		snprintf(err, errlen, "the certificate (%s) and key (%s) are not a usable PEM pair: "
			 "%s", c->cert_file ? c->cert_file : "cert", c->key_file ? c->key_file : "key",
			 gnutls_strerror(r));
		goto out;
	}
	if (c->client_ca) {
		gnutls_datum_t ca = { (unsigned char *)c->client_ca, strlen(c->client_ca) };

		r = gnutls_certificate_set_x509_trust_mem(cred, &ca, GNUTLS_X509_FMT_PEM);
		if (r <= 0) {
			snprintf(err, errlen, "the client CAs (%s) hold no PEM certificate%s%s",
				 c->client_ca_file ? c->client_ca_file : "client_ca",
				 r < 0 ? ": " : "", r < 0 ? gnutls_strerror(r) : "");
			goto out;
		}
	}
	ret = 0;
out:
	if (cred)
		gnutls_certificate_free_credentials(cred);
	if (prio)
		gnutls_priority_deinit(prio);
	return ret;
}

void http_tls_session(gnutls_session_t s, const struct web_config *c,
		      gnutls_certificate_verify_function *verify, gnutls_handshake_hook_func hook)
{
	static const gnutls_certificate_request_t req[] = {
		[WEB_NO_CLIENT_CERT] = GNUTLS_CERT_IGNORE,
		[WEB_REQUEST_CLIENT_CERT] = GNUTLS_CERT_REQUEST,
		[WEB_REQUIRE_ANY_CLIENT_CERT] = GNUTLS_CERT_REQUIRE,
		[WEB_VERIFY_CLIENT_CERT_IF_GIVEN] = GNUTLS_CERT_REQUEST,
		[WEB_REQUIRE_AND_VERIFY_CLIENT_CERT] = GNUTLS_CERT_REQUIRE,
	};

	gnutls_certificate_server_set_request(s, req[c->client_auth]);
	if (c->client_auth != WEB_NO_CLIENT_CERT)
		gnutls_session_set_verify_function(s, verify);
	gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_POST, hook);
}

/* Does the certificate carry one of c's allowed names (DNS, e-mail, URI or
 * IP address, compared exactly as exporter-toolkit does)?
 */
static int names_allowed(const gnutls_datum_t *der, const struct web_config *c)
{
	gnutls_x509_crt_t crt;
	int found = 0;

	if (gnutls_x509_crt_init(&crt) < 0)
		return 0;
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) < 0)
		goto out;
	for (unsigned seq = 0; !found; seq++) {
		char name[1024], ip[INET6_ADDRSTRLEN];
		size_t size = sizeof(name) - 1;
		int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, name, &size, NULL);
		const char *s = name;

		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;	/* longer than any allowed name */
		if (type < 0)
			break;
		name[size] = '\0';
		if (type == GNUTLS_SAN_IPADDRESS)
			s = inet_ntop(size == 4 ? AF_INET : AF_INET6, name, ip, sizeof(ip));
		else if ((type != GNUTLS_SAN_DNSNAME && type != GNUTLS_SAN_RFC822NAME &&
			  type != GNUTLS_SAN_URI) || strlen(name) != size)
			continue;	/* another kind, or a NUL inside */
		if (!s)
			continue;
		for (uint32_t i = 0; i < c->nsans && !found; i++)
			found = !strcmp(s, c->sans[i]);
	}
out:
	gnutls_x509_crt_deinit(crt);
	return found;
}

int http_tls_verify(gnutls_session_t s, const struct web_config *c)
{
	gnutls_typed_vdata_st purpose = { GNUTLS_DT_KEY_PURPOSE_OID,
					  (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0 };
	const gnutls_datum_t *certs;
	unsigned int n = 0, status = 0;

	certs = gnutls_certificate_get_peers(s, &n);
	if (!certs || !n)
		return c->client_auth == WEB_REQUIRE_ANY_CLIENT_CERT ||
		       c->client_auth == WEB_REQUIRE_AND_VERIFY_CLIENT_CERT ? -1 : 0;
	if ((c->client_auth == WEB_VERIFY_CLIENT_CERT_IF_GIVEN ||
	     c->client_auth == WEB_REQUIRE_AND_VERIFY_CLIENT_CERT) &&
	    (gnutls_certificate_verify_peers(s, &purpose, 1, &status) < 0 || status))
		return -1;
	if (c->nsans && !names_allowed(&certs[0], c))
		return -1;
	return 0;
}
