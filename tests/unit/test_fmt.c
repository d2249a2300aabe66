/* Formatting: JSON escaping, addresses, timestamps. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include "crc32c.h"
#include "fmt.h"
#include "harness.h"

static const char *json(const char *s, size_t n)
{
	static char buf[256];
	char *p = fmt_json_str(buf, s, n);

	*p = 0;
	return buf;
}

static void json_escapes_odd_bytes(void)
{
	CHECK_STR(json("nginx", 16), "\"nginx\"");
	CHECK_STR(json("a\"b\\c", 16), "\"a\\\"b\\\\c\"");
	CHECK_STR(json("tab\there\n", 16), "\"tab\\u0009here\\u000a\"");
	/* invalid UTF-8 and a lone continuation byte */
	CHECK_STR(json("\xff\x80x", 16), "\"\\u00ff\\u0080x\"");
	/* valid UTF-8 passes through */
	CHECK_STR(json("caf\xc3\xa9", 16), "\"caf\xc3\xa9\"");
	/* truncated sequence at the end of a comm */
	CHECK_STR(json("ab\xe2\x82", 4), "\"ab\\u00e2\\u0082\"");
	/* overlong encoding of '/' is not valid */
	CHECK_STR(json("\xc0\xaf", 16), "\"\\u00c0\\u00af\"");
	/* stops at NUL and at the length bound */
	CHECK_STR(json("abcdef", 3), "\"abc\"");
}

static void text_safe(void)
{
	char buf[64], *p = fmt_text_safe(buf, "a b\x1b[2J", 16);

	*p = 0;
	CHECK_STR(buf, "a\\x20b\\x1b[2J");
}

static void addresses(void)
{
	uint8_t v4[16] = { 192, 0, 2, 17 }, v6[16] = { 0 };
	char buf[64], *p;

	p = fmt_addr(buf, AF_INET, v4);
	*p = 0;
	CHECK_STR(buf, "192.0.2.17");
	v6[15] = 1;
	p = fmt_addr(buf, AF_INET6, v6);
	*p = 0;
	CHECK_STR(buf, "::1");
}

static void rfc3339(void)
{
	struct fmt_clock m;
	char buf[64], *p;

	/* monotonic 5 s maps to 2026-11-21T10:42:10.000000005Z + 5 s */
	fmt_clock_set(&m, 1795257730ll * 1000000000ll + 5);
	p = fmt_rfc3339(buf, &m, 5000000000ull);
	*p = 0;
	CHECK_STR(buf, "2026-11-21T10:42:15.000000005Z");
	p = fmt_rfc3339(buf, &m, 5123456789ull);
	*p = 0;
	CHECK_STR(buf, "2026-11-21T10:42:15.123456794Z");
}

static void numbers(void)
{
	char buf[32], *p = fmt_u64(buf, 18446744073709551615ull);

	*p = 0;
	CHECK_STR(buf, "18446744073709551615");
	p = fmt_i64(buf, -111);
	*p = 0;
	CHECK_STR(buf, "-111");
	p = fmt_u64(buf, 0);
	*p = 0;
	CHECK_STR(buf, "0");
	/* the values a 4.36 s duration fell among: between 2^32 and 10^10 */
	p = fmt_u64(buf, 4358300549ull);
	*p = 0;
	CHECK_STR(buf, "4358300549");
	p = fmt_u64(buf, 9000000000ull);
	*p = 0;
	CHECK_STR(buf, "9000000000");
	p = fmt_u64_pad(buf, 123456789, 9);
	*p = 0;
	CHECK_STR(buf, "123456789");
	p = fmt_u64_pad(buf, 45, 3);
	*p = 0;
	CHECK_STR(buf, "045");
}

/* The values every integer formatter is checked at: 0, 2^k - 1, 2^k and
 * 2^k + 1 for k = 1..64, 10^k - 1, 10^k and 10^k + 1 for k = 1..19, both
 * signs of each, and the ends of the signed range. Returns how many.
 */
static size_t extremes(uint64_t *v, size_t max)
{
	size_t n = 0;

#define ADD(x) do { if (n < max) v[n++] = (x); } while (0)
	ADD(0);
	for (int k = 1; k <= 64; k++) {
		uint64_t pow = k == 64 ? 0 : 1ull << k;	/* 2^64 wraps to 0 */

		ADD(pow - 1);
		if (k < 64) {
			ADD(pow);
			ADD(pow + 1);
		}
	}
	for (uint64_t pow = 10, k = 1; k <= 19; k++, pow *= 10) {
		ADD(pow - 1);
		ADD(pow);
		ADD(pow + 1);
	}
	ADD(UINT64_MAX - 1);
#undef ADD
	return n;
}

/* A formatter's output, terminated, with a guard byte on each side that
 * must survive: no write before p, none past what it returns.
 */
#define GUARDED(call, buf)                                                     \
	do {                                                                   \
		char *end_;                                                    \
		memset((buf), '#', sizeof(buf));                               \
		end_ = (call);                                                 \
		CHECK((buf)[0] == '#');                                        \
		CHECK(end_ < (buf) + sizeof(buf) - 1 && end_[0] == '#');       \
		*end_ = '\0';                                                  \
	} while (0)

static void integers_against_printf(void)
{
	uint64_t v[256];
	size_t n = extremes(v, sizeof(v) / sizeof(v[0]));
	char buf[64], want[64];

	CHECK(n == 1 + 64 * 3 - 2 + 19 * 3 + 1);
	for (size_t i = 0; i < n; i++) {
		int64_t s = (int64_t)v[i];

		snprintf(want, sizeof(want), "%llu", (unsigned long long)v[i]);
		GUARDED(fmt_u64(buf + 1, v[i]), buf);
		CHECK_STR(buf + 1, want);
		CHECK(strlen(buf + 1) <= FMT_U64_MAX);
		for (int sign = 0; sign < 2; sign++, s = (int64_t)(0 - (uint64_t)s)) {
			snprintf(want, sizeof(want), "%lld", (long long)s);
			GUARDED(fmt_i64(buf + 1, s), buf);
			CHECK_STR(buf + 1, want);
			CHECK(strlen(buf + 1) <= FMT_I64_MAX);
		}
		/* padded: the low width digits, as printf pads v mod 10^width */
		for (int width = 1; width <= 20; width++) {
			uint64_t mod = 1;

			for (int k = 0; k < width && k < 20; k++)
				mod = k == 19 ? 0 : mod * 10;
			snprintf(want, sizeof(want), "%0*llu", width,
				 (unsigned long long)(mod ? v[i] % mod : v[i]));
			GUARDED(fmt_u64_pad(buf + 1, v[i], width), buf);
			CHECK_STR(buf + 1, want);
		}
	}
	GUARDED(fmt_i64(buf + 1, INT64_MIN), buf);
	CHECK_STR(buf + 1, "-9223372036854775808");
	GUARDED(fmt_i64(buf + 1, INT64_MAX), buf);
	CHECK_STR(buf + 1, "9223372036854775807");
}

/* Durations: each unit's boundaries, ±1 ns, and the largest value. The
 * figure is within half its last digit of the truth, below the next unit's
 * threshold, and within FMT_DURATION_MAX bytes.
 */
static void durations_at_unit_boundaries(void)
{
	static const struct {
		const char *unit;
		double ns;	/* of one unit */
		double below;	/* figures stay below this */
		double half;	/* half the last digit */
	} units[] = {
		{ "ms", 1e6, 1000, 0.05 }, { "s", 1e9, 120, 0.05 },
		{ "m", 6e10, 120, 0.05 }, { "h", 3.6e12, 1e30, 0.05 },
	};
	static const uint64_t edges[] = {
		0, 1000000ull, 999950000ull, 1000000000ull, 119950000000ull, 120000000000ull,
		7197000000000ull, 7200000000000ull, UINT64_MAX,
	};
	char buf[64];

	for (size_t e = 0; e < sizeof(edges) / sizeof(edges[0]); e++) {
		for (int d = -1; d <= 1; d++) {
			uint64_t ns = edges[e] + (uint64_t)(int64_t)d;
			char unit[8] = "";
			double fig = -1;
			bool ok = false;

			if ((edges[e] == 0 && d < 0) || (edges[e] == UINT64_MAX && d > 0))
				continue;
			GUARDED(fmt_duration(buf + 1, ns), buf);
			CHECK(strlen(buf + 1) <= FMT_DURATION_MAX);
			if (sscanf(buf + 1, "%lf%7[a-z]", &fig, unit) != 2) {
				CHECK(!"a duration that is not a figure and a unit");
				continue;
			}
			for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
				double half = units[u].half;

				if (strcmp(unit, units[u].unit))
					continue;
				if (ns < 1000000)
					half = 0.0005;	/* three decimals below 1 ms */
				ok = fig < units[u].below &&
				     fabs(fig - ns / units[u].ns) <= half + 1e-9 * fig;
			}
			if (!ok)
				fprintf(stderr, "    %llu ns written as %s\n", (unsigned long long)ns,
					buf + 1);
			CHECK(ok);
		}
	}
}

/* The recording's checksum: the standard check value of CRC-32C, in one
 * piece and in pieces, and the table path agrees with the hardware path.
 */
static void crc32c_values(void)
{
	static const char check[] = "123456789";
	unsigned char big[1000];
	uint32_t c;

	CHECK(crc32c(0, check, 9) == 0xE3069283u);
	CHECK(crc32c_sw(0, check, 9) == 0xE3069283u);
	c = crc32c(0, check, 4);
	CHECK(crc32c(c, check + 4, 5) == 0xE3069283u);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 131 + 7);
	/* from an odd offset, never past the buffer's end */
	for (size_t n = 0; n + 3 <= sizeof(big); n += 37)
		CHECK(crc32c(0, big + 3, n) == crc32c_sw(0, big + 3, n));
}

TEST_LIST(fmt_tests) = {
	TEST_ENTRY(json_escapes_odd_bytes),
	TEST_ENTRY(text_safe),
	TEST_ENTRY(addresses),
	TEST_ENTRY(rfc3339),
	TEST_ENTRY(numbers),
	TEST_ENTRY(integers_against_printf),
	TEST_ENTRY(durations_at_unit_boundaries),
	TEST_ENTRY(crc32c_values),
	{ 0 },
};
