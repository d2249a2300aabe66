/* The metrics endpoint's pure parts: the web-config parser against the
 * exporter-toolkit format, the connection guard's choices, bcrypt basic
 * auth through libcrypt, and the GnuTLS priority string.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "http_auth.h"
#include "http_guard.h"
#include "http_tls.h"
#include "web_config.h"

#define SEC 1000000000ull

static int parse(struct web_config *c, const char *text, char *err, size_t len)
{
	return web_config_parse(c, text, strlen(text), "/etc/tcptrail", err, len);
}

/* The file parses and web_config_free() leaves nothing behind. */
static void parses(const char *text)
{
	struct web_config c;
	char err[400] = "";

	if (parse(&c, text, err, sizeof(err))) {
		fprintf(stderr, "    refused: %s\n      %s\n", text, err);
		harness_failed_checks++;
		return;
	}
	web_config_free(&c);
}

/* The file is refused with a message that holds want. */
static void refused(const char *text, const char *want)
{
	struct web_config c;
	char err[400] = "";

	if (!parse(&c, text, err, sizeof(err))) {
		fprintf(stderr, "    accepted: %s\n", text);
		web_config_free(&c);
		harness_failed_checks++;
		return;
	}
	if (!strstr(err, want)) {
		fprintf(stderr, "    '%s' lacks '%s'\n", err, want);
		harness_failed_checks++;
	}
	CHECK(!strchr(err, '\n'));
}

#define HASH "$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze"

static void test_web_config_full_file(void)
{
	struct web_config c;
	char err[400] = "";
	const char *text =
		"# every key tcptrail takes\n"
		"tls_server_config:\n"
		"  cert_file: tls/server.crt\n"
		"  key_file: \"/keys/server.key\"\n"
		"  client_auth_type: RequireAndVerifyClientCert\n"
		"  client_ca_file: ca.crt\n"
		"  client_allowed_sans: [prometheus.example, 192.0.2.7]\n"
		"  min_version: TLS13\n"
		"  max_version: TLS13\n"
		"  prefer_server_cipher_suites: false\n"
		"  curve_preferences:\n    - X25519\n    - CurveP256\n"
		"http_server_config:\n"
		"  http2: false\n"
		"  headers:\n"
		"    X-Frame-Options: deny\n"
		"    Content-Security-Policy: \"default-src 'none'\"\n"
		"    X-XSS-Protection: ''\n"
		"basic_auth_users:\n"
		"  alice: '" HASH "'\n"
		"  bob: " HASH "\n";

	CHECK(parse(&c, text, err, sizeof(err)) == 0);
	CHECK(c.tls);
	CHECK_STR(c.cert_file, "/etc/tcptrail/tls/server.crt");
	CHECK_STR(c.key_file, "/keys/server.key");
	CHECK_STR(c.client_ca_file, "/etc/tcptrail/ca.crt");
	CHECK(!c.cert && !c.key && !c.client_ca);
	CHECK(c.client_auth == WEB_REQUIRE_AND_VERIFY_CLIENT_CERT);
	CHECK(c.nsans == 2);
	CHECK_STR(c.sans[1], "192.0.2.7");
	CHECK(c.min_version == 0x0304 && c.max_version == 0x0304);
	CHECK(!c.prefer_server_cipher_suites && !c.http2);
	CHECK(c.ncurves == 2 && c.curves[0] == WEB_CURVE_X25519 && c.curves[1] == WEB_CURVE_P256);
	CHECK(c.nheaders == 2);	/* the blank one unsets */
	CHECK_STR(c.headers[0].name, "X-Frame-Options");
	CHECK_STR(c.headers[1].value, "default-src 'none'");
	CHECK(c.nusers == 2);
	CHECK_STR(c.users[1].name, "bob");
	CHECK_STR(c.users[1].hash, HASH);
	web_config_free(&c);
}

static void test_web_config_defaults_and_inline(void)
{
	struct web_config c;
	char err[400] = "";
	char prio[256];

	/* empty: plain HTTP, no authentication, as exporter-toolkit */
	CHECK(parse(&c, "", err, sizeof(err)) == 0 && !c.tls && !c.nusers);
	web_config_free(&c);
	CHECK(parse(&c, "# nothing\n---\n", err, sizeof(err)) == 0 && !c.tls);
	web_config_free(&c);
	CHECK(parse(&c, "tls_server_config:\n  cert: |\n    -----BEGIN CERTIFICATE-----\n"
		  "    x\n  key: k\nbasic_auth_users:\n", err, sizeof(err)) == 0);
	CHECK(c.tls && c.cert && !strncmp(c.cert, "-----BEGIN CERTIFICATE-----\nx\n", 30));
	CHECK(c.min_version == 0x0303 && c.max_version == 0x0304);
	CHECK(c.client_auth == WEB_NO_CLIENT_CERT && c.prefer_server_cipher_suites);
	CHECK(http_tls_priorities(&c, prio, sizeof(prio)) == 0);
	CHECK_STR(prio, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE");
	CHECK(http_tls_priorities(&c, prio, 20) == -1);
	web_config_free(&c);
	parses("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: "
	       "RequireClientCert\n  min_version: TLS10\n");
	parses("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: "
	       "VerifyClientCertIfGiven\n  client_ca: x\n");
	parses("tls_server_config: {cert_file: a, key_file: b, cipher_suites: []}\n");
	parses("http_server_config:\n  http2: yes\n  headers:\n    X-Content-Type-Options: nosniff\n");
	parses("basic_auth_users:\n  a: $2b$04$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0\n");
}

static void test_web_config_refusals(void)
{
	refused("tls_server_confg: {}\n", "unknown key 'tls_server_confg' (the format has");
	refused("tls_server_config:\n  cert_file: a\n  key_file: b\n  certfile: c\n",
		"unknown key 'certfile' in tls_server_config (line 4)");
	refused("http_server_config:\n  http3: true\n", "unknown key 'http3' in http_server_config");
	refused("tls_server_config:\n  cert_file: a\n  cert_file: b\n", "'cert_file' is given twice");
	refused("tls_server_config:\n  cert_file: a\n", "exactly one of key_file and key");
	refused("tls_server_config:\n  key_file: a\n", "exactly one of cert_file and cert");
	refused("tls_server_config:\n  cert_file: a\n  cert: b\n  key_file: c\n",
		"exactly one of cert_file and cert");
	refused("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n",
		"client CAs are configured without a client_auth_type");
	refused("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: "
		"RequireAndVerifyClientCert\n", "no client_ca_file");
	refused("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Always\n",
		"client_auth_type must be one of");
	refused("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n"
		"  max_version: TLS12\n", "min_version is above max_version");
	refused("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: 1.2\n",
		"min_version must be one of TLS10");
	refused("tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [X]\n",
		"cipher_suites is not supported");
	refused("tls_server_config:\n  cert_file: a\n  key_file: b\n  curve_preferences: [P256]\n",
		"curve_preferences: the curves are");
	refused("tls_server_config:\n  cert_file: a\n  key_file: b\n  curve_preferences: "
		"[X25519, X25519]\n", "names X25519 twice");
	refused("tls_server_config:\n  cert_file: [a]\n", "cert_file must be a string");
	refused("tls_server_config:\n  cert_file: \"a\\0b\"\n  key_file: b\n", "NUL byte");
	refused("tls_server_config:\n  cert_file: a\n  key_file: b\n  prefer_server_cipher_suites: "
		"maybe\n", "must be true or false");
	refused("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_allowed_sans: x\n",
		"client_allowed_sans must be a list");
	refused("http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
		"'allow' is not allowed (use deny or sameorigin)");
	refused("http_server_config:\n  headers:\n    Set-Cookie: a\n", "'Set-Cookie' cannot be");
	refused("http_server_config:\n  headers:\n    X-XSS-Protection: \"1\\r\\nX: y\"\n",
		"line break");
	refused("basic_auth_users:\n  alice: secret\n", "not a bcrypt hash");
	refused("basic_auth_users:\n  alice: $1$abc$def\n", "not a bcrypt hash");
	refused("basic_auth_users:\n  alice: $2y$03$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0\n",
		"not a bcrypt hash");
	refused("basic_auth_users:\n  alice:\n", "not a bcrypt hash");
	refused("basic_auth_users:\n  'a:b': " HASH "\n", "cannot be a user name");
	refused("basic_auth_users: [alice]\n", "must be a mapping");
	refused("rate_limit:\n  interval: 1s\n", "rate_limit is not supported");
	refused("- a\n- b\n", "the file must be a mapping");
	refused("a: b\n---\nc: d\n", "more than one YAML document");
	refused("tls_server_config: [\n", "not YAML");
	refused("tls_server_config:\n\tcert_file: a\n", "not YAML");
	refused("? [a]\n: b\n", "a key that is not a string");
}

static char *users(size_t n)
{
	char *text = malloc(n * 80 + 32);
	size_t len = sprintf(text, "basic_auth_users:\n");

	for (size_t i = 0; i < n; i++)
		len += sprintf(text + len, "  u%zu: '" HASH "'\n", i);
	return text;
}

static void test_web_config_user_cap(void)
{
	char *text = users(WEB_CONFIG_MAX_USERS + 1);

	refused(text, "more than 256 users");
	free(text);
	text = users(WEB_CONFIG_MAX_USERS);
	parses(text);
	free(text);
}

static struct sockaddr_storage addr(const char *s)
{
	struct sockaddr_storage ss = { 0 };

	if (strchr(s, ':')) {
		ss.ss_family = AF_INET6;
		inet_pton(AF_INET6, s, &((struct sockaddr_in6 *)&ss)->sin6_addr);
	} else {
		ss.ss_family = AF_INET;
		inet_pton(AF_INET, s, &((struct sockaddr_in *)&ss)->sin_addr);
	}
	return ss;
}

static enum guard_verdict admit(struct http_guard *g, int fd, const char *a, uint64_t now,
				int *slot)
{
	struct sockaddr_storage ss = addr(a);

	return http_guard_admit(g, fd, (struct sockaddr *)&ss, now, slot);
}

#define GRACE (HTTP_GUARD_GRACE_MS * 1000000ull)

static void test_guard_per_address(void)
{
	struct http_guard *g = http_guard_new();
	int slot;

	CHECK(g != NULL);
	if (!g)
		return;
	for (int i = 0; i < HTTP_GUARD_PER_ADDRESS; i++)
		CHECK(admit(g, 10 + i, "192.0.2.1", SEC, &slot) == GUARD_ADMIT);
	CHECK(admit(g, 99, "192.0.2.1", SEC, &slot) == GUARD_PER_ADDRESS);
	/* the same address mapped into IPv6 counts as itself */
	CHECK(admit(g, 99, "::ffff:192.0.2.1", SEC, &slot) == GUARD_PER_ADDRESS);
	CHECK(admit(g, 99, "192.0.2.2", SEC, &slot) == GUARD_ADMIT);
	/* one IPv6 /64 is one client */
	for (int i = 0; i < HTTP_GUARD_PER_ADDRESS; i++) {
		char a[64];

		snprintf(a, sizeof(a), "2001:db8:1:2::%x", i + 1);
		CHECK(admit(g, 200 + i, a, SEC, &slot) == GUARD_ADMIT);
	}
	CHECK(admit(g, 300, "2001:db8:1:2:ffff::1", SEC, &slot) == GUARD_PER_ADDRESS);
	CHECK(admit(g, 300, "2001:db8:1:3::1", SEC, &slot) == GUARD_ADMIT);
	/* a released connection gives its address a place back */
	http_guard_release(g, http_guard_find(g, 10));
	CHECK(admit(g, 11, "192.0.2.1", SEC, &slot) == GUARD_ADMIT);
	CHECK(http_guard_open(g) == http_guard_used(g) &&
	      http_guard_open(g) == 2 * HTTP_GUARD_PER_ADDRESS + 2);
	CHECK(http_guard_trim(g, 100 * SEC) == -1);	/* under the cap */
	http_guard_free(g);
}

/* Admit the connection fd from its own address at t. */
static int admit_one(struct http_guard *g, int fd, uint64_t t)
{
	char a[32];
	int slot;

	snprintf(a, sizeof(a), "10.%d.%d.%d", fd / 40000, fd / 200 % 200, fd % 200 + 1);
	CHECK(admit(g, fd, a, t, &slot) == GUARD_ADMIT);
	return slot;
}

static void test_guard_eviction_order(void)
{
	struct http_guard *g = http_guard_new();
	int victim, scrape, idle, answering, late;

	CHECK(g != NULL);
	if (!g)
		return;
	/* the cap: one answering, one idle, the rest silent, born 1 s apart */
	for (int i = 0; i < HTTP_GUARD_OPEN; i++)
		admit_one(g, 100 + i, (i + 1) * SEC);
	answering = http_guard_find(g, 100);
	idle = http_guard_find(g, 101);
	http_guard_phase(g, answering, GUARD_ANSWERING, 199 * SEC);
	http_guard_phase(g, idle, GUARD_IDLE, 199 * SEC);
	CHECK(http_guard_trim(g, 199 * SEC) == -1);
	/* a scrape, then a burst: all within their grace, nothing goes yet */
	scrape = admit_one(g, 500, 200 * SEC);
	for (int i = 0; i < HTTP_GUARD_OPEN - 2; i++)
		admit_one(g, 1000 + i, 200 * SEC + i);
	CHECK(http_guard_used(g) == 2 * HTTP_GUARD_OPEN - 1);
	/* the silent ones past their grace go first, oldest first */
	CHECK(http_guard_next_deadline(g, 0) <= 200 * SEC);	/* trim now */
	victim = http_guard_trim(g, 200 * SEC);
	CHECK(victim == http_guard_find(g, 102));
	CHECK(http_guard_slot(g, victim)->phase == GUARD_CLOSING &&
	      http_guard_slot(g, victim)->cause == GUARD_EVICTED);
	http_guard_release(g, victim);
	for (int i = 1; i < HTTP_GUARD_OPEN - 2; i++) {
		victim = http_guard_trim(g, 200 * SEC);
		CHECK(victim == http_guard_find(g, 102 + i));
		http_guard_release(g, victim);
	}
	/* talking, idle and answering wait for the young's grace */
	CHECK(http_guard_open(g) == HTTP_GUARD_OPEN + 1);
	CHECK(http_guard_trim(g, 200 * SEC) == -1);
	CHECK(http_guard_next_deadline(g, 200 * SEC) == 200 * SEC + GRACE);
	/* the scrape spoke in its grace: past it, the burst's silent go */
	http_guard_phase(g, scrape, GUARD_TALKING, 200 * SEC + 1);
	victim = http_guard_trim(g, 200 * SEC + GRACE + HTTP_GUARD_OPEN);
	CHECK(victim == http_guard_find(g, 1000));
	http_guard_release(g, victim);
	CHECK(http_guard_trim(g, 200 * SEC + GRACE + HTTP_GUARD_OPEN) == -1);
	/* with none silent: talking, then idle, then answering */
	for (int i = 1; i < HTTP_GUARD_OPEN - 2; i++)
		http_guard_phase(g, http_guard_find(g, 1000 + i), GUARD_ANSWERING, 201 * SEC);
	late = admit_one(g, 3000, 202 * SEC);
	http_guard_phase(g, late, GUARD_ANSWERING, 202 * SEC);
	CHECK(http_guard_trim(g, 203 * SEC) == scrape);
	http_guard_release(g, scrape);
	late = admit_one(g, 3001, 204 * SEC);
	http_guard_phase(g, late, GUARD_ANSWERING, 204 * SEC);
	CHECK(http_guard_trim(g, 205 * SEC) == idle);
	http_guard_release(g, idle);
	late = admit_one(g, 3002, 206 * SEC);
	http_guard_phase(g, late, GUARD_ANSWERING, 206 * SEC);
	CHECK(http_guard_trim(g, 207 * SEC) == answering);	/* answering longest */
	http_guard_release(g, answering);
	CHECK(http_guard_open(g) == HTTP_GUARD_OPEN);
	http_guard_free(g);
}

static void test_guard_deadlines(void)
{
	struct http_guard *g = http_guard_new();
	int slot, a, b;

	CHECK(g != NULL);
	if (!g)
		return;
	CHECK(http_guard_next_deadline(g, 0) == UINT64_MAX);
	CHECK(admit(g, 5, "192.0.2.1", 10 * SEC, &a) == GUARD_ADMIT);
	CHECK(admit(g, 6, "192.0.2.2", 11 * SEC, &b) == GUARD_ADMIT);
	CHECK(http_guard_next_deadline(g, 0) == (10 + HTTP_GUARD_REQUEST_S) * SEC);
	/* a handshake or a header line does not restart the clock */
	http_guard_phase(g, a, GUARD_TALKING, 14 * SEC);
	CHECK(http_guard_expired(g, (10 + HTTP_GUARD_REQUEST_S) * SEC - 1) == -1);
	CHECK(http_guard_expired(g, (10 + HTTP_GUARD_REQUEST_S) * SEC) == a);
	CHECK(http_guard_slot(g, a)->phase == GUARD_CLOSING &&
	      http_guard_slot(g, a)->cause == GUARD_TIMEOUT);
	CHECK(http_guard_expired(g, (10 + HTTP_GUARD_REQUEST_S) * SEC) == -1);
	/* answering: the answer's own deadline; idle: a new request's */
	http_guard_phase(g, b, GUARD_ANSWERING, 12 * SEC);
	CHECK(http_guard_next_deadline(g, 0) == (12 + HTTP_GUARD_ANSWER_S) * SEC);
	http_guard_phase(g, b, GUARD_IDLE, 13 * SEC);
	CHECK(http_guard_next_deadline(g, 0) == (13 + HTTP_GUARD_REQUEST_S) * SEC);
	http_guard_release(g, a);
	http_guard_release(g, b);
	CHECK(http_guard_used(g) == 0 && http_guard_open(g) == 0);
	/* every slot taken: the next waits in the backlog */
	for (int i = 0; i < HTTP_GUARD_SLOTS; i++)
		admit_one(g, 100 + i, SEC);
	CHECK(admit(g, 999, "10.10.0.1", SEC, &slot) == GUARD_FULL);
	http_guard_free(g);
}

static void test_auth_bcrypt(void)
{
	struct web_config c;
	struct http_auth *a;
	char err[400];
	/* "alice" / "test", cost 4, in the three prefixes Go, htpasswd and
	 * libxcrypt write
	 */
	const char *text =
		"basic_auth_users:\n"
		"  y: $2y$04$X.4clfrSpoPLuL4geND/FuU69NNPoTM/ZxPm5NRcYxojo91KHEPSK\n"
		"  b: $2b$04$X.4clfrSpoPLuL4geND/FuU69NNPoTM/ZxPm5NRcYxojo91KHEPSK\n"
		"  a: $2a$04$X.4clfrSpoPLuL4geND/FuU69NNPoTM/ZxPm5NRcYxojo91KHEPSK\n";

	CHECK(parse(&c, text, err, sizeof(err)) == 0);
	a = http_auth_new(&c);
	CHECK(a != NULL);
	for (int round = 0; round < 2; round++) {	/* the second from the cache */
		CHECK(http_auth_check(a, "y", "test"));
		CHECK(http_auth_check(a, "b", "test"));
		CHECK(http_auth_check(a, "a", "test"));
		CHECK(!http_auth_check(a, "y", "Test"));
		CHECK(!http_auth_check(a, "y", "test "));
		CHECK(!http_auth_check(a, "y", ""));
		CHECK(!http_auth_check(a, "nobody", "test"));
		CHECK(!http_auth_check(a, "y", NULL));
		CHECK(!http_auth_check(a, NULL, NULL));
	}
	/* a user's name and password are not confused across the boundary */
	CHECK(!http_auth_check(a, "yt", "est"));
	http_auth_free(a);
	web_config_free(&c);
	/* no users: every request may in */
	CHECK(parse(&c, "", err, sizeof(err)) == 0);
	a = http_auth_new(&c);
	CHECK(a && http_auth_check(a, NULL, NULL));
	http_auth_free(a);
	web_config_free(&c);
}

static void test_tls_priorities(void)
{
	struct web_config c;
	char err[400], prio[256];

	CHECK(parse(&c, "tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS11\n"
		  "  max_version: TLS12\n  prefer_server_cipher_suites: false\n"
		  "  curve_preferences: [CurveP384, X25519]\n", err, sizeof(err)) == 0);
	CHECK(http_tls_priorities(&c, prio, sizeof(prio)) == 0);
	CHECK_STR(prio, "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.1:-GROUP-ALL:+GROUP-SECP384R1:"
		  "+GROUP-X25519");
	web_config_free(&c);
}

TEST_LIST(web_tests) = {
	TEST_ENTRY(test_web_config_full_file),
	TEST_ENTRY(test_web_config_defaults_and_inline),
	TEST_ENTRY(test_web_config_refusals),
	TEST_ENTRY(test_web_config_user_cap),
	TEST_ENTRY(test_guard_per_address),
	TEST_ENTRY(test_guard_eviction_order),
	TEST_ENTRY(test_guard_deadlines),
	TEST_ENTRY(test_auth_bcrypt),
	TEST_ENTRY(test_tls_priorities),
	{ 0 },
};
