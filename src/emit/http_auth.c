/* bcrypt costs tens of milliseconds at cost 10, and the endpoint answers
 * one request at a time: a scraper's repeated right password, and an
 * attacker's repeated wrong one, are answered from a small cache instead.
 * The cache holds an HMAC-SHA-256 (GnuTLS) of user and password under a key
 * drawn at start, never the password, as exporter-toolkit's cache does.
 */
#include <crypt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include "http_auth.h"

#define DIGEST 32
/* Longer names or passwords are refused unhashed. */
#define MAX_FIELD 1024

struct verdict {
	uint8_t digest[DIGEST];
	bool used, ok;
};

struct http_auth {
	const struct web_config *c;
	uint8_t key[DIGEST];
	struct verdict cache[HTTP_AUTH_CACHE];
	uint32_t next;		/* the entry replaced next */
	struct crypt_data cd;	/* 32 KiB of crypt_rn's scratch */
};

struct http_auth *http_auth_new(const struct web_config *c)
{
	struct http_auth *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->c = c;
	if (gnutls_rnd(GNUTLS_RND_KEY, a->key, sizeof(a->key))) {
		free(a);
		return NULL;
	}
	return a;
}

void http_auth_free(struct http_auth *a)
{
	if (!a)
		return;
	explicit_bzero(a, sizeof(*a));
	free(a);
}

/* Equal, in a time that depends only on n. */
static bool same(const void *x, const void *y, size_t n)
{
	const volatile uint8_t *a = x, *b = y;
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return !d;
}

static bool bcrypt_ok(struct http_auth *a, const char *hash, const char *password)
{
	const char *out;
	size_t n = strlen(hash);
	bool ok;

	memset(&a->cd, 0, sizeof(a->cd));
	out = crypt_rn(password, hash, &a->cd, sizeof(a->cd));
	ok = out && strlen(out) == n && same(out, hash, n);
	explicit_bzero(&a->cd, sizeof(a->cd));
	return ok;
}

bool http_auth_check(struct http_auth *a, const char *user, const char *password)
{
	const struct web_config *c = a->c;
	size_t ulen, plen;
	uint8_t digest[DIGEST];
	char msg[2 * MAX_FIELD + 2];
	const char *hash = NULL;
	bool ok = false, cached = false;

	if (!c->nusers)
		return true;
	if (!user || !password)
		return false;
	ulen = strlen(user);
	plen = strlen(password);
	if (ulen > MAX_FIELD || plen > MAX_FIELD)
		return false;
	memcpy(msg, user, ulen + 1);	/* the NUL keeps ("ab","c") from ("a","bc") */
	memcpy(msg + ulen + 1, password, plen);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, a->key, sizeof(a->key), msg, ulen + 1 + plen,
			     digest))
		goto out;
	for (uint32_t i = 0; i < HTTP_AUTH_CACHE; i++)
		if (a->cache[i].used && same(a->cache[i].digest, digest, DIGEST)) {
			ok = a->cache[i].ok;
			cached = true;
		}
	if (cached)
		goto out;
	for (uint32_t i = 0; i < c->nusers; i++)
		if (!strcmp(c->users[i].name, user))
			hash = c->users[i].hash;
	/* an unknown user is checked against a real hash, and fails */
	ok = bcrypt_ok(a, hash ? hash : c->users[0].hash, password) && hash;
	memcpy(a->cache[a->next].digest, digest, DIGEST);
	a->cache[a->next].used = true;
	a->cache[a->next].ok = ok;
	a->next = (a->next + 1) % HTTP_AUTH_CACHE;
out:
	explicit_bzero(msg, sizeof(msg));
	return ok;
}
