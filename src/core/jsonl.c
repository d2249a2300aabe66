/* Strict JSON line parser for tcptrail's own records (see jsonl.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jsonl_priv.h"

struct jsonl *jsonl_new(void)
{
	return malloc(sizeof(struct jsonl));
}

void jsonl_free(struct jsonl *j)
{
	free(j);
}

const char *jsonl_err(const struct jsonl *j)
{
	return j->err;
}

struct parser {
	struct jsonl *j;
	const unsigned char *s, *end;
	char *out;		/* next free byte of j->str */
	int depth;
};

static int fail(struct parser *p, const char *why)
{
	snprintf(p->j->err, sizeof(p->j->err), "%s", why);
	return -1;
}

static void skip_ws(struct parser *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\r' || *p->s == '\n'))
		p->s++;
}

static int new_tok(struct parser *p, uint8_t type)
{
	struct jsonl *j = p->j;

	if (j->ntok >= JSONL_MAX_TOKENS)
		return -1;
	memset(&j->tok[j->ntok], 0, sizeof(j->tok[0]));
	j->tok[j->ntok].type = type;
	return (int)j->ntok++;
}

/* Length of the valid UTF-8 sequence at s (lead byte >= 0x80), or 0:
 * overlong forms, surrogates and values past U+10FFFF are refused.
 */
static size_t utf8_len(const unsigned char *s, const unsigned char *end)
{
	size_t n = end - s;
	unsigned char c = s[0];

	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

static int hex4(const unsigned char *s, const unsigned char *end, uint32_t *v)
{
	*v = 0;
	if (end - s < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned char c = s[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			*v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			*v |= c - 'A' + 10;
		else
			return -1;
	}
	return 0;
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
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | cp >> 18);
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

/* One \-escape at p->s (just past the backslash). An unescaped string is
 * never longer than its escaped form (\uXXXX is 6 bytes, at most 3 of
 * UTF-8; a pair is 12 for 4), so j->str cannot overflow.
 */
static int escape(struct parser *p)
{
	static const char simple[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	uint32_t cp, lo;

	if (p->s >= p->end)
		return fail(p, "string ends in an escape");
	if (*p->s != 'u') {
		const char *e = memchr(simple, *p->s, sizeof(simple) - 1);

		if (!e || (e - simple) % 2)
			return fail(p, "unknown escape in a string");
		*p->out++ = e[1];
		p->s++;
		return 0;
	}
	if (hex4(p->s + 1, p->end, &cp))
		return fail(p, "bad \\u escape");
	p->s += 5;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(p, "lone low surrogate in a string");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (p->end - p->s < 6 || p->s[0] != '\\' || p->s[1] != 'u' ||
		    hex4(p->s + 2, p->end, &lo) || lo < 0xdc00 || lo > 0xdfff)
			return fail(p, "lone high surrogate in a string");
		p->s += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (!cp)
		return fail(p, "NUL in a string");
	p->out = put_utf8(p->out, cp);
	return 0;
}

static int parse_string(struct parser *p)
{
	int t = new_tok(p, JSONL_STR);
	char *start = p->out;

	if (t < 0)
		return fail(p, "too many values");
	p->s++;		/* the opening quote */
	for (;;) {
		unsigned char c;

		if (p->s >= p->end)
			return fail(p, "unterminated string");
		c = *p->s;
		if (c == '"') {
			p->s++;
			break;
		}
		if (c == '\\') {
			p->s++;
			if (escape(p))
				return -1;
		} else if (c < 0x20) {
			return fail(p, "control character in a string");
		} else if (c < 0x80) {
			*p->out++ = (char)c;
			p->s++;
		} else {
			size_t n = utf8_len(p->s, p->end);

			if (!n)
				return fail(p, "invalid UTF-8 in a string");
			memcpy(p->out, p->s, n);
			p->out += n;
			p->s += n;
		}
	}
	*p->out++ = '\0';
	p->j->tok[t].off = (uint32_t)(start - p->j->str);
	p->j->tok[t].len = (uint32_t)(p->out - start - 1);
	p->j->tok[t].next = p->j->ntok;
	return t;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int parse_number(struct parser *p)
{
	const unsigned char *start = p->s;
	int t = new_tok(p, JSONL_NUM);
	bool whole = true, neg = false;
	uint64_t u = 0, over = 0;
	char buf[64];

	if (t < 0)
		return fail(p, "too many values");
	if (*p->s == '-') {
		neg = true;
		p->s++;
	}
	if (p->s >= p->end || *p->s < '0' || *p->s > '9')
		return fail(p, "bad number");
	if (*p->s == '0' && p->s + 1 < p->end && p->s[1] >= '0' && p->s[1] <= '9')
		return fail(p, "number with a leading zero");
	for (; p->s < p->end && *p->s >= '0' && *p->s <= '9'; p->s++) {
		unsigned d = *p->s - '0';

		if (u > (UINT64_MAX - d) / 10)
			over = 1;
		u = u * 10 + d;
	}
	if (p->s < p->end && *p->s == '.') {
		whole = false;
		if (++p->s >= p->end || *p->s < '0' || *p->s > '9')
			return fail(p, "bad number");
		while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
			p->s++;
	}
	if (p->s < p->end && (*p->s == 'e' || *p->s == 'E')) {
		whole = false;
		p->s++;
		if (p->s < p->end && (*p->s == '+' || *p->s == '-'))
			p->s++;
		if (p->s >= p->end || *p->s < '0' || *p->s > '9')
			return fail(p, "bad number");
		while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
			p->s++;
	}
	if ((size_t)(p->s - start) >= sizeof(buf))
		return fail(p, "number too long");
	memcpy(buf, start, p->s - start);
	buf[p->s - start] = '\0';
	p->j->tok[t].d = strtod(buf, NULL);
	p->j->tok[t].is_u64 = whole && !over && (!neg || u == 0);
	p->j->tok[t].u = p->j->tok[t].is_u64 ? u : 0;
	p->j->tok[t].next = p->j->ntok;
	return t;
}

static int parse_value(struct parser *p);

/* An array or an object: elements (or key, value pairs) and commas. */
static int parse_container(struct parser *p, bool obj)
{
	int t = new_tok(p, obj ? JSONL_OBJ : JSONL_ARR);
	char close = obj ? '}' : ']';

	if (t < 0)
		return fail(p, "too many values");
	if (++p->depth > JSONL_MAX_DEPTH)
		return fail(p, "nested too deeply");
	p->s++;
	skip_ws(p);
	if (p->s < p->end && *p->s == close) {
		p->s++;
		goto done;
	}
	for (;;) {
		skip_ws(p);
		if (obj) {
			if (p->s >= p->end || *p->s != '"')
				return fail(p, "object key is not a string");
			if (parse_string(p) < 0)
				return -1;
			skip_ws(p);
			if (p->s >= p->end || *p->s != ':')
				return fail(p, "no ':' after an object key");
			p->s++;
		}
		if (parse_value(p) < 0)
			return -1;
		skip_ws(p);
		if (p->s < p->end && *p->s == ',') {
			p->s++;
			continue;
		}
		if (p->s < p->end && *p->s == close) {
			p->s++;
			break;
		}
		return fail(p, obj ? "no ',' or '}' in an object" : "no ',' or ']' in an array");
	}
done:
	p->depth--;
	p->j->tok[t].next = p->j->ntok;
	return t;
}

static int literal(struct parser *p, const char *word, uint8_t type)
{
	size_t n = strlen(word);
	int t;

	if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n))
		return fail(p, "unexpected character");
	t = new_tok(p, type);
	if (t < 0)
		return fail(p, "too many values");
	p->s += n;
	p->j->tok[t].next = p->j->ntok;
	return t;
}

static int parse_value(struct parser *p)
{
	skip_ws(p);
	if (p->s >= p->end)
		return fail(p, "value missing");
	switch (*p->s) {
	case '{':
		return parse_container(p, true);
	case '[':
		return parse_container(p, false);
	case '"':
		return parse_string(p);
	case 't':
		return literal(p, "true", JSONL_TRUE);
	case 'f':
		return literal(p, "false", JSONL_FALSE);
	case 'n':
		return literal(p, "null", JSONL_NULL);
	default:
		if (*p->s == '-' || (*p->s >= '0' && *p->s <= '9'))
			return parse_number(p);
		return fail(p, "unexpected character");
	}
}

int jsonl_parse(struct jsonl *j, const char *line, size_t len)
{
	struct parser p = { j, (const unsigned char *)line, (const unsigned char *)line + len,
			    j->str, 0 };

	j->ntok = 0;
	j->cursor = 1;
	j->err[0] = '\0';
	if (len > JSONL_MAX_LINE) {
		snprintf(j->err, sizeof(j->err), "line longer than %d bytes", JSONL_MAX_LINE);
		return -1;
	}
	skip_ws(&p);
	if (p.s >= p.end || *p.s != '{')
		return fail(&p, "not a JSON object");
	if (parse_container(&p, true) < 0)
		return -1;
	skip_ws(&p);
	if (p.s != p.end)
		return fail(&p, "text after the object");
	return 0;
}

/* Members of the object at obj: key tokens, each followed by its value. */
int jsonl_member(const struct jsonl *j, int obj, const char *key)
{
	if (obj < 0 || j->tok[obj].type != JSONL_OBJ)
		return -1;
	for (uint32_t k = obj + 1; k < j->tok[obj].next; k = j->tok[k + 1].next)
		if (!strcmp(j->str + j->tok[k].off, key))
			return (int)k + 1;
	return -1;
}

int jsonl_get(struct jsonl *j, const char *key)
{
	uint32_t end, k;

	if (!j->ntok)
		return -1;
	end = j->tok[0].next;
	if (j->cursor >= end)
		j->cursor = 1;
	/* from where the last lookup matched to the end, then from the start */
	for (int pass = 0; pass < 2; pass++) {
		uint32_t from = pass ? 1 : j->cursor, to = pass ? j->cursor : end;

		for (k = from; k < to; k = j->tok[k + 1].next)
			if (!strcmp(j->str + j->tok[k].off, key)) {
				j->cursor = j->tok[k + 1].next;
				return (int)k + 1;
			}
	}
	return -1;
}

const char *jsonl_str(const struct jsonl *j, int idx)
{
	if (idx < 0 || j->tok[idx].type != JSONL_STR)
		return NULL;
	return j->str + j->tok[idx].off;
}

bool jsonl_u64(const struct jsonl *j, int idx, uint64_t *v)
{
	if (idx < 0 || j->tok[idx].type != JSONL_NUM || !j->tok[idx].is_u64)
		return false;
	*v = j->tok[idx].u;
	return true;
}

bool jsonl_is_true(const struct jsonl *j, int idx)
{
	return idx >= 0 && j->tok[idx].type == JSONL_TRUE;
}

int jsonl_first(const struct jsonl *j, int arr)
{
	if (arr < 0 || j->tok[arr].type != JSONL_ARR || j->tok[arr].next == (uint32_t)arr + 1)
		return -1;
	return arr + 1;
}

int jsonl_next(const struct jsonl *j, int arr, int i)
{
	uint32_t n = j->tok[i].next;

	return n < j->tok[arr].next ? (int)n : -1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's
 * days_from_civil).
 */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return 0;
}

int jsonl_rfc3339(const char *s, int64_t *ns)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, mo, d, h, mi, sec, oh, om, frac = 0;
	int64_t days, off = 0;
	int nfrac = 0;

	if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &sec))
		return -1;
	if (y < 1970 || y > 2262 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && (y % 4 || (y % 100 == 0 && y % 400))) || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	s += 19;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, nfrac++) {
			if (nfrac >= 9)
				return -1;
			frac = frac * 10 + (unsigned)(*s - '0');
		}
		if (!nfrac)
			return -1;
		for (int i = nfrac; i < 9; i++)
			frac *= 10;
	}
	if ((*s == 'Z' || *s == 'z') && !s[1]) {
		off = 0;
	} else if ((*s == '+' || *s == '-') && strlen(s) == 6 && !digits(s + 1, 2, &oh) &&
		   s[3] == ':' && !digits(s + 4, 2, &om) && oh < 24 && om < 60) {
		off = (int64_t)(oh * 60 + om) * 60;
		if (*s == '+')
			off = -off;
	} else {
		return -1;
	}
	days = days_from_civil(y, mo, d);
	/* 2262-04-11T23:47:16Z is where int64 nanoseconds end */
	int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec + off;

	if (secs < 0 || secs > INT64_MAX / 1000000000 ||
	    (secs == INT64_MAX / 1000000000 && frac > INT64_MAX % 1000000000))
		return -1;
	*ns = secs * 1000000000 + frac;
	return 0;
}

void jsonl_format_time(int64_t ns, char *buf, size_t len)
{
	int64_t secs = ns / 1000000000, days = secs / 86400, rem = secs % 86400;
	/* civil_from_days */
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = (int64_t)yoe + era * 400 + (m <= 2);

	if (ns < 0) {
		snprintf(buf, len, "(before 1970)");
		return;
	}
	snprintf(buf, len, "%04lld-%02u-%02uT%02u:%02u:%02u.%09lluZ", (long long)y, m, d,
		 (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60),
		 (unsigned long long)(ns % 1000000000));
}
