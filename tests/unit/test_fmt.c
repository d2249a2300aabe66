/* Formatting: JSON escaping, addresses, timestamps. */
#include <sys/socket.h>
#include <stdint.h>
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
	/* every digit count, on both sides of each power of ten, against printf */
	for (uint64_t v = 1; v && v <= 10000000000000000000ull; v *= 10) {
		uint64_t around[] = { v - 1, v, v + 1, v * 9 / 10 + v / 3 };

		for (size_t i = 0; i < 4; i++) {
			char want[32];

			snprintf(want, sizeof(want), "%llu", (unsigned long long)around[i]);
			p = fmt_u64(buf, around[i]);
			*p = 0;
			CHECK_STR(buf, want);
		}
		if (v > UINT64_MAX / 10)
			break;
	}
	for (int width = 1; width <= 9; width++) {
		char want[32];

		snprintf(want, sizeof(want), "%0*u", width, 7u);
		p = fmt_u64_pad(buf, 7, width);
		*p = 0;
		CHECK_STR(buf, want);
	}
	p = fmt_u64_pad(buf, 123456789, 9);
	*p = 0;
	CHECK_STR(buf, "123456789");
	p = fmt_u64_pad(buf, 45, 3);
	*p = 0;
	CHECK_STR(buf, "045");
}

/* Every power of two, and one either side, against printf, written after
 * a guard that must stay untouched: a digit count that is one short writes
 * the first digit over the character before the number (the '[' or ',' of
 * a JSON list). Found by make bench: a keep-alive connection of 5 s gave
 * "durations_ns" a value between 2^32 and 10^10 and broke its line.
 */
static void numbers_powers_of_two(void)
{
	for (int k = 0; k < 64; k++) {
		uint64_t v = 1ull << k;
		uint64_t around[] = { v - 1, v, v + 1 };

		for (size_t i = 0; i < 3; i++) {
			char want[32], buf[48], *p;

			memset(buf, '#', sizeof(buf));
			snprintf(want, sizeof(want), "%llu", (unsigned long long)around[i]);
			p = fmt_u64(buf + 8, around[i]);
			*p = 0;
			CHECK_STR(buf + 8, want);
			CHECK(buf[7] == '#');
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
	for (size_t n = 0; n < sizeof(big); n += 37)
		CHECK(crc32c(0, big + 3, n) == crc32c_sw(0, big + 3, n));
}

TEST_LIST(fmt_tests) = {
	TEST_ENTRY(json_escapes_odd_bytes),
	TEST_ENTRY(text_safe),
	TEST_ENTRY(addresses),
	TEST_ENTRY(rfc3339),
	TEST_ENTRY(numbers),
	TEST_ENTRY(numbers_powers_of_two),
	TEST_ENTRY(crc32c_values),
	{ 0 },
};
