/* --web-config: the Prometheus exporter-toolkit web configuration file
 * (tls_server_config, http_server_config, basic_auth_users), the format
 * node_exporter's --web.config.file reads, parsed strictly: a key the
 * format does not have, a value of the wrong kind or a setting tcptrail
 * cannot honour is refused with one sentence, never ignored.
 */
#ifndef TT_WEB_CONFIG_H
#define TT_WEB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Larger files are refused: no real configuration or certificate comes
 * near it, and a mistaken path (a log, a device) is not read to its end.
 */
#define WEB_CONFIG_MAX_FILE (1u << 20)
#define WEB_CONFIG_MAX_USERS 256
#define WEB_CONFIG_MAX_CURVES 4
#define WEB_CONFIG_MAX_HEADERS 5
#define WEB_CONFIG_MAX_SANS 64

/* tls_server_config.client_auth_type, Go's crypto/tls names. */
enum web_client_auth {
	WEB_NO_CLIENT_CERT,
	WEB_REQUEST_CLIENT_CERT,
	WEB_REQUIRE_ANY_CLIENT_CERT,
	WEB_VERIFY_CLIENT_CERT_IF_GIVEN,
	WEB_REQUIRE_AND_VERIFY_CLIENT_CERT,
};

enum web_curve {
	WEB_CURVE_P256,
	WEB_CURVE_P384,
	WEB_CURVE_P521,
	WEB_CURVE_X25519,
};

struct web_user {
	char *name;
	char *hash;	/* bcrypt: $2a$, $2b$ or $2y$ */
};

struct web_header {
	const char *name;	/* one of the five the format allows */
	char *value;
};

struct web_config {
	bool tls;		/* tls_server_config sets something */
	/* file paths, relative ones joined to the config file's folder; NULL
	 * when given inline or not at all
	 */
	char *cert_file, *key_file, *client_ca_file;
	/* PEM text: inline, or read from the files by web_config_load() */
	char *cert, *key, *client_ca;
	enum web_client_auth client_auth;
	uint16_t min_version, max_version;	/* 0x0301 (TLS 1.0) .. 0x0304 */
	bool prefer_server_cipher_suites;
	enum web_curve curves[WEB_CONFIG_MAX_CURVES];
	uint32_t ncurves;
	char *sans[WEB_CONFIG_MAX_SANS];	/* client_allowed_sans */
	uint32_t nsans;
	bool http2;		/* accepted; tcptrail speaks HTTP/1.1 only */
	struct web_header headers[WEB_CONFIG_MAX_HEADERS];
	uint32_t nheaders;
	struct web_user *users;
	uint32_t nusers;
};

/* Parse text (the file's contents) into c, joining relative paths to dir.
 * Reads no other file. Returns 0, or -1 with one sentence in err (c is
 * then empty).
 */
int web_config_parse(struct web_config *c, const char *text, size_t len, const char *dir,
		     char *err, size_t errlen);

/* Read and parse the file at path, then the certificate, key and CA files
 * it names. *others_can_read: the file (or the key file) is readable by
 * users other than its owner and group. Returns 0, or -1 with one sentence
 * in err.
 */
int web_config_load(struct web_config *c, const char *path, bool *others_can_read, char *err,
		    size_t errlen);

/* Free c's strings; the key's bytes are overwritten first. */
void web_config_free(struct web_config *c);

/* "TLS 1.2" for 0x0303. */
const char *web_config_version_name(uint16_t v);

#endif
