/* The exporter-toolkit web configuration, read with libyaml (Debian's
 * YAML library: quoting, escapes, block scalars for inline PEM and flow
 * lists all parse as any YAML tool would) into a strict walk of the few
 * keys the format has. Semantics follow exporter-toolkit's web/tls_config.go:
 * relative paths are relative to the file's folder, min_version defaults
 * to TLS 1.2, client CAs without a client_auth_type are an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <yaml.h>
#include "web_config.h"

struct walk {
	yaml_document_t *doc;
	struct web_config *c;
	const char *dir;
	char *err;
	size_t errlen;
};

static int fail(struct walk *w, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct walk *w, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	int off;

	va_start(ap, fmt);
	off = vsnprintf(w->err, w->errlen, fmt, ap);
	va_end(ap);
	if (n && off >= 0 && (size_t)off < w->errlen)
		snprintf(w->err + off, w->errlen - off, " (line %lu)",
			 (unsigned long)n->start_mark.line + 1);
	return -1;
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* YAML's null: an empty plain value, ~ or null. */
static bool is_null(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = scalar(n);
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

/* A string value; NULL for null. A NUL inside would cut the string short
 * where the file did not: refused.
 */
static int string_of(struct walk *w, const yaml_node_t *n, const char *key, char **out)
{
	if (is_null(n)) {
		*out = NULL;
		return 0;
	}
	if (n->type != YAML_SCALAR_NODE)
		return fail(w, n, "%s must be a string", key);
	if (strlen(scalar(n)) != n->data.scalar.length)
		return fail(w, n, "%s holds a NUL byte", key);
	*out = strdup(scalar(n));
	return *out ? 0 : fail(w, n, "out of memory");
}

static int bool_of(struct walk *w, const yaml_node_t *n, const char *key, bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on",
					   "On", "ON" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off",
					  "Off", "OFF" };

	if (n->type == YAML_SCALAR_NODE)
		for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (!strcmp(scalar(n), yes[i])) {
				*out = true;
				return 0;
			}
			if (!strcmp(scalar(n), no[i])) {
				*out = false;
				return 0;
			}
		}
	return fail(w, n, "%s must be true or false", key);
}

/* A path from the file: as it is when absolute, else in dir. */
static int path_of(struct walk *w, const yaml_node_t *n, const char *key, char **out)
{
	char *p;

	if (string_of(w, n, key, &p))
		return -1;
	if (p && !*p) {
		free(p);
		p = NULL;
	}
	if (p && p[0] != '/' && w->dir) {
		char *joined;

		if (asprintf(&joined, "%s/%s", w->dir, p) < 0)
			joined = NULL;
		free(p);
		p = joined;
		if (!p)
			return fail(w, n, "out of memory");
	}
	*out = p;
	return 0;
}

static int version_of(struct walk *w, const yaml_node_t *n, const char *key, uint16_t *out)
{
	static const char *const names[] = { "TLS10", "TLS11", "TLS12", "TLS13" };

	if (n->type == YAML_SCALAR_NODE)
		for (size_t i = 0; i < 4; i++)
			if (!strcmp(scalar(n), names[i])) {
				*out = 0x0301 + i;
				return 0;
			}
	return fail(w, n, "%s must be one of TLS10, TLS11, TLS12, TLS13", key);
}

static int client_auth_of(struct walk *w, const yaml_node_t *n, enum web_client_auth *out)
{
	static const struct {
		const char *name;
		enum web_client_auth v;
	} names[] = {
		{ "NoClientCert", WEB_NO_CLIENT_CERT },
		{ "", WEB_NO_CLIENT_CERT },
		{ "RequestClientCert", WEB_REQUEST_CLIENT_CERT },
		{ "RequireAnyClientCert", WEB_REQUIRE_ANY_CLIENT_CERT },
		{ "RequireClientCert", WEB_REQUIRE_ANY_CLIENT_CERT },	/* the old name */
		{ "VerifyClientCertIfGiven", WEB_VERIFY_CLIENT_CERT_IF_GIVEN },
		{ "RequireAndVerifyClientCert", WEB_REQUIRE_AND_VERIFY_CLIENT_CERT },
	};

	if (n->type == YAML_SCALAR_NODE)
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(scalar(n), names[i].name)) {
				*out = names[i].v;
				return 0;
			}
	return fail(w, n, "client_auth_type must be one of NoClientCert, RequestClientCert, "
		    "RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert");
}

static int curves_of(struct walk *w, const yaml_node_t *n)
{
	static const char *const names[] = { "CurveP256", "CurveP384", "CurveP521", "X25519" };

	if (is_null(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return fail(w, n, "curve_preferences must be a list");
	for (yaml_node_item_t *i = n->data.sequence.items.start;
	     i < n->data.sequence.items.top; i++) {
		yaml_node_t *v = yaml_document_get_node(w->doc, *i);
		size_t k = 0;

		while (k < 4 && (v->type != YAML_SCALAR_NODE || strcmp(scalar(v), names[k])))
			k++;
		if (k == 4)
			return fail(w, v, "curve_preferences: the curves are CurveP256, CurveP384, "
				    "CurveP521 and X25519");
		for (uint32_t j = 0; j < w->c->ncurves; j++)
			if (w->c->curves[j] == (enum web_curve)k)
				return fail(w, v, "curve_preferences names %s twice", names[k]);
		w->c->curves[w->c->ncurves++] = (enum web_curve)k;
	}
	return 0;
}

static int sans_of(struct walk *w, const yaml_node_t *n)
{
	if (is_null(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return fail(w, n, "client_allowed_sans must be a list");
	for (yaml_node_item_t *i = n->data.sequence.items.start;
	     i < n->data.sequence.items.top; i++) {
		yaml_node_t *v = yaml_document_get_node(w->doc, *i);

		if (w->c->nsans == WEB_CONFIG_MAX_SANS)
			return fail(w, v, "client_allowed_sans: more than %d names",
				    WEB_CONFIG_MAX_SANS);
		if (string_of(w, v, "client_allowed_sans", &w->c->sans[w->c->nsans]))
			return -1;
		if (!w->c->sans[w->c->nsans])
			return fail(w, v, "client_allowed_sans: an empty name");
		w->c->nsans++;
	}
	return 0;
}

/* Each key of a mapping, in order; keys must be strings, and each once. */
typedef int (*key_fn)(struct walk *w, const char *key, const yaml_node_t *k,
		      const yaml_node_t *v);

static int each_key(struct walk *w, const yaml_node_t *map, const char *what, key_fn fn)
{
	if (is_null(map))
		return 0;
	if (map->type != YAML_MAPPING_NODE)
		return fail(w, map, "%s must be a mapping of keys to values", what);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(w->doc, p->value);

		if (k->type != YAML_SCALAR_NODE || strlen(scalar(k)) != k->data.scalar.length)
			return fail(w, k, "%s: a key that is not a string", what);
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++)
			if (!strcmp(scalar(yaml_document_get_node(w->doc, q->key)), scalar(k)))
				return fail(w, k, "%s: '%.64s' is given twice", what, scalar(k));
		if (fn(w, scalar(k), k, v))
			return -1;
	}
	return 0;
}

static int tls_key(struct walk *w, const char *key, const yaml_node_t *k, const yaml_node_t *v)
{
	struct web_config *c = w->c;

	if (!strcmp(key, "cert_file"))
		return path_of(w, v, key, &c->cert_file);
	if (!strcmp(key, "key_file"))
		return path_of(w, v, key, &c->key_file);
	if (!strcmp(key, "client_ca_file"))
		return path_of(w, v, key, &c->client_ca_file);
	if (!strcmp(key, "cert"))
		return string_of(w, v, key, &c->cert);
	if (!strcmp(key, "key"))
		return string_of(w, v, key, &c->key);
	if (!strcmp(key, "client_ca"))
		return string_of(w, v, key, &c->client_ca);
	if (!strcmp(key, "client_auth_type"))
		return is_null(v) ? 0 : client_auth_of(w, v, &c->client_auth);
	if (!strcmp(key, "min_version"))
		return is_null(v) ? 0 : version_of(w, v, key, &c->min_version);
	if (!strcmp(key, "max_version"))
		return is_null(v) ? 0 : version_of(w, v, key, &c->max_version);
	if (!strcmp(key, "prefer_server_cipher_suites"))
		return bool_of(w, v, key, &c->prefer_server_cipher_suites);
	if (!strcmp(key, "curve_preferences"))
		return curves_of(w, v);
	if (!strcmp(key, "client_allowed_sans"))
		return sans_of(w, v);
	if (!strcmp(key, "cipher_suites"))
		return is_null(v) || (v->type == YAML_SEQUENCE_NODE &&
				      v->data.sequence.items.top == v->data.sequence.items.start) ? 0 :
		       fail(w, k, "tls_server_config.cipher_suites is not "
					    "supported: GnuTLS cannot be held to an exact list of "
					    "Go's suite names; remove it (GnuTLS's defaults apply)");
	return fail(w, k, "unknown key '%.64s' in tls_server_config", key);
}

static int header_key(struct walk *w, const char *key, const yaml_node_t *k,
		      const yaml_node_t *v)
{
	/* exporter-toolkit's list, with the values it allows (none: any) */
	static const struct {
		const char *name, *allowed[2];
	} known[WEB_CONFIG_MAX_HEADERS] = {
		{ "Strict-Transport-Security", { NULL } },
		{ "X-Content-Type-Options", { "nosniff" } },
		{ "X-Frame-Options", { "deny", "sameorigin" } },
		{ "X-XSS-Protection", { NULL } },
		{ "Content-Security-Policy", { NULL } },
	};
	struct web_header *h = &w->c->headers[w->c->nheaders];
	size_t i = 0;

	while (i < WEB_CONFIG_MAX_HEADERS && strcmp(known[i].name, key))
		i++;
	if (i == WEB_CONFIG_MAX_HEADERS)
		return fail(w, k, "HTTP header '%.64s' cannot be configured (the format allows "
			    "Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, "
			    "X-XSS-Protection and Content-Security-Policy)", key);
	if (string_of(w, v, key, &h->value))
		return -1;
	if (!h->value || !*h->value) {	/* blank: unset */
		free(h->value);
		h->value = NULL;
		return 0;
	}
	h->name = known[i].name;
	w->c->nheaders++;	/* counted now: freed with the rest on failure */
	if (strpbrk(h->value, "\r\n"))
		return fail(w, v, "header %s: a value with a line break", key);
	if (known[i].allowed[0] && strcmp(h->value, known[i].allowed[0]) &&
	    (!known[i].allowed[1] || strcmp(h->value, known[i].allowed[1])))
		return fail(w, v, "header %s: '%.64s' is not allowed (use %s%s%s)", key, h->value,
			    known[i].allowed[0], known[i].allowed[1] ? " or " : "",
			    known[i].allowed[1] ? known[i].allowed[1] : "");
	return 0;
}

static int http_key(struct walk *w, const char *key, const yaml_node_t *k, const yaml_node_t *v)
{
	if (!strcmp(key, "http2"))
		return bool_of(w, v, key, &w->c->http2);
	if (!strcmp(key, "headers"))
		return each_key(w, v, "http_server_config.headers", header_key);
	return fail(w, k, "unknown key '%.64s' in http_server_config", key);
}

/* $2a$, $2b$ or $2y$, a two-digit cost from 04 to 31, then 53 characters
 * of bcrypt's base64: what Go's bcrypt and htpasswd -B write.
 */
static bool is_bcrypt(const char *h)
{
	int cost;

	if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) ||
	    h[3] != '$' || h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9' || h[6] != '$')
		return false;
	cost = (h[4] - '0') * 10 + (h[5] - '0');
	if (cost < 4 || cost > 31)
		return false;
	return strspn(h + 7, "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
	       53;
}

static int user_key(struct walk *w, const char *key, const yaml_node_t *k, const yaml_node_t *v)
{
	struct web_user *u;

	if (w->c->nusers == WEB_CONFIG_MAX_USERS)
		return fail(w, k, "basic_auth_users: more than %d users", WEB_CONFIG_MAX_USERS);
	if (!*key || strchr(key, ':'))
		return fail(w, k, "basic_auth_users: '%.64s' cannot be a user name (empty, or "
			    "with a colon)", key);
	u = &w->c->users[w->c->nusers];
	if (string_of(w, v, key, &u->hash))
		return -1;
	u->name = strdup(key);
	w->c->nusers++;	/* counted now: freed with the rest on failure */
	if (!u->name)
		return fail(w, k, "out of memory");
	if (!u->hash || !is_bcrypt(u->hash))
		return fail(w, v, "basic_auth_users: the password of '%.64s' is not a bcrypt "
			    "hash ($2y$, $2b$ or $2a$, as htpasswd -B writes)", key);
	return 0;
}

static int top_key(struct walk *w, const char *key, const yaml_node_t *k, const yaml_node_t *v)
{
	if (!strcmp(key, "tls_server_config"))
		return each_key(w, v, key, tls_key);
	if (!strcmp(key, "http_server_config"))
		return each_key(w, v, key, http_key);
	if (!strcmp(key, "basic_auth_users")) {
		if (is_null(v))
			return 0;
		if (v->type == YAML_MAPPING_NODE) {
			size_t n = v->data.mapping.pairs.top - v->data.mapping.pairs.start;

			w->c->users = calloc(n < WEB_CONFIG_MAX_USERS ? n : WEB_CONFIG_MAX_USERS,
					     sizeof(*w->c->users));
			if (n && !w->c->users)
				return fail(w, v, "out of memory");
		}
		return each_key(w, v, key, user_key);
	}
	if (!strcmp(key, "rate_limit"))
		return fail(w, k, "rate_limit is not supported: tcptrail limits connections per "
			    "client address instead (see tcptrail(8)); remove it");
	return fail(w, k, "unknown key '%.64s' (the format has tls_server_config, "
		    "http_server_config and basic_auth_users)", key);
}

/* What exporter-toolkit checks once every key is read. */
static int check_whole(struct walk *w)
{
	struct web_config *c = w->c;

	c->tls = c->cert_file || c->key_file || c->cert || c->key || c->client_ca_file ||
		 c->client_ca || c->client_auth != WEB_NO_CLIENT_CERT;
	if (!c->tls)
		return c->nsans ? fail(w, NULL, "client_allowed_sans needs TLS with client "
				       "certificates") : 0;
	if (!c->cert_file == !c->cert)
		return fail(w, NULL, "tls_server_config needs exactly one of cert_file and cert");
	if (!c->key_file == !c->key)
		return fail(w, NULL, "tls_server_config needs exactly one of key_file and key");
	if (c->client_ca_file && c->client_ca)
		return fail(w, NULL, "tls_server_config: give client_ca_file or client_ca, not "
			    "both");
	if ((c->client_ca_file || c->client_ca) && c->client_auth == WEB_NO_CLIENT_CERT)
		return fail(w, NULL, "client CAs are configured without a client_auth_type");
	if (!(c->client_ca_file || c->client_ca) &&
	    (c->client_auth == WEB_VERIFY_CLIENT_CERT_IF_GIVEN ||
	     c->client_auth == WEB_REQUIRE_AND_VERIFY_CLIENT_CERT))
		return fail(w, NULL, "client_auth_type verifies client certificates but no "
			    "client_ca_file says against what");
	if (c->nsans && c->client_auth == WEB_NO_CLIENT_CERT)
		return fail(w, NULL, "client_allowed_sans needs a client_auth_type");
	if (c->min_version > c->max_version)
		return fail(w, NULL, "min_version is above max_version");
	return 0;
}

int web_config_parse(struct web_config *c, const char *text, size_t len, const char *dir,
		     char *err, size_t errlen)
{
	struct walk w = { .c = c, .dir = dir, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc, more;
	yaml_node_t *root;
	int ret = -1;

	memset(c, 0, sizeof(*c));
	c->min_version = 0x0303;
	c->max_version = 0x0304;
	c->prefer_server_cipher_suites = c->http2 = true;
	if (!yaml_parser_initialize(&parser))
		return fail(&w, NULL, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		fail(&w, NULL, "not YAML: %s (line %lu)", parser.problem ? parser.problem : "?",
		     (unsigned long)parser.problem_mark.line + 1);
		yaml_parser_delete(&parser);
		return -1;
	}
	w.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root && yaml_parser_load(&parser, &more)) {
		bool second = yaml_document_get_root_node(&more) != NULL;

		yaml_document_delete(&more);
		if (second) {
			fail(&w, NULL, "holds more than one YAML document");
			goto out;
		}
	} else if (root) {
		fail(&w, NULL, "not YAML: %s (line %lu)", parser.problem ? parser.problem : "?",
		     (unsigned long)parser.problem_mark.line + 1);
		goto out;
	}
	/* an empty file: plain HTTP, no authentication, as exporter-toolkit */
	ret = root ? each_key(&w, root, "the file", top_key) : 0;
	if (!ret)
		ret = check_whole(&w);
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (ret)
		web_config_free(c);
	return ret;
}

/* The whole of a regular file, NUL-terminated; NULL with errno set (EFBIG:
 * past the cap, EINVAL: not a regular file).
 */
static char *slurp(const char *path, size_t *len, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	char *buf = NULL;
	size_t got = 0;
	int eno = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, st)) {
		eno = errno;
	} else if (!S_ISREG(st->st_mode)) {
		eno = EINVAL;
	} else if (st->st_size > WEB_CONFIG_MAX_FILE) {
		eno = EFBIG;
	} else if (!(buf = malloc(st->st_size + 1))) {
		eno = ENOMEM;
	} else {
		ssize_t n;

		/* the size may change under us: read at most what was stat'ed */
		while (got < (size_t)st->st_size &&
		       (n = read(fd, buf + got, st->st_size - got)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				eno = errno;
				break;
			}
			got += n;
		}
		buf[got] = '\0';
	}
	close(fd);
	if (eno) {
		free(buf);
		errno = eno;
		return NULL;
	}
	if (len)
		*len = got;
	return buf;
}

static int read_pem(const char *path, const char *key, char **out, bool *exposed, char *err,
		    size_t errlen)
{
	struct stat st;

	*out = slurp(path, NULL, &st);
	if (!*out) {
		snprintf(err, errlen, "cannot read %s '%s': %s", key, path,
			 errno == EINVAL ? "not a regular file" :
			 errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
		return -1;
	}
	if (exposed && (st.st_mode & S_IROTH))
		*exposed = true;
	return 0;
}

int web_config_load(struct web_config *c, const char *path, bool *others_can_read, char *err,
		    size_t errlen)
{
	char msg[400], *text, *dir = strdup(path), *slash;
	struct stat st;
	size_t len;
	int ret = -1;

	memset(c, 0, sizeof(*c));
	*others_can_read = false;
	text = slurp(path, &len, &st);
	if (!text || !dir) {
		snprintf(err, errlen, "cannot read '%s': %s", path,
			 errno == EINVAL ? "not a regular file" :
			 errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
		goto out;
	}
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir] = '\0';	/* "/x.yml" is in "/" */
	if (web_config_parse(c, text, len, slash ? dir : ".", msg, sizeof(msg))) {
		snprintf(err, errlen, "'%s': %s", path, msg);
		goto out;
	}
	*others_can_read = st.st_mode & S_IROTH;
	if ((c->cert_file && read_pem(c->cert_file, "cert_file", &c->cert, NULL, err, errlen)) ||
	    (c->key_file && read_pem(c->key_file, "key_file", &c->key, others_can_read, err,
				     errlen)) ||
	    (c->client_ca_file && read_pem(c->client_ca_file, "client_ca_file", &c->client_ca,
					   NULL, err, errlen))) {
		web_config_free(c);
		goto out;
	}
	ret = 0;
out:
	free(text);
	free(dir);
	return ret;
}

void web_config_free(struct web_config *c)
{
	if (c->key)
		explicit_bzero(c->key, strlen(c->key));
	free(c->cert_file);
	free(c->key_file);
	free(c->client_ca_file);
	free(c->cert);
	free(c->key);
	free(c->client_ca);
	for (uint32_t i = 0; i < c->nsans; i++)
		free(c->sans[i]);
	for (uint32_t i = 0; i < c->nheaders; i++)
		free(c->headers[i].value);
	for (uint32_t i = 0; i < c->nusers; i++) {
		free(c->users[i].name);
		free(c->users[i].hash);
	}
	free(c->users);
	memset(c, 0, sizeof(*c));
}

const char *web_config_version_name(uint16_t v)
{
	static const char *const names[] = { "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3" };

	return v >= 0x0301 && v <= 0x0304 ? names[v - 0x0301] : "?";
}
