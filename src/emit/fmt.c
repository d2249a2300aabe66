/* Formatting primitives: hand-rolled because snprintf per field would
 * dominate the cost of a record.
 */
#include <stdio.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "fmt.h"

static const char digit_pairs[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

static inline int digits(uint64_t v)
{
	int n = 1;

	if (v >= 10000000000ull) {
		v /= 10000000000ull;	/* at most 1844674407: fits 32 bits */
		n += 10;
	} else if (v > UINT32_MAX) {
		return 10;	/* 2^32 to 10^10 - 1: the low 32 bits would not tell */
	}
	/* 2^32 to 10^10 - 1: ten digits, and not a 32-bit value */
	if (v > UINT32_MAX)
		return n + 9;
	uint32_t w = (uint32_t)v;

	return n + (w >= 10) + (w >= 100) + (w >= 1000) + (w >= 10000) + (w >= 100000) +
	       (w >= 1000000) + (w >= 10000000) + (w >= 100000000) + (w >= 1000000000);
}

char *fmt_u64(char *p, uint64_t v)
{
	/* written in place, from the last digit back: no copy of a variable
	 * length (a libc call) per number
	 */
	char *end = p + digits(v), *q = end;

	/* 64-bit division (by multiplication) only while the value needs it */
	while (v > UINT32_MAX) {
		unsigned int r = (unsigned int)(v % 100);

		v /= 100;
		q -= 2;
		q[0] = digit_pairs[2 * r];
		q[1] = digit_pairs[2 * r + 1];
	}
	uint32_t w = (uint32_t)v;

	for (; w >= 100; w /= 100) {
		unsigned int r = w % 100;

		q -= 2;
		q[0] = digit_pairs[2 * r];
		q[1] = digit_pairs[2 * r + 1];
	}
	if (w >= 10) {
		q[-2] = digit_pairs[2 * w];
		q[-1] = digit_pairs[2 * w + 1];
	} else {
		q[-1] = (char)('0' + w);
	}
	return end;
}

char *fmt_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return fmt_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return fmt_u64(p, (uint64_t)v);
}

char *fmt_u64_pad(char *p, uint64_t v, int width)
{
	int i = width;

	for (; i >= 2; i -= 2, v /= 100) {
		unsigned int r = (unsigned int)(v % 100);

		p[i - 2] = digit_pairs[2 * r];
		p[i - 1] = digit_pairs[2 * r + 1];
	}
	if (i)
		p[0] = (char)('0' + v % 10);
	return p + width;
}

char *fmt_addr(char *p, int family, const uint8_t addr[16])
{
	if (family == AF_INET) {
		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = fmt_u64(p, addr[i]);
		}
		return p;
	}
	if (family == AF_INET6) {
		char tmp[INET6_ADDRSTRLEN];

		if (inet_ntop(AF_INET6, addr, tmp, sizeof(tmp)))
			return fmt_str(p, tmp);
	}
	return fmt_str(p, "?");
}

/* Length of the valid UTF-8 sequence at s (of at most n bytes), 0 if none. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (len > n)
		return 0;
	cp = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

static const char hexdig[] = "0123456789abcdef";

/* The next unit of s (left bytes, the first not NUL) in a JSON string:
 * how many bytes it takes (*in) and how many it is written as: a byte as
 * is (1), a UTF-8 sequence as is (its length, *in too), or an escape (2 for
 * one byte: a quote or backslash behind a backslash; 6: \u00XX).
 */
static inline size_t json_unit(const unsigned char *s, size_t left, size_t *in)
{
	unsigned char ch = s[0];
	size_t len;

	*in = 1;
	if (ch == '"' || ch == '\\')
		return 2;
	if (ch >= 0x20 && ch < 0x7f)
		return 1;
	/* the sequence may not run past a NUL: utf8_seq_len rejects 0x00 as
	 * a continuation byte
	 */
	if (ch >= 0x80 && (len = utf8_seq_len(s, left))) {
		*in = len;
		return len;
	}
	return 6;
}

char *fmt_json_str(char *p, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	*p++ = '"';
	while (i < n && s[i]) {
		size_t in, out = json_unit(s + i, n - i, &in);

		if (out == 2 && in == 1) {
			*p++ = '\\';
			*p++ = (char)s[i];
		} else if (out == 6) {
			p = fmt_lit(p, "\\u00");
			*p++ = hexdig[s[i] >> 4];
			*p++ = hexdig[s[i] & 15];
		} else {
			memcpy(p, s + i, out);
			p += out;
		}
		i += in;
	}
	*p++ = '"';
	return p;
}

size_t fmt_json_len(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len = 2;

	while (i < n && s[i]) {
		size_t in;

		len += json_unit(s + i, n - i, &in);
		i += in;
	}
	return len;
}

char *fmt_text_safe(char *p, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;

	for (size_t i = 0; i < n && s[i]; i++) {
		if (s[i] > 0x20 && s[i] < 0x7f && s[i] != '\\') {
			*p++ = (char)s[i];
		} else {
			*p++ = '\\';
			*p++ = 'x';
			*p++ = hexdig[s[i] >> 4];
			*p++ = hexdig[s[i] & 15];
		}
	}
	return p;
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The formatted date-and-seconds prefixes of the latest second written, a
 * function of the second alone (and of the time zone, fixed for a run):
 * one cache per thread serves every clock. No wall time is INT64_MIN
 * seconds (that is INT64_MIN nanoseconds).
 */
static _Thread_local struct {
	int64_t sec;
	char prefix[24];	/* "YYYY-MM-DDTHH:MM:SS" */
	int len;
	int64_t local_sec;
	char local[12];		/* "HH:MM:SS" local time */
} cache = { .sec = INT64_MIN, .local_sec = INT64_MIN };

void fmt_clock_set(struct fmt_clock *m, int64_t mono_to_real_ns)
{
	m->mono_to_real_ns = mono_to_real_ns;
}

void fmt_clock_init(struct fmt_clock *m)
{
	/* Bracket the realtime read to halve the sampling error. */
	int64_t a = clock_ns(CLOCK_MONOTONIC);
	int64_t r = clock_ns(CLOCK_REALTIME);
	int64_t b = clock_ns(CLOCK_MONOTONIC);

	fmt_clock_set(m, r - (a + (b - a) / 2));
}

/* Wall time of a monotonic time, in whole seconds and nanoseconds (0 to
 * 10^9 - 1). Wrapping arithmetic: no input is undefined behaviour, and the
 * values tcptrail reads (below 2^62 each) never wrap.
 */
static void wall(const struct fmt_clock *m, uint64_t mono_ns, int64_t *sec, int64_t *nsec)
{
	int64_t real = (int64_t)(mono_ns + (uint64_t)m->mono_to_real_ns);

	*sec = real / 1000000000;
	*nsec = real % 1000000000;
	if (*nsec < 0) {
		*nsec += 1000000000;
		(*sec)--;
	}
}

char *fmt_rfc3339(char *p, const struct fmt_clock *m, uint64_t mono_ns)
{
	int64_t sec, nsec;

	wall(m, mono_ns, &sec, &nsec);
	if (sec != cache.sec) {
		time_t t = (time_t)sec;
		struct tm tm;

		/* a year strftime cannot write in the cache leaves it empty */
		cache.len = gmtime_r(&t, &tm)
			? (int)strftime(cache.prefix, sizeof(cache.prefix),
					"%Y-%m-%dT%H:%M:%S", &tm) : 0;
		cache.sec = sec;
	}
	if (cache.len == 19) {	/* every year 1000-9999: a copy of known size */
		memcpy(p, cache.prefix, 19);
		p += 19;
	} else {
		p = fmt_mem(p, cache.prefix, (size_t)cache.len);
	}
	*p++ = '.';
	p = fmt_u64_pad(p, (uint64_t)nsec, 9);
	*p++ = 'Z';
	return p;
}

char *fmt_clock_ms(char *p, const struct fmt_clock *m, uint64_t mono_ns)
{
	int64_t sec, nsec;

	wall(m, mono_ns, &sec, &nsec);
	if (sec != cache.local_sec) {
		time_t t = (time_t)sec;
		struct tm tm;

		if (!localtime_r(&t, &tm) ||
		    !strftime(cache.local, sizeof(cache.local), "%H:%M:%S", &tm))
			strcpy(cache.local, "??:??:??");
		cache.local_sec = sec;
	}
	p = fmt_str(p, cache.local);
	*p++ = '.';
	return fmt_u64_pad(p, (uint64_t)nsec / 1000000, 3);
}

char *fmt_endpoint(char *p, int family, const uint8_t addr[16], uint16_t port)
{
	if (family == AF_INET6)
		*p++ = '[';
	p = fmt_addr(p, family, addr);
	if (family == AF_INET6)
		*p++ = ']';
	*p++ = ':';
	return fmt_u64(p, port);
}

char *fmt_duration(char *p, uint64_t ns)
{
	char tmp[32];
	int n;

	/* each unit up to where its rounded figure would reach the next
	 * one's: 999.96 ms is 1.0s, not 1000.0ms
	 */
	if (ns < 1000000)
		n = snprintf(tmp, sizeof(tmp), "%.3fms", ns / 1e6);
	else if (ns < 999950000ull)
		n = snprintf(tmp, sizeof(tmp), "%.1fms", ns / 1e6);
	else if (ns < 119950000000ull)
		n = snprintf(tmp, sizeof(tmp), "%.1fs", ns / 1e9);
	else if (ns < 7197000000000ull)
		n = snprintf(tmp, sizeof(tmp), "%.1fm", ns / 6e10);
	else
		n = snprintf(tmp, sizeof(tmp), "%.1fh", ns / 3.6e12);
	return fmt_mem(p, tmp, (size_t)n);
}
