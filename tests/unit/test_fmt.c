/* Formatting: JSON escaping, addresses, timestamps. */
#include <sys/socket.h>
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
}

TEST_LIST(fmt_tests) = {
	TEST_ENTRY(json_escapes_odd_bytes),
	TEST_ENTRY(text_safe),
	TEST_ENTRY(addresses),
	TEST_ENTRY(rfc3339),
	TEST_ENTRY(numbers),
	{ 0 },
};
