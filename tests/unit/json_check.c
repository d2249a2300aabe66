/* A strict JSON parser for the tests (json_check.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_check.h"

#define MAX_DEPTH 64
#define BLOCK_NODES 256

struct block {
	struct block *next;
	size_t used;
	struct json_node v[BLOCK_NODES];
};

struct json_doc {
	const char *s;
	size_t len, pos;
	char *strings;		/* decoded strings: never longer than the text */
	size_t strings_used;
	struct block *blocks;
	struct json_node *root;
	char *err;
	size_t errlen;
	bool failed;
};

static bool fail(struct json_doc *d, const char *why)
{
	if (!d->failed)
		snprintf(d->err, d->errlen, "%s at byte %zu", why, d->pos);
	d->failed = true;
	return false;
}

static struct json_node *node(struct json_doc *d)
{
	struct block *b = d->blocks;

	if (!b || b->used == BLOCK_NODES) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return NULL;
		b->next = d->blocks;
		d->blocks = b;
	}
	return &b->v[b->used++];
}

static void skip_ws(struct json_doc *d)
{
	while (d->pos < d->len && (d->s[d->pos] == ' ' || d->s[d->pos] == '\t' ||
				   d->s[d->pos] == '\n' || d->s[d->pos] == '\r'))
		d->pos++;
}

static int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	     : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static bool u4(struct json_doc *d, uint32_t *cp)
{
	*cp = 0;
	if (d->len - d->pos < 4)
		return fail(d, "short \\u escape");
	for (int i = 0; i < 4; i++) {
		int h = hex(d->s[d->pos + i]);

		if (h < 0)
			return fail(d, "bad \\u escape");
		*cp = *cp << 4 | (uint32_t)h;
	}
	d->pos += 4;
	return true;
}

static char *put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | cp >> 12);
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | cp >> 18);
		*o++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

/* A raw UTF-8 sequence at the position: its length, 0 if not valid. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (n > left)
		return 0;
	cp = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/* The escape after a backslash, decoded at o. */
static bool escape(struct json_doc *d, char **o)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k;
	uint32_t cp, lo;

	if (d->pos >= d->len)
		return fail(d, "string ends in a backslash");
	k = strchr(from, d->s[d->pos]);
	if (k && d->s[d->pos]) {
		*(*o)++ = to[k - from];
		d->pos++;
		return true;
	}
	if (d->s[d->pos] != 'u')
		return fail(d, "unknown escape");
	d->pos++;
	if (!u4(d, &cp))
		return false;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(d, "lone low surrogate");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (d->len - d->pos < 2 || d->s[d->pos] != '\\' || d->s[d->pos + 1] != 'u')
			return fail(d, "lone high surrogate");
		d->pos += 2;
		if (!u4(d, &lo))
			return false;
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(d, "high surrogate without its low half");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	/* tcptrail's escape of a byte that is not valid UTF-8 */
	if (cp < 0x100)
		*(*o)++ = (char)cp;
	else
		*o = put_utf8(*o, cp);
	return true;
}

static bool string(struct json_doc *d, const char **out, size_t *outlen)
{
	char *o = d->strings + d->strings_used, *start = o;

	d->pos++;	/* the opening quote */
	for (;;) {
		unsigned char c;
		size_t n;

		if (d->pos >= d->len)
			return fail(d, "unterminated string");
		c = (unsigned char)d->s[d->pos];
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(d, "control character in a string");
		if (c == '\\') {
			d->pos++;
			if (!escape(d, &o))
				return false;
			continue;
		}
		n = utf8_len((const unsigned char *)d->s + d->pos, d->len - d->pos);
		if (!n)
			return fail(d, "invalid UTF-8 in a string");
		memcpy(o, d->s + d->pos, n);
		o += n;
		d->pos += n;
	}
	d->pos++;
	*out = start;
	*outlen = (size_t)(o - start);
	d->strings_used += *outlen;
	return true;
}

static bool digits(struct json_doc *d)
{
	size_t from = d->pos;

	while (d->pos < d->len && d->s[d->pos] >= '0' && d->s[d->pos] <= '9')
		d->pos++;
	return d->pos > from;
}

static bool number(struct json_doc *d, struct json_node *n)
{
	size_t int_start;
	bool exact = true;

	n->type = JSON_NUMBER;
	if (d->s[d->pos] == '-') {
		n->negative = true;
		d->pos++;
	}
	int_start = d->pos;
	if (d->pos < d->len && d->s[d->pos] == '0')
		d->pos++;
	else if (!digits(d))
		return fail(d, "not a number");
	for (size_t i = int_start; i < d->pos; i++) {
		uint64_t dig = (uint64_t)(d->s[i] - '0');

		if (n->magnitude > (UINT64_MAX - dig) / 10)
			exact = false;
		n->magnitude = n->magnitude * 10 + dig;
	}
	n->integer = exact;
	if (d->pos < d->len && d->s[d->pos] == '.') {
		d->pos++;
		if (!digits(d))
			return fail(d, "no digits after a decimal point");
		n->integer = false;
	}
	if (d->pos < d->len && (d->s[d->pos] == 'e' || d->s[d->pos] == 'E')) {
		d->pos++;
		if (d->pos < d->len && (d->s[d->pos] == '+' || d->s[d->pos] == '-'))
			d->pos++;
		if (!digits(d))
			return fail(d, "no digits in an exponent");
		n->integer = false;
	}
	return true;
}

static bool literal(struct json_doc *d, const char *word)
{
	size_t n = strlen(word);

	if (d->len - d->pos < n || memcmp(d->s + d->pos, word, n))
		return fail(d, "unknown literal");
	d->pos += n;
	return true;
}

static struct json_node *value(struct json_doc *d, int depth);

/* Members or elements up to the closing bracket. */
static bool container(struct json_doc *d, struct json_node *n, int depth)
{
	bool obj = d->s[d->pos] == '{';
	char close = obj ? '}' : ']';
	struct json_node **tail = &n->child;

	n->type = obj ? JSON_OBJECT : JSON_ARRAY;
	d->pos++;
	skip_ws(d);
	if (d->pos < d->len && d->s[d->pos] == close) {
		d->pos++;
		return true;
	}
	for (;;) {
		const char *key = NULL;
		size_t key_len = 0;
		struct json_node *v;

		skip_ws(d);
		if (obj) {
			if (d->pos >= d->len || d->s[d->pos] != '"')
				return fail(d, "a member name is not a string");
			if (!string(d, &key, &key_len))
				return false;
			for (struct json_node *m = n->child; m; m = m->next)
				if (m->key_len == key_len && !memcmp(m->key, key, key_len))
					return fail(d, "duplicate member name");
			skip_ws(d);
			if (d->pos >= d->len || d->s[d->pos] != ':')
				return fail(d, "no colon after a member name");
			d->pos++;
		}
		v = value(d, depth + 1);
		if (!v)
			return false;
		v->key = key;
		v->key_len = key_len;
		*tail = v;
		tail = &v->next;
		n->count++;
		skip_ws(d);
		if (d->pos < d->len && d->s[d->pos] == ',') {
			d->pos++;
			continue;
		}
		if (d->pos < d->len && d->s[d->pos] == close) {
			d->pos++;
			return true;
		}
		return fail(d, obj ? "no comma or } after a member" : "no comma or ] after an element");
	}
}

static struct json_node *value(struct json_doc *d, int depth)
{
	struct json_node *n;
	bool ok;
	char c;

	skip_ws(d);
	if (depth > MAX_DEPTH)
		return fail(d, "nested too deep"), NULL;
	if (d->pos >= d->len)
		return fail(d, "no value"), NULL;
	n = node(d);
	if (!n)
		return fail(d, "out of memory"), NULL;
	n->start = d->pos;
	c = d->s[d->pos];
	if (c == '{' || c == '[') {
		ok = container(d, n, depth);
	} else if (c == '"') {
		n->type = JSON_STRING;
		ok = string(d, &n->str, &n->len);
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		ok = number(d, n);
	} else if (c == 't' || c == 'f') {
		n->type = JSON_BOOL;
		n->len = c == 't';
		ok = literal(d, c == 't' ? "true" : "false");
	} else {
		n->type = JSON_NULL;
		ok = literal(d, "null");
	}
	n->end = d->pos;
	return ok ? n : NULL;
}

void json_check_free(struct json_doc *d)
{
	if (!d)
		return;
	while (d->blocks) {
		struct block *b = d->blocks;

		d->blocks = b->next;
		free(b);
	}
	free(d->strings);
	free(d);
}

struct json_doc *json_check_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct json_doc *d = calloc(1, sizeof(*d));

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->s = text;
	d->len = len;
	d->err = err;
	d->errlen = errlen;
	d->strings = malloc(len + 1);
	if (!d->strings) {
		snprintf(err, errlen, "out of memory");
		json_check_free(d);
		return NULL;
	}
	d->root = value(d, 0);
	skip_ws(d);
	if (d->root && d->pos != d->len)
		fail(d, "bytes after the value");
	if (d->failed) {
		json_check_free(d);
		return NULL;
	}
	return d;
}

const struct json_node *json_check_root(const struct json_doc *d)
{
	return d->root;
}

const struct json_node *json_check_get(const struct json_node *obj, const char *key)
{
	size_t n = strlen(key);

	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (const struct json_node *m = obj->child; m; m = m->next)
		if (m->key_len == n && !memcmp(m->key, key, n))
			return m;
	return NULL;
}

const struct json_node *json_check_at(const struct json_node *arr, size_t i)
{
	const struct json_node *m;

	if (!arr || arr->type != JSON_ARRAY)
		return NULL;
	for (m = arr->child; m && i; m = m->next)
		i--;
	return m;
}

bool json_check_u64(const struct json_node *obj, const char *key, uint64_t *v)
{
	const struct json_node *m = json_check_get(obj, key);

	if (!m || m->type != JSON_NUMBER || !m->integer || m->negative)
		return false;
	*v = m->magnitude;
	return true;
}

bool json_check_i64(const struct json_node *obj, const char *key, int64_t *v)
{
	const struct json_node *m = json_check_get(obj, key);

	if (!m || m->type != JSON_NUMBER || !m->integer ||
	    m->magnitude > (m->negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
		return false;
	*v = m->negative ? (int64_t)(0 - m->magnitude) : (int64_t)m->magnitude;
	return true;
}

bool json_check_bool(const struct json_node *obj, const char *key, bool *v)
{
	const struct json_node *m = json_check_get(obj, key);

	if (!m || m->type != JSON_BOOL)
		return false;
	*v = m->len;
	return true;
}

bool json_check_null(const struct json_node *obj, const char *key)
{
	const struct json_node *m = json_check_get(obj, key);

	return m && m->type == JSON_NULL;
}

bool json_check_str_is(const struct json_node *obj, const char *key, const char *s, size_t n)
{
	const struct json_node *m = json_check_get(obj, key);

	return m && m->type == JSON_STRING && m->len == n && !memcmp(m->str, s, n);
}
