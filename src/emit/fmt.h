/* Allocation-free formatting primitives for the output hot path. Each
 * appends at p and returns the new end; the caller guarantees room: at most
 * the FMT_*_MAX bytes below (tests/unit/test_fmt.c checks each at its
 * extremes), which the emitters' record budgets are made of.
 */
#ifndef TT_FMT_H
#define TT_FMT_H

#include <stddef.h>
#include <stdint.h>

static inline char *fmt_mem(char *p, const char *s, size_t n)
{
	__builtin_memcpy(p, s, n);
	return p + n;
}

/* Inline so that, for constant strings, the length folds at compile time. */
static inline char *fmt_str(char *p, const char *s)
{
	size_t n = __builtin_strlen(s);

	__builtin_memcpy(p, s, n);
	return p + n;
}

/* The most bytes each formatter writes. */
#define FMT_U64_MAX 20		/* 18446744073709551615 */
#define FMT_I64_MAX 20		/* -9223372036854775808 */
#define FMT_ADDR_MAX 45		/* INET6_ADDRSTRLEN less its NUL */
#define FMT_ENDPOINT_MAX (FMT_ADDR_MAX + 8)	/* [addr]:65535 */
#define FMT_DURATION_MAX 12	/* 5124095.6h for 2^64-1 ns */
#define FMT_RFC3339_MAX 40	/* years beyond 9999 included */
#define FMT_CLOCK_MS_MAX 16	/* HH:MM:SS.mmm */
/* A JSON string of n bytes: each byte at worst \u00XX, and the quotes. */
#define FMT_JSON_STR_MAX(n) (6 * (n) + 2)
/* fmt_text_safe() of n bytes: each at worst \xNN. */
#define FMT_TEXT_SAFE_MAX(n) (4 * (n))

/* A string literal: its length is known when compiling, no strlen. */
#define fmt_lit(p, lit) fmt_mem((p), "" lit, sizeof(lit) - 1)
char *fmt_u64(char *p, uint64_t v);
char *fmt_i64(char *p, int64_t v);
/* Zero-padded to width digits (1 to 20): the low width digits of v. */
char *fmt_u64_pad(char *p, uint64_t v, int width);

/* Address in the usual text form; family is AF_INET or AF_INET6. */
char *fmt_addr(char *p, int family, const uint8_t addr[16]);
/* addr:port, [addr]:port for IPv6. */
char *fmt_endpoint(char *p, int family, const uint8_t addr[16], uint16_t port);
/* A duration with a unit a person reads at a glance: 0.250ms, 12.5ms, 3.2s,
 * 4.0m, 2.5h.
 */
char *fmt_duration(char *p, uint64_t ns);

/* A JSON string literal (with quotes) of up to n bytes of s, stopping at
 * NUL. Control characters, quotes and backslashes are escaped; bytes that
 * are not valid UTF-8 become \u00XX so the output is always valid JSON.
 */
char *fmt_json_str(char *p, const char *s, size_t n);
/* The bytes fmt_json_str(p, s, n) writes, without writing them. */
size_t fmt_json_len(const char *s, size_t n);

/* s made safe for a terminal: non-printable bytes as \xNN; at most n bytes
 * read, stopping at NUL.
 */
char *fmt_text_safe(char *p, const char *s, size_t n);

/* Wall-clock time conversion for CLOCK_MONOTONIC kernel timestamps. */
struct fmt_clock {
	int64_t mono_to_real_ns;	/* add to a monotonic ns value */
};

/* Sample both clocks now. */
void fmt_clock_init(struct fmt_clock *m);
/* Use a known offset (replay). */
void fmt_clock_set(struct fmt_clock *m, int64_t mono_to_real_ns);

/* RFC 3339 UTC with nanoseconds: 2026-11-21T10:42:10.123456789Z */
char *fmt_rfc3339(char *p, const struct fmt_clock *m, uint64_t mono_ns);
/* Short local time for the text view: HH:MM:SS.mmm */
char *fmt_clock_ms(char *p, const struct fmt_clock *m, uint64_t mono_ns);

#endif
